// Segments: every segment of the workspace with its status and exact count.
import { useCan } from "../session";
import { Link } from "react-router";
import { useApi, type Page, type Segment } from "../api";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";

export function Segments() {
  const can = useCan();
  const segments = useApi<Page<Segment>>("/api/v1/segments", { pollMs: 10000 });
  return (
    <section>
      <PageHeader title="Segments">
        {can("marketing:write") && (
          <Link className="button primary" to="/segments/new">
            New segment
          </Link>
        )}
      </PageHeader>
      <ProblemBox error={segments.error} />
      {segments.loading && !segments.data && <Loading what="segments" />}
      {segments.data && segments.data.data.length === 0 && <p className="muted">No segments yet.</p>}
      {segments.data && segments.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Contacts</th>
                <th scope="col" className="hide-narrow">Updated</th>
              </tr>
            </thead>
            <tbody>
              {segments.data.data.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/segments/${s.id}`}>{s.name}</Link>
                    {s.description && <div className="muted small">{s.description}</div>}
                  </td>
                  <td><StatusBadge status={s.status} /></td>
                  <td className="num">{formatNumber(s.count)}</td>
                  <td className="hide-narrow">{formatWhen(s.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
