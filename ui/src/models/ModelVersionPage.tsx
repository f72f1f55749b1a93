// One conversion model version: what it predicts and whether it was
// promoted; its hold-out figures in plain words, beside the current model's
// on the same hold-out; its calibration against the diagonal; coefficients by
// size with standard errors (weak ones flagged); features left out and why;
// the feature spec; and the fairness audit by the sensitive attribute, its
// warning shown first when the four-fifths rule is broken, then audits by
// other attributes run since.
import { useMemo } from "react";
import { Link, useParams } from "react-router";
import { useApi } from "../api";
import { CalibrationChart } from "../Chart";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import { FairnessReport, ModelAudits } from "./Fairness";
import { PromotionBadge } from "./Models";
import {
  aucMeaning,
  byEffect,
  calibrationPoints,
  dropReason,
  formatLift,
  formatMetric,
  formatPercent,
  formatSigned,
  isWeak,
  promotionReason,
  versionNumbers,
  withVersionNames,
  type Holdout,
  type ModelVersion,
  type VersionList,
} from "./model";
import { countOf } from "../plural";

export function ModelVersionPage() {
  const { id = "" } = useParams();
  const version = useApi<ModelVersion>(`/api/v1/models/conversion/${encodeURIComponent(id)}`);
  const list = useApi<VersionList>("/api/v1/models/conversion");
  const numbers = useMemo(() => versionNumbers(list.data?.versions ?? []), [list.data]);
  const n = numbers.get(id);
  const back = <Link to="/models">All models</Link>;

  if (!version.data)
    return (
      <section>
        <PageHeader title="Conversion model">{back}</PageHeader>
        <ProblemBox error={version.error} context="Loading the model" />
        {version.loading && <Loading what="the model" />}
      </section>
    );
  const v = version.data;
  const current = list.data?.current === v.id;
  return (
    <section className="model-page">
      <PageHeader
        title={
          <>
            Conversion model{n ? ` #${n}` : ""} <PromotionBadge promoted={v.promoted} current={current} />
          </>
        }
      >
        {back}
      </PageHeader>
      <p>
        Predicts whether a contact does <strong>{v.event}</strong> within <strong>{countOf(v.horizon_days, "day")}</strong>. Trained {formatWhen(v.trained_at)} on
        contacts as they were on {formatWhen(v.training_cutoff)}; checked on the {countOf(v.horizon_days, "day")} after {formatWhen(v.holdout_cutoff)}.
      </p>
      <p className={v.promoted ? "ok-box" : "notice"} data-testid="promotion">
        <strong>{v.promoted ? "Promoted" : "Not promoted"}:</strong> {promotionReason(withVersionNames(v.promotion, numbers))}.
      </p>
      {v.fairness?.four_fifths_violated && (
        <p className="fairness-banner" data-testid="fairness-banner">
          <span aria-hidden="true">⚠ </span>
          <strong>Four-fifths rule broken{v.sensitive_attribute ? ` by ${v.sensitive_attribute}` : ""}:</strong> some groups are selected far less often than
          others. <a href="#fairness">See the fairness audit</a> before acting on these predictions.
        </p>
      )}

      <div className="card">
        <h2>On the hold-out</h2>
        <p className="muted small">
          {countOf(v.holdout.rows, "contact")} not used in training, of whom {formatNumber(v.holdout.positives)} converted ({formatPercent(v.holdout.base_rate)}).
        </p>
        <div className="metrics" data-testid="holdout-metrics">
          <Metric label="AUC" value={formatMetric(v.holdout.auc)} help={aucMeaning(v.holdout.auc)} />
          <Metric
            label="Lift in the top tenth"
            value={formatLift(v.holdout.lift_top_decile)}
            help={`The tenth with the highest predictions converted at ${formatPercent(v.holdout.top_decile_rate)}, ${formatLift(v.holdout.lift_top_decile)} the average ${formatPercent(v.holdout.base_rate)}`}
          />
          <Metric label="Log loss" value={formatMetric(v.holdout.log_loss)} help="How far the predicted probabilities are from what happened; lower is better" />
          <Metric
            label="Calibration error"
            value={formatPercent(v.holdout.calibration_error)}
            help="The average gap between predicted and observed rates across the bins below; lower is better"
          />
        </div>
        {v.current_on_holdout && <Comparison mine={v.holdout} theirs={v.current_on_holdout} />}
      </div>

      <div className="card">
        <h2>Calibration</h2>
        <p className="muted small">
          Contacts in ten bins by predicted probability: each point is a bin's average prediction against the share that converted. A well calibrated model
          follows the dashed diagonal.
        </p>
        <Calibration holdout={v.holdout} />
      </div>

      <Coefficients version={v} />

      <div className="grid-2">
        <div className="card">
          <h2>Features left out</h2>
          {v.model.dropped.length === 0 && <p className="muted">None: every feature was used.</p>}
          {v.model.dropped.length > 0 && (
            <ul className="plain" data-testid="dropped">
              {v.model.dropped.map((d) => (
                <li key={d.feature}>
                  <strong>{d.feature}</strong>: {dropReason(d.reason)}
                </li>
              ))}
            </ul>
          )}
          {v.sensitive_attribute && (
            <p className="muted small">
              The sensitive attribute {v.sensitive_attribute} {v.sensitive_excluded ? "was kept out of the model" : "was allowed as a feature"}.
            </p>
          )}
        </div>
        <div className="card">
          <h2>Feature spec</h2>
          <dl className="spec">
            <dt>Conversion</dt>
            <dd>{v.spec.conversion}</dd>
            <dt>Events counted</dt>
            <dd>{v.spec.events.length ? v.spec.events.join(", ") : "—"}</dd>
            <dt>Numeric fields</dt>
            <dd>{v.spec.numeric.length ? v.spec.numeric.join(", ") : "—"}</dd>
            <dt>Categories</dt>
            <dd>
              {v.spec.categorical.length === 0
                ? "—"
                : v.spec.categorical.map(([field, values]) => (
                    <div key={field}>
                      {field}: <span className="muted">{values.join(", ")}</span>
                    </div>
                  ))}
            </dd>
          </dl>
        </div>
      </div>

      <FairnessAudit version={v} />
    </section>
  );
}

function Metric({ label, value, help }: { label: string; value: string; help: string }) {
  return (
    <div className="metric">
      <div className="metric-label">{label}</div>
      <div className="metric-value" data-testid={`metric-${label}`}>
        {value}
      </div>
      <div className="muted small">{help}</div>
    </div>
  );
}

function Comparison({ mine, theirs }: { mine: Holdout; theirs: Holdout }) {
  const rows: [string, (h: Holdout) => string][] = [
    ["AUC (higher is better)", (h) => formatMetric(h.auc)],
    ["Log loss (lower is better)", (h) => formatMetric(h.log_loss)],
    ["Lift in the top tenth", (h) => formatLift(h.lift_top_decile)],
    ["Calibration error", (h) => formatPercent(h.calibration_error)],
  ];
  return (
    <>
      <h3>Against the model that was current</h3>
      <div className="table-wrap">
        <table className="table compact" data-testid="comparison">
          <caption className="sr-only">This model and the model that was current, on the same hold-out</caption>
          <thead>
            <tr>
              <th scope="col">On the same hold-out</th>
              <th scope="col" className="num">This model</th>
              <th scope="col" className="num">Current model</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, f]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td className="num">{f(mine)}</td>
                <td className="num">{f(theirs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Calibration({ holdout }: { holdout: Holdout }) {
  const { x, y } = useMemo(() => calibrationPoints(holdout.calibration), [holdout]);
  return (
    <>
      <CalibrationChart predicted={x} observed={y} label="Observed conversion rate by predicted probability" />
      <details>
        <summary>The bins as a table</summary>
        <div className="table-wrap">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Predicted between</th>
                <th scope="col" className="num">Contacts</th>
                <th scope="col" className="num">Average prediction</th>
                <th scope="col" className="num">Converted</th>
              </tr>
            </thead>
            <tbody>
              {holdout.calibration.map((b, i) => (
                <tr key={i}>
                  <td>
                    {formatPercent(b.lower)} – {formatPercent(b.upper)}
                  </td>
                  <td className="num">{formatNumber(b.count)}</td>
                  <td className="num">{formatPercent(b.mean_predicted)}</td>
                  <td className="num">{formatPercent(b.observed_rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

function Coefficients({ version: v }: { version: ModelVersion }) {
  const columns = useMemo(() => byEffect(v.model.columns), [v]);
  const weak = columns.filter(isWeak).length;
  const t = v.model.training;
  return (
    <div className="card">
      <h2>What drives the prediction</h2>
      <p className="muted small">
        Each coefficient is the change in log-odds of converting for one standard deviation more of the feature (positive raises the chance), largest first.{" "}
        <span className="badge badge-weak">weak</span> marks those within two standard errors of zero: the data cannot tell them from no effect ({weak} of{" "}
        {columns.length}). Trained on {countOf(t.rows, "contact")} ({formatNumber(t.positives)} converted), L2 {t.l2}, {countOf(t.iterations, "iteration")}.
      </p>
      <div className="table-wrap">
        <table className="table compact" data-testid="coefficients">
          <caption className="sr-only">Coefficients, largest effect first</caption>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col" className="num">Coefficient</th>
              <th scope="col" className="num">Std. error</th>
              <th scope="col" className="num hide-narrow">Per unit</th>
              <th scope="col">
                <span className="sr-only">Strength</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {columns.map((c) => (
              <tr key={c.name} className={isWeak(c) ? "weak" : undefined}>
                <td>
                  {c.name}
                  {c.kind === "missing_indicator" && <div className="muted small">1 when the field is missing</div>}
                </td>
                <td className={`num ${c.coefficient < 0 ? "delta-down" : "delta-up"}`}>{formatSigned(c.coefficient)}</td>
                <td className="num">±{c.standard_error.toFixed(2)}</td>
                <td className="num hide-narrow muted" title="Change in log-odds per unit of the feature as stored">
                  {formatSigned(c.coefficient_original, 4)}
                </td>
                <td>{isWeak(c) && <span className="badge badge-weak">weak</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function FairnessAudit({ version: v }: { version: ModelVersion }) {
  const f = v.fairness;
  return (
    <div className="card" id="fairness" data-testid="fairness">
      <h2>Fairness{v.sensitive_attribute ? ` by ${v.sensitive_attribute}` : ""}</h2>
      {!f && <p className="muted">No sensitive attribute was given when this model was trained, so there is no fairness audit.</p>}
      {f && (
        <FairnessReport
          fairness={f}
          attribute={v.sensitive_attribute}
          intro={<>On the hold-out, a contact counts as selected when their predicted probability is at least {formatPercent(f.threshold)}.</>}
        />
      )}
      <ModelAudits version={v} />
    </div>
  );
}
