// Settings → Audit log: who did what in the workspace, newest first,
// filtered by action prefix, actor or subject, and time; older entries a
// page at a time by the API's cursor; the same selection as a CSV file.
import { useEffect, useState, type FormEvent } from "react";
import { auditQuery, type AuditFilters } from "../access";
import { api, download } from "../api";
import { formatWhen, Loading, ProblemBox, TextField } from "../components";

interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
}

const PAGE = 50;
const NONE: AuditFilters = { action: "", who: "", since: "", until: "" };

export function Audit() {
  const [form, setForm] = useState<AuditFilters>(NONE);
  const [filters, setFilters] = useState<AuditFilters>(NONE);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function load(cursor: string | null, signal?: AbortSignal) {
    setLoading(true);
    setError(null);
    try {
      const extra: Record<string, string> = { limit: String(PAGE) };
      if (cursor) extra.cursor = cursor;
      const page = await api<{ data: AuditEntry[]; next_cursor: string | null }>("GET", `/api/v1/audit?${auditQuery(filters, extra)}`, undefined, { signal });
      setEntries((old) => (cursor && old ? [...old, ...page.data] : page.data));
      setNext(page.next_cursor ?? null);
    } catch (e) {
      if ((e as Error).name !== "AbortError") setError(e);
    } finally {
      if (!signal?.aborted) setLoading(false);
    }
  }

  // A new selection starts again from the newest entry.
  useEffect(() => {
    const ctl = new AbortController();
    void load(null, ctl.signal);
    return () => ctl.abort();
  }, [filters]);

  const set = (k: keyof AuditFilters) => (v: string) => setForm({ ...form, [k]: v });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    // A fresh object, so applying the same filters again reloads.
    setFilters({ ...form });
  };
  const csv = `/api/v1/audit.csv?${auditQuery(filters)}`;

  return (
    <section className="card" aria-labelledby="audit-title">
      <div className="label-row">
        <h2 id="audit-title">Audit log</h2>
        <a
          className="button"
          href={csv}
          download="audit.csv"
          onClick={(e) => {
            e.preventDefault();
            download(csv, "audit.csv").catch(setError);
          }}
        >
          Export CSV
        </a>
      </div>
      <form className="filters audit-filters" role="search" aria-label="Filter the audit log" onSubmit={apply}>
        <TextField id="audit-action" label="Action starts with" value={form.action} onChange={set("action")} placeholder="e.g. member. or key.created" />
        <TextField id="audit-who" label="Who" value={form.who} onChange={set("who")} placeholder="user:EMAIL or an id" />
        <TextField id="audit-since" label="Since" type="datetime-local" value={form.since} onChange={set("since")} />
        <TextField id="audit-until" label="Until" type="datetime-local" value={form.until} onChange={set("until")} />
        <div className="field">
          <button type="submit" className="primary">
            Apply
          </button>
        </div>
      </form>
      <ProblemBox error={error} context="Audit log" />
      {entries && entries.length === 0 && <p className="muted">No entries match.</p>}
      {entries && entries.length > 0 && (
        <div className="table-wrap">
          <table className="table compact" data-testid="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col" className="hide-narrow">Subject</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap">{formatWhen(e.at)}</td>
                  <td className="url-cell">{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="hide-narrow url-cell small">{e.subject}</td>
                  <td className="url-cell small">
                    <code className="props-inline">{detailText(e.detail)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <Loading what="the audit log" />}
      {next && !loading && (
        <div className="pager">
          <button type="button" onClick={() => void load(next)}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}

/** An entry's detail on one line; empty objects say nothing. */
function detailText(d: unknown): string {
  if (d === null || d === undefined) return "";
  if (typeof d === "object" && Object.keys(d as object).length === 0) return "";
  return JSON.stringify(d);
}
