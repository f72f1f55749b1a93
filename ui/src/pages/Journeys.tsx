// Journeys: every journey with its status and version, and live run counts.
import { useCan } from "../session";
import { Link } from "react-router";
import { useApi, type Journey, type JourneyStats } from "../api";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";

export function Journeys() {
  const can = useCan();
  const journeys = useApi<{ data: Journey[] }>("/api/v1/journeys", { pollMs: 10000 });
  return (
    <section>
      <PageHeader title="Journeys">
        {can("marketing:write") && (
          <Link className="button primary" to="/journeys/new">
            New journey
          </Link>
        )}
      </PageHeader>
      <ProblemBox error={journeys.error} />
      {journeys.loading && !journeys.data && <Loading what="journeys" />}
      {journeys.data && journeys.data.data.length === 0 && <p className="muted">No journeys yet.</p>}
      {journeys.data && journeys.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Version</th>
                <th scope="col" className="num">In the journey now</th>
                <th scope="col" className="hide-narrow">Updated</th>
              </tr>
            </thead>
            <tbody>
              {journeys.data.data.map((j) => (
                <tr key={j.id}>
                  <td><Link to={`/journeys/${j.id}`}>{j.name}</Link></td>
                  <td><StatusBadge status={j.status} /></td>
                  <td className="num">{j.version || "draft"}</td>
                  <td className="num"><InJourney id={j.id} /></td>
                  <td className="hide-narrow">{formatWhen(j.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const ACTIVE_STATUSES = ["delayed", "waiting", "acting"];

function InJourney({ id }: { id: string }) {
  const stats = useApi<JourneyStats>(`/api/v1/journeys/${id}/stats`);
  if (stats.error) return <span title={stats.error.message}>?</span>;
  if (!stats.data) return <span aria-label="loading">…</span>;
  return <>{formatNumber(ACTIVE_STATUSES.reduce((n, s) => n + (stats.data!.runs[s] ?? 0), 0))}</>;
}
