// The segment builder: name, description and rule, its event pickers fed
// by the event catalogue loaded once for the page; the live count of the
// unsaved rule with a random sample of the contacts it matches (POST
// /api/v1/segments/preview, debounced as the rule is edited; no sample for
// roles that may not read people); save (create or new version), with the
// server's validation errors shown on the condition at fault; members and
// a CSV download for a saved segment. The page shows once its rule can be
// (the segment and the fields, segments and lists its pickers need), and
// keeps room for the sample and the members while they load, so that
// nothing moves as they arrive.
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { useCan, useSession } from "../session";
import { api, ApiError, contactName, download, useApi, type Contact, type Page, type Segment } from "../api";
import { formatNumber, Loading, PageHeader, ProblemBox, SkeletonLines, StatusBadge } from "../components";
import { useCatalog } from "./catalog";
import { EventCatalogProvider, EventCatalogStatus } from "./EventCatalog";
import { RuleEditor } from "./RuleEditor";
import { countedIn, emptyCondition, emptyGroup, fromRule, hasCondition, isIncomplete, nodeForPath, toRule, type Group, type PathIndex } from "./rule";
import { countOf, plural } from "../plural";

const PREVIEW_DELAY_MS = 400;
/** How many matching contacts the live preview shows. */
const SAMPLE_SIZE = 10;
const NO_NAMES: string[] = [];
/** How many members of a saved segment are listed. */
const MEMBERS_SHOWN = 10;

export function SegmentBuilder() {
  const { id } = useParams();
  const isNew = !id;
  const navigate = useNavigate();
  const { can, session: { role } } = useSession();
  // Roles that may only look (analysts) get the same page with nothing to change.
  const editable = can("marketing:write");
  // Who matches is personal data: roles without people:read get the count only.
  const people = can("people:read");
  // "Duplicate" opens a new segment with a copy of another's name and rule.
  const copy = useLocation().state as { name?: string; description?: string; rule?: unknown } | null;
  const { catalog, error: catalogError, refresh } = useCatalog();
  const saved = useApi<Segment>(id ? `/api/v1/segments/${id}` : null);
  const [name, setName] = useState(isNew && copy?.name ? copy.name : "");
  const [description, setDescription] = useState(isNew && copy?.description ? copy.description : "");
  const [rule, setRule] = useState<Group>(() =>
    isNew && copy?.rule ? fromRule(copy.rule) : { ...emptyGroup("and"), children: [emptyCondition("field")] },
  );
  const [loadedId, setLoadedId] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [savedNote, setSavedNote] = useState<string | null>(null);

  // Fill the form once from the saved segment.
  useEffect(() => {
    if (saved.data && loadedId !== saved.data.id) {
      setName(saved.data.name);
      setDescription(saved.data.description ?? "");
      setRule(fromRule(saved.data.rule));
      setLoadedId(saved.data.id);
    }
  }, [saved.data, loadedId]);

  const { json, paths } = useMemo(() => {
    const paths: PathIndex = new Map();
    if (!catalog) return { json: null, paths };
    return { json: toRule(rule, catalog.schema, paths), paths };
  }, [rule, catalog]);
  const ruleText = JSON.stringify(json);

  const incomplete = isIncomplete(rule);
  const savedCount = saved.data?.count ?? 0;
  const preview = usePreview(catalog && hasCondition(rule) && !incomplete ? ruleText : null, people ? SAMPLE_SIZE : 0);

  // Problems from the preview or the last save, shown on the condition they name.
  const nodeErrors = useMemo(() => {
    const m = new Map<string, string>();
    for (const e of [saveError, preview.error]) {
      if (e instanceof ApiError)
        for (const fe of e.problem.errors ?? []) {
          const nid = nodeForPath(fe.path, paths);
          if (nid && !m.has(nid)) m.set(nid, `${fe.message} (${fe.path})`);
        }
    }
    return m;
  }, [saveError, preview.error, paths]);

  async function save() {
    setSaving(true);
    setSaveError(null);
    setSavedNote(null);
    try {
      const body = { name, description: description || null, rule: json };
      if (isNew) {
        const s = await api<Segment>("POST", "/api/v1/segments", body);
        refresh();
        navigate(`/segments/${s.id}`, { replace: true });
      } else {
        const s = await api<Segment>("PATCH", `/api/v1/segments/${id}`, body);
        setSavedNote(`Saved as version ${s.version}.`);
        saved.reload();
        refresh();
      }
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  }

  if (!isNew && saved.error && !saved.data)
    return (
      <section>
        <PageHeader title="Segment" />
        <ProblemBox error={saved.error} />
      </section>
    );

  // The event catalogue loads meanwhile (for the pickers, which work without
  // it). A saved segment waits for its rule in the form too: shown a frame
  // early, the blank rule's one condition grew into the saved rule.
  if ((!isNew && loadedId !== id) || (!catalog && !catalogError))
    return (
      <EventCatalogProvider extra={NO_NAMES}>
        <Loading what={isNew ? "fields, events and segments" : "the segment"} />
      </EventCatalogProvider>
    );

  return (
    <EventCatalogProvider extra={catalog?.events ?? NO_NAMES}>
    <section>
      <PageHeader title={isNew ? "New segment" : `Segment: ${saved.data?.name ?? ""}`}>
        {!isNew && can("marketing:write") && (
          <button type="button" onClick={() => navigate("/segments/new", { state: { name: `Copy of ${name}`, description, rule: json } })}>
            Duplicate
          </button>
        )}
        <Link to="/segments">All segments</Link>
      </PageHeader>
      <div className="builder-layout">
        <div className="builder-main">
          <div className="card">
            <div className="field">
              <label htmlFor="segment-name">Name</label>
              <input id="segment-name" value={name} onChange={(e) => setName(e.target.value)} readOnly={!editable} placeholder="e.g. Recent buyers in Germany" />
            </div>
            <div className="field">
              <label htmlFor="segment-description">Description</label>
              <input id="segment-description" value={description} onChange={(e) => setDescription(e.target.value)} readOnly={!editable} />
            </div>
          </div>
          <div className="card">
            {/* The events' loading is said beside the title, where its going moves nothing. */}
            <div className="card-head">
              <h2>Rule</h2>
              <EventCatalogStatus />
            </div>
            <ProblemBox error={catalogError} context="Loading fields and segments" />
            {catalog && (
              // A disabled fieldset disables every input of the rule; readOnly drops the add and remove buttons.
              <fieldset disabled={!editable} className="plain">
                <RuleEditor value={rule} onChange={setRule} catalog={catalog} errors={nodeErrors} selfId={id} readOnly={!editable} />
              </fieldset>
            )}
            <details className="rule-json">
              <summary>Rule as JSON</summary>
              <pre>{JSON.stringify(json, null, 2)}</pre>
            </details>
          </div>
        </div>
        <aside className="builder-side">
          <div className="card sticky">
            <h2>Live count</h2>
            <div className="live-count" aria-live="polite" data-testid="live-count">
              {preview.count === null ? "—" : formatNumber(preview.count)}
            </div>
            <div className="muted small live-count-state" data-testid="live-count-state">
              {!hasCondition(rule)
                ? "Add a condition to count contacts."
                : incomplete
                  ? "Finish the conditions to count contacts: choose each event, property and value."
                  : preview.pending
                  ? "Counting…"
                  : preview.elapsed !== null
                    ? `${plural(preview.count, "contact matches", "contacts match")} now (${countedIn(preview.elapsed, preview.readHistory)})`
                    : ""}
            </div>
            <ProblemBox error={preview.error} context="The rule cannot be counted" />
            {people && preview.sample && preview.count !== null && preview.count > 0 ? (
              <PreviewSample sample={preview.sample} count={preview.count} pending={preview.pending} />
            ) : (
              // A saved segment's first count will most likely match its
              // saved count: room for that sample meanwhile.
              people && preview.pending && preview.sample === null && savedCount > 0 && <SampleRoom count={savedCount} />
            )}
            <hr />
            {editable ? (
              <button type="button" className="primary" onClick={save} disabled={saving || !catalog}>
                {saving ? "Saving…" : isNew ? "Save segment" : "Save new version"}
              </button>
            ) : (
              <p className="muted small">Your role ({role}) can look at segments but not change them.</p>
            )}
            <ProblemBox error={saveError} context="Not saved" />
            {savedNote && <p className="ok" role="status">{savedNote}</p>}
            {saved.data && <SavedSegment segment={saved.data} reload={saved.reload} />}
          </div>
        </aside>
      </div>
    </section>
    </EventCatalogProvider>
  );
}

/** The title over a sample of `shown` of the `count` contacts matching. */
function sampleTitle(shown: number, count: number): string {
  return `${shown < count ? `A sample of ${countOf(shown, "contact")}` : plural(count, "The contact", "The contacts")} matching now`;
}

/** The contacts of the live preview's random sample, each a link to their page. */
function PreviewSample({ sample, count, pending }: { sample: Contact[]; count: number; pending: boolean }) {
  return (
    <div className={pending ? "preview-sample stale" : "preview-sample"} data-testid="preview-sample" aria-busy={pending}>
      <h3>{sampleTitle(sample.length, count)}</h3>
      <ul className="plain small">
        {sample.map((c) => (
          <li key={c.id}>
            <Link to={`/contacts/${c.id}`} title={c.email ?? undefined}>
              {contactName(c)}
            </Link>
            {c.country && <span className="muted"> · {c.country}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Blank room for the sample of `count` matching contacts, until it comes:
 * the same title (which may take two lines) and as many lines. */
function SampleRoom({ count }: { count: number }) {
  const shown = Math.min(count, SAMPLE_SIZE);
  return (
    <div className="preview-sample" aria-hidden="true">
      <h3>{sampleTitle(shown, count)}</h3>
      <SkeletonLines lines={shown} what="a sample" className="plain small" />
    </div>
  );
}

/** The debounced live count of a rule (given as JSON text; null: nothing to
 * count), with a random sample of `sample` matching contacts when above 0. */
function usePreview(ruleText: string | null, sample: number) {
  const [count, setCount] = useState<number | null>(null);
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [elapsed, setElapsed] = useState<number | null>(null);
  const [readHistory, setReadHistory] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // What the shown answer is for. Pending is known in the render that
  // brings a new rule, not one effect later: room kept for the sample from
  // that render on is there before anything below it is painted.
  const [answered, setAnswered] = useState<string | null>(null);
  const key = ruleText === null ? null : `${sample} ${ruleText}`;
  const pending = key !== null && answered !== key;
  const seq = useRef(0);
  useEffect(() => {
    if (ruleText === null) {
      setCount(null);
      setContacts(null);
      setError(null);
      return;
    }
    const asked = `${sample} ${ruleText}`;
    const mine = ++seq.current;
    const ctl = new AbortController();
    const t = window.setTimeout(() => {
      const body = sample > 0 ? { rule: JSON.parse(ruleText), sample } : { rule: JSON.parse(ruleText) };
      api<{ count: number; elapsed_ms: number; read_history: boolean; sample?: Contact[] }>("POST", "/api/v1/segments/preview", body, { signal: ctl.signal })
        .then((r) => {
          if (mine !== seq.current) return;
          setCount(r.count);
          setContacts(r.sample ?? null);
          setElapsed(r.elapsed_ms);
          setReadHistory(r.read_history);
          setError(null);
          setAnswered(asked);
        })
        .catch((e) => {
          if ((e as Error).name === "AbortError" || mine !== seq.current) return;
          setError(e);
          setCount(null);
          setContacts(null);
          setAnswered(asked);
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      window.clearTimeout(t);
      ctl.abort();
    };
  }, [ruleText, sample]);
  return { count, elapsed, readHistory, error, pending, sample: contacts };
}

function SavedSegment({ segment, reload }: { segment: Segment; reload: () => void }) {
  const building = segment.status === "building";
  useEffect(() => {
    if (!building) return;
    const t = window.setInterval(reload, 1000);
    return () => window.clearInterval(t);
  }, [building, reload]);
  // Who is in it is personal data: roles without people:read see the count only.
  const people = useCan()("people:read");
  const members = useApi<Page<Contact>>(building || !people ? null : `/api/v1/segments/${segment.id}/members?limit=${MEMBERS_SHOWN}&v=${segment.version}`);
  const [dlError, setDlError] = useState<unknown>(null);
  // How many the list will show: room for them while it loads.
  const expected = Math.min(segment.count ?? 0, MEMBERS_SHOWN);

  async function downloadCsv() {
    setDlError(null);
    try {
      await download(`/api/v1/segments/${segment.id}/members.csv`, `segment-${segment.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.csv`);
    } catch (e) {
      setDlError(e);
    }
  }

  return (
    <div className="saved-segment">
      <hr />
      <h3>Saved</h3>
      <p>
        <StatusBadge status={segment.status} /> version {segment.version} ·{" "}
        <strong data-testid="saved-count">{formatNumber(segment.count)}</strong> {plural(segment.count, "member")}
      </p>
      {building && (
        <p className="muted small">
          Building: log position {segment.backfill_done} of {segment.backfill_total}
        </p>
      )}
      {segment.error && <p className="problem-detail">{segment.error}</p>}
      {members.loading && !members.data && expected > 0 && (
        <>
          <h4>Members of the saved version</h4>
          <SkeletonLines lines={expected} what="members" className="plain small" />
        </>
      )}
      <ProblemBox error={members.error} context="Members" />
      {members.data && members.data.data.length > 0 && (
        <>
          <h4>Members of the saved version</h4>
          <ul className="plain small">
            {members.data.data.map((c) => (
              <li key={c.id}>
                <Link to={`/contacts/${c.id}`} title={c.email ?? undefined}>
              {contactName(c)}
            </Link>
              </li>
            ))}
          </ul>
        </>
      )}
      {people && (
        <button type="button" onClick={downloadCsv}>
          Download members (CSV)
        </button>
      )}
      <ProblemBox error={dlError} context="Download" />
    </div>
  );
}
