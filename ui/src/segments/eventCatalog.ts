// The event catalogue (GET /api/v1/workspace/events) as the builders'
// pickers offer it: event names with their counts, an event's property
// paths with their types, a property's frequent values, and the type a
// property's filter is written with. Pure functions, unit-tested; the
// loading lives in EventCatalog.tsx.
import { countOf } from "../plural";
import type { PropertyType } from "./rule";

/** The types the catalogue reports for a property path. */
export type ObservedType = "string" | "number" | "boolean" | "array" | "object";

export interface CatalogProperty {
  /** The dot path rules use (`product.price`). */
  path: string;
  /** In how many of the sampled events it was present. */
  seen: number;
  types: ObservedType[];
  /** Most frequent values, most frequent first; empty for roles that may not read people. */
  top_values: { value: unknown; count: number }[];
  more_values: boolean;
}

export interface CatalogEvent {
  name: string;
  /** Events of this name in the window; null when not among the most frequent names. */
  count: number | null;
  sampled: number;
  properties: CatalogProperty[];
  properties_left_out: boolean;
}

export interface EventCatalog {
  days: number;
  sampled: number;
  events: CatalogEvent[];
}

/** What the builders ask for: 30 days of names, properties from the newest 20,000 events, 10 values each. */
export const EVENT_CATALOG_PATH = "/api/v1/workspace/events?days=30&sample=20000&values=10";

/** One suggestion of a picker: what it puts in the input, and a note beside it. */
export interface PickOption {
  value: string;
  detail?: string;
}

/** The event names to offer: the catalogue's (most frequent first, with
 * their counts), then `extra` names known otherwise (older events, the
 * events Kairos itself logs) that the catalogue lacks. */
export function eventOptions(catalog: EventCatalog | undefined, extra: readonly string[] = []): PickOption[] {
  const out: PickOption[] = [];
  const seen = new Set<string>();
  for (const e of catalog?.events ?? []) {
    if (e.name === "" || seen.has(e.name)) continue;
    seen.add(e.name);
    out.push({
      value: e.name,
      detail: e.count !== null ? `${countOf(e.count, "event")} in ${catalog!.days} days` : `${countOf(e.sampled, "event")} recently`,
    });
  }
  for (const name of extra) {
    if (name === "" || seen.has(name)) continue;
    seen.add(name);
    out.push({ value: name });
  }
  return out;
}

export function findEvent(catalog: EventCatalog | undefined, name: string): CatalogEvent | undefined {
  const n = name.trim();
  return catalog?.events.find((e) => e.name === n);
}

export function findProperty(catalog: EventCatalog | undefined, event: string, path: string): CatalogProperty | undefined {
  const p = path.trim();
  return findEvent(catalog, event)?.properties.find((x) => x.path === p);
}

/** The type a filter on a property seen with `types` is written with: the
 * one type a rule can test (objects cannot be compared, their paths inside
 * can), or "any" when seen with several; undefined when nothing is known. */
export function propertyTypeOf(types: readonly ObservedType[] | undefined): PropertyType | undefined {
  if (!types || types.length === 0) return undefined;
  const testable = types.filter((t) => t !== "object");
  if (testable.length === 1) return testable[0];
  return testable.length === 0 ? undefined : "any";
}

/** The type of `path` on `event` in the catalogue (see `propertyTypeOf`). */
export function propertyType(catalog: EventCatalog | undefined, event: string, path: string): PropertyType | undefined {
  return propertyTypeOf(findProperty(catalog, event, path)?.types);
}

/** An event's property paths a rule can test, with their types and how often seen. */
export function propertyOptions(catalog: EventCatalog | undefined, event: string): PickOption[] {
  const e = findEvent(catalog, event);
  if (!e) return [];
  return e.properties
    .filter((p) => propertyTypeOf(p.types) !== undefined)
    .map((p) => ({ value: p.path, detail: `${p.types.filter((t) => t !== "object").join(" or ")} · in ${countOf(p.seen, "event")}` }));
}

/** A property's frequent values as text for the value input, with how often each was seen. */
export function valueOptions(catalog: EventCatalog | undefined, event: string, path: string): PickOption[] {
  const p = findProperty(catalog, event, path);
  if (!p) return [];
  // A property seen as both 10 and "10" offers "10" once, with both counts.
  const counts = new Map<string, number>();
  for (const v of p.top_values) {
    if (v.value === null || typeof v.value === "object") continue;
    const text = String(v.value);
    counts.set(text, (counts.get(text) ?? 0) + v.count);
  }
  return [...counts].map(([value, n]) => ({ value, detail: countOf(n, "time") }));
}

/** The value input after picking `picked`: a list operator adds it to the
 * comma-separated values (once), any other replaces the value. */
export function pickValue(op: string, current: string, picked: string): string {
  if (op !== "in" && op !== "not_in") return picked;
  const items = current
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  if (items.includes(picked)) return items.join(", ");
  return [...items, picked].join(", ");
}

/** The options whose value contains `query` (any case), those starting with it first. */
export function filterOptions(options: readonly PickOption[], query: string, limit = 100): PickOption[] {
  const q = query.trim().toLowerCase();
  if (q === "") return options.slice(0, limit);
  const starts: PickOption[] = [];
  const inside: PickOption[] = [];
  for (const o of options) {
    const v = o.value.toLowerCase();
    if (v.startsWith(q)) starts.push(o);
    else if (v.includes(q)) inside.push(o);
  }
  return [...starts, ...inside].slice(0, limit);
}
