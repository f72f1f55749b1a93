// The score editor: name (when new), description and half-life; event rules
// (the segment builder's event name and property filter pickers, fed by the
// event catalogue loaded once for the page, points, an
// optional cap per period); attribute rules (the segment builder's rule
// editor, without events, segments and lists); thresholds. Saving creates
// the score or a new version and goes back to the list, where it is seen
// recomputing; the server's problems are shown on the rule, threshold or
// field they name. Read-only for roles that cannot change scores. An
// existing score's status is polled while it recomputes, so its progress
// moves here as on the list. Below it, its fairness audits: run one, see the
// stored ones.
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError } from "../api";
import { FieldError, Loading, PageHeader, ProblemBox, TextField } from "../components";
import { useSession } from "../session";
import { useCatalog } from "../segments/catalog";
import { EventCatalogProvider, EventCatalogStatus } from "../segments/EventCatalog";
import { EventNameInput, PropertyFilters, RuleEditor } from "../segments/RuleEditor";
import type { Condition } from "../segments/rule";
import { ScoreAudits } from "../models/Fairness";
import { ScoreStatus, useScorePolling } from "./Scores";
import {
  CAP_PERIODS,
  definitionOf,
  emptyAttributeRule,
  emptyEventRule,
  emptyForm,
  emptyThreshold,
  errorsOf,
  formOf,
  newPaths,
  type AttributeRuleForm,
  type EventRuleForm,
  type Score,
  type ScoreErrors,
  type ScoreForm,
  type ThresholdForm,
} from "./score";

/** Attribute rules are about who a contact is: no events, segments or lists. */
const ATTRIBUTE_KINDS: Condition["kind"][] = ["field", "company", "consent", "raw"];

const PERIOD_LABELS: Record<string, string> = { day: "per day", week: "per week", month: "per month", ever: "ever" };

const NO_ERRORS: ScoreErrors = { fields: {}, parts: new Map(), conditions: new Map(), rest: [] };

const NO_NAMES: string[] = [];

export function ScoreEditor() {
  const { name } = useParams();
  const isNew = name === undefined;
  const navigate = useNavigate();
  const { can, session: { role } } = useSession();
  const editable = can("marketing:write");
  const { catalog, error: catalogError } = useCatalog();
  const saved = useScorePolling<Score>(isNew ? null : `/api/v1/scores/${encodeURIComponent(name)}`, (s) => s.status === "recomputing");
  const [form, setForm] = useState<ScoreForm | null>(() => (isNew ? emptyForm() : null));
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [errors, setErrors] = useState<ScoreErrors>(NO_ERRORS);

  // Fill the form once from the saved definition.
  useEffect(() => {
    if (saved.data) setForm((f) => f ?? formOf(saved.data!.definition));
  }, [saved.data]);

  const { definition, paths } = useMemo(() => {
    const paths = newPaths();
    return { definition: form && catalog ? definitionOf(form, catalog.schema, paths) : null, paths };
  }, [form, catalog]);

  if (!form)
    return (
      <section>
        <PageHeader title="Score">
          <Link to="/scores">All scores</Link>
        </PageHeader>
        <ProblemBox error={saved.error} context="Loading the score" />
        {saved.loading && <Loading what="the score" />}
      </section>
    );

  const set = (patch: Partial<ScoreForm>) => setForm({ ...form, ...patch });
  const setEvent = (id: string, patch: Partial<EventRuleForm>) => set({ events: form.events.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
  const setAttribute = (id: string, patch: Partial<AttributeRuleForm>) =>
    set({ attributes: form.attributes.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
  const setThreshold = (id: string, patch: Partial<ThresholdForm>) =>
    set({ thresholds: form.thresholds.map((t) => (t.id === id ? { ...t, ...patch } : t)) });

  async function save() {
    if (!definition) return;
    setSaving(true);
    setProblem(null);
    setErrors(NO_ERRORS);
    try {
      const s = isNew
        ? await api<Score>("POST", "/api/v1/scores", definition)
        : await api<Score>("PUT", `/api/v1/scores/${encodeURIComponent(name)}`, definition);
      navigate("/scores", { state: { saved: s.name } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const found = errorsOf(e.problem.errors, paths);
        setErrors(found);
        // The box still says the save failed and the detail names the place; the place says why.
        setProblem(new ApiError({ ...e.problem, errors: found.rest.length ? found.rest : undefined }));
      } else setProblem(e);
      setSaving(false);
    }
  }

  return (
    <EventCatalogProvider extra={catalog?.events ?? NO_NAMES}>
    <section>
      <PageHeader title={isNew ? "New score" : `Score: ${name}`}>
        <Link to="/scores">All scores</Link>
      </PageHeader>
      {saved.data && (
        <p className="row">
          <ScoreStatus score={saved.data} /> <span className="muted">version {saved.data.version}</span>
        </p>
      )}
      <form
        aria-label="Score"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset disabled={!editable || saving} className="plain">
          <div className="card">
            {isNew && (
              <TextField
                id="score-name"
                label="Name"
                value={form.name}
                onChange={(v) => set({ name: v })}
                placeholder="e.g. engagement (lower-case letters, digits and _)"
                error={errors.fields.name}
              />
            )}
            <TextField id="score-description" label="Description" value={form.description} onChange={(v) => set({ description: v })} error={errors.fields.description} />
            <div className="field">
              <label htmlFor="score-half-life">Half-life (days)</label>
              <input
                id="score-half-life"
                type="number"
                className={errors.fields.half_life_days ? "narrow has-error" : "narrow"}
                min={0}
                placeholder="none"
                value={form.halfLifeDays}
                onChange={(e) => set({ halfLifeDays: e.target.value })}
                aria-invalid={errors.fields.half_life_days !== undefined}
                aria-describedby={errors.fields.half_life_days ? "score-half-life-error" : "score-half-life-help"}
              />
              <FieldError id="score-half-life" error={errors.fields.half_life_days} help="Points for events count half after this many days. Empty: they never fade." />
            </div>
          </div>

          <div className="card">
            <h2>Points for events</h2>
            <ProblemBox error={catalogError} context="Loading fields and events" />
            {!catalog && !catalogError && <Loading what="fields and events" />}
            <EventCatalogStatus />
            <RuleRows rows={form.events} noun="Event rule" testId="event-rule" className="rule-cond" none="No event rules." errors={errors.parts} editable={editable} onChange={(events) => set({ events })} create={emptyEventRule}>
              {(r, n, remove) => (
                <div className="event-cond">
                  <div className="row">
                    <EventNameInput value={r.event} onChange={(event) => setEvent(r.id, { event })} />
                    <label className="inline">
                      <span>Points</span>
                      <input type="number" className="narrow" value={r.points} onChange={(e) => setEvent(r.id, { points: e.target.value })} />
                    </label>
                    {editable && (
                      <button type="button" className="icon danger" aria-label={`Remove event rule ${n}`} title="Remove rule" onClick={remove}>
                        ×
                      </button>
                    )}
                  </div>
                  <PropertyFilters where={r.where} onChange={(where) => setEvent(r.id, { where })} event={r.event} readOnly={!editable} />
                  <div className="row">
                    <label className="inline">
                      <input type="checkbox" checked={r.capped} onChange={(e) => setEvent(r.id, { capped: e.target.checked })} />
                      <span>Cap at</span>
                    </label>
                    {r.capped && (
                      <>
                        <input type="number" min={1} className="narrow" aria-label="Cap points" value={r.capPoints} onChange={(e) => setEvent(r.id, { capPoints: e.target.value })} />
                        <span className="muted">points</span>
                        <select aria-label="Cap period" value={r.capPer} onChange={(e) => setEvent(r.id, { capPer: e.target.value as EventRuleForm["capPer"] })}>
                          {CAP_PERIODS.map((p) => (
                            <option key={p} value={p}>
                              {PERIOD_LABELS[p]}
                            </option>
                          ))}
                        </select>
                      </>
                    )}
                  </div>
                </div>
              )}
            </RuleRows>
          </div>

          <div className="card">
            <h2>Points for who they are</h2>
            <p className="muted small">Points while a contact matches the condition, on their fields, consent or companies; they do not fade.</p>
            <RuleRows rows={form.attributes} noun="Attribute rule" testId="attribute-rule" none="No attribute rules." errors={errors.parts} editable={editable} onChange={(attributes) => set({ attributes })} create={emptyAttributeRule}>
              {(r, n, remove) => (
                <>
                  {catalog && (
                    <RuleEditor value={r.when} onChange={(when) => setAttribute(r.id, { when })} catalog={catalog} errors={errors.conditions} kinds={ATTRIBUTE_KINDS} readOnly={!editable} />
                  )}
                  <div className="row">
                    <label className="inline">
                      <span>Points</span>
                      <input type="number" className="narrow" value={r.points} onChange={(e) => setAttribute(r.id, { points: e.target.value })} />
                    </label>
                    {editable && (
                      <button type="button" className="link danger" aria-label={`Remove attribute rule ${n}`} onClick={remove}>
                        Remove rule
                      </button>
                    )}
                  </div>
                </>
              )}
            </RuleRows>
          </div>

          <div className="card">
            <h2>Thresholds</h2>
            <p className="muted small">Crossing one, up or down, logs Score Threshold Crossed, which journeys can start from.</p>
            <RuleRows rows={form.thresholds} noun="Threshold" testId="threshold" className="rule-cond" none="No thresholds." errors={errors.parts} editable={editable} onChange={(thresholds) => set({ thresholds })} create={emptyThreshold}>
              {(t, n, remove) => (
                <div className="row">
                  <label className="inline">
                    <span>Name</span>
                    <input value={t.name} placeholder="e.g. MQL" onChange={(e) => setThreshold(t.id, { name: e.target.value })} />
                  </label>
                  <label className="inline">
                    <span>Value</span>
                    <input type="number" className="narrow" value={t.value} onChange={(e) => setThreshold(t.id, { value: e.target.value })} />
                  </label>
                  {editable && (
                    <button type="button" className="icon danger" aria-label={`Remove threshold ${n}`} title="Remove threshold" onClick={remove}>
                      ×
                    </button>
                  )}
                </div>
              )}
            </RuleRows>
          </div>
        </fieldset>

        <div className="card">
          {editable ? (
            <div className="form-actions">
              <button type="submit" className="primary" disabled={saving || !definition}>
                {saving ? "Saving…" : isNew ? "Create score" : "Save new version"}
              </button>
              {!isNew && <span className="muted small">Saving recomputes every contact's value from the event log; the current values stay until then.</span>}
            </div>
          ) : (
            <p className="muted small">Your role ({role}) can look at scores but not change them.</p>
          )}
          <ProblemBox error={problem} context="Not saved" />
          <details className="rule-json">
            <summary>Definition as JSON</summary>
            <pre>{JSON.stringify(definition, null, 2)}</pre>
          </details>
        </div>
      </form>
      {!isNew && saved.data && can("reports:read") && (
        <ScoreAudits name={saved.data.name} thresholds={[...(saved.data.definition.thresholds ?? [])].sort((a, b) => a.value - b.value).map((t) => t.name)} />
      )}
    </section>
    </EventCatalogProvider>
  );
}

/** One part of the score as a list of rows (event rules, attribute rules,
 * thresholds): each row a group named "`noun` n" with the server's message
 * about it underneath, the words for none, and the button that adds a row.
 * `children` draws a row's inputs, given its number and its removal. */
function RuleRows<T extends { id: string }>({
  rows,
  noun,
  testId,
  className = "",
  none,
  errors,
  editable,
  onChange,
  create,
  children,
}: {
  rows: T[];
  noun: string;
  testId: string;
  className?: string;
  none: string;
  errors: ScoreErrors["parts"];
  editable: boolean;
  onChange: (rows: T[]) => void;
  create: () => T;
  children: (row: T, n: number, remove: () => void) => ReactNode;
}) {
  return (
    <>
      {rows.length === 0 && <p className="muted">{none}</p>}
      <ol className="score-rules">
        {rows.map((r, i) => {
          const err = errors.get(r.id);
          return (
            <li key={r.id} className={`${className} score-rule${err ? " has-error" : ""}`.trim()} data-testid={testId} role="group" aria-label={`${noun} ${i + 1}`}>
              {children(r, i + 1, () => onChange(rows.filter((x) => x.id !== r.id)))}
              {err && (
                <p className="node-error" role="alert">
                  {err}
                </p>
              )}
            </li>
          );
        })}
      </ol>
      {editable && (
        <button type="button" onClick={() => onChange([...rows, create()])}>
          + {noun}
        </button>
      )}
    </>
  );
}
