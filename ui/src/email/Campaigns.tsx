// Broadcast campaigns: every campaign of the workspace with its status,
// audience, templates and dates, headline numbers for those that have sent
// (for roles that read reports), and the way to a new one.
import { Link } from "react-router";
import { useApi, type Segment, type StaticList } from "../api";
import { useCan } from "../session";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";
import { templatesOf, type Campaign, type CampaignReport } from "./campaign";
import type { EmailTemplate } from "./types";

/** What useNames gives, for the parts of a page that share one. */
export type Names = ReturnType<typeof useNames>;

/** Names for ids: templates may be given by id or name, audiences by id. */
export function useNames() {
  const templates = useApi<{ data: EmailTemplate[] }>("/api/v1/email/templates");
  const segments = useApi<{ data: Segment[] }>("/api/v1/segments");
  const lists = useApi<{ data: StaticList[] }>("/api/v1/lists");
  return {
    templates: templates.data?.data,
    segments: segments.data?.data,
    lists: lists.data?.data,
    template: (t: string) => templates.data?.data.find((x) => x.id === t || x.name === t)?.name ?? t,
    audience: (c: Campaign) => {
      const a = c.definition.audience;
      if (a?.segment) return `Segment: ${segments.data?.data.find((s) => s.id === a.segment)?.name ?? a.segment}`;
      if (a?.list) return `List: ${lists.data?.data.find((l) => l.id === a.list)?.name ?? a.list}`;
      return "—";
    },
  };
}

export function Campaigns() {
  const can = useCan();
  const list = useApi<{ data: Campaign[] }>("/api/v1/email/campaigns");
  const names = useNames();
  const rows = list.data ? [...list.data.data].sort((a, b) => b.created_at - a.created_at) : [];
  return (
    <section>
      <PageHeader title="Campaigns">
        {can("marketing:write") && (
          <Link className="button primary" to="/email/campaigns/new">
            New campaign
          </Link>
        )}
      </PageHeader>
      <ProblemBox error={list.error} context="Campaigns" />
      {list.loading && !list.data && <Loading what="campaigns" />}
      {list.data && rows.length === 0 && <p className="muted">No campaigns yet.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Campaigns</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Audience</th>
                <th scope="col">Template</th>
                <th scope="col" className="hide-narrow">Created</th>
                <th scope="col" className="hide-narrow">Launched</th>
                {can("reports:read") && <th scope="col">Sent · opened · clicked</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id} data-testid={`campaign-${c.name}`}>
                  <td>
                    <Link to={`/email/campaigns/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{names.audience(c)}</td>
                  <td>
                    {c.definition.ab ? <span className="badge">A/B</span> : null} {templatesOf(c.definition).map(names.template).join(" · ")}
                  </td>
                  <td className="hide-narrow">{formatWhen(c.created_at)}</td>
                  <td className="hide-narrow">{formatWhen(c.started_at)}</td>
                  {can("reports:read") && <td>{c.status === "draft" ? <span className="muted">—</span> : <Headline id={c.id} />}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A launched campaign's sent, unique opens and unique clicks, from its report. */
export function Headline({ id }: { id: string }) {
  const r = useApi<CampaignReport>(`/api/v1/email/campaigns/${id}/report`);
  if (r.error && !r.data) return <span className="muted" title={r.error.message}>?</span>;
  if (!r.data) return <span className="muted">…</span>;
  const t = r.data.totals;
  return (
    <span className="num" data-testid="headline">
      {formatNumber(t.sent)} · {formatNumber(t.unique_opens)} · {formatNumber(t.unique_clicks)}
    </span>
  );
}
