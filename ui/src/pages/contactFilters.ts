// The contacts list's filters and order as plain data: read from and
// written to the page address (so a filtered, sorted view can be shared or
// reloaded), turned into the query of GET /api/v1/contacts, what clicking a
// column header does to the order, the kind of input each custom field
// takes, and where the server's objections to a list go (each at its
// filter, once). Pure, so it is unit tested.
import { ApiError, formProblems } from "../api";

/** A custom field's definition (GET /api/v1/fields). */
export interface FieldDefinition {
  entity: "contact" | "company" | string;
  name: string;
  type: "string" | "number" | "boolean" | "date" | "list" | string;
  label: string | null;
}

/** "This custom field has this value" (for a list field: the list includes the value). */
export interface FieldFilter {
  name: string;
  value: string;
}

export interface ContactFilters {
  /** Text in the email, name or external id. */
  q: string;
  /** Two-letter country code. */
  country: string;
  /** A company's id: only its contacts. */
  company: string;
  /** A day (YYYY-MM-DD): only contacts updated since its start, in the marketer's time zone. */
  updatedSince: string;
  fields: FieldFilter[];
  /** The order, as the API's `sort` parameter (`email`, `-email`); empty for
   * the API's own (ascending id). Not a filter, but it travels through the
   * address with them; kept as written, so the server explains one it does not know. */
  sort: string;
}

export const NO_FILTERS: ContactFilters = { q: "", country: "", company: "", updatedSince: "", fields: [], sort: "" };

/** The columns GET /api/v1/contacts sorts by. */
export type SortKey = "id" | "email" | "first_name" | "last_name" | "country" | "created_at" | "updated_at";
export interface ContactSort {
  key: SortKey;
  dir: "asc" | "desc";
}
const SORT_KEYS: readonly SortKey[] = ["id", "email", "first_name", "last_name", "country", "created_at", "updated_at"];

/** The order a `sort` parameter asks for; null for none, or one the API does not know. */
export function parseSort(raw: string): ContactSort | null {
  const s = raw.trim();
  const key = s.replace(/^-/, "") as SortKey;
  if (!SORT_KEYS.includes(key)) return null;
  return { key, dir: s.startsWith("-") ? "desc" : "asc" };
}

export function sortParam(s: ContactSort): string {
  return `${s.dir === "desc" ? "-" : ""}${s.key}`;
}

/** The `sort` after clicking `key`'s header: a new column starts ascending,
 * the sorted one turns around. */
export function nextSort(raw: string, key: SortKey): string {
  const s = parseSort(raw);
  return sortParam({ key, dir: s?.key === key && s.dir === "asc" ? "desc" : "asc" });
}

/** The header's aria-sort for `key`: set on the sorted column only. */
export function ariaSort(raw: string, key: SortKey): "ascending" | "descending" | undefined {
  const s = parseSort(raw);
  if (s?.key !== key) return undefined;
  return s.dir === "asc" ? "ascending" : "descending";
}

/** `f` without its filters: clearing them keeps the order. */
export function withoutFilters(f: ContactFilters): ContactFilters {
  return { ...NO_FILTERS, sort: f.sort };
}

const FIELD_PREFIX = "field.";
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The filters an address's query holds; what it lacks is empty. */
export function filtersFromParams(p: URLSearchParams): ContactFilters {
  const fields: FieldFilter[] = [];
  for (const [k, v] of p) {
    const name = k.startsWith(FIELD_PREFIX) ? k.slice(FIELD_PREFIX.length) : "";
    if (name && !fields.some((f) => f.name === name)) fields.push({ name, value: v });
  }
  return {
    q: p.get("q") ?? "",
    country: p.get("country") ?? "",
    company: p.get("company_id") ?? "",
    updatedSince: p.get("updated_since") ?? "",
    fields,
    sort: p.get("sort") ?? "",
  };
}

/** The address's query for `f`: the API's own parameter names, trimmed,
 * the country in capitals, and nothing for what is empty (a field filter
 * without a field or a value is not a filter yet); the order last. */
export function paramsOfFilters(f: ContactFilters): URLSearchParams {
  const p = new URLSearchParams();
  const q = f.q.trim();
  if (q) p.set("q", q);
  const country = f.country.trim().toUpperCase();
  if (country) p.set("country", country);
  if (f.company.trim()) p.set("company_id", f.company.trim());
  if (f.updatedSince.trim()) p.set("updated_since", f.updatedSince.trim());
  for (const x of f.fields) {
    const name = x.name.trim();
    const value = x.value.trim();
    if (name && value && !p.has(FIELD_PREFIX + name)) p.set(FIELD_PREFIX + name, value);
  }
  if (f.sort.trim()) p.set("sort", f.sort.trim());
  return p;
}

/** The start of `day` (YYYY-MM-DD) in the browser's time zone, as the RFC 3339 instant the API takes. */
export function sinceInstant(day: string): string {
  return new Date(`${day}T00:00:00`).toISOString();
}

/** The query of GET /api/v1/contacts for `f` (its filters and order), one
 * page of `limit` from `cursor` (which the server takes only with the order
 * it was made in). A day is sent as the instant it starts; anything else given
 * for "updated since" (an address typed by hand) goes as it is, for the
 * server to accept or explain. */
export function apiQuery(f: ContactFilters, limit: number, cursor?: string): URLSearchParams {
  const p = paramsOfFilters(f);
  const since = p.get("updated_since");
  if (since && DAY.test(since)) p.set("updated_since", sinceInstant(since));
  p.set("limit", String(limit));
  if (cursor) p.set("cursor", cursor);
  return p;
}

/** How many filters are in force (the order is none). */
export function activeFilters(f: ContactFilters): number {
  const p = paramsOfFilters(f);
  return [...p.keys()].filter((k) => k !== "sort").length;
}

/** Whether `day` is a whole day a date input can show. */
export function isDay(day: string): boolean {
  return DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`));
}

/** The input a custom field's filter takes. */
export function fieldInput(type: string): "boolean" | "number" | "date" | "text" {
  if (type === "boolean" || type === "number" || type === "date") return type;
  return "text";
}

/** The contact fields a filter row may pick: those not taken by another row (its own stays). */
export function fieldChoices(defs: FieldDefinition[], filters: FieldFilter[], own: string): FieldDefinition[] {
  const taken = new Set(filters.map((f) => f.name).filter((n) => n !== own));
  return defs.filter((d) => d.entity === "contact" && !taken.has(d.name)).sort((a, b) => a.name.localeCompare(b.name));
}

/** A new filter row on the first contact field no row uses yet; null when every field has one. */
export function nextFieldFilter(defs: FieldDefinition[], filters: FieldFilter[]): FieldFilter | null {
  const d = fieldChoices(defs, filters, "")[0];
  return d ? { name: d.name, value: "" } : null;
}

/** How a field is called on the page: its label, else its name in words. */
export function fieldLabel(d: Pick<FieldDefinition, "name" | "label">): string {
  return d.label?.trim() || d.name.replace(/_/g, " ");
}

/** The address parameter (and the API's error path) of a field filter. */
export function fieldParam(name: string): string {
  return FIELD_PREFIX + name;
}

/** The API's parameters (and error paths) of the filters and the order, but the custom fields' (`field.NAME`). */
const FILTER_PARAMS = ["q", "country", "company_id", "updated_since", "sort"];

/** A refused list's objections by the parameter they are about — each
 * filter's (a custom field's by `fieldParam`) shown at that filter, the
 * order's above the table — and what names no filter, for the problem box.
 * An objection to a filter is never the box's, not even to one whose row
 * has just been removed while the list is asked for again: it goes with
 * its filter. */
export function filterProblems(e: unknown): { fields: Record<string, string>; rest: unknown } {
  const paths = e instanceof ApiError ? (e.problem.errors ?? []).map((x) => x.path).filter((p) => FILTER_PARAMS.includes(p) || p.startsWith(FIELD_PREFIX)) : [];
  return formProblems(e, paths);
}
