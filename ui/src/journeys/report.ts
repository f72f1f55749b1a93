// A journey's stats (GET /api/v1/journeys/{id}/stats) read for its report:
// how many runs reached each step, in the order a contact meets the steps,
// against how many entered; and the runs by status. Pure, so it is unit
// tested; the canvas counts "reached" the same way.
import type { EmailDay, LinkClicks } from "../reports/emailReport";
import type { CampaignTotals } from "../email/campaign";
import { exitsOf, fromDefinition, stepLabel, TRIGGER_ID, type Obj } from "./graph";
import { stepCounts } from "./liveCounts";

export interface NodeStats {
  node: string;
  current: Record<string, number>;
  outcomes: Record<string, number>;
}

export interface JourneyReportStats {
  nodes: NodeStats[];
  runs: Record<string, number>;
  email?: { totals: CampaignTotals; links: LinkClicks[]; series: EmailDay[] };
}

/** Runs that reached a step: each leaves exactly one of these outcomes there when it arrives
 * (held by a delay, a wait or an external action), passes straight on, or ends at an exit;
 * "entered" is an extra line at the first step, "left" a second one at a step that held it. */
export function reachedOf(outcomes: Record<string, number>): number {
  return (outcomes.arrived ?? 0) + (outcomes.passed ?? 0) + (outcomes.exit ?? 0);
}

/** Contacts at a step now: runs still there (delayed, waiting, acting), not those that failed or finished there. */
export function hereNow(current: Record<string, number>): number {
  return stepCounts(current).here;
}

export interface StepRow {
  id: string;
  type: string | null;
  label: string;
  reached: number;
  /** `reached` against the runs that entered (0–1), null before anyone entered. */
  share: number | null;
  now: number;
  /** False for a step the stats know from an earlier version but this definition no longer has. */
  inVersion: boolean;
}

/** The steps in the order a contact meets them (breadth first from the start, each step's exits
 * in the canvas's order), steps nothing leads to after them, then steps only earlier versions had. */
export function stepFunnel(definition: Obj, nodes: readonly NodeStats[]): { entered: number; rows: StepRow[] } {
  const g = fromDefinition(definition);
  const byId = new Map(g.steps.map((s) => [s.id, s]));
  const order: string[] = [];
  const seen = new Set<string>();
  const queue = g.edges.filter((e) => e.source === TRIGGER_ID).map((e) => e.target);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id) || !byId.has(id)) continue;
    seen.add(id);
    order.push(id);
    const step = byId.get(id)!;
    for (const x of exitsOf(step)) {
      const e = g.edges.find((e) => e.source === id && e.handle === x.handle);
      if (e) queue.push(e.target);
    }
  }
  for (const s of g.steps) if (!seen.has(s.id)) order.push(s.id);
  const stats = new Map(nodes.map((n) => [n.node, n]));
  for (const n of nodes) if (!byId.has(n.node)) order.push(n.node);
  // Every run enters once, at whichever step was the start of its version.
  const entered = nodes.reduce((sum, n) => sum + (n.outcomes.entered ?? 0), 0);
  const rows = order.map((id): StepRow => {
    const s = stats.get(id);
    const type = byId.get(id)?.type ?? null;
    const reached = s ? reachedOf(s.outcomes) : 0;
    return {
      id,
      type,
      label: type ? stepLabel(type) : "Removed step",
      reached,
      share: entered > 0 ? reached / entered : null,
      now: s ? hereNow(s.current) : 0,
      inVersion: type !== null,
    };
  });
  return { entered, rows };
}

/** Run statuses in the order of a run's life, with how each reads. */
export const RUN_STATUSES: [string, string][] = [
  ["delayed", "Waiting out a delay"],
  ["waiting", "Waiting for an event"],
  ["acting", "Being acted on"],
  ["completed", "Completed"],
  ["converted", "Converted (reached a goal)"],
  ["exited", "Exited"],
  ["failed", "Failed"],
];

/** Every status with its count (statuses the server adds later come last, by name), and the total. */
export function runsByStatus(runs: Record<string, number>): { rows: { status: string; label: string; count: number }[]; total: number } {
  const known = new Set(RUN_STATUSES.map(([s]) => s));
  const rows = [
    ...RUN_STATUSES.map(([status, label]) => ({ status, label, count: runs[status] ?? 0 })),
    ...Object.keys(runs)
      .filter((s) => !known.has(s))
      .sort()
      .map((status) => ({ status, label: status, count: runs[status] })),
  ];
  return { rows, total: rows.reduce((n, r) => n + r.count, 0) };
}
