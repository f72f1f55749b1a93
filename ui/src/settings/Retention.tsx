// Settings → Retention: the workspace's retention policy (old events deleted
// or anonymised, inactive contacts purged; empty keeps for ever), running it
// now with the report of what it did, and the reports of recent runs. The
// server also applies the policy hourly.
import { useEffect, useState } from "react";
import { api, ApiError, useApi } from "../api";
import { formatNumber, formatWhen, Loading, ProblemBox, TextField } from "../components";
import { retentionBodyOf, retentionInputsOf, type RetentionInputs, type RetentionPolicy, type RetentionReport } from "./formModel";
import { countOf } from "../plural";

export function Retention() {
  const policy = useApi<RetentionPolicy>("/api/v1/retention");
  const runs = useApi<{ data: RetentionReport[] }>("/api/v1/retention/runs");
  const [r, setR] = useState<RetentionInputs | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<RetentionReport | null>(null);
  const [runProblem, setRunProblem] = useState<unknown>(null);

  useEffect(() => {
    if (policy.data) setR((x) => x ?? retentionInputsOf(policy.data!));
  }, [policy.data]);

  const save = async () => {
    if (!r) return;
    setSaving(true);
    setErrors({});
    setProblem(null);
    setNote(null);
    try {
      setR(retentionInputsOf(await api<RetentionPolicy>("PUT", "/api/v1/retention", retentionBodyOf(r))));
      setNote("Saved.");
    } catch (e) {
      const byField: Record<string, string> = {};
      if (e instanceof ApiError) for (const x of e.problem.errors ?? []) if (x.path in r && !(x.path in byField)) byField[x.path] = x.message;
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(e);
    } finally {
      setSaving(false);
    }
  };

  const runNow = async () => {
    // What a run deletes or anonymises cannot be brought back.
    if (!window.confirm("Apply the retention policy now? Deleted and anonymised data cannot be recovered.")) return;
    setRunning(true);
    setRunProblem(null);
    setReport(null);
    try {
      setReport(await api<RetentionReport>("POST", "/api/v1/retention/run"));
      runs.reload();
    } catch (e) {
      setRunProblem(e);
    } finally {
      setRunning(false);
    }
  };

  return (
    <>
      <section className="card" aria-labelledby="retention-title">
        <h2 id="retention-title">Retention policy</h2>
        <p className="muted small">
          How long raw events and inactive contacts are kept. Leave a number empty to keep them for ever. Anonymised events keep their counts but
          no longer say who did them. The policy is applied every hour.
        </p>
        <ProblemBox error={policy.error} context="Retention policy" />
        {policy.loading && !r && <Loading what="the retention policy" />}
        {r && (
          <form
            aria-label="Retention policy"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <div className="form-grid">
              <TextField
                id="retention-events_max_age_days"
                label="Events older than (days)"
                value={r.events_max_age_days}
                onChange={(v) => setR({ ...r, events_max_age_days: v })}
                error={errors.events_max_age_days}
              />
              <div className="field">
                <label htmlFor="retention-events_action">are</label>
                <select id="retention-events_action" value={r.events_action} onChange={(e) => setR({ ...r, events_action: e.target.value as RetentionInputs["events_action"] })}>
                  <option value="delete">deleted</option>
                  <option value="anonymise">anonymised</option>
                </select>
                {errors.events_action && <p className="field-error">{errors.events_action}</p>}
              </div>
              <TextField
                id="retention-inactive_contacts_days"
                label="Purge contacts inactive for (days)"
                value={r.inactive_contacts_days}
                onChange={(v) => setR({ ...r, inactive_contacts_days: v })}
                error={errors.inactive_contacts_days}
              />
            </div>
            <div className="form-actions">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? "Saving…" : "Save policy"}
              </button>
              {note && (
                <span className="ok" role="status">
                  {note}
                </span>
              )}
            </div>
            <ProblemBox error={problem} context="Policy not saved" />
          </form>
        )}
      </section>
      <section className="card" aria-labelledby="retention-runs-title">
        <div className="label-row">
          <h2 id="retention-runs-title">Runs</h2>
          <button type="button" onClick={() => void runNow()} disabled={running}>
            {running ? "Running…" : "Run now"}
          </button>
        </div>
        <ProblemBox error={runProblem} context="Not run" />
        {report && (
          <p className="notice" role="status" data-testid="retention-report">
            Done: {countOf(report.events_deleted, "event")} deleted, {formatNumber(report.events_anonymised)} anonymised,{" "}
            {countOf(report.contacts_purged, "contact")} purged.
          </p>
        )}
        <ProblemBox error={runs.error} context="Runs" />
        {runs.data && runs.data.data.length === 0 && <p className="muted">No runs yet.</p>}
        {runs.data && runs.data.data.length > 0 && (
          <table className="table" aria-label="Recent retention runs">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Events deleted</th>
                <th scope="col">Events anonymised</th>
                <th scope="col">Contacts purged</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.data.map((x, i) => (
                <tr key={`${x.ran_at}-${i}`}>
                  <td>{formatWhen(x.ran_at)}</td>
                  <td>{formatNumber(x.events_deleted)}</td>
                  <td>{formatNumber(x.events_anonymised)}</td>
                  <td>{formatNumber(x.contacts_purged)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
