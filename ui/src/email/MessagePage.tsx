// One email message: who it went to, its status and why, opens and clicks,
// and — when the capture transport kept it — the message itself: headers,
// the HTML part rendered in a sandboxed frame (the width of the pane on
// desktop, a phone's on mobile), and the plain-text part.
import { useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { api, contactName, useApi, type Contact } from "../api";
import { formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import { forViewing, header, parseMessage } from "./mime";
import { MessageStatus, sourceLabel } from "./Outbox";
import type { EmailMessage, EmailTemplate } from "./types";
import { countOf } from "../plural";

const SHOWN_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "DKIM-Signature"];

export function MessagePage() {
  const { id } = useParams();
  const msg = useApi<EmailMessage>(`/api/v1/email/messages/${id}`);
  const m = msg.data;
  const contact = useApi<Contact>(m?.contact_id ? `/api/v1/contacts/${m.contact_id}` : null);
  const template = useApi<EmailTemplate>(m?.template_id ? `/api/v1/email/templates/${m.template_id}` : null);
  return (
    <section>
      <PageHeader title={m?.subject ?? "Email message"}>
        <Link to="/email/outbox">Outbox</Link>
      </PageHeader>
      <ProblemBox error={msg.error} context="Message" />
      {msg.loading && !m && <Loading what="the message" />}
      {m && (
        <div className="card">
          <dl className="props wide">
            <dt>Status</dt>
            <dd>
              <MessageStatus status={m.status} /> <span className="kind">{m.kind}</span>
            </dd>
            <dt>To</dt>
            <dd>{m.to_email ?? "—"}</dd>
            <dt>Contact</dt>
            <dd>{m.contact_id ? <Link to={`/contacts/${m.contact_id}`}>{contact.data ? contactName(contact.data) : m.contact_id}</Link> : "—"}</dd>
            <dt>Template</dt>
            <dd>{m.template_id ? <Link to={`/email/templates/${m.template_id}`}>{template.data?.name ?? m.template_id}</Link> : "—"}</dd>
            <dt>Sent by</dt>
            <dd>{sourceLabel(m.source)}</dd>
            <dt>Prepared</dt>
            <dd>{formatWhen(m.created_at)}</dd>
            <dt>Sent</dt>
            <dd>{formatWhen(m.sent_at)}</dd>
            <dt>Opens</dt>
            <dd>
              {m.opens} {m.machine_opens > 0 && <span className="muted">(+{m.machine_opens} by machines)</span>}
              {m.first_opened_at && <span className="muted"> · first {formatWhen(m.first_opened_at)}</span>}
            </dd>
            <dt>Clicks</dt>
            <dd>
              {m.clicks} {m.first_clicked_at && <span className="muted"> · first {formatWhen(m.first_clicked_at)}</span>}
            </dd>
          </dl>
          {m.detail && (
            <p className={["refused", "skipped", "bounced", "failed", "complained"].includes(m.status) ? "skipped" : "muted"} data-testid="message-detail">
              {m.detail}
            </p>
          )}
        </div>
      )}
      {m && m.status === "captured" && <RawMessage id={m.id} />}
      {m && m.status !== "captured" && (
        <p className="muted">The message itself is kept only by the capture transport; this one was {m.status}.</p>
      )}
    </section>
  );
}

function RawMessage({ id }: { id: string }) {
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [width, setWidth] = useState<"desktop" | "mobile">("desktop");
  useEffect(() => {
    const ctl = new AbortController();
    api<string>("GET", `/api/v1/email/messages/${id}/raw`, undefined, { text: true, signal: ctl.signal })
      .then(setRaw)
      .catch((e) => (e as Error).name !== "AbortError" && setError(e));
    return () => ctl.abort();
  }, [id]);
  const parsed = useMemo(() => (raw === null ? null : parseMessage(raw)), [raw]);
  if (error) return <ProblemBox error={error} context="The captured message" />;
  if (!parsed || raw === null) return <Loading what="the captured message" />;
  return (
    <>
      <div className="card">
        <h2>Headers</h2>
        <table className="table compact headers-table">
          <tbody>
            {SHOWN_HEADERS.map((name) => {
              const v = header(parsed.headers, name);
              return v === null ? null : (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td className="header-value">{v}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <details>
          <summary>All headers and the raw message ({countOf(raw.length, "character")})</summary>
          <pre className="raw-message">{raw}</pre>
        </details>
      </div>
      <div className="card">
        <div className="label-row">
          <h2>As the recipient sees it</h2>
          <div className="width-toggle" role="group" aria-label="Width">
            <button type="button" aria-pressed={width === "desktop"} onClick={() => setWidth("desktop")}>
              Desktop
            </button>
            <button type="button" aria-pressed={width === "mobile"} onClick={() => setWidth("mobile")}>
              Mobile
            </button>
          </div>
        </div>
        {parsed.html !== null ? (
          <div className={`device device-${width}`}>
            <iframe
              title="HTML part of the message"
              sandbox=""
              srcDoc={forViewing(parsed.html)}
              // Desktop: the whole pane, as a mail client's reading pane shows it (at least 640 px, scrolled sideways in a narrower one); mobile: a phone's width, centred.
              style={width === "desktop" ? { width: "100%", minWidth: 640 } : { width: 375 }}
            />
          </div>
        ) : (
          <p className="muted">This message has no HTML part.</p>
        )}
        <p className="muted small">Shown without the open-tracking pixel, with links disabled, so looking at it here counts as neither an open nor a click.</p>
        <h2>Plain-text part</h2>
        {parsed.text !== null ? <pre className="text-part">{parsed.text}</pre> : <p className="muted">This message has no plain-text part.</p>}
      </div>
    </>
  );
}
