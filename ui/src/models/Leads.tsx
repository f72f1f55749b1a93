// The Models page's uses of the current model: the contacts most likely to
// convert, ranked, paged with "Load more" and linking to each contact; and
// retraining on a schedule with the train form's settings, the schedules
// there are with their next and last runs, each removable.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, ApiError, contactName, fieldErrors, useApi, type Contact } from "../api";
import { formatWhen, InlineConfirm, Loading, ProblemBox } from "../components";
import { formatPercent, trainBody, trainFormErrors, withVersionNames, type TrainForm } from "./model";
import { everyDaysError, scheduleBody, schedulePath, scoredText, scoresPath, type Schedule, type ScoredContact, type ScoresPage } from "./predict";
import { countOf, plural } from "../plural";

const PAGE = 20;

type Lead = ScoredContact & { contact: Contact | null };

/** Each scored contact with the contact itself (null when it cannot be read: erased since, say). */
async function withContacts(rows: ScoredContact[]): Promise<Lead[]> {
  return Promise.all(
    rows.map((r) =>
      api<Contact>("GET", `/api/v1/contacts/${encodeURIComponent(r.contact_id)}`).then(
        (contact) => ({ ...r, contact }),
        () => ({ ...r, contact: null }),
      ),
    ),
  );
}

export function TopLeads() {
  const [head, setHead] = useState<Omit<ScoresPage, "data"> | null>(null);
  const [leads, setLeads] = useState<Lead[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function load(cursor: string | null) {
    setLoading(true);
    setError(null);
    try {
      const p = await api<ScoresPage>("GET", scoresPath(PAGE, cursor));
      const rows = await withContacts(p.data);
      setHead(p);
      setLeads((old) => (cursor ? [...old, ...rows] : rows));
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => {
    void load(null);
  }, []);

  const none = error instanceof ApiError && error.status === 409;
  return (
    <div className="card" data-testid="top-leads">
      <h2>Top leads</h2>
      {head && (
        <p className="muted small" data-testid="scored">
          Contacts by their chance of <strong>{head.event}</strong>, highest first: {scoredText(head)}.
        </p>
      )}
      {none ? <p className="muted">No model is promoted yet.</p> : <ProblemBox error={error} context="Top leads" />}
      {loading && leads.length === 0 && <Loading what="top leads" />}
      {leads.length > 0 && (
        <div className="table-wrap">
          <table className="table compact" data-testid="leads">
            <caption className="sr-only">Contacts by predicted probability of converting, highest first</caption>
            <thead>
              <tr>
                <th scope="col" className="num">#</th>
                <th scope="col">Contact</th>
                <th scope="col" className="num">Probability</th>
                <th scope="col" className="hide-narrow">Scored</th>
              </tr>
            </thead>
            <tbody>
              {leads.map((l, i) => (
                <tr key={l.contact_id} data-testid="lead">
                  <td className="num muted">{i + 1}</td>
                  <td>
                    <Link to={`/contacts/${l.contact_id}`}>{l.contact ? contactName(l.contact) : l.contact_id}</Link>
                    {l.contact?.email && contactName(l.contact) !== l.contact.email && <div className="muted small">{l.contact.email}</div>}
                  </td>
                  <td className="num">
                    <span className="lead-bar" aria-hidden="true" style={{ width: `${Math.round(l.probability * 60)}px` }} /> {formatPercent(l.probability)}
                  </td>
                  <td className="hide-narrow muted small">{formatWhen(l.scored_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {head?.next_cursor && (
        <button type="button" disabled={loading} onClick={() => void load(head.next_cursor)}>
          {loading ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}

export function Schedules({ form, onRun, numbers }: { form: TrainForm; onRun: () => void; numbers: ReadonlyMap<string, number> }) {
  const schedules = useApi<{ data: Schedule[] }>("/api/v1/models/conversion/schedules");
  const [every, setEvery] = useState("7");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [error, setError] = useState<string | undefined>();
  const [removing, setRemoving] = useState<string | null>(null);

  async function schedule() {
    setProblem(null);
    const own = everyDaysError(every);
    setError(own);
    if (own) return;
    const formErrors = trainFormErrors(form);
    if (Object.keys(formErrors).length > 0) {
      setProblem(new ApiError({ title: "The train form has a mistake", status: 0, detail: Object.entries(formErrors).map(([k, m]) => `${k}: ${m}`).join("; ") }));
      return;
    }
    setBusy(true);
    try {
      await api("PUT", "/api/v1/models/conversion/schedules", scheduleBody(every, trainBody(form)));
      schedules.reload();
      // The first run is now: look again once it has had time to train.
      window.setTimeout(() => {
        schedules.reload();
        onRun();
      }, 4000);
    } catch (e) {
      const found = fieldErrors(e, ["every_days"]);
      setError(found.every_days);
      if (!found.every_days) setProblem(e);
    } finally {
      setBusy(false);
    }
  }

  async function remove(event: string) {
    setProblem(null);
    try {
      await api("DELETE", schedulePath(event));
      schedules.reload();
    } catch (e) {
      setProblem(e);
    } finally {
      setRemoving(null);
    }
  }

  const list = schedules.data?.data ?? [];
  return (
    <div className="card" data-testid="schedules">
      <h2>Retrain on a schedule</h2>
      <form
        className="row"
        aria-label="Retrain on a schedule"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void schedule();
        }}
      >
        <label htmlFor="schedule-every">
          Retrain <strong>{form.event || "…"}</strong> within {form.horizonDays || "…"} {plural(Number(form.horizonDays), "day")} every
        </label>
        <input
          id="schedule-every"
          type="number"
          min={1}
          max={365}
          className={error ? "narrow has-error" : "narrow"}
          value={every}
          onChange={(e) => setEvery(e.target.value)}
          aria-invalid={error !== undefined}
          aria-describedby={error ? "schedule-every-error" : "schedule-every-help"}
        />
        <span>days</span>
        <button type="submit" disabled={busy}>
          {busy ? "Scheduling…" : "Schedule"}
        </button>
      </form>
      {error ? (
        <p className="field-error" id="schedule-every-error">
          {error}
        </p>
      ) : (
        <p className="muted small" id="schedule-every-help">
          With the train form's settings above; the first run is now. A new version replaces the current one only when it does better.
        </p>
      )}
      <ProblemBox error={problem} context="Schedule" />
      <ProblemBox error={schedules.error} context="Schedules" />
      {schedules.loading && !schedules.data && <Loading what="schedules" />}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table compact" data-testid="schedule-list">
            <caption className="sr-only">Retraining schedules</caption>
            <thead>
              <tr>
                <th scope="col">Predicts</th>
                <th scope="col">Every</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.event} data-testid="schedule">
                  <td>
                    {s.event}
                    <div className="muted small">within {countOf(s.request.horizon_days, "day")}</div>
                  </td>
                  <td>{s.every_days === 1 ? "day" : `${s.every_days} days`}</td>
                  <td className="nowrap">{formatWhen(s.next_at)}</td>
                  <td>
                    {s.last_run_at ? formatWhen(s.last_run_at) : <span className="muted">not yet</span>}
                    {s.last_result && <div className="muted small">{withVersionNames(s.last_result, numbers)}</div>}
                  </td>
                  <td>
                    {removing === s.event ? (
                      <InlineConfirm
                        label={`Remove the schedule of ${s.event}`}
                        question="Stop retraining?"
                        yes="Remove"
                        onYes={() => void remove(s.event)}
                        onNo={() => setRemoving(null)}
                      />
                    ) : (
                      <button type="button" onClick={() => setRemoving(s.event)} aria-label={`Remove the schedule of ${s.event}`}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
