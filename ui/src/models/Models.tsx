// Predictive models: for roles that may change marketing, the form that
// trains a conversion model (event, horizon, an optional sensitive attribute
// to audit fairness by, the selection threshold and regularisation), with
// the outcome or the server's refusal where it happened; and every version
// trained, newest first, with its hold-out figures, whether it was promoted
// (and why, or why not), the current one marked, and a warning sign when its
// fairness audit broke the four-fifths rule. Between them, retraining on a
// schedule with the form's settings and the contacts most likely to convert.
import { useState } from "react";
import { Link } from "react-router";
import { Schedules, TopLeads } from "./Leads";
import { api, formProblems, useApi } from "../api";
import { FieldError, formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import { useCan } from "../session";
import { useCatalog } from "../segments/catalog";
import { EventNameInput, EventNames } from "../segments/RuleEditor";
import {
  emptyTrainForm,
  formatLift,
  formatMetric,
  promotionReason,
  sensitiveCandidates,
  trainBody,
  trainFormErrors,
  versionNumbers,
  withVersionNames,
  type ModelVersion,
  type TrainForm,
  type VersionList,
  type VersionSummary,
} from "./model";
import { countOf } from "../plural";

export function Models() {
  const can = useCan();
  const list = useApi<VersionList>("/api/v1/models/conversion");
  const [trained, setTrained] = useState<ModelVersion | null>(null);
  const [form, setForm] = useState<TrainForm>(emptyTrainForm);
  const numbers = versionNumbers(list.data?.versions ?? []);
  return (
    <section>
      <PageHeader title="Models" />
      <p className="muted">
        Conversion models predict who will convert: each learns from contacts' behaviour and fields, is checked on a later hold-out period, and replaces the
        current model only when it ranks that period better.
      </p>
      {can("marketing:write") && (
        <TrainCard
          form={form}
          setForm={setForm}
          onStart={() => setTrained(null)}
          onTrained={(v) => {
            setTrained(v);
            list.reload();
          }}
        />
      )}
      {trained && <TrainedOutcome version={trained} numbers={numbers} />}
      {can("marketing:write") && <Schedules form={form} onRun={list.reload} numbers={numbers} />}
      <h2 className="section-head">Conversion model versions</h2>
      <ProblemBox error={list.error} context="Models" />
      {list.loading && !list.data && <Loading what="models" />}
      {list.data && list.data.versions.length === 0 && <p className="muted">No model trained yet.</p>}
      {list.data && list.data.versions.length > 0 && <VersionsTable list={list.data} numbers={numbers} />}
      {can("people:read") && list.data?.current && <TopLeads />}
    </section>
  );
}

const TRAIN_FIELDS = ["event", "horizon_days", "sensitive_attribute", "allow_sensitive", "fairness_threshold", "l2"] as const;

function TrainCard({
  form,
  setForm,
  onStart,
  onTrained,
}: {
  form: TrainForm;
  setForm: (f: (old: TrainForm) => TrainForm) => void;
  onStart: () => void;
  onTrained: (v: ModelVersion) => void;
}) {
  const { catalog, error: catalogError } = useCatalog();
  const [training, setTraining] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (patch: Partial<TrainForm>) => setForm((f) => ({ ...f, ...patch }));
  const candidates = catalog ? sensitiveCandidates(catalog.schema) : [];

  async function train() {
    setProblem(null);
    const own = trainFormErrors(form);
    setErrors(own);
    if (Object.keys(own).length > 0) return;
    setTraining(true);
    onStart();
    try {
      const v = await api<ModelVersion>("POST", "/api/v1/models/conversion", trainBody(form));
      onTrained(v);
    } catch (e) {
      // What is shown at a field is not repeated in the box.
      const { fields, rest } = formProblems(e, TRAIN_FIELDS);
      setErrors(fields);
      setProblem(rest);
    } finally {
      setTraining(false);
    }
  }

  const described = (id: string, field: string, help?: boolean) => (errors[field] ? `${id}-error` : help ? `${id}-help` : undefined);
  return (
    <form
      className="card train-form"
      aria-label="Train a conversion model"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void train();
      }}
    >
      <h2>Train a conversion model</h2>
      <ProblemBox error={catalogError} context="Loading event names and fields" />
      {catalog && <EventNames catalog={catalog} />}
      <fieldset disabled={training} className="plain">
        <div className="form-grid">
          <div className="field">
            <label htmlFor="train-event">Conversion event</label>
            <EventNameInput id="train-event" value={form.event} onChange={(event) => set({ event })} error={errors.event} />
            <FieldError id="train-event" error={errors.event} />
          </div>
          <div className="field">
            <label htmlFor="train-horizon">Within (days)</label>
            <input
              id="train-horizon"
              type="number"
              min={1}
              max={365}
              className={errors.horizon_days ? "narrow has-error" : "narrow"}
              value={form.horizonDays}
              onChange={(e) => set({ horizonDays: e.target.value })}
              aria-invalid={errors.horizon_days !== undefined}
              aria-describedby={described("train-horizon", "horizon_days", true)}
            />
            <FieldError id="train-horizon" error={errors.horizon_days} help="How far ahead to predict, 1 to 365 days." />
          </div>
          <div className="field">
            <label htmlFor="train-sensitive">Audit fairness by</label>
            <select
              id="train-sensitive"
              value={form.sensitiveAttribute}
              onChange={(e) => set({ sensitiveAttribute: e.target.value, allowSensitive: e.target.value ? form.allowSensitive : false })}
              aria-invalid={errors.sensitive_attribute !== undefined}
              aria-describedby={described("train-sensitive", "sensitive_attribute", true)}
              className={errors.sensitive_attribute ? "has-error" : undefined}
            >
              <option value="">no sensitive attribute</option>
              {candidates.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <FieldError id="train-sensitive" error={errors.sensitive_attribute} help="A contact field such as country: the model is checked for treating its groups differently." />
          </div>
        </div>
        {form.sensitiveAttribute && (
          <div className="field">
            <label className="inline">
              <input type="checkbox" checked={form.allowSensitive} onChange={(e) => set({ allowSensitive: e.target.checked })} />
              <span>Let the model use {form.sensitiveAttribute} as a feature</span>
            </label>
            <p className="muted small">Off, it is left out of the model and only used for the audit.</p>
            <FieldError id="train-allow" error={errors.allow_sensitive} />
          </div>
        )}
        <details className="field">
          <summary>Advanced</summary>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="train-threshold">Selection threshold</label>
              <input
                id="train-threshold"
                type="number"
                min={0}
                max={1}
                step={0.01}
                className={errors.fairness_threshold ? "narrow has-error" : "narrow"}
                placeholder="auto"
                value={form.threshold}
                onChange={(e) => set({ threshold: e.target.value })}
                aria-invalid={errors.fairness_threshold !== undefined}
                aria-describedby={described("train-threshold", "fairness_threshold", true)}
              />
              <FieldError id="train-threshold" error={errors.fairness_threshold} help="The probability above which the fairness audit counts a contact as selected. Empty: the top tenth." />
            </div>
            <div className="field">
              <label htmlFor="train-l2">Regularisation (L2)</label>
              <input
                id="train-l2"
                type="number"
                min={0}
                step="any"
                className={errors.l2 ? "narrow has-error" : "narrow"}
                placeholder="1"
                value={form.l2}
                onChange={(e) => set({ l2: e.target.value })}
                aria-invalid={errors.l2 !== undefined}
                aria-describedby={described("train-l2", "l2", true)}
              />
              <FieldError id="train-l2" error={errors.l2} help="Larger values keep coefficients small. Empty: the server's default." />
            </div>
          </div>
        </details>
        <div className="form-actions">
          <button type="submit" className="primary">
            {training ? "Training…" : "Train model"}
          </button>
          {training && (
            <span className="loading" role="status">
              <span className="spinner" aria-hidden="true" /> Training on the event log; this takes a few seconds…
            </span>
          )}
        </div>
      </fieldset>
      <ProblemBox error={problem} context="Not trained" />
    </form>
  );
}

/** What the last training gave: promoted or not, and why. */
function TrainedOutcome({ version, numbers }: { version: ModelVersion; numbers: ReadonlyMap<string, number> }) {
  const n = numbers.get(version.id);
  return (
    <div className={version.promoted ? "ok-box" : "notice"} role="status" data-testid="trained-outcome">
      <strong>
        {n ? `Version #${n}` : "The new version"} {version.promoted ? "was promoted" : "was not promoted"}:
      </strong>{" "}
      {promotionReason(withVersionNames(version.promotion, numbers))}.{" "}
      <Link to={`/models/${version.id}`}>See the model</Link>
    </div>
  );
}

function VersionsTable({ list, numbers }: { list: VersionList; numbers: ReadonlyMap<string, number> }) {
  return (
    <div className="table-wrap">
      <table className="table models-table" data-testid="model-versions">
        <caption className="sr-only">Conversion model versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Predicts</th>
            <th scope="col" className="num">
              <abbr title="Area under the ROC curve, on the hold-out: the chance a converter is ranked above a non-converter">AUC</abbr>
            </th>
            <th scope="col" className="num hide-narrow">Log loss</th>
            <th scope="col" className="num">
              <abbr title="How many times the average conversion rate the top tenth of predictions reaches">Lift</abbr>
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {list.versions.map((v) => (
            <VersionRow key={v.id} v={v} current={v.id === list.current} numbers={numbers} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function VersionRow({ v, current, numbers }: { v: VersionSummary; current: boolean; numbers: ReadonlyMap<string, number> }) {
  const n = numbers.get(v.id);
  return (
    <tr data-testid="model-version" className={current ? "current-row" : undefined}>
      <td>
        <Link to={`/models/${v.id}`}>#{n}</Link>
        <div className="muted small nowrap">
          <time dateTime={new Date(v.trained_at).toISOString()}>{formatWhen(v.trained_at)}</time>
        </div>
      </td>
      <td>
        {v.event}
        <div className="muted small">within {countOf(v.horizon_days, "day")}</div>
      </td>
      <td className="num" data-testid="version-auc">
        {formatMetric(v.holdout.auc)}
      </td>
      <td className="num hide-narrow">{formatMetric(v.holdout.log_loss)}</td>
      <td className="num">{formatLift(v.holdout.lift_top_decile)}</td>
      <td className="version-status">
        <div className="row">
          <PromotionBadge promoted={v.promoted} current={current} />
          {v.fairness_warning && <FairnessFlag warning={v.fairness_warning} />}
        </div>
        <div className="muted small">{promotionReason(withVersionNames(v.promotion, numbers))}</div>
      </td>
    </tr>
  );
}

export function PromotionBadge({ promoted, current }: { promoted: boolean; current: boolean }) {
  if (current) return <span className="badge badge-current">current</span>;
  if (promoted) return <span className="badge badge-superseded" title="Promoted when trained, since replaced by a newer version">promoted, since replaced</span>;
  return <span className="badge badge-not-promoted">not promoted</span>;
}

/** A warning sign whose text is the audit's warning (for pointers and screen readers). */
function FairnessFlag({ warning }: { warning: string }) {
  return (
    <span className="fairness-flag" title={warning} data-testid="fairness-flag">
      <span aria-hidden="true">⚠</span>
      <span className="sr-only">Fairness warning: {warning}</span>
      <span className="small"> fairness</span>
    </span>
  );
}
