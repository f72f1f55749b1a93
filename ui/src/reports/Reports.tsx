// The Reports section: its tabs (attribution, costs, campaign and journey
// reports, each shown to the roles that may use it) around the section
// open, and the list of launched campaigns and journeys leading to their
// own reports.
import { Suspense } from "react";
import { Link, NavLink, Outlet } from "react-router";
import { allowedItems, REPORTS_NAV } from "../access";
import { useApi, type Journey } from "../api";
import { formatWhen, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";
import { useSession } from "../session";
import { Headline } from "../email/Campaigns";
import type { Campaign } from "../email/campaign";

export function Reports() {
  const { session } = useSession();
  return (
    <section>
      <PageHeader title="Reports" />
      <nav className="tabs section-tabs" aria-label="Reports sections">
        {allowedItems(session, REPORTS_NAV).map((i) => (
          <NavLink key={i.to} to={i.to} end>
            {i.label}
          </NavLink>
        ))}
      </nav>
      {/* Each section loads on first use; the tabs above stay put meanwhile. */}
      <Suspense fallback={<Loading what="the section" />}>
        <Outlet />
      </Suspense>
    </section>
  );
}

/** Campaigns that went out and journeys that ran, each leading to its report. */
export function EmailReports() {
  const campaigns = useApi<{ data: Campaign[] }>("/api/v1/email/campaigns");
  const journeys = useApi<{ data: Journey[] }>("/api/v1/journeys");
  const launched = campaigns.data?.data.filter((c) => c.status !== "draft") ?? [];
  const ran = journeys.data?.data.filter((j) => j.status !== "draft") ?? [];
  return (
    <div className="grid-2 email-reports">
      <div className="card">
        <h2>Campaigns</h2>
        <p className="muted small">Each campaign's report: the funnel from sent to converted, rates, clicks per link and the days, with a CSV export.</p>
        <ProblemBox error={campaigns.error} context="Campaigns" />
        {campaigns.loading && !campaigns.data && <Loading what="campaigns" />}
        {campaigns.data && launched.length === 0 && <p className="muted">No campaign has been launched yet.</p>}
        {launched.length > 0 && (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col" className="num">Sent · opened · clicked</th>
                <th scope="col" className="hide-narrow">Started</th>
              </tr>
            </thead>
            <tbody>
              {launched.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/email/campaigns/${c.id}#report`}>{c.name}</Link> <StatusBadge status={c.status} />
                  </td>
                  <td className="num">
                    <Headline id={c.id} />
                  </td>
                  <td className="hide-narrow">{formatWhen(c.started_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card">
        <h2>Journeys</h2>
        <p className="muted small">Each journey's report: runs by status, how many reached each step, and the email it sent.</p>
        <ProblemBox error={journeys.error} context="Journeys" />
        {journeys.loading && !journeys.data && <Loading what="journeys" />}
        {journeys.data && ran.length === 0 && <p className="muted">No journey has been published yet.</p>}
        {ran.length > 0 && (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Journey</th>
                <th scope="col" className="hide-narrow">Updated</th>
              </tr>
            </thead>
            <tbody>
              {ran.map((j) => (
                <tr key={j.id}>
                  <td>
                    <Link to={`/journeys/${j.id}?view=report`}>{j.name}</Link> <StatusBadge status={j.status} />
                  </td>
                  <td className="hide-narrow">{formatWhen(j.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
