// One contact: profile and custom fields, companies, consent per channel and
// purpose with its history, segment and list memberships, journeys in
// progress with their position, lead scores with their history, the chance
// of converting by the current conversion model with what drives it, and the
// event timeline (told of new events by the server as they are stored, and
// polled slowly as a fallback); and, for roles with privacy:rights, the person's export and
// erasure. Parts that load on their own keep room for what they will show,
// so the page does not move as they arrive.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { contactName, useApi, usePaged, useServerEvents, type Contact, type Journey, type TimelineEvent } from "../api";
import { formatWhen, Loading, LoadMore, PageHeader, ProblemBox, SkeletonLines, StatusBadge } from "../components";
import { useCan } from "../session";
import { ContactScores } from "../scores/ContactScores";
import { ContactConversion } from "../models/ContactConversion";
import { DataSubjectRequests, ErasureDone, type Erasure } from "./DataSubjectRequests";
import { countOf } from "../plural";

interface Consent {
  channel: string;
  purpose: string;
  state: string;
  source: string;
  lawful_basis: string;
  wording_version: string | null;
  at: string;
}

interface Run {
  run: { id: string; journey_id: string; version: number; node: string; status: string; entered_at: number; updated_at: number; error: string | null };
  path: { node: string; outcome: string; detail: string; at: number }[];
}

const STANDARD = ["email", "phone", "external_id", "country", "timezone", "locale"] as const;

export function ContactPage() {
  const { id = "" } = useParams();
  const base = `/api/v1/contacts/${encodeURIComponent(id)}`;
  const privacy = useCan()("privacy:rights");
  // Kept with the id it is about: the page stays mounted when another contact is opened.
  const [erased, setErased] = useState<{ id: string; erasure: Erasure } | null>(null);
  const gone = erased?.id === id;
  // Once erased there is nothing left to ask for: the polled parts stop.
  const live = (path: string) => (gone ? null : path);
  const contact = useApi<Contact>(live(base));
  const consents = useApi<{ current: Consent[]; history: Consent[] }>(live(`${base}/consents`));
  const segments = useApi<{ segments: { id: string; name: string; since: number | null }[]; lists: string[] }>(live(`${base}/segments`));
  // New events of this contact, pushed by the server: the timeline and the
  // journeys in progress are read again then; polling is the fallback.
  const [activity, setActivity] = useState(0);
  const streaming = useServerEvents(live(`${base}/events/live`), () => setActivity((n) => n + 1));
  const pollMs = streaming ? 60_000 : 10_000;
  const runs = useApi<{ data: Run[] }>(live(`${base}/journeys`), { pollMs });
  const reloadRuns = runs.reload;
  useEffect(() => {
    if (activity > 0) reloadRuns();
  }, [activity, reloadRuns]);
  const journeys = useApi<{ data: Journey[] }>("/api/v1/journeys");
  const journeyName = (jid: string) => journeys.data?.data.find((j) => j.id === jid)?.name ?? jid;

  if (gone) return <ErasureDone erasure={erased.erasure} />;

  if (contact.loading && !contact.data) return <Loading what="the contact" />;
  if (contact.error)
    return (
      <section>
        <PageHeader title="Contact" />
        <ProblemBox error={contact.error} />
        <Link to="/contacts">Back to contacts</Link>
      </section>
    );
  const c = contact.data!;
  return (
    <section>
      <PageHeader title={contactName(c)}>
        <Link to={`/email/outbox?contact_id=${c.id}`}>Emails to this contact</Link>
        <Link to="/contacts">All contacts</Link>
      </PageHeader>
      <div className="grid-2">
        <div className="card">
          <h2>Profile</h2>
          <dl className="props">
            {STANDARD.map((k) => (
              <div key={k}>
                <dt>{k.replace("_", " ")}</dt>
                <dd>{c[k] ?? "—"}</dd>
              </div>
            ))}
            <div>
              <dt>created</dt>
              <dd>{formatWhen(c.created_at)}</dd>
            </div>
            {Object.entries(c.custom).map(([k, v]) => (
              <div key={k}>
                <dt>{k.replace("_", " ")}</dt>
                <dd>{Array.isArray(v) ? v.join(", ") || "—" : String(v)}</dd>
              </div>
            ))}
          </dl>
          {c.company_ids.length > 0 && (
            <>
              <h3>Companies</h3>
              <ul className="plain">
                {c.company_ids.map((cid) => (
                  <CompanyName key={cid} id={cid} />
                ))}
              </ul>
            </>
          )}
        </div>
        <div className="card">
          <h2>Segments and lists</h2>
          {segments.loading && !segments.data && <SkeletonLines lines={1} what="memberships" />}
          <ProblemBox error={segments.error} />
          {segments.data && segments.data.segments.length === 0 && <p className="muted">In no segment.</p>}
          <ul className="plain" aria-label="Segment memberships">
            {segments.data?.segments.map((s) => (
              <li key={s.id}>
                <Link to={`/segments/${s.id}`}>{s.name}</Link>
                {s.since && <span className="muted"> since {formatWhen(s.since)}</span>}
              </li>
            ))}
          </ul>
          {segments.data && segments.data.lists.length > 0 && <p className="muted">On {countOf(segments.data.lists.length, "static list")}.</p>}


          <h2>Journeys</h2>
          {runs.loading && !runs.data && <SkeletonLines lines={1} what="journeys" />}
          <ProblemBox error={runs.error} />
          {runs.data && runs.data.data.length === 0 && <p className="muted">Not in any journey.</p>}
          <ul className="plain" aria-label="Journey runs">
            {runs.data?.data.map((r) => (
              <li key={r.run.id}>
                <Link to={`/journeys/${r.run.journey_id}`}>{journeyName(r.run.journey_id)}</Link> <StatusBadge status={r.run.status} />{" "}
                <span className="muted">
                  at <code>{r.run.node}</code> (version {r.run.version}, entered {formatWhen(r.run.entered_at)})
                </span>
                {r.run.error && <div className="problem-detail">{r.run.error}</div>}
              </li>
            ))}
          </ul>
        </div>
      </div>

      <ContactScores base={base} />

      <ContactConversion base={base} />

      <div className="card">
        <h2>Consent</h2>
        {consents.loading && !consents.data && <Loading what="consent" />}
        <ProblemBox error={consents.error} />
        {consents.data && consents.data.current.length === 0 && <p className="muted">No consent recorded.</p>}
        {consents.data && consents.data.current.length > 0 && (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Purpose</th>
                <th scope="col">State</th>
                <th scope="col">Source</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {consents.data.current.map((x) => (
                <tr key={`${x.channel}/${x.purpose}`}>
                  <td>{x.channel}</td>
                  <td>{x.purpose}</td>
                  <td><StatusBadge status={x.state} /></td>
                  <td>{x.source}</td>
                  <td>{formatWhen(x.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {consents.data && consents.data.history.length > 0 && (
          <details>
            <summary>History ({countOf(consents.data.history.length, "change")})</summary>
            <ul className="plain">
              {consents.data.history.map((x, i) => (
                <li key={i}>
                  {formatWhen(x.at)}: {x.channel}/{x.purpose} → {x.state} <span className="muted">({x.source}, {x.lawful_basis})</span>
                </li>
              ))}
            </ul>
          </details>
        )}
      </div>

      {privacy && <DataSubjectRequests contact={c} onErased={(erasure) => setErased({ id, erasure })} />}

      <Timeline base={base} activity={activity} streaming={streaming} pollMs={pollMs} />
    </section>
  );
}

/** One of the contact's companies, by name, linking to the contacts list filtered to that company. */
function CompanyName({ id }: { id: string }) {
  const co = useApi<{ name: string | null; domain: string | null }>(`/api/v1/companies/${id}`);
  const name = co.data ? co.data.name ?? co.data.domain ?? id : co.error ? id : "…";
  return (
    <li>
      <Link to={`/contacts?company_id=${encodeURIComponent(id)}`} title="Contacts at this company">
        {name}
      </Link>
      {co.data?.domain && co.data.name ? <span className="muted small"> {co.data.domain}</span> : null}
    </li>
  );
}

/** The contact's events, newest first, read again on each `activity` the
 * server pushes (and every `pollMs`); older pages on demand. */
function Timeline({ base, activity, streaming, pollMs }: { base: string; activity: number; streaming: boolean; pollMs: number }) {
  const feed = usePaged<TimelineEvent>(`${base}/events?limit=25`, (cursor) => `${base}/events?limit=50&cursor=${encodeURIComponent(cursor)}`, { pollMs });
  const { first, items: events } = feed;
  const reload = first.reload;
  useEffect(() => {
    if (activity > 0) reload();
  }, [activity, reload]);
  return (
    <div className="card">
      <h2>
        Event timeline{" "}
        <span className={streaming ? "small timeline-live is-live" : "muted small timeline-live"} data-testid="timeline-live" title={streaming ? "New events appear as they are stored" : "The live connection is down: read again every 10 s"}>
          {streaming ? "● live" : "refreshed every 10 s"}
        </span>
      </h2>
      {first.loading && !first.data && <Loading what="events" />}
      <ProblemBox error={first.error} />
      {first.data && events.length === 0 && <p className="muted">No events yet.</p>}
      <ol className="timeline" aria-label="Events, newest first">
        {events.map((e) => (
          <li key={e.id}>
            <time dateTime={e.timestamp}>{formatWhen(e.timestamp)}</time>
            <span className={`kind kind-${e.type}`}>{e.type}</span>
            <strong>{e.type === "page" ? `Page Viewed: ${e.name ?? ""}` : e.name ?? e.type}</strong>
            {Object.keys(e.properties ?? {}).length > 0 && (
              <code className="props-inline">{summarize(e.properties)}</code>
            )}
          </li>
        ))}
      </ol>
      <LoadMore feed={feed} label="Older events" context="Older events" />
    </div>
  );
}

function summarize(props: Record<string, unknown>): string {
  return Object.entries(props)
    .filter(([, v]) => typeof v !== "object" || v === null)
    .slice(0, 4)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" · ");
}
