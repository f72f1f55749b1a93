// The outbox: every email Kairos prepared, newest first, with its status
// (sent, captured, refused by the sending rules, skipped, bounced…), paged
// with the API's cursor and filtered by contact.
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useApi, type Contact } from "../api";
import { formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import { ContactPicker } from "./ContactPicker";
import type { EmailMessage, EmailTemplate } from "./types";

const PAGE_SIZE = 25;

export function MessageStatus({ status }: { status: string }) {
  return <span className={`badge email-${status}`}>{status}</span>;
}

export function Outbox() {
  const [params, setParams] = useSearchParams();
  const contactId = params.get("contact_id");
  const [contact, setContact] = useState<Contact | null>(null);
  // Cursors of the pages before the current one; the last is the current page's.
  const [cursors, setCursors] = useState<string[]>([]);
  const contactParam = useApi<Contact>(contactId && contact?.id !== contactId ? `/api/v1/contacts/${contactId}` : null);
  const shownContact = contact?.id === contactId ? contact : contactParam.data ?? null;

  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (contactId) q.set("contact_id", contactId);
  const cursor = cursors[cursors.length - 1];
  if (cursor !== undefined) q.set("cursor", cursor);
  const page = useApi<{ data: EmailMessage[]; next_cursor: string | null }>(`/api/v1/email/messages?${q}`, { pollMs: 10000 });
  const templates = useApi<{ data: EmailTemplate[] }>("/api/v1/email/templates");
  const templateName = (id: string | null) => (id ? templates.data?.data.find((t) => t.id === id)?.name ?? "—" : "—");

  return (
    <section>
      <PageHeader title="Outbox" />
      <p className="muted">
        Every email prepared for a contact, as it was sent (or kept, under the capture transport), with the reason when the sending rules refused it.
      </p>
      <div className="filters">
        <ContactPicker
          label="Only messages to contact"
          value={contactId ? shownContact : null}
          onChange={(c) => {
            setContact(c);
            setCursors([]);
            const next = new URLSearchParams(params);
            if (c) next.set("contact_id", c.id);
            else next.delete("contact_id");
            setParams(next, { replace: true });
          }}
        />
      </div>
      <ProblemBox error={page.error} context="Messages" />
      <div className="table-wrap" aria-busy={page.loading}>
        <table className="table">
          <caption className="sr-only">Email messages</caption>
          <thead>
            <tr>
              <th scope="col">Prepared</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
              <th scope="col" className="hide-narrow">Template</th>
              <th scope="col" className="hide-narrow">Sent by</th>
              <th scope="col" className="num hide-narrow">Opens</th>
              <th scope="col" className="num hide-narrow">Clicks</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.data.map((m) => (
              <tr key={m.id}>
                <td className="nowrap">
                  <Link to={`/email/outbox/${m.id}`}>{formatWhen(m.created_at)}</Link>
                </td>
                <td>{m.to_email ?? "—"}</td>
                <td className="subject-cell">{m.subject ?? <span className="muted">{m.detail ?? "—"}</span>}</td>
                <td>
                  <MessageStatus status={m.status} />
                  {m.kind === "transactional" && <span className="kind">transactional</span>}
                </td>
                <td className="hide-narrow">{templateName(m.template_id)}</td>
                <td className="hide-narrow nowrap">{sourceLabel(m.source)}</td>
                <td className="num hide-narrow">{m.opens}</td>
                <td className="num hide-narrow">{m.clicks}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page.loading && !page.data && <Loading what="messages" />}
        {page.data && page.data.data.length === 0 && <p className="muted empty">No messages{contactId ? " to this contact" : ""} yet.</p>}
      </div>
      <div className="pager">
        <button type="button" disabled={cursors.length === 0 || page.loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted">Page {cursors.length + 1}</span>
        <button
          type="button"
          disabled={!page.data?.next_cursor || page.loading}
          onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}
        >
          Older →
        </button>
      </div>
    </section>
  );
}

/** `journey:<id>`, `api`, `test`, `campaign:<id>` in words. */
export function sourceLabel(source: string): string {
  if (source === "test") return "Test send";
  if (source === "api") return "API";
  if (source.startsWith("journey:")) return "Journey";
  if (source.startsWith("campaign:")) return "Campaign";
  return source;
}
