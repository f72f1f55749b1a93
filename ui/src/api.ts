// The UI's one door to Kairos: calls to the public REST API under /api/v1,
// made either with the session cookie (plus the session's CSRF token on
// every change) or with an API key as a bearer token; errors turned into
// ApiError carrying the server's RFC 9457 problem document; file downloads
// that need the same credentials, and saving files made in the page; a hook
// that loads a resource with loading and error states, one that reads a
// list page by page, and one that listens to a Server-Sent Events stream.
import { useCallback, useEffect, useRef, useState } from "react";

/** An RFC 9457 problem document as the Kairos API returns it. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

export class ApiError extends Error {
  constructor(public problem: Problem) {
    super(problem.detail || problem.title);
  }
  get status() {
    return this.problem.status;
  }
}

const KEY_STORAGE = "kairos.adminKey";

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}
export function storeKey(key: string) {
  sessionStorage.setItem(KEY_STORAGE, key);
}
export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

// The session's CSRF token lives in memory only: the session answer hands
// it out again after a reload, and script-readable storage would outlive
// the cookie it belongs to.
let csrfToken: string | null = null;
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Fired when the API refuses the stored key or the session (revoked, expired, or the server was reset). */
export const UNAUTHORIZED_EVENT = "kairos:unauthorized";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The credentials of one request: the key as a bearer token, else the
 * cookie (sent by the browser) with the CSRF token on changes. */
function authHeaders(method: string, key: string | null): Record<string, string> {
  if (key) return { Authorization: `Bearer ${key}` };
  if (csrfToken && !SAFE_METHODS.has(method.toUpperCase())) return { "X-CSRF-Token": csrfToken };
  return {};
}

/** The problem document of a failed answer, or one made up from its status. */
function problemOf(resp: Response, text: string): Problem {
  let p: Partial<Problem> | undefined;
  try {
    p = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: described by its status */
  }
  return {
    title: p?.title ?? `${resp.status} ${resp.statusText}`,
    status: resp.status,
    detail: p?.detail ?? (text.slice(0, 300) || resp.statusText),
    errors: p?.errors,
    type: p?.type,
  };
}

/** Call the API. `key` overrides the stored key (used by sign-in), `quiet`
 * keeps a 401 from signing the UI out (the sign-in calls themselves);
 * `text` returns a successful answer's body as text (a raw message, say). */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { key?: string; signal?: AbortSignal; text?: boolean; quiet?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: opts.text ? "*/*" : "application/json", ...authHeaders(method, opts.key ?? storedKey()) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError({ title: "The server cannot be reached", status: 0, detail: String((e as Error).message ?? e) });
  }
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  if (!resp.ok) {
    if (resp.status === 401 && !opts.key && !opts.quiet) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    throw new ApiError(problemOf(resp, text));
  }
  if (opts.text) return text as T;
  try {
    return (text ? JSON.parse(text) : undefined) as T;
  } catch {
    return undefined as T;
  }
}

/** Fetch `path` (a CSV export, say) with the caller's credentials and save
 * it as `filename`; a plain link would carry the cookie but not a key. */
export async function download(path: string, filename: string): Promise<void> {
  const resp = await fetch(path, { headers: authHeaders("GET", storedKey()) });
  if (!resp.ok) throw new ApiError(problemOf(resp, await resp.text()));
  saveFile(await resp.blob(), filename);
}

/** Hand `data` (text built in the page, a CSV say) to the browser as a download named `filename`. */
export function saveFile(data: Blob | string, filename: string, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(typeof data === "string" ? new Blob([data], { type }) : data);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

/** The messages of a refused request's `errors` that name one of `fields`,
 * by field, to show beside the inputs; empty when none does. */
export function fieldErrors(e: unknown, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (e instanceof ApiError) for (const f of e.problem.errors ?? []) if (fields.includes(f.path) && !(f.path in out)) out[f.path] = f.message;
  return out;
}

/** A refused form's problem split for showing: the messages of `fields`
 * beside their inputs, and what is left for the box (the problem without
 * the errors shown at fields, its detail, which the server makes of every
 * message, told again of the others only; null when the fields say
 * everything). Each message is shown once. */
export function formProblems(e: unknown, fields: readonly string[]): { fields: Record<string, string>; rest: unknown } {
  const found = fieldErrors(e, fields);
  if (!(e instanceof ApiError)) return { fields: found, rest: e };
  const rest = (e.problem.errors ?? []).filter((x) => !(x.path in found));
  if (Object.keys(found).length === 0) return { fields: found, rest: new ApiError({ ...e.problem, errors: rest.length ? rest : undefined }) };
  if (rest.length === 0) return { fields: found, rest: null };
  const detail = rest.map((x) => `${x.path}: ${x.message}`).join("; ");
  return { fields: found, rest: new ApiError({ ...e.problem, detail, errors: rest }) };
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** GET `path` (null: nothing to load) and keep it with loading and error state.
 * `keep` goes on showing the last answer while another path loads (a report
 * whose controls changed), so the page does not jump; `loading` says it is stale. */
export function useApi<T>(path: string | null, opts: { pollMs?: number; keep?: boolean } = {}): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState<boolean>(path !== null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const lastPath = useRef<string | null>(null);

  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    const ctl = new AbortController();
    // Keep showing the old data while polling the same path; clear on a new path.
    if (lastPath.current !== path && !opts.keep) setData(undefined);
    lastPath.current = path;
    setLoading(true);
    api<T>("GET", path, undefined, { signal: ctl.signal })
      .then((d) => {
        setData(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e) => {
        if ((e as Error).name === "AbortError") return;
        setError(e instanceof ApiError ? e : new ApiError({ title: "Error", status: 0, detail: String(e) }));
        setLoading(false);
      });
    return () => ctl.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!opts.pollMs || path === null) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === "visible") setTick((x) => x + 1);
    }, opts.pollMs);
    return () => window.clearInterval(t);
  }, [opts.pollMs, path]);

  return { data, error, loading, reload };
}

/** A list read page by page (`first`, then `more(cursor)`): the first page
 * polled every `pollMs` so new items appear on top, older pages added on
 * demand and kept, each item once; all reset when `first` changes. */
export function usePaged<T extends { id: string }>(first: string, more: (cursor: string) => string, opts: { pollMs?: number } = {}) {
  const top = useApi<Page<T>>(first, opts);
  const [older, setOlder] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setOlder([]);
    setCursor(undefined);
    setError(null);
  }, [first]);
  const next = cursor === undefined ? top.data?.next_cursor : cursor;

  async function loadMore() {
    if (!next) return;
    setBusy(true);
    setError(null);
    try {
      const p = await api<Page<T>>("GET", more(next));
      setOlder((o) => [...o, ...p.data]);
      setCursor(p.next_cursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  // The first page is refreshed while older pages stay: an item that moved down is in both.
  const seen = new Set<string>();
  const items = [...(top.data?.data ?? []), ...older].filter((x) => !seen.has(x.id) && (seen.add(x.id), true));
  return { first: top, items, hasMore: Boolean(next), busy, error, loadMore };
}

/** Wire shapes of the API, as the UI uses them. */
export interface Workspace {
  id: string;
  name: string;
  created_at: string;
  contacts: number;
  events: number;
  events_last_24h: number;
}

export interface Page<T> {
  data: T[];
  next_cursor?: string | null;
}

export interface Contact {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  timezone: string | null;
  locale: string | null;
  country: string | null;
  custom: Record<string, unknown>;
  company_ids: string[];
  created_at: string;
  updated_at: string;
}

export interface TimelineEvent {
  id: string;
  type: string;
  name: string | null;
  properties: Record<string, unknown>;
  timestamp: string;
  seq: number;
}

export interface FieldDef {
  entity: "contact" | "company";
  name: string;
  type: "string" | "number" | "boolean" | "date" | "list";
  label: string | null;
}

export interface Segment {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  version: number;
  status: string;
  error: string | null;
  count: number | null;
  backfill_done: number;
  backfill_total: number;
  created_at: number;
  updated_at: number;
}

export interface StaticList {
  id: string;
  name: string;
  count: number;
}

export interface Journey {
  id: string;
  name: string;
  status: string;
  version: number;
  definition: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

export interface JourneyStats {
  nodes: { node: string; current: Record<string, number>; outcomes: Record<string, number> }[];
  runs: Record<string, number>;
  /** Contacts that took each edge of the published graph; `from: null` is entering at the start. */
  edges?: { from: string | null; to: string; label: string; count: number }[];
}

/** A published version of a journey (GET /api/v1/journeys/{id}/versions). */
export interface JourneyVersion {
  version: number;
  published_at: number;
  definition: Record<string, unknown>;
}

export interface Activity {
  days: number;
  per_day: { day: string; events: number }[];
  top_events: { name: string; count: number }[];
}

export function contactName(c: Pick<Contact, "first_name" | "last_name" | "email" | "external_id" | "id">): string {
  const n = [c.first_name, c.last_name].filter(Boolean).join(" ");
  return n || c.email || c.external_id || c.id;
}

/** Complete Server-Sent Events blocks in `buffer`: the event names they
 * carry (a block without `event:` is a `message`; comment-only blocks, the
 * server's keep-alives, name nothing), and the unfinished rest. */
export function sseEvents(buffer: string): { names: string[]; rest: string } {
  const text = buffer.replace(/\r\n?/g, "\n");
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  const names: string[] = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l !== "" && !l.startsWith(":"));
    if (lines.length === 0) continue;
    const named = lines.find((l) => l.startsWith("event:"));
    names.push(named ? named.slice(6).trim() : "message");
  }
  return { names, rest };
}

/** Listen to the Server-Sent Events stream at `path` with the same
 * credentials as every call (a fetch, not EventSource, which cannot send an
 * API key), calling `onEvent` with each event's name; bursts are coalesced
 * to one call per quarter second. Reconnects after 5 s when the stream
 * ends or fails, but not after a 401, 403 or 404. Says whether the stream is open, so a caller polls only
 * while it is not. */
export function useServerEvents(path: string | null, onEvent: (name: string) => void): boolean {
  const [open, setOpen] = useState(false);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    let retry: number | undefined;
    let flush: number | undefined;
    let waiting = new Set<string>();
    const deliver = (name: string) => {
      waiting.add(name);
      if (flush !== undefined) return;
      flush = window.setTimeout(() => {
        flush = undefined;
        const names = waiting;
        waiting = new Set();
        for (const n of names) handler.current(n);
      }, 250);
    };
    const connect = async () => {
      try {
        const resp = await fetch(path, { headers: { Accept: "text/event-stream", ...authHeaders("GET", storedKey()) }, signal: ctl.signal });
        if (resp.status === 401 || resp.status === 403 || resp.status === 404) {
          // Signed out, not allowed, or gone (merged, erased): asking again
          // would get the same answer. A lapsed sign-in is reported like any call's.
          if (resp.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
          setOpen(false);
          return;
        }
        if (!resp.ok || !resp.body) throw new Error(`${resp.status}`);
        setOpen(true);
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const { names, rest } = sseEvents(buffer + value);
          buffer = rest;
          names.forEach(deliver);
        }
      } catch {
        // Closed by the page, or the server went away: polling covers it.
      }
      if (ctl.signal.aborted) return;
      setOpen(false);
      retry = window.setTimeout(() => void connect(), 5000);
    };
    void connect();
    return () => {
      ctl.abort();
      window.clearTimeout(retry);
      window.clearTimeout(flush);
      setOpen(false);
    };
  }, [path]);
  return open;
}
