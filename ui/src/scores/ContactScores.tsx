// A contact's lead scores, for the contact page: each score's value now
// (decay applied), the highest threshold reached, and how much comes from
// behaviour and from attributes; and the history of changes, newest first,
// refreshed while the page is open, older pages on demand. The values and
// the history are asked for at once, and the card keeps room for them
// until both have come.
import { useState } from "react";
import { Link } from "react-router";
import { useApi, usePaged } from "../api";
import { formatWhen, Loading, LoadMore, ProblemBox } from "../components";
import { useCan } from "../session";
import { formatDelta, formatScore, newestFirst, type ContactScore, type ScoreChange } from "./score";
import { plural } from "../plural";

const HISTORY_PAGE = 20;

export function ContactScores({ base }: { base: string }) {
  const scores = useApi<{ data: ContactScore[] }>(`${base}/scores`, { pollMs: 10000 });
  const [which, setWhich] = useState("");
  // Definitions are marketing's: only roles that may read them get a link.
  const definitions = useCan()("marketing:read");
  const list = scores.data?.data ?? [];
  const query = `${base}/scores/history?limit=${HISTORY_PAGE}${which ? `&score=${encodeURIComponent(which)}` : ""}`;
  const history = usePaged<ScoreChange>(query, (cursor) => `${query}&cursor=${encodeURIComponent(cursor)}`, { pollMs: 10000 });
  const waiting = (r: { data?: unknown; error?: unknown }) => r.data === undefined && !r.error;
  // Until both have come the card keeps the room of a value and a few
  // changes (.contact-scores.pending): the cards below it stay out of a
  // laptop's first screen, so a long history arriving moves nothing in view.
  const pending = waiting(scores) || (list.length > 0 && waiting(history.first));
  return (
    <div className={pending ? "card contact-scores pending" : "card contact-scores"} data-testid="contact-scores" aria-busy={pending}>
      <h2>Scores</h2>
      {scores.loading && !scores.data && <Loading what="scores" />}
      <ProblemBox error={scores.error} context="Scores" />
      {scores.data && list.length === 0 && <p className="muted">No scores defined{definitions ? <>: <Link to="/scores">define one</Link></> : ""}.</p>}
      {list.length > 0 && (
        <ul className="score-values" aria-label="Scores now">
          {list.map((s) => (
            <li key={s.score} className="score-value" data-testid={`contact-score-${s.score}`}>
              <div className="score-value-head">
                <span className="score-name">{definitions ? <Link to={`/scores/${encodeURIComponent(s.score)}`}>{s.score}</Link> : s.score}</span>
                {s.threshold && <span className="badge badge-threshold" title="Highest threshold reached">{s.threshold}</span>}
              </div>
              <div className="score-number" data-testid="score-value" title={String(s.value)}>
                {formatScore(s.value)}
              </div>
              <div className="muted small">
                {formatScore(s.behaviour)} from behaviour · {formatScore(s.attributes)} from attributes
                {s.half_life_days ? ` · half-life ${formatScore(s.half_life_days)} ${plural(s.half_life_days, "day")}` : ""}
              </div>
            </li>
          ))}
        </ul>
      )}
      {list.length > 0 && (
        <>
          <div className="row score-history-head">
            <h3>History</h3>
            {list.length > 1 && (
              <label className="inline">
                <span className="muted small">Of</span>
                <select value={which} onChange={(e) => setWhich(e.target.value)}>
                  <option value="">all scores</option>
                  {list.map((s) => (
                    <option key={s.score} value={s.score}>
                      {s.score}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          <ScoreHistory feed={history} showScore={list.length > 1 && !which} />
        </>
      )}
    </div>
  );
}

/** The changes of one score (or all), newest first; the first page refreshed, older pages kept. */
function ScoreHistory({ feed, showScore }: { feed: ReturnType<typeof usePaged<ScoreChange>>; showScore: boolean }) {
  const { first } = feed;
  // Sorted here too: the caption promises newest first, whatever order the pages came in.
  const changes = newestFirst(feed.items);
  return (
    <>
      {first.loading && !first.data && <Loading what="score history" />}
      <ProblemBox error={first.error} context="Score history" />
      {first.data && changes.length === 0 && <p className="muted">No changes yet.</p>}
      {changes.length > 0 && (
        <div className="table-wrap">
          <table className="table compact score-history" data-testid="score-history">
            <caption className="sr-only">Score changes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                {showScore && <th scope="col">Score</th>}
                <th scope="col">Reason</th>
                <th scope="col" className="num">Change</th>
                <th scope="col" className="num">Value after</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((c) => (
                <tr key={c.id}>
                  <td>
                    <time dateTime={new Date(c.at).toISOString()}>{formatWhen(c.at)}</time>
                  </td>
                  {showScore && <td>{c.score}</td>}
                  <td>
                    {c.reason}
                    {c.source !== "event" && <span className="muted small"> ({c.source})</span>}
                  </td>
                  <td className={`num ${c.delta < 0 ? "delta-down" : "delta-up"}`}>{formatDelta(c.delta)}</td>
                  <td className="num">{formatScore(c.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore feed={feed} label="Load more" context="Older changes" className="load-more" />
    </>
  );
}
