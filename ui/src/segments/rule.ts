// The segment rule as the builder edits it: a tree of AND/OR groups and
// conditions with the values as typed, and the conversions to and from the
// rule JSON of docs/segments.md. Pure functions, unit-tested; anything the
// builder has no picker for is kept as raw JSON so no rule is ever lost.

export type FieldType = "string" | "number" | "boolean" | "date" | "list";

export interface Group {
  id: string;
  kind: "group";
  combinator: "and" | "or";
  negate: boolean;
  children: RuleNode[];
}

export interface FieldCondition {
  id: string;
  kind: "field" | "company";
  negate: boolean;
  field: string;
  op: string;
  /** The value as typed; lists are comma-separated, `between` uses value and value2. */
  value: string;
  value2: string;
}

/** How an event property's value is written: as its type in the data (the
 * event catalogue), or "any": a number or boolean when it looks like one. */
export type PropertyType = "string" | "number" | "boolean" | "array" | "any";

export interface PropertyFilter {
  property: string;
  op: string;
  /** The value as typed; lists are comma-separated. */
  value: string;
  /** The upper bound of `between`. */
  value2?: string;
  /** The property's type; "any" when not given. */
  type?: PropertyType;
}

/** How an event's first or last occurrence is tested (docs/segments.md). */
export type TimeOp = "before" | "after" | "within_last_days" | "more_than_days_ago";

export interface EventCondition {
  id: string;
  kind: "event";
  negate: boolean;
  event: string;
  where: PropertyFilter[];
  /** What is tested: how many matching events (in a window), or when the first or last one was. */
  measure: "count" | "first" | "last";
  countOp: "at_least" | "at_most" | "exactly";
  count: string;
  /** "ever", "between" (windowFrom ≤ timestamp < windowTo), or a number of days. */
  windowDays: string;
  windowFrom: string;
  windowTo: string;
  /** The first or last occurrence: `before`/`after` a date, or a number of days. */
  timeOp: TimeOp;
  timeValue: string;
}

export const TIME_OPS: [TimeOp, string][] = [
  ["before", "was before"],
  ["after", "was after"],
  ["within_last_days", "was within the last … days"],
  ["more_than_days_ago", "was more than … days ago"],
];

/** Whether a first/last test takes a number of days (else a date). */
export function timeOpTakesDays(op: TimeOp): boolean {
  return op === "within_last_days" || op === "more_than_days_ago";
}

export interface RefCondition {
  id: string;
  kind: "segment" | "list";
  negate: boolean;
  ref: string;
}

export interface ConsentCondition {
  id: string;
  kind: "consent";
  negate: boolean;
  channel: string;
  purpose: string;
  state: string;
}

export interface RawCondition {
  id: string;
  kind: "raw";
  negate: boolean;
  json: string;
}

export type Condition = FieldCondition | EventCondition | RefCondition | ConsentCondition | RawCondition;
export type RuleNode = Group | Condition;

let counter = 0;
export function newId(): string {
  counter += 1;
  return `n${counter}`;
}

/** The standard contact fields and their types (docs/segments.md). */
export const STANDARD_CONTACT_FIELDS: Record<string, FieldType> = {
  email: "string",
  first_name: "string",
  last_name: "string",
  country: "string",
  phone: "string",
  external_id: "string",
  timezone: "string",
  locale: "string",
  created_at: "date",
  updated_at: "date",
};

export const STANDARD_COMPANY_FIELDS: Record<string, FieldType> = {
  name: "string",
  domain: "string",
  external_id: "string",
  created_at: "date",
};

/** Operators each field type accepts, with their labels. */
export const OPERATORS: Record<FieldType, [string, string][]> = {
  string: [
    ["equals", "is"],
    ["not_equals", "is not"],
    ["contains", "contains"],
    ["not_contains", "does not contain"],
    ["starts_with", "starts with"],
    ["in", "is one of"],
    ["not_in", "is none of"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
  number: [
    ["equals", "="],
    ["not_equals", "≠"],
    ["gt", ">"],
    ["gte", "≥"],
    ["lt", "<"],
    ["lte", "≤"],
    ["between", "between"],
    ["in", "is one of"],
    ["not_in", "is none of"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
  boolean: [
    ["equals", "is"],
    ["not_equals", "is not"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
  date: [
    ["before", "before"],
    ["after", "after"],
    ["between", "between"],
    ["equals", "on"],
    ["not_equals", "not on"],
    ["within_last_days", "within the last N days"],
    ["anniversary_within_days", "anniversary within N days"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
  list: [
    ["contains", "contains"],
    ["not_contains", "does not contain"],
    ["in", "contains any of"],
    ["not_in", "contains none of"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
};

/** Operators on an event property of each type (docs/segments.md: those of
 * fields; an array property is a list). "any" (a property the catalogue does
 * not know, or seen with several types) offers them all. */
export const PROPERTY_OPERATORS: Record<PropertyType, [string, string][]> = {
  string: OPERATORS.string,
  number: OPERATORS.number,
  boolean: OPERATORS.boolean,
  array: OPERATORS.list,
  any: [
    ["equals", "is"],
    ["not_equals", "is not"],
    ["gt", ">"],
    ["gte", "≥"],
    ["lt", "<"],
    ["lte", "≤"],
    ["between", "between"],
    ["contains", "contains"],
    ["not_contains", "does not contain"],
    ["starts_with", "starts with"],
    ["in", "is one of"],
    ["not_in", "is none of"],
    ["is_set", "is set"],
    ["not_set", "is not set"],
  ],
};

/** The operators offered on a property of `type`, keeping `current` (a rule
 * loaded from JSON may use one the type does not list). */
export function propertyOperators(type: PropertyType | undefined, current?: string): [string, string][] {
  const ops = PROPERTY_OPERATORS[type ?? "any"];
  if (current === undefined || ops.some(([o]) => o === current)) return ops;
  const extra = PROPERTY_OPERATORS.any.find(([o]) => o === current) ?? [current, current];
  return [...ops, extra];
}

/** A filter whose property (and so type) changed: the operator kept if the
 * new type has it, else the type's first. */
export function withPropertyType(w: PropertyFilter, property: string, type: PropertyType | undefined): PropertyFilter {
  const ops = PROPERTY_OPERATORS[type ?? "any"];
  const op = ops.some(([o]) => o === w.op) ? w.op : ops[0][0];
  return { ...w, property, type, op };
}

/** A number as typed, or the text itself when it is none (the server then says what is wrong). */
function numberOf(raw: string): Json {
  const s = raw.trim();
  return s !== "" && Number.isFinite(Number(s)) ? Number(s) : s;
}

/** One value typed for a property of `type`: numbers and booleans as JSON
 * numbers and booleans, text as text; "any" as it looks. */
export function propertyScalar(raw: string, type: PropertyType | undefined): Json {
  const s = raw.trim();
  switch (type ?? "any") {
    case "number":
      return numberOf(s);
    case "boolean":
      return s === "true" ? true : s === "false" ? false : s;
    case "string":
    case "array":
      return s;
    case "any":
      return literal(s, undefined);
  }
}

/** A property filter's value as the API takes it: the operator decides the
 * shape (`between` a pair of numbers, `in` a list, `gt` a number,
 * `contains` text), the property's type the type of what is compared with
 * it; undefined for operators that take none. */
export function propertyValue(op: string, value: string, value2: string, type: PropertyType | undefined): Json | undefined {
  switch (op) {
    case "is_set":
    case "not_set":
      return undefined;
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return numberOf(value);
    case "between":
      return [numberOf(value), numberOf(value2)];
    case "contains":
    case "not_contains":
    case "starts_with":
      return value.trim();
    case "in":
    case "not_in":
      return value
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "")
        .map((x) => propertyScalar(x, type));
    default:
      return propertyScalar(value, type);
  }
}

/** The type a saved filter's value was written with, so editing keeps it
 * (a text "123" stays text); undefined when the value does not say. */
function typeOfValue(op: string, v: Json): PropertyType | undefined {
  if (["gt", "gte", "lt", "lte", "between"].includes(op)) return "number";
  if (!["equals", "not_equals", "in", "not_in"].includes(op)) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === "number") return "number";
  if (typeof first === "boolean") return "boolean";
  if (typeof first === "string") return "string";
  return undefined;
}

export function takesNoValue(op: string): boolean {
  return op === "is_set" || op === "not_set";
}

export function emptyGroup(combinator: "and" | "or" = "and"): Group {
  return { id: newId(), kind: "group", combinator, negate: false, children: [] };
}

export function emptyCondition(kind: Condition["kind"]): Condition {
  const id = newId();
  switch (kind) {
    case "field":
    case "company":
      return { id, kind, negate: false, field: kind === "field" ? "country" : "name", op: "equals", value: "", value2: "" };
    case "event":
      return { id, kind, negate: false, event: "", where: [], measure: "count", countOp: "at_least", count: "1", windowDays: "ever", windowFrom: "", windowTo: "", timeOp: "before", timeValue: "" };
    case "segment":
    case "list":
      return { id, kind, negate: false, ref: "" };
    case "consent":
      return { id, kind, negate: false, channel: "email", purpose: "marketing", state: "granted" };
    case "raw":
      return { id, kind, negate: false, json: "{}" };
  }
}

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function text(v: Json): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(text).join(", ");
  return String(v);
}

/** Turn rule JSON into the tree. The top is always a group. */
export function fromRule(rule: Json): Group {
  const node = toNode(rule);
  if (node.kind === "group") return node;
  return { ...emptyGroup("and"), children: [node] };
}

function toNode(rule: Json): RuleNode {
  const raw = (): RawCondition => ({ id: newId(), kind: "raw", negate: false, json: JSON.stringify(rule, null, 2) });
  if (!isObj(rule)) return raw();
  const keys = Object.keys(rule);
  if (keys.length === 1 && (keys[0] === "and" || keys[0] === "or") && Array.isArray(rule[keys[0]])) {
    return {
      id: newId(),
      kind: "group",
      combinator: keys[0] as "and" | "or",
      negate: false,
      children: (rule[keys[0]] as Json[]).map(toNode),
    };
  }
  if (keys.length === 1 && keys[0] === "not") {
    const inner = toNode(rule.not);
    if (inner.negate) return raw();
    return { ...inner, negate: true };
  }
  if ("field" in rule && keys.every((k) => ["field", "op", "value"].includes(k)) && typeof rule.field === "string") {
    return fieldCond("field", rule) ?? raw();
  }
  if (keys.length === 1 && keys[0] === "company" && isObj(rule.company)) {
    return fieldCond("company", rule.company) ?? raw();
  }
  if ("event" in rule && typeof rule.event === "string" && keys.every((k) => ["event", "where", "count", "window", "first", "last"].includes(k))) {
    return eventCond(rule) ?? raw();
  }
  if (keys.length === 1 && (keys[0] === "segment" || keys[0] === "list") && typeof rule[keys[0]] === "string") {
    return { id: newId(), kind: keys[0] as "segment" | "list", negate: false, ref: rule[keys[0]] as string };
  }
  if (keys.length === 1 && keys[0] === "consent" && isObj(rule.consent)) {
    const c = rule.consent;
    return {
      id: newId(),
      kind: "consent",
      negate: false,
      channel: text(c.channel),
      purpose: text(c.purpose),
      state: c.state === undefined ? "granted" : text(c.state),
    };
  }
  return raw();
}

function fieldCond(kind: "field" | "company", o: Obj): FieldCondition | null {
  if (typeof o.field !== "string" || typeof o.op !== "string") return null;
  const v = o.value;
  let value = text(v);
  let value2 = "";
  if (o.op === "between" && Array.isArray(v) && v.length === 2) {
    value = text(v[0]);
    value2 = text(v[1]);
  }
  return { id: newId(), kind, negate: false, field: o.field, op: o.op, value, value2 };
}

/** An event's property filters (`where`) as typed; null when the builder has no picker for them. */
export function whereFromJson(json: Json): PropertyFilter[] | null {
  if (json === undefined) return [];
  if (!Array.isArray(json)) return null;
  const where: PropertyFilter[] = [];
  for (const w of json) {
    if (!isObj(w) || typeof w.property !== "string" || typeof w.op !== "string") return null;
    const f: PropertyFilter = { property: w.property, op: w.op, value: text(w.value) };
    if (w.op === "between" && Array.isArray(w.value) && w.value.length === 2) {
      f.value = text(w.value[0]);
      f.value2 = text(w.value[1]);
    }
    const type = typeOfValue(w.op, w.value);
    if (type) f.type = type;
    where.push(f);
  }
  return where;
}

/** Property filters as the API takes them: each value typed as its property (see `propertyValue`). */
export function whereToJson(where: PropertyFilter[]): Json[] {
  return where.map((w) => {
    const f: Obj = { property: w.property.trim(), op: w.op };
    const v = propertyValue(w.op, w.value, w.value2 ?? "", w.type);
    if (v !== undefined) f.value = v;
    return f;
  });
}

function eventCond(o: Obj): EventCondition | null {
  const where = whereFromJson(o.where);
  if (where === null) return null;
  const cond = { ...(emptyCondition("event") as EventCondition), event: o.event as string, where };
  const timed = o.first !== undefined || o.last !== undefined;
  if (timed) {
    if (o.count !== undefined || o.window !== undefined || (o.first !== undefined && o.last !== undefined)) return null;
    const t = o.first ?? o.last;
    if (!isObj(t) || !TIME_OPS.some(([op]) => op === t.op) || Object.keys(t).some((k) => k !== "op" && k !== "value")) return null;
    return { ...cond, measure: o.first !== undefined ? "first" : "last", timeOp: t.op as TimeOp, timeValue: text(t.value) };
  }
  if (o.count !== undefined) {
    if (!isObj(o.count) || !["at_least", "at_most", "exactly"].includes(String(o.count.op))) return null;
    cond.countOp = o.count.op as EventCondition["countOp"];
    cond.count = text(o.count.value);
  }
  if (o.window !== undefined && o.window !== "ever") {
    if (!isObj(o.window)) return null;
    const w = o.window;
    if (Object.keys(w).length === 1 && typeof w.last_days === "number") cond.windowDays = String(w.last_days);
    else if (Object.keys(w).length === 1 && Array.isArray(w.between) && w.between.length === 2 && w.between.every((x) => typeof x === "string")) {
      cond.windowDays = "between";
      cond.windowFrom = w.between[0] as string;
      cond.windowTo = w.between[1] as string;
    } else return null;
  }
  return cond;
}

/** A typed value as JSON for a field of `type` (numbers, booleans, lists). */
function literal(raw: string, type: FieldType | undefined): Json {
  const s = raw.trim();
  if (type === "number") return s === "" || Number.isNaN(Number(s)) ? s : Number(s);
  if (type === "boolean") return s === "true" ? true : s === "false" ? false : s;
  if (type === undefined) {
    // Event properties: the literal's own type decides the comparison.
    if (s === "true") return true;
    if (s === "false") return false;
    if (s !== "" && !Number.isNaN(Number(s))) return Number(s);
  }
  return s;
}

function listOf(raw: string, type: FieldType | undefined): Json[] {
  return raw
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
    .map((x) => literal(x, type === "list" ? "string" : type));
}

function valueFor(op: string, value: string, value2: string, type: FieldType | undefined): Json {
  if (op === "in" || op === "not_in") return listOf(value, type);
  if (op === "between") {
    // Dates stay text; numbers (and untyped event properties) are parsed.
    const t: FieldType | undefined = type === "date" ? "string" : type === undefined ? undefined : "number";
    return [literal(value, t), literal(value2, t)];
  }
  if (op === "within_last_days" || op === "anniversary_within_days") return literal(value, "number");
  if (type === "date" || type === "list" || type === "string") return value.trim();
  return literal(value, type);
}

export interface Schema {
  contact: Record<string, FieldType>;
  company: Record<string, FieldType>;
}

/** Where each node sits in the rule JSON (`rule.and[1]`), so server errors can be shown on it. */
export type PathIndex = Map<string, string>;

/** Turn the tree into rule JSON. A nested group with one child stands for that child. */
export function toRule(group: Group, schema: Schema, paths?: PathIndex): Json {
  return nodeToRule(group, schema, "rule", paths, true);
}

/** Turn the tree into one condition at `path` (`attributes[0].when`): a top
 * group of one condition stands for that condition. */
export function toCondition(group: Group, schema: Schema, path: string, paths?: PathIndex): Json {
  return nodeToRule(group, schema, path, paths);
}

function nodeToRule(node: RuleNode, schema: Schema, path: string, paths: PathIndex | undefined, top = false): Json {
  const inner = node.negate ? `${path}.not` : path;
  paths?.set(node.id, inner);
  const wrap = (r: Json) => (node.negate ? { not: r } : r);
  switch (node.kind) {
    case "group": {
      if (node.children.length === 1 && !top && !node.negate) {
        return nodeToRule(node.children[0], schema, path, paths);
      }
      const children = node.children.map((c, i) => nodeToRule(c, schema, `${inner}.${node.combinator}[${i}]`, paths));
      return wrap({ [node.combinator]: children });
    }
    case "field":
    case "company": {
      const types = node.kind === "field" ? schema.contact : schema.company;
      const cond: Obj = { field: node.field, op: node.op };
      if (!takesNoValue(node.op)) cond.value = valueFor(node.op, node.value, node.value2, types[node.field]);
      return wrap(node.kind === "field" ? cond : { company: cond });
    }
    case "event": {
      const cond: Obj = { event: node.event.trim() };
      if (node.where.length > 0) cond.where = whereToJson(node.where);
      if (node.measure === "first" || node.measure === "last") {
        cond[node.measure] = { op: node.timeOp, value: timeOpTakesDays(node.timeOp) ? literal(node.timeValue, "number") : node.timeValue.trim() };
        return wrap(cond);
      }
      if (!(node.countOp === "at_least" && node.count.trim() === "1"))
        cond.count = { op: node.countOp, value: literal(node.count, "number") };
      if (node.windowDays === "between") cond.window = { between: [node.windowFrom.trim(), node.windowTo.trim()] };
      else if (node.windowDays !== "ever") cond.window = { last_days: literal(node.windowDays, "number") };
      return wrap(cond);
    }
    case "segment":
      return wrap({ segment: node.ref });
    case "list":
      return wrap({ list: node.ref });
    case "consent": {
      const c: Obj = { channel: node.channel, purpose: node.purpose };
      if (node.state !== "granted") c.state = node.state;
      return wrap({ consent: c });
    }
    case "raw": {
      let parsed: Json;
      try {
        parsed = JSON.parse(node.json);
      } catch {
        parsed = node.json;
      }
      return wrap(parsed);
    }
  }
}

/** The node a server error path (`rule.and[1].field`) points into, if any.
 * A group of one condition shares its path with that condition, which is
 * indexed after it and is the one named. */
export function nodeForPath(errorPath: string, paths: PathIndex): string | undefined {
  let best: string | undefined;
  let bestLen = -1;
  for (const [id, p] of paths) {
    const matches = errorPath === p || errorPath.startsWith(`${p}.`) || errorPath.startsWith(`${p}[`);
    if (matches && p.length >= bestLen) {
      best = id;
      bestLen = p.length;
    }
  }
  return best;
}

/** Replace the node with `id` anywhere in the tree. */
export function updateNode(root: Group, id: string, f: (n: RuleNode) => RuleNode | null): Group {
  const walk = (n: RuleNode): RuleNode | null => {
    if (n.id === id) return f(n);
    if (n.kind === "group") {
      const children = n.children.map(walk).filter((c): c is RuleNode => c !== null);
      return { ...n, children };
    }
    return n;
  };
  return walk(root) as Group;
}

/** Whether a condition is still being filled in: an event without a name, a
 * property filter without a property or value, a segment or list not chosen.
 * The live count waits for these rather than show the API's complaint about
 * what is being typed (saving still asks, and shows it). */
export function isIncomplete(n: RuleNode): boolean {
  switch (n.kind) {
    case "group":
      return n.children.some(isIncomplete);
    case "event":
      return (
        n.event.trim() === "" ||
        n.where.some((w) => w.property.trim() === "" || (!takesNoValue(w.op) && w.value.trim() === "")) ||
        (n.measure !== "count" && n.timeValue.trim() === "") ||
        (n.measure === "count" && n.windowDays === "between" && (n.windowFrom === "" || n.windowTo === ""))
      );
    case "segment":
    case "list":
      return n.ref === "";
    default:
      return false;
  }
}

/** Whether the tree has at least one condition (the API refuses empty groups). */
export function hasCondition(n: RuleNode): boolean {
  return n.kind === "group" ? n.children.some(hasCondition) : true;
}

/** What the live count says about its answer: how long it took, and when
 * it had to read the event history (a behavioural condition the server did
 * not tally yet), that the next counts with the same conditions are quicker. */
export function countedIn(elapsedMs: number, readHistory: boolean): string {
  const took = elapsedMs >= 1000 ? `${(elapsedMs / 1000).toFixed(1)} s` : `${elapsedMs.toFixed(1)} ms`;
  return readHistory ? `read from the event history in ${took}; further counts with these conditions come from memory` : `counted in ${took}`;
}
