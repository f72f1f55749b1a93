// What the builders offer in their pickers, read from the API once per
// signed-in session: custom fields (with types), segments, static lists,
// webhook endpoints and the event names seen in the last 90 days.
import { useEffect, useState } from "react";
import { api, type Activity, type FieldDef, type Page, type Segment, type StaticList } from "../api";
import { STANDARD_COMPANY_FIELDS, STANDARD_CONTACT_FIELDS, type Schema } from "./rule";

export interface Catalog {
  schema: Schema;
  segments: { id: string; name: string }[];
  lists: { id: string; name: string }[];
  endpoints: { id: string; url: string }[];
  events: string[];
}

let cached: Promise<Catalog> | null = null;

async function load(): Promise<Catalog> {
  const [fields, segments, lists, endpoints, activity] = await Promise.all([
    api<FieldDef[] | { data: FieldDef[] }>("GET", "/api/v1/fields"),
    api<Page<Segment>>("GET", "/api/v1/segments"),
    api<Page<StaticList> | StaticList[]>("GET", "/api/v1/lists"),
    api<{ data: { id: string; url: string }[] }>("GET", "/api/v1/webhook-endpoints"),
    api<Activity>("GET", "/api/v1/workspace/activity?days=90"),
  ]);
  const defs = Array.isArray(fields) ? fields : fields.data;
  const schema: Schema = { contact: { ...STANDARD_CONTACT_FIELDS }, company: { ...STANDARD_COMPANY_FIELDS } };
  for (const f of defs) (f.entity === "company" ? schema.company : schema.contact)[f.name] = f.type;
  const events = activity.top_events.map((e) => e.name).filter((n) => n !== "");
  for (const common of ["Segment Entered", "Segment Exited", "Email Opened", "Email Clicked"])
    if (!events.includes(common)) events.push(common);
  return {
    schema,
    segments: segments.data.map((s) => ({ id: s.id, name: s.name })),
    lists: (Array.isArray(lists) ? lists : lists.data).map((l) => ({ id: l.id, name: l.name })),
    endpoints: endpoints.data,
    events,
  };
}

/** The catalog; `refresh` reloads it (after saving a segment, say). */
export function useCatalog(): { catalog: Catalog | null; error: unknown; refresh: () => void } {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!cached) cached = load();
    let live = true;
    cached.then(
      (c) => live && setCatalog(c),
      (e) => {
        cached = null;
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  return {
    catalog,
    error,
    refresh: () => {
      cached = null;
      setTick((t) => t + 1);
    },
  };
}

export function forgetCatalog() {
  cached = null;
}
