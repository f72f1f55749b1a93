// Email templates: every template of the workspace with its subject and
// format, and the way to a new one; and the tabs between the templates and
// the snippets they share.
import { useCan } from "../session";
import { Link, NavLink } from "react-router";
import { useApi } from "../api";
import { formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import type { EmailTemplate } from "./types";

export function Templates() {
  const can = useCan();
  const list = useApi<{ data: EmailTemplate[] }>("/api/v1/email/templates");
  return (
    <section>
      <PageHeader title="Email templates">
        {can("marketing:write") && (
          <Link className="button primary" to="/email/templates/new">
            New template
          </Link>
        )}
      </PageHeader>
      <TemplateSections />
      <ProblemBox error={list.error} context="Templates" />
      {list.loading && !list.data && <Loading what="templates" />}
      {list.data && list.data.data.length === 0 && <p className="muted">No templates yet. A journey's send step needs one.</p>}
      {list.data && list.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Email templates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Subject</th>
                <th scope="col">Format</th>
                <th scope="col" className="hide-narrow">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={`/email/templates/${t.id}`}>{t.name}</Link>
                  </td>
                  <td className="subject-cell">{t.subject}</td>
                  <td>{t.format === "mjml" ? "MJML" : "HTML"}</td>
                  <td className="hide-narrow">{formatWhen(t.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Templates and the snippets they include are one area, two lists. */
export function TemplateSections() {
  return (
    <nav className="tabs section-tabs" aria-label="Email template sections">
      <NavLink to="/email/templates" end>
        Templates
      </NavLink>
      <NavLink to="/email/templates/snippets" end>
        Snippets
      </NavLink>
    </nav>
  );
}
