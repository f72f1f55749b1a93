// Problems the journey builder can see in the graph while the marketer
// edits: exits that lead nowhere, steps nothing leads to, loops with no
// delay or wait in them, and settings a step cannot do without — what is
// certain from the graph itself, told at once. Once the graph is whole,
// the server's check (`POST /api/v1/journeys/check`, what publishing would
// refuse: unknown templates, endpoints, fields) is asked and its answer
// placed on the steps by `serverProblems`. Pure, so it is unit-tested.
import { delayMode, exitsOf, TRIGGER_ID, type Graph, type Obj, type Step } from "./graph";

/** Problems by step id (the trigger's under TRIGGER_ID), in the order found. */
export type Problems = Map<string, string[]>;

const blank = (v: unknown) => typeof v !== "string" || v.trim() === "";

/** A duration object with at least one positive part. */
function positive(d: unknown): boolean {
  if (typeof d !== "object" || d === null) return false;
  const parts = Object.values(d as Obj);
  return parts.length > 0 && parts.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0) && parts.some((v) => (v as number) > 0);
}

/** The settings a step cannot do without that it lacks. */
export function settingProblems(step: Pick<Step, "type" | "config">): string[] {
  const c = step.config;
  const out: string[] = [];
  switch (step.type) {
    case "delay": {
      const mode = delayMode(c);
      if (mode === "for" && !positive(c.duration)) out.push("set how long to wait");
      if (mode === "until") {
        const w = (c.until as Obj).weekdays;
        if (Array.isArray(w) && w.length === 0) out.push("choose at least one weekday");
        if (blank((c.until as Obj).at ?? "09:00")) out.push("choose the time of day");
      }
      break;
    }
    case "wait_event":
      if (blank(c.event)) out.push("name the event to wait for");
      if (!positive(c.timeout)) out.push("set how long to wait before giving up");
      break;
    case "branch":
      if (!Array.isArray(c.branches) || c.branches.length === 0) out.push("add a branch");
      break;
    case "split": {
      const paths = Array.isArray(c.paths) ? (c.paths as Obj[]) : [];
      if (paths.length < 2) out.push("a split needs at least two paths");
      paths.forEach((p, i) => {
        const w = p.weight;
        if (typeof w !== "number" || !Number.isInteger(w) || w < 1 || w > 10000) out.push(`path ${i + 1}: give it a whole-number weight from 1 to 10,000`);
      });
      break;
    }
    case "send":
      if (blank(c.template)) out.push("choose a template");
      break;
    case "update_contact":
      if (typeof c.set !== "object" || c.set === null || Object.keys(c.set).length === 0) out.push("choose a field to set");
      break;
    case "change_score":
      if (blank(c.score)) out.push("name the score");
      if (typeof c.by !== "number" || !Number.isFinite(c.by) || c.by === 0) out.push("points must be a number other than zero");
      break;
    case "add_to_list":
    case "remove_from_list":
      if (blank(c.list)) out.push("choose a list");
      break;
    case "webhook":
      if (blank(c.endpoint)) out.push("choose a webhook endpoint");
      break;
    case "notify":
      if (blank(c.message)) out.push("write the message");
      if (blank(c.email) && blank(c.endpoint)) out.push("say whom to notify");
      break;
  }
  return out;
}

/** What the trigger lacks. */
function triggerProblems(trigger: Obj): string[] {
  if (trigger.type === "event" && blank(trigger.event)) return ["name the event that starts the journey"];
  if ((trigger.type === "segment_entered" || trigger.type === "segment_exited") && blank(trigger.segment)) return ["choose a segment"];
  if (trigger.type === "form_submitted" && blank(trigger.form)) return ["choose the form"];
  return [];
}

/** Every problem of the graph the canvas can tell for certain, by the step at fault. */
export function checkGraph(g: Graph): Problems {
  const out: Problems = new Map();
  const add = (id: string, message: string) => out.set(id, [...(out.get(id) ?? []), message]);
  const ids = new Set(g.steps.map((s) => s.id));
  const next = (id: string, handle: string) => g.edges.find((e) => e.source === id && e.handle === handle && ids.has(e.target))?.target;

  for (const m of triggerProblems(g.settings.trigger)) add(TRIGGER_ID, m);
  const start = next(TRIGGER_ID, "start");
  if (g.steps.length === 0) add(TRIGGER_ID, "add a first step");
  else if (!start) add(TRIGGER_ID, "connect the trigger to the first step");

  for (const s of g.steps) {
    for (const m of settingProblems(s)) add(s.id, m);
    const exits = exitsOf(s);
    for (const x of exits) {
      if (next(s.id, x.handle)) continue;
      add(s.id, exits.length === 1 ? "leads nowhere: connect it to the next step" : `"${x.label}" leads nowhere: connect it to a step`);
    }
  }

  // Steps no path from the trigger reaches (said only once the trigger leads somewhere).
  if (start) {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const e of g.edges) if (e.source === id && ids.has(e.target)) stack.push(e.target);
    }
    for (const s of g.steps) if (!seen.has(s.id)) add(s.id, "unreachable: no path from the trigger leads here");
  }

  // A loop through steps that pass contacts straight on (no delay or wait) would never end.
  const waits = new Set(g.steps.filter((s) => s.type === "delay" || s.type === "wait_event").map((s) => s.id));
  const mark = new Map<string, "open" | "done">();
  const looped = new Set<string>();
  const visit = (id: string) => {
    mark.set(id, "open");
    if (!waits.has(id))
      for (const e of g.edges) {
        if (e.source !== id || !ids.has(e.target)) continue;
        if (mark.get(e.target) === "open") looped.add(e.target);
        else if (!mark.has(e.target)) visit(e.target);
      }
    mark.set(id, "done");
  };
  for (const s of g.steps) if (!mark.has(s.id)) visit(s.id);
  for (const id of looped) add(id, "part of a loop with no delay or wait in it: a contact would go round forever; add a delay");
  return out;
}

/** How many problems there are in all. */
export function problemCount(p: Problems): number {
  let n = 0;
  for (const list of p.values()) n += list.length;
  return n;
}

/** A problem as `POST /api/v1/journeys/check` reports it. */
export type ServerProblem = { path: string; node: string | null; message: string };

/** The server's problems by step (those of no step, such as the trigger's
 * or the goals', under TRIGGER_ID), each said once. */
export function serverProblems(list: ServerProblem[]): Problems {
  const out: Problems = new Map();
  for (const p of list) {
    const id = p.node ?? TRIGGER_ID;
    const seen = out.get(id) ?? [];
    if (!seen.includes(p.message)) out.set(id, [...seen, p.message]);
  }
  return out;
}
