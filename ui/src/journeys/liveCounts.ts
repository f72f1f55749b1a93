// Live counts on the journey canvas, read from the journey's stats
// (GET /api/v1/journeys/{id}/stats): which canvas edge each of the stats'
// `edges` is — matched by the step left, its exit and the step reached —
// with its label, and what a step's runs say: still there ("here now"),
// failed there, or finished there (completed, exited, converted). Pure, so
// it is unit-tested.
import { countOf } from "../plural";
import { TRIGGER_ID, type Edge } from "./graph";

/** One edge of the published graph with how many contacts took it (`from: null`: entering at the start). */
export interface EdgeStat {
  from: string | null;
  to: string;
  /** Which exit of `from`: `branch 0`, `otherwise`, `path 1`, `event`, `timeout`, or `""` for a step's only exit. */
  label: string;
  count: number;
}

/** The canvas id of the edge from `source`'s exit `handle`; a step's exit has one edge at most. */
export function edgeId(source: string, handle: string): string {
  return `${source}:${handle}`;
}

/**
 * The canvas handle of an exit as the stats name it: `branch 0` → `branch:0`,
 * `path 1` → `path:1`, `otherwise`, `event` → `next` and `timeout` →
 * `timeout_next` (a wait's two exits), `""` → `next`; the entry (`from:
 * null`) leaves the trigger's `start`. Null for a label the canvas has no
 * exit for.
 */
export function handleOf(stat: Pick<EdgeStat, "from" | "label">): string | null {
  if (stat.from === null) return "start";
  const l = stat.label;
  if (l === "" || l === "event") return "next";
  if (l === "timeout") return "timeout_next";
  if (l === "otherwise") return "otherwise";
  const m = /^(branch|path) (\d+)$/.exec(l);
  return m ? `${m[1]}:${Number(m[2])}` : null;
}

const same = (a: Edge, b: Edge) => a.source === b.source && a.handle === b.handle && a.target === b.target;

/**
 * Contacts that took each canvas edge, by edge id. An edge gets a count
 * when the published graph has it (the same step, exit and next step),
 * zero when no one took it yet; an edge only the draft has (or one that now
 * leads elsewhere) gets none, as the stats count the published graph's
 * edges. Without the published graph, only edges the stats name are counted.
 */
export function edgeCounts(canvas: readonly Edge[], stats: readonly EdgeStat[], published: readonly Edge[] | null): Map<string, number> {
  // By edge and the step it reached: an exit that now leads elsewhere is another edge.
  const taken = new Map<string, number>();
  for (const s of stats) {
    const handle = handleOf(s);
    if (handle === null) continue;
    const key = `${edgeId(s.from ?? TRIGGER_ID, handle)}>${s.to}`;
    taken.set(key, (taken.get(key) ?? 0) + s.count);
  }
  const out = new Map<string, number>();
  for (const e of canvas) {
    const id = edgeId(e.source, e.handle);
    const count = taken.get(`${id}>${e.target}`);
    if (count !== undefined) out.set(id, count);
    else if (published?.some((p) => same(p, e))) out.set(id, 0);
  }
  return out;
}

/** How an exit's edge is labelled where its step has several exits: `branch 1`, `path 2`, `otherwise`, a wait's `event came` and `timed out`; none for a step's only exit (or the trigger's). */
export function exitLabel(handle: string, stepType: string | undefined): string | undefined {
  if (handle === "next") return stepType === "wait_event" ? "event came" : undefined;
  if (handle === "timeout_next") return "timed out";
  if (handle === "otherwise") return "otherwise";
  const m = /^(branch|path):(\d+)$/.exec(handle);
  return m ? `${m[1]} ${Number(m[2]) + 1}` : undefined;
}

/** An edge's label on the canvas: which exit it is (when the step has several) and, while it runs, how many took it. */
export function edgeLabel(exit: string | undefined, count: number | undefined, entry = false): string | undefined {
  const counted = count === undefined ? undefined : entry ? `${count.toLocaleString("en-US")} entered` : countOf(count, "contact");
  if (exit && counted) return `${exit} · ${counted}`;
  return exit ?? counted;
}

/** Run statuses of runs still at a step; the others finished there (or failed). */
export const STILL_THERE = ["delayed", "waiting", "acting"] as const;

export interface StepCounts {
  /** Runs at the step now: waiting out a delay, waiting for an event, or being acted on. */
  here: number;
  /** Runs parked at the step as failed (they can be retried). */
  failed: number;
  /** Runs that ended at the step: completed at an exit, or exited (unsubscribed, archived). */
  finished: number;
  /** Runs that reached a goal while at the step. */
  converted: number;
}

/** A step's runs by where they are: still there, failed there, finished or converted there. Statuses the UI does not know are left out. */
export function stepCounts(current: Record<string, number>): StepCounts {
  const n = (k: string) => current[k] ?? 0;
  return {
    here: STILL_THERE.reduce((sum, s) => sum + n(s), 0),
    failed: n("failed"),
    finished: n("completed") + n("exited"),
    converted: n("converted"),
  };
}

/**
 * What a step says of its runs, in order: "N here now" (left out at an exit
 * step, where no one stays, unless someone is), "N failed here", "N finished
 * here", "N converted here" (each only when there are any), "N reached".
 */
export function stepCountParts(type: string, current: Record<string, number>, reached: number): string[] {
  const c = stepCounts(current);
  const n = (x: number) => x.toLocaleString("en-US");
  const parts: string[] = [];
  if (type !== "exit" || c.here > 0) parts.push(`${n(c.here)} here now`);
  if (c.failed > 0) parts.push(`${n(c.failed)} failed here`);
  if (c.finished > 0) parts.push(`${n(c.finished)} finished here`);
  if (c.converted > 0) parts.push(`${n(c.converted)} converted here`);
  parts.push(`${n(reached)} reached`);
  return parts;
}
