// The dashboard's "Needs attention" feed: what keeps email or journeys from
// working, each with a link to where it is fixed and, for journey actions
// that failed, a Retry for roles that may. Each source is read only when the
// role may read it; roles that do not see people get aggregate items only
// (failed run counts, never who).
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { api, ApiError, useApi, type Journey, type JourneyStats, type Segment } from "../api";
import { formatWhen, Loading, ProblemBox } from "../components";
import { useCan } from "../session";
import { attentionItems, type AttentionItem, type DeadLetter, type FailedRun } from "./feed";

const POLL_MS = 30_000;

/** Failed runs (roles that see people) or failed run counts (roles with reports only) of each active journey. */
function useFailedRuns(active: string[], people: boolean, reports: boolean, tick: number) {
  const [runs, setRuns] = useState<{ journeyId: string; runs: FailedRun[] }[] | undefined>(undefined);
  const [counts, setCounts] = useState<{ journeyId: string; failed: number }[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const ids = active.join(",");
  useEffect(() => {
    const list = ids ? ids.split(",") : [];
    if (!people && !reports) return;
    const ctl = new AbortController();
    const opts = { signal: ctl.signal };
    const load = people
      ? Promise.all(list.map((id) => api<{ data: FailedRun[] }>("GET", `/api/v1/journeys/${id}/runs?status=failed&limit=5`, undefined, opts).then((r) => ({ journeyId: id, runs: r.data })))).then(setRuns)
      : Promise.all(list.map((id) => api<JourneyStats>("GET", `/api/v1/journeys/${id}/stats`, undefined, opts).then((s) => ({ journeyId: id, failed: s.runs.failed ?? 0 })))).then(setCounts);
    load.then(
      () => setError(null),
      (e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      },
    );
    return () => ctl.abort();
  }, [ids, people, reports, tick]);
  return { runs, counts, error, loaded: runs !== undefined || counts !== undefined || (!people && !reports) };
}

export function NeedsAttention({ journeys, segments }: { journeys: Journey[] | undefined; segments: Segment[] | undefined }) {
  const can = useCan();
  const people = can("people:read");
  const settingsRead = can("settings:read");
  const canRetry = can("marketing:write");
  const dead = useApi<{ data: DeadLetter[] }>(people ? "/api/v1/outbox/dead-letters?limit=5" : null, { pollMs: POLL_MS });
  const settings = useApi<{ postal_address: string | null }>(settingsRead ? "/api/v1/settings" : null);
  const senders = useApi<{ data: unknown[] }>(settingsRead ? "/api/v1/email/senders" : null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => document.visibilityState === "visible" && setTick((x) => x + 1), POLL_MS);
    return () => window.clearInterval(t);
  }, []);
  const active = useMemo(() => (journeys ?? []).filter((j) => j.status === "active").map((j) => j.id), [journeys]);
  const failed = useFailedRuns(active, people, can("reports:read"), tick);

  const items = useMemo(() => {
    const name = (id: string) => journeys?.find((j) => j.id === id)?.name ?? id;
    return attentionItems({
      deadLetters: dead.data?.data,
      failedRuns: failed.runs,
      failedCounts: failed.counts,
      segments,
      postalAddress: settings.data ? settings.data.postal_address : undefined,
      senders: senders.data?.data.length,
      journeyName: name,
      canRetry,
    });
  }, [dead.data, failed.runs, failed.counts, segments, settings.data, senders.data, journeys, canRetry]);

  const loading = (people && !dead.data && !dead.error) || (settingsRead && ((!settings.data && !settings.error) || (!senders.data && !senders.error))) || journeys === undefined || !failed.loaded;
  const retried = () => {
    dead.reload();
    setTick((x) => x + 1);
  };

  return (
    <div className="card attention" data-testid="needs-attention">
      <h2>Needs attention</h2>
      <ProblemBox error={dead.error} context="Failed deliveries" />
      <ProblemBox error={failed.error} context="Failed journey runs" />
      <ProblemBox error={settings.error} context="Settings" />
      <ProblemBox error={senders.error} context="Senders" />
      {items.length > 0 && (
        <ul className="plain attention-list">
          {items.map((it) => (
            <Item key={it.key} item={it} onRetried={retried} />
          ))}
        </ul>
      )}
      {loading && items.length === 0 && <Loading what="what needs attention" />}
      {!loading && items.length === 0 && <p className="muted">Nothing: email can be sent, segments are built, and every journey action went through or is still being tried.</p>}
    </div>
  );
}

function Item({ item, onRetried }: { item: AttentionItem; onRetried: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  async function retry() {
    setBusy(true);
    setError(null);
    try {
      await api("POST", `/api/v1/journey-runs/${item.retryRun}/retry`);
      setDone(true);
      onRetried();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError({ title: "Not retried", status: 0, detail: String(e) }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <li className={`attention-item attention-${item.kind}`} data-testid={`attention-${item.kind}`}>
      <div className="attention-head">
        <strong>{item.title}</strong>
        {item.when !== undefined && <span className="muted small"> · {formatWhen(item.when)}</span>}
      </div>
      {item.detail && <div className="problem-detail">{item.detail}</div>}
      <div className="attention-actions">
        <Link to={item.to}>{item.linkLabel}</Link>
        {item.retryRun && !done && (
          <button type="button" onClick={() => void retry()} disabled={busy} aria-label={`Retry: ${item.title}`}>
            {busy ? "Retrying…" : "Retry"}
          </button>
        )}
        {done && <span className="ok small" role="status">Retried.</span>}
      </div>
      <ProblemBox error={error} context="Not retried" />
    </li>
  );
}
