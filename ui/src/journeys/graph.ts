// The journey definition (docs/journeys.md) as the canvas draws it: steps
// with their settings, edges from a step's exit (`next`, `timeout_next`, a
// branch, a split path) to the next step, the trigger as the canvas's first
// node, a layered layout for journeys that have no saved positions, and a
// free spot for a new step, so that it lands on no step already there.
// Pure functions, unit-tested.

export type Obj = Record<string, unknown>;

/** The canvas id of the trigger; never a step id (step ids cannot start with "__"). */
export const TRIGGER_ID = "__trigger";

export interface Step {
  id: string;
  type: string;
  /** The node's settings: its JSON without `type` and without its exits. */
  config: Obj;
}

export interface Edge {
  source: string;
  /** Which exit: `next`, `timeout_next`, `otherwise`, `branch:N`, `path:N`, or `start` on the trigger. */
  handle: string;
  target: string;
}

export interface Settings {
  trigger: Obj;
  entry?: Obj;
  goals?: Obj[];
  exit_on_unsubscribe?: boolean;
}

export interface Graph {
  settings: Settings;
  steps: Step[];
  edges: Edge[];
}

export const STEP_TYPES: { type: string; label: string; hint: string }[] = [
  { type: "delay", label: "Delay", hint: "Wait a while, until a weekday and time, or until their best hour" },
  { type: "wait_event", label: "Wait for event", hint: "Go on when an event arrives, or after a timeout" },
  { type: "branch", label: "Branch", hint: "Take the first branch whose rule holds" },
  { type: "split", label: "Split", hint: "Random split by weight (A/B)" },
  { type: "send", label: "Send message", hint: "Send a template on a channel" },
  { type: "update_contact", label: "Update contact", hint: "Set contact fields" },
  { type: "change_score", label: "Change score", hint: "Add or remove points" },
  { type: "add_to_list", label: "Add to list", hint: "Put the contact on a static list" },
  { type: "remove_from_list", label: "Remove from list", hint: "Take the contact off a static list" },
  { type: "webhook", label: "Webhook", hint: "Call a registered webhook endpoint" },
  { type: "notify", label: "Notify team", hint: "Tell a team member or endpoint" },
  { type: "exit", label: "Exit", hint: "The contact leaves the journey" },
];

export function stepLabel(type: string): string {
  return STEP_TYPES.find((t) => t.type === type)?.label ?? type;
}

const SIMPLE_EXIT = ["delay", "send", "update_contact", "change_score", "add_to_list", "remove_from_list", "webhook", "notify"];

/** The exits a step has, in the order the canvas shows them. */
export function exitsOf(step: Pick<Step, "type" | "config">): { handle: string; label: string }[] {
  if (SIMPLE_EXIT.includes(step.type)) return [{ handle: "next", label: "next" }];
  if (step.type === "wait_event")
    return [
      { handle: "next", label: "event came" },
      { handle: "timeout_next", label: "timed out" },
    ];
  if (step.type === "branch") {
    const branches = Array.isArray(step.config.branches) ? step.config.branches : [];
    return [...branches.map((_, i) => ({ handle: `branch:${i}`, label: `branch ${i + 1}` })), { handle: "otherwise", label: "otherwise" }];
  }
  if (step.type === "split") {
    const paths = Array.isArray(step.config.paths) ? (step.config.paths as Obj[]) : [];
    return paths.map((p, i) => ({ handle: `path:${i}`, label: `path ${i + 1} (${String(p.weight ?? "?")})` }));
  }
  return [];
}

export type DelayMode = "for" | "until" | "best";

/** How a delay step waits: for a duration, until a weekday and time, or until the contact's best hour. */
export function delayMode(c: Obj): DelayMode {
  const u = c.until as Obj | undefined;
  if (!u) return "for";
  return u.best_hour === true ? "best" : "until";
}

/** A delay step's settings on switching to `mode` (each mode's defaults). */
export function delayConfig(mode: DelayMode): Obj {
  if (mode === "best") return { until: { best_hour: true } };
  if (mode === "until") return { until: { weekdays: ["mon", "tue", "wed", "thu", "fri"], at: "09:00" } };
  return { duration: { days: 1 } };
}

/** Default settings of a new step of `type`. */
export function newStepConfig(type: string): Obj {
  switch (type) {
    case "delay":
      return { duration: { days: 1 } };
    case "wait_event":
      return { event: "Order Completed", timeout: { days: 3 } };
    case "branch":
      return { branches: [{ rule: { field: "country", op: "equals", value: "DE" } }] };
    case "split":
      return { paths: [{ weight: 50 }, { weight: 50 }] };
    case "send":
      return { channel: "email", template: "" };
    case "update_contact":
      return { set: {} };
    case "change_score":
      return { score: "engagement", by: 5 };
    case "add_to_list":
    case "remove_from_list":
      return { list: "" };
    case "webhook":
      return { endpoint: "" };
    case "notify":
      return { message: "", email: "" };
    default:
      return {};
  }
}

/** A fresh step id for `type` not used by any of `taken`. */
export function newStepId(type: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`;
    if (!used.has(id)) return id;
  }
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Read a definition into steps and edges. */
export function fromDefinition(def: Obj): Graph {
  const settings: Settings = { trigger: isObj(def.trigger) ? def.trigger : { type: "event", event: "" } };
  if (isObj(def.entry)) settings.entry = def.entry;
  if (Array.isArray(def.goals)) settings.goals = def.goals as Obj[];
  if (typeof def.exit_on_unsubscribe === "boolean") settings.exit_on_unsubscribe = def.exit_on_unsubscribe;
  const steps: Step[] = [];
  const edges: Edge[] = [];
  const nodes = isObj(def.nodes) ? def.nodes : {};
  if (typeof def.start === "string" && def.start) edges.push({ source: TRIGGER_ID, handle: "start", target: def.start });
  for (const [id, raw] of Object.entries(nodes)) {
    const n = isObj(raw) ? raw : {};
    const type = typeof n.type === "string" ? n.type : "exit";
    const config: Obj = {};
    for (const [k, v] of Object.entries(n)) {
      if (k === "type") continue;
      if ((k === "next" || k === "timeout_next" || k === "otherwise") && typeof v === "string") {
        edges.push({ source: id, handle: k, target: v });
        continue;
      }
      if ((k === "branches" || k === "paths") && Array.isArray(v)) {
        config[k] = v.map((item, i) => {
          const { next, ...rest } = isObj(item) ? item : ({} as Obj);
          if (typeof next === "string") edges.push({ source: id, handle: `${k === "branches" ? "branch" : "path"}:${i}`, target: next });
          return rest;
        });
        continue;
      }
      config[k] = v;
    }
    steps.push({ id, type, config });
  }
  return { settings, steps, edges };
}

/** Write steps and edges back as a definition. Exits with no edge are left out (the server names them). */
export function toDefinition(g: Graph): Obj {
  const def: Obj = { trigger: g.settings.trigger };
  if (g.settings.entry) def.entry = g.settings.entry;
  if (g.settings.goals && g.settings.goals.length > 0) def.goals = g.settings.goals;
  if (g.settings.exit_on_unsubscribe !== undefined) def.exit_on_unsubscribe = g.settings.exit_on_unsubscribe;
  const start = g.edges.find((e) => e.source === TRIGGER_ID);
  if (start) def.start = start.target;
  const nodes: Obj = {};
  for (const s of g.steps) {
    const out: Obj = { type: s.type, ...structuredClone(s.config) };
    const target = (handle: string) => g.edges.find((e) => e.source === s.id && e.handle === handle)?.target;
    for (const h of ["next", "timeout_next", "otherwise"]) {
      if (exitsOf(s).some((x) => x.handle === h)) {
        const t = target(h);
        if (t) out[h] = t;
      }
    }
    for (const [key, prefix] of [
      ["branches", "branch"],
      ["paths", "path"],
    ] as const) {
      if (Array.isArray(out[key]))
        out[key] = (out[key] as Obj[]).map((item, i) => {
          const t = target(`${prefix}:${i}`);
          return t ? { ...item, next: t } : item;
        });
    }
    nodes[s.id] = out;
  }
  def.nodes = nodes;
  return def;
}

export interface Position {
  x: number;
  y: number;
}

/**
 * A top-down layered layout: the trigger on top, each step one layer below the
 * lowest step leading to it (edges that close a loop are ignored), steps that
 * nothing leads to at the bottom. Layers stand far enough apart that the
 * tallest step (two lines of title, live counts and problems) keeps clear of
 * the next, with room between for the labels of two exits with their counts.
 */
export function layout(g: Graph, spacing = { x: 260, y: 210 }): Record<string, Position> {
  const ids = [TRIGGER_ID, ...g.steps.map((s) => s.id)];
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of g.edges) if (out.has(e.source) && out.has(e.target)) out.get(e.source)!.push(e.target);
  // Depth-first from the trigger: finishing order, and the edges that close loops.
  const state = new Map<string, "open" | "done">();
  const back = new Set<string>();
  const finished: string[] = [];
  const visit = (id: string) => {
    state.set(id, "open");
    for (const t of out.get(id)!) {
      if (state.get(t) === "open") back.add(`${id}>${t}`);
      else if (!state.has(t)) visit(t);
    }
    state.set(id, "done");
    finished.push(id);
  };
  visit(TRIGGER_ID);
  // Longest path over the remaining (acyclic) edges, in topological order.
  const depth = new Map<string, number>([[TRIGGER_ID, 0]]);
  for (const id of finished.reverse()) {
    for (const t of out.get(id)!) {
      if (back.has(`${id}>${t}`)) continue;
      depth.set(t, Math.max(depth.get(t) ?? 0, depth.get(id)! + 1));
    }
  }
  let maxDepth = Math.max(0, ...depth.values());
  for (const s of g.steps) if (!depth.has(s.id)) depth.set(s.id, ++maxDepth);
  const layers = new Map<number, string[]>();
  for (const id of ids) {
    const d = depth.get(id)!;
    layers.set(d, [...(layers.get(d) ?? []), id]);
  }
  const pos: Record<string, Position> = {};
  for (const [d, layerIds] of layers) {
    layerIds.forEach((id, i) => {
      pos[id] = { x: (i - (layerIds.length - 1) / 2) * spacing.x, y: d * spacing.y };
    });
  }
  return pos;
}

export interface Size {
  width: number;
  height: number;
}

/** A node's place and size on the canvas (flow coordinates, top-left corner). */
export type Box = Position & Size;

/** The size a step is taken to have before the canvas has measured it: the
 * width the stylesheet gives steps, and the height of one with a two-line
 * title, its problems and exit labels. */
export const NODE_SIZE: Size = { width: 210, height: 120 };

/** The room kept around every step when placing a new one: its exit handles
 * and their labels stick out below it. */
export const NODE_GAP = 28;

/** How much a step may yet grow at its bottom: a line, when its problems or
 * live counts appear or its title takes a second line. */
export const NODE_GROWTH = 24;

/** The room a step at `position` takes when a new one is placed: its
 * measured size (NODE_SIZE before it is measured) and what it may yet grow. */
export function stepBox(position: Position, measured?: Partial<Size>): Box {
  return { ...position, width: measured?.width ?? NODE_SIZE.width, height: (measured?.height ?? NODE_SIZE.height) + NODE_GROWTH };
}

/**
 * Where a new step of `size` goes when it is wanted at `want`: there if it
 * overlaps none of `taken` (with `gap` around each), else the nearest spot
 * just below, right of, left of or above one of them that is free, else
 * below them all. Only one axis moves, so the step stays in the column or
 * row it was dropped in.
 */
export function freeSpot(want: Position, size: Size, taken: readonly Box[], gap = NODE_GAP): Position {
  const free = (p: Position) =>
    !taken.some((b) => p.x < b.x + b.width + gap && p.x + size.width + gap > b.x && p.y < b.y + b.height + gap && p.y + size.height + gap > b.y);
  if (free(want)) return want;
  // Of spots equally near, below comes first (journeys read downwards), then right, left, above.
  const candidates = taken.flatMap((b) => [
    { x: want.x, y: b.y + b.height + gap, rank: 0 },
    { x: b.x + b.width + gap, y: want.y, rank: 1 },
    { x: b.x - size.width - gap, y: want.y, rank: 2 },
    { x: want.x, y: b.y - size.height - gap, rank: 3 },
  ]);
  const dist = (p: Position) => Math.hypot(p.x - want.x, p.y - want.y);
  const best = candidates.filter(free).sort((a, b) => dist(a) - dist(b) || a.rank - b.rank)[0];
  return best ? { x: best.x, y: best.y } : { x: want.x, y: Math.max(...taken.map((b) => b.y + b.height)) + gap };
}

/** The parts of a definition the trigger node stands for: the trigger, the first step, the entry rule, the goals, leaving on unsubscribing. */
const TRIGGER_PARTS = "trigger|start|entry|goals|exit_on_unsubscribe";

/** Which step a server error (`$.nodes.wait.duration`) is about. The
 * trigger's are those of the parts it stands for (`$.trigger.event`,
 * `$.start`), of the steps as a whole (`$.nodes`: none yet, where the canvas
 * says "add a first step"), and a part the definition lacks, which the
 * server says of the whole (`$`, `"start" is required`): each is marked on
 * the trigger like a step's on its step. */
export function stepForPath(path: string, stepIds: string[], message = ""): string | undefined {
  let best: string | undefined;
  for (const id of stepIds) {
    const p = `$.nodes.${id}`;
    if ((path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) && (!best || id.length > best.length)) best = id;
  }
  if (best) return best;
  if (new RegExp(`^\\$\\.(${TRIGGER_PARTS})\\b`).test(path) || path === "$.nodes") return TRIGGER_ID;
  if (path === "$" && new RegExp(`^"(${TRIGGER_PARTS}|nodes)" is required`).test(message)) return TRIGGER_ID;
  return undefined;
}
