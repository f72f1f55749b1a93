// Fairness audits as every page shows them: the report (its four-fifths
// warning first when broken, the parity and equalised odds figures, and each
// group's selection and error rates), the form that audits a model version or
// a score by another attribute after the fact, and the audits stored for it,
// newest first, each opening to its report.
import { useState, type ReactNode } from "react";
import { api, formProblems, useApi } from "../api";
import { FieldError, formatNumber, formatWhen, Loading, ProblemBox } from "../components";
import { useCatalog } from "../segments/catalog";
import { EventNameInput } from "../segments/RuleEditor";
import { formatPercent, sensitiveCandidates, type Fairness, type ModelVersion } from "./model";
import {
  auditSummary,
  emptyAuditForm,
  modelAuditBody,
  modelSubject,
  scoreAuditBody,
  scoreSubject,
  type AuditForm,
  type FairnessAuditRecord,
} from "./predict";
import { countOf } from "../plural";

function FairnessWarning({ fairness, attribute }: { fairness: Fairness; attribute: string | null }) {
  return (
    <div className="fairness-warning" role="alert" data-testid="fairness-warning">
      <strong>
        <span aria-hidden="true">⚠ </span>Four-fifths rule broken{attribute ? ` by ${attribute}` : ""}
      </strong>
      <div>{fairness.warning ?? "Some groups are selected at less than 80% of the rate of the group selected most."}</div>
    </div>
  );
}

/** One fairness report: what counts as selected (`intro`), the rule's verdict, the figures and the groups. */
export function FairnessReport({ fairness: f, attribute, intro }: { fairness: Fairness; attribute: string | null; intro: ReactNode }) {
  return (
    <div className="fairness-report" data-testid="fairness-report">
      <p className="muted small">
        {intro} The four-fifths rule asks that every group is selected at no less than 80% of the rate of the group selected most.
      </p>
      {f.four_fifths_violated ? (
        <FairnessWarning fairness={f} attribute={attribute} />
      ) : (
        <p className="ok-box">Every group is selected at 80% or more of the highest group's rate.</p>
      )}
      <div className="metrics">
        <div className="metric">
          <div className="metric-label">Selection rate ratio</div>
          <div className="metric-value">{f.demographic_parity_ratio === null ? "—" : formatPercent(f.demographic_parity_ratio, 0)}</div>
          <div className="muted small">Lowest group's selection rate over the highest's (below 80% breaks the rule)</div>
        </div>
        <div className="metric">
          <div className="metric-label">Selection rate difference</div>
          <div className="metric-value">{formatPercent(f.demographic_parity_difference)}</div>
          <div className="muted small">Highest group's selection rate minus the lowest's (demographic parity)</div>
        </div>
        <div className="metric">
          <div className="metric-label">Equalised odds difference</div>
          <div className="metric-value">{f.equalized_odds_difference === null ? "—" : formatPercent(f.equalized_odds_difference)}</div>
          <div className="muted small">The largest gap between groups in true or false positive rate</div>
        </div>
      </div>
      <div className="table-wrap">
        <table className="table compact" data-testid="fairness-groups">
          <caption className="sr-only">Selection and error rates per group</caption>
          <thead>
            <tr>
              <th scope="col">{attribute ?? "Group"}</th>
              <th scope="col" className="num">Contacts</th>
              <th scope="col" className="num">Selected</th>
              <th scope="col" className="num">Selection rate</th>
              <th scope="col" className="num">
                <abbr title="True positive rate: the share of converters selected">TPR</abbr>
              </th>
              <th scope="col" className="num">
                <abbr title="False positive rate: the share of non-converters selected">FPR</abbr>
              </th>
            </tr>
          </thead>
          <tbody>
            {f.groups.map((g) => (
              <tr key={g.group}>
                <th scope="row">{g.group}</th>
                <td className="num">{formatNumber(g.count)}</td>
                <td className="num">{formatNumber(g.selected)}</td>
                <td className="num">{formatPercent(g.selection_rate)}</td>
                <td className="num">{formatPercent(g.true_positive_rate)}</td>
                <td className="num">{formatPercent(g.false_positive_rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const AUDIT_FIELDS = ["sensitive_attribute", "threshold", "outcome_event", "outcome_days"];

type Target = { kind: "model"; id: string } | { kind: "score"; name: string; thresholds: string[] };

/** What counts as selected in an audit of `target`. */
function selectedIntro(target: Target, a: FairnessAuditRecord): ReactNode {
  if (target.kind === "model") return <>On the hold-out, a contact counts as selected when their predicted probability is at least {formatPercent(a.report.threshold)}.</>;
  return (
    <>
      A contact counts as selected when their score is at least {formatNumber(a.report.threshold)}
      {typeof a.request.threshold === "string" && a.request.threshold ? ` (${a.request.threshold})` : ""}; they converted when they did{" "}
      {a.request.outcome_event ?? "the outcome event"} within {countOf(a.request.outcome_days ?? 30, "day")}.
    </>
  );
}

/** Audit `target` by an attribute, then list its stored audits (the newest open). */
function Audits({ target }: { target: Target }) {
  const subject = target.kind === "model" ? modelSubject(target.id) : scoreSubject(target.name);
  const path = target.kind === "model" ? `/api/v1/models/conversion/${encodeURIComponent(target.id)}/fairness` : `/api/v1/scores/${encodeURIComponent(target.name)}/fairness`;
  const audits = useApi<{ data: FairnessAuditRecord[] }>(`/api/v1/fairness-audits?subject=${encodeURIComponent(subject)}`);
  const { catalog, error: catalogError } = useCatalog();
  const [form, setForm] = useState<AuditForm>(emptyAuditForm);
  const [running, setRunning] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [latest, setLatest] = useState<string | null>(null);
  const set = (patch: Partial<AuditForm>) => setForm((f) => ({ ...f, ...patch }));
  const candidates = catalog ? sensitiveCandidates(catalog.schema) : [];
  const id = (x: string) => `audit-${target.kind}-${x}`;

  async function run() {
    setProblem(null);
    setErrors({});
    if (!form.attribute) {
      setErrors({ sensitive_attribute: "Choose an attribute to audit by." });
      return;
    }
    setRunning(true);
    try {
      const a = await api<FairnessAuditRecord>("POST", path, target.kind === "model" ? modelAuditBody(form) : scoreAuditBody(form));
      setLatest(a.id);
      audits.reload();
    } catch (e) {
      const { fields, rest } = formProblems(e, AUDIT_FIELDS);
      setErrors(fields);
      setProblem(rest);
    } finally {
      setRunning(false);
    }
  }

  const list = audits.data?.data ?? [];
  const open = latest ?? list[0]?.id;
  return (
    <div className="audits" data-testid={`audits-${target.kind}`}>
      <form
        className="audit-form"
        aria-label={target.kind === "model" ? "Audit by another attribute" : "Audit the score's fairness"}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <h3>{target.kind === "model" ? "Audit by another attribute" : "Run a fairness audit"}</h3>
        <ProblemBox error={catalogError} context="Loading fields" />
        <fieldset disabled={running} className="plain">
          <div className="form-grid">
            <div className="field">
              <label htmlFor={id("attribute")}>Attribute</label>
              <select
                id={id("attribute")}
                value={form.attribute}
                onChange={(e) => set({ attribute: e.target.value })}
                aria-invalid={errors.sensitive_attribute !== undefined}
                aria-describedby={errors.sensitive_attribute ? `${id("attribute")}-error` : undefined}
                className={errors.sensitive_attribute ? "has-error" : undefined}
              >
                <option value="">choose…</option>
                {candidates.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
              <FieldError id={id("attribute")} error={errors.sensitive_attribute} />
            </div>
            {target.kind === "score" && (
              <>
                <div className="field">
                  <label htmlFor={id("outcome")}>Outcome event</label>
                  <EventNameInput id={id("outcome")} value={form.outcomeEvent} onChange={(outcomeEvent) => set({ outcomeEvent })} error={errors.outcome_event} />
                  <FieldError id={id("outcome")} error={errors.outcome_event} />
                </div>
                <div className="field">
                  <label htmlFor={id("days")}>Within (days)</label>
                  <input
                    id={id("days")}
                    type="number"
                    min={1}
                    className={errors.outcome_days ? "narrow has-error" : "narrow"}
                    value={form.outcomeDays}
                    onChange={(e) => set({ outcomeDays: e.target.value })}
                    aria-invalid={errors.outcome_days !== undefined}
                    aria-describedby={errors.outcome_days ? `${id("days")}-error` : undefined}
                  />
                  <FieldError id={id("days")} error={errors.outcome_days} />
                </div>
              </>
            )}
            <div className="field">
              <label htmlFor={id("threshold")}>Threshold</label>
              <input
                id={id("threshold")}
                className={errors.threshold ? "narrow has-error" : "narrow"}
                list={target.kind === "score" ? id("threshold-names") : undefined}
                inputMode={target.kind === "model" ? "decimal" : undefined}
                placeholder={target.kind === "model" ? "auto" : target.thresholds.at(-1) ?? "highest"}
                value={form.threshold}
                onChange={(e) => set({ threshold: e.target.value })}
                aria-invalid={errors.threshold !== undefined}
                aria-describedby={errors.threshold ? `${id("threshold")}-error` : `${id("threshold")}-help`}
              />
              {target.kind === "score" && (
                <datalist id={id("threshold-names")}>
                  {target.thresholds.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              )}
              <FieldError
                id={id("threshold")}
                error={errors.threshold}
                help={
                  target.kind === "model"
                    ? "A probability from 0 to 1. Empty: the one used when it was trained, else the top tenth."
                    : "A score, or a threshold's name. Empty: the score's highest threshold."
                }
              />
            </div>
          </div>
          <div className="form-actions">
            <button type="submit" className="primary">
              {running ? "Auditing…" : "Run audit"}
            </button>
          </div>
        </fieldset>
        <ProblemBox error={problem} context="Not audited" />
      </form>
      <h3>Audits run</h3>
      <ProblemBox error={audits.error} context="Audits" />
      {audits.loading && !audits.data && <Loading what="audits" />}
      {audits.data && list.length === 0 && <p className="muted">None yet.</p>}
      {list.length > 0 && (
        <ul className="plain audit-list" data-testid="audit-list">
          {list.map((a) => (
            <li key={a.id} data-testid="audit">
              <details open={a.id === open}>
                <summary>
                  <strong>{auditSummary(a.request)}</strong> <span className="muted small">{formatWhen(a.created_at)}</span>
                  {target.kind === "score" && <span className="muted small"> · score version {a.version}</span>}
                  {a.report.four_fifths_violated && (
                    <span className="fairness-flag small">
                      {" "}
                      <span aria-hidden="true">⚠</span> four-fifths rule broken
                    </span>
                  )}
                </summary>
                <FairnessReport fairness={a.report} attribute={a.request.sensitive_attribute} intro={selectedIntro(target, a)} />
              </details>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A model version's later audits, below the one made when it was trained. */
export function ModelAudits({ version }: { version: Pick<ModelVersion, "id"> }) {
  return <Audits target={{ kind: "model", id: version.id }} />;
}

/** A score's audits, on its editor page. */
export function ScoreAudits({ name, thresholds }: { name: string; thresholds: string[] }) {
  return (
    <section className="card" data-testid="score-fairness">
      <h2>Fairness</h2>
      <p className="muted small">
        Check whether the score selects some groups of contacts less often than others: contacts at or above a threshold count as selected, and those who did
        the outcome event within the days given as converted.
      </p>
      <Audits target={{ kind: "score", name, thresholds }} />
    </section>
  );
}
