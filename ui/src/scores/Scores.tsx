// Lead scores: every score definition of the workspace with its status (a
// progress bar while a new version is recomputed from the log, the error
// when that failed), its version and thresholds, polled while any is
// recomputing; the way to a new one, and deleting one after an inline
// confirm, for roles that may change them. The polling and the status are
// shared with the score editor.
import { useEffect, useState } from "react";
import { Link, useLocation } from "react-router";
import { api, useApi, type Loaded, type Page } from "../api";
import { formatNumber, formatWhen, InlineConfirm, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";
import { useCan } from "../session";
import { thresholdsText, type Score } from "./score";
import { countOf } from "../plural";

const POLL_RECOMPUTING_MS = 1000;
const POLL_MS = 10000;

/** GET `path` (the list, or one score; null: nothing yet), polled every
 * second while `recomputing` says a score in it is being recomputed, so its
 * progress moves, and every `idleMs` otherwise (not at all without). */
export function useScorePolling<T>(path: string | null, recomputing: (data: T) => boolean, idleMs?: number): Loaded<T> {
  const [fast, setFast] = useState(true);
  const loaded = useApi<T>(path, { pollMs: fast ? POLL_RECOMPUTING_MS : idleMs });
  // Until the first answer, assume a recompute; a failed first load waits for the slow pace.
  const now = loaded.data !== undefined ? recomputing(loaded.data) : !loaded.error;
  useEffect(() => setFast(now), [now]);
  return loaded;
}

export function Scores() {
  const can = useCan();
  const scores = useScorePolling<Page<Score>>("/api/v1/scores", (d) => d.data.some((s) => s.status === "recomputing"), POLL_MS);
  // The editor comes back here after a save, saying which score it saved.
  const saved = (useLocation().state as { saved?: string } | null)?.saved;
  const [confirm, setConfirm] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<{ name: string; error: unknown } | null>(null);

  async function remove(name: string) {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api("DELETE", `/api/v1/scores/${encodeURIComponent(name)}`);
      setConfirm(null);
      scores.reload();
    } catch (e) {
      setDeleteError({ name, error: e });
    } finally {
      setDeleting(false);
    }
  }

  const write = can("marketing:write");
  return (
    <section>
      <PageHeader title="Scores">
        {write && (
          <Link className="button primary" to="/scores/new">
            New score
          </Link>
        )}
      </PageHeader>
      <p className="muted">Points for what contacts do and who they are; each value is kept current as events arrive.</p>
      {saved && (
        <p className="ok" role="status">
          Saved {saved}: its values are recomputed from the event log; the previous values stay until that is done.
        </p>
      )}
      <ProblemBox error={scores.error} context="Scores" />
      {scores.loading && !scores.data && <Loading what="scores" />}
      {scores.data && scores.data.data.length === 0 && <p className="muted">No scores yet.</p>}
      {scores.data && scores.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Scores</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Version</th>
                <th scope="col">Thresholds</th>
                <th scope="col" className="hide-narrow">Updated</th>
                {write && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {scores.data.data.map((s) => (
                <tr key={s.name} data-testid={`score-${s.name}`}>
                  <td>
                    <Link to={`/scores/${encodeURIComponent(s.name)}`}>{s.name}</Link>
                    {s.definition.description && <div className="muted small">{s.definition.description}</div>}
                  </td>
                  <td>
                    <ScoreStatus score={s} />
                  </td>
                  <td className="num">
                    {s.version}
                    {s.live_version !== null && s.live_version !== s.version && (
                      <div className="muted small">version {s.live_version} shown</div>
                    )}
                  </td>
                  <td>{thresholdsText(s.definition)}</td>
                  <td className="hide-narrow">{formatWhen(s.updated_at)}</td>
                  {write && (
                    <td className="score-actions">
                      {confirm === s.name ? (
                        <InlineConfirm
                          label={`Confirm deleting ${s.name}`}
                          question={`Delete ${s.name} and every contact's value?`}
                          yes="Yes, delete"
                          disabled={deleting}
                          onYes={() => void remove(s.name)}
                          onNo={() => setConfirm(null)}
                        />
                      ) : (
                        <button type="button" className="link danger" aria-label={`Delete ${s.name}`} onClick={() => setConfirm(s.name)}>
                          Delete
                        </button>
                      )}
                      {deleteError?.name === s.name && <ProblemBox error={deleteError.error} context="Not deleted" />}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The status badge; while recomputing, how far through the log; when failed, why. */
export function ScoreStatus({ score }: { score: Score }) {
  const { events_done: done, events_total: total } = score.progress;
  return (
    <div className="score-status" data-testid="score-status">
      <StatusBadge status={score.status} />
      {score.status === "recomputing" && (
        <div className="progress-line">
          <progress max={Math.max(total, 1)} value={Math.min(done, total)} aria-label={`Recomputing ${score.name}`} />
          <span className="muted small">
            {formatNumber(done)} of {countOf(total, "event")}
          </span>
        </div>
      )}
      {score.status === "failed" && score.error && <div className="problem-detail">{score.error}</div>}
    </div>
  );
}
