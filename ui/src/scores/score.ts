// Lead scores as the UI handles them: the wire shapes of /api/v1/scores and
// of a contact's scores and history, the editor's state read from and
// written back to a score definition (event rules use the segment builder's
// property filters, attribute rules its condition tree), where each server
// problem path belongs in the editor, how values are shown, and the order
// a contact's history is shown in. Pure, so it is unit tested.
import {
  emptyCondition,
  emptyGroup,
  fromRule,
  newId,
  nodeForPath,
  toCondition,
  whereFromJson,
  whereToJson,
  type Group,
  type PathIndex,
  type PropertyFilter,
  type Schema,
} from "../segments/rule";

export type CapPeriod = "day" | "week" | "month" | "ever";
export const CAP_PERIODS: CapPeriod[] = ["day", "week", "month", "ever"];

export interface ScoreDefinition {
  name: string;
  description?: string | null;
  half_life_days?: number | null;
  events?: { event: string; where?: unknown[]; points: number; cap?: { points: number; per: CapPeriod } }[];
  attributes?: { when: unknown; points: number }[];
  thresholds?: { name: string; value: number }[];
}

/** GET /api/v1/scores (one item) and GET /api/v1/scores/{name}. */
export interface Score {
  name: string;
  definition: ScoreDefinition;
  version: number;
  live_version: number | null;
  status: "recomputing" | "ready" | "failed";
  error: string | null;
  progress: { events_done: number; events_total: number };
  created_at: number;
  updated_at: number;
}

/** GET /api/v1/contacts/{id}/scores (one item). */
export interface ContactScore {
  score: string;
  value: number;
  behaviour: number;
  attributes: number;
  threshold: string | null;
  half_life_days: number | null;
  updated_at: number;
}

/** GET /api/v1/contacts/{id}/scores/history (one item). */
export interface ScoreChange {
  id: string;
  score: string;
  version: number;
  at: number;
  delta: number;
  value: number;
  reason: string;
  source: "event" | "attributes" | "journey";
  rule: number | null;
  period: number | null;
  event_id: string | null;
}

/** The editor's state: inputs as typed (numbers as strings, so a half-typed value stays). */
export interface EventRuleForm {
  id: string;
  event: string;
  where: PropertyFilter[];
  points: string;
  capped: boolean;
  capPoints: string;
  capPer: CapPeriod;
}

export interface AttributeRuleForm {
  id: string;
  when: Group;
  points: string;
}

export interface ThresholdForm {
  id: string;
  name: string;
  value: string;
}

export interface ScoreForm {
  name: string;
  description: string;
  halfLifeDays: string;
  events: EventRuleForm[];
  attributes: AttributeRuleForm[];
  thresholds: ThresholdForm[];
}

export function emptyEventRule(): EventRuleForm {
  return { id: newId(), event: "", where: [], points: "5", capped: false, capPoints: "20", capPer: "day" };
}

export function emptyAttributeRule(): AttributeRuleForm {
  return { id: newId(), when: { ...emptyGroup("and"), children: [emptyCondition("field")] }, points: "10" };
}

export function emptyThreshold(): ThresholdForm {
  return { id: newId(), name: "", value: "" };
}

/** A new score: one event rule to start from. */
export function emptyForm(): ScoreForm {
  return { name: "", description: "", halfLifeDays: "", events: [emptyEventRule()], attributes: [], thresholds: [] };
}

const str = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

/** The editor's state of a saved definition (every property filter the
 * server accepts has a picker; conditions without one stay raw JSON). */
export function formOf(def: ScoreDefinition): ScoreForm {
  return {
    name: def.name,
    description: def.description ?? "",
    halfLifeDays: str(def.half_life_days),
    events: (def.events ?? []).map((r) => ({
      id: newId(),
      event: r.event,
      where: whereFromJson(r.where) ?? [],
      points: str(r.points),
      capped: r.cap !== undefined && r.cap !== null,
      capPoints: r.cap ? str(r.cap.points) : "20",
      capPer: r.cap?.per ?? "day",
    })),
    attributes: (def.attributes ?? []).map((r) => ({ id: newId(), when: fromRule(r.when), points: str(r.points) })),
    thresholds: (def.thresholds ?? []).map((t) => ({ id: newId(), name: t.name, value: str(t.value) })),
  };
}

/** A typed number, or the text itself so the server names what is wrong with it. */
function num(s: string): number | string {
  const t = s.trim();
  return t !== "" && !Number.isNaN(Number(t)) ? Number(t) : t;
}

/** Where each part of the editor sits in the definition JSON, so server errors can be shown on it. */
export interface ScorePaths {
  /** Rule and threshold ids by their path (`events[0]`, `thresholds[1]`). */
  parts: Map<string, string>;
  /** Each attribute rule's condition tree, by rule id. */
  conditions: Map<string, PathIndex>;
}

export function newPaths(): ScorePaths {
  return { parts: new Map(), conditions: new Map() };
}

/** The definition the editor's state stands for; empty optional parts are left out. */
export function definitionOf(form: ScoreForm, schema: Schema, paths: ScorePaths = newPaths()): ScoreDefinition {
  const def: ScoreDefinition = { name: form.name.trim() };
  if (form.description.trim()) def.description = form.description.trim();
  if (form.halfLifeDays.trim()) def.half_life_days = num(form.halfLifeDays) as number;
  def.events = form.events.map((r, i) => {
    paths.parts.set(`events[${i}]`, r.id);
    const rule: NonNullable<ScoreDefinition["events"]>[number] = { event: r.event.trim(), points: num(r.points) as number };
    if (r.where.length > 0) rule.where = whereToJson(r.where);
    if (r.capped) rule.cap = { points: num(r.capPoints) as number, per: r.capPer };
    return rule;
  });
  def.attributes = form.attributes.map((r, i) => {
    paths.parts.set(`attributes[${i}]`, r.id);
    const index: PathIndex = new Map();
    paths.conditions.set(r.id, index);
    return { when: toCondition(r.when, schema, `attributes[${i}].when`, index), points: num(r.points) as number };
  });
  def.thresholds = form.thresholds.map((t, i) => {
    paths.parts.set(`thresholds[${i}]`, t.id);
    return { name: t.name.trim(), value: num(t.value) as number };
  });
  return def;
}

/** Where the server's problems go: on a field of the form (`name`,
 * `description`, `half_life_days`), on a rule or threshold (by id), on a
 * condition of an attribute rule (by node id, for its rule editor), or
 * nowhere in particular (shown with the save's problem). */
export interface ScoreErrors {
  fields: Partial<Record<"name" | "description" | "half_life_days", string>>;
  parts: Map<string, string>;
  conditions: Map<string, string>;
  rest: { path: string; message: string }[];
}

export function errorsOf(errors: { path: string; message: string }[] | undefined, paths: ScorePaths): ScoreErrors {
  const out: ScoreErrors = { fields: {}, parts: new Map(), conditions: new Map(), rest: [] };
  for (const e of errors ?? []) {
    // The detail writes paths as `$.events[0]`; `errors` without the `$.`.
    const path = e.path.replace(/^\$\.?/, "");
    if (path === "name" || path === "description" || path === "half_life_days") {
      out.fields[path] ??= e.message;
      continue;
    }
    const part = /^(events|attributes|thresholds)\[\d+\]/.exec(path)?.[0];
    const id = part ? paths.parts.get(part) : undefined;
    if (!id) {
      out.rest.push(e);
      continue;
    }
    const index = paths.conditions.get(id);
    const node = index && path.startsWith(`${part}.when`) ? nodeForPath(path, index) : undefined;
    const where = node ? out.conditions : out.parts;
    const key = node ?? id;
    if (!where.has(key)) where.set(key, `${e.message} (${path})`);
  }
  return out;
}

/** A score's value as shown: whole numbers from 100 up, else one decimal at most. */
export function formatScore(v: number): string {
  const digits = Math.abs(v) >= 100 ? 0 : 1;
  const r = Number(v.toFixed(digits));
  return (Object.is(r, -0) ? 0 : r).toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** A change with its sign: "+5", "−3", "+1.5". */
export function formatDelta(d: number): string {
  const s = formatScore(Math.abs(d));
  return d < 0 ? `−${s}` : `+${s}`;
}

/** "Warm 40 · Hot 80", lowest first. */
export function thresholdsText(def: ScoreDefinition): string {
  const t = [...(def.thresholds ?? [])].sort((a, b) => a.value - b.value);
  return t.length ? t.map((x) => `${x.name} ${formatScore(x.value)}`).join(" · ") : "—";
}

/** A contact's score changes newest first, by `at`, whatever order they
 * came in: pages of history joined, or a server that answered otherwise.
 * Changes at the same moment keep their order. */
export function newestFirst(changes: readonly ScoreChange[]): ScoreChange[] {
  return [...changes].sort((a, b) => b.at - a.at);
}
