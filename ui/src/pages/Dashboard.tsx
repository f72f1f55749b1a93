// The dashboard: headline counts of the workspace, email sent, opened and
// clicked over the last 30 days, conversions and their value over the same
// days (from the attribution report), events per day, the most frequent events,
// what needs attention (the feed in dashboard/), and the journeys and
// segments at a glance.
import { useMemo } from "react";
import { Link } from "react-router";
import { useApi, type Activity, type Journey, type Page, type Segment, type Workspace } from "../api";
import { formatNumber, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";
import { DailyChart } from "../Chart";
import { useCan } from "../session";
import { EmailCard } from "../dashboard/EmailCard";
import { ConversionsCard } from "../dashboard/ConversionsCard";
import { NeedsAttention } from "../dashboard/NeedsAttention";
import { countOf } from "../plural";

export function Dashboard() {
  const ws = useApi<Workspace>("/api/v1/workspace", { pollMs: 15000 });
  const journeys = useApi<{ data: Journey[] }>("/api/v1/journeys");
  const activity = useApi<Activity>("/api/v1/workspace/activity?days=30");
  const segments = useApi<Page<Segment>>("/api/v1/segments");
  const can = useCan();
  const people = can("people:read");
  const active = journeys.data?.data.filter((j) => j.status === "active").length;
  const days = useMemo(() => activity.data?.per_day.map((d) => d.day) ?? [], [activity.data]);
  const values = useMemo(() => activity.data?.per_day.map((d) => d.events) ?? [], [activity.data]);

  return (
    <section>
      <PageHeader title="Dashboard" />
      <div className="stats" aria-live="polite">
        <Stat label="Contacts" value={ws.data?.contacts} loading={ws.loading && !ws.data} to={people ? "/contacts" : undefined} />
        <Stat label="Events" value={ws.data?.events} loading={ws.loading && !ws.data} />
        <Stat label="Events in the last 24 h" value={ws.data?.events_last_24h} loading={ws.loading && !ws.data} />
        <Stat label="Active journeys" value={active} loading={journeys.loading && !journeys.data} to="/journeys" />
      </div>
      <ProblemBox error={ws.error} context="Workspace" />
      <ProblemBox error={journeys.error} context="Journeys" />
      {can("reports:read") && <EmailCard />}
      {can("reports:read") && <ConversionsCard />}

      <div className="grid-2">
        <div className="card">
          <h2>Events per day, last 30 days</h2>
          {activity.loading && !activity.data && <Loading what="activity" />}
          <ProblemBox error={activity.error} context="Activity" />
          {activity.data && <DailyChart days={days} values={values} label="Events" />}
        </div>
        <div className="card">
          <h2>Most frequent events</h2>
          {activity.data && activity.data.top_events.length === 0 && <p className="muted">No events in the last 30 days.</p>}
          {activity.data && activity.data.top_events.length > 0 && (
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col" className="num">Last 30 days</th>
                </tr>
              </thead>
              <tbody>
                {activity.data.top_events.slice(0, 8).map((e) => (
                  <tr key={e.name}>
                    <td>{e.name}</td>
                    <td className="num">{formatNumber(e.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>

      <NeedsAttention journeys={journeys.data?.data} segments={segments.data?.data} />

      <div className="grid-2">
        <div className="card">
          <h2>Journeys</h2>
          {journeys.loading && !journeys.data && <Loading what="journeys" />}
          {journeys.data && journeys.data.data.length === 0 && <p className="muted">No journeys yet.</p>}
          <ul className="plain">
            {journeys.data?.data.map((j) => (
              <li key={j.id}>
                <Link to={`/journeys/${j.id}`}>{j.name}</Link> <StatusBadge status={j.status} />
              </li>
            ))}
          </ul>
        </div>
        <div className="card">
          <h2>Segments</h2>
          {segments.loading && !segments.data && <Loading what="segments" />}
          <ProblemBox error={segments.error} context="Segments" />
          <ul className="plain">
            {segments.data?.data.map((s) => (
              <li key={s.id}>
                <Link to={`/segments/${s.id}`}>{s.name}</Link> <span className="muted">{countOf(s.count, "contact")}</span>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

function Stat({ label, value, loading, to }: { label: string; value: number | undefined; loading: boolean; to?: string }) {
  const body = (
    <>
      <div className="stat-value" data-testid={`stat-${label}`}>{loading ? "…" : formatNumber(value)}</div>
      <div className="stat-label">{label}</div>
    </>
  );
  return <div className="stat card">{to ? <Link to={to}>{body}</Link> : body}</div>;
}
