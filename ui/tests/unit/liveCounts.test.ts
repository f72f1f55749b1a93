// Unit tests of the canvas's live counts: each edge of the stats lands on
// the canvas edge with the same step, exit and next step (entry, branches,
// split paths, a wait's two exits, a step's only exit), edges only the draft
// has get no count, and a step's runs read as here now, failed, finished or
// converted there.
import { expect, test } from "vitest";
import { fromDefinition } from "../../src/journeys/graph";
import { edgeCounts, edgeLabel, exitLabel, handleOf, stepCountParts, stepCounts, type EdgeStat } from "../../src/journeys/liveCounts";

const published = {
  trigger: { type: "event", event: "Signed Up" },
  start: "country",
  nodes: {
    country: {
      type: "branch",
      branches: [
        { rule: { field: "country", op: "equals", value: "DE" }, next: "ab" },
        { rule: { field: "country", op: "equals", value: "FR" }, next: "wait" },
      ],
      otherwise: "done",
    },
    ab: { type: "split", paths: [{ weight: 50, next: "hold" }, { weight: 50, next: "done" }] },
    wait: { type: "wait_event", event: "Order Completed", timeout: { days: 3 }, next: "done", timeout_next: "hold" },
    hold: { type: "delay", duration: { days: 1 }, next: "done" },
    done: { type: "exit" },
  },
};

// As the stats answer: labels name the exit, branches and paths counted from 0.
const stats: EdgeStat[] = [
  { from: null, to: "country", label: "", count: 9 },
  { from: "country", to: "ab", label: "branch 0", count: 4 },
  { from: "country", to: "wait", label: "branch 1", count: 3 },
  { from: "country", to: "done", label: "otherwise", count: 2 },
  { from: "ab", to: "hold", label: "path 0", count: 1 },
  { from: "ab", to: "done", label: "path 1", count: 3 },
  { from: "wait", to: "done", label: "event", count: 2 },
  { from: "wait", to: "hold", label: "timeout", count: 1 },
  { from: "hold", to: "done", label: "", count: 1 },
];

test("the stats' exit labels name the canvas's handles", () => {
  expect(handleOf({ from: null, label: "" })).toBe("start");
  expect(handleOf({ from: "a", label: "" })).toBe("next");
  expect(handleOf({ from: "a", label: "event" })).toBe("next");
  expect(handleOf({ from: "a", label: "timeout" })).toBe("timeout_next");
  expect(handleOf({ from: "a", label: "otherwise" })).toBe("otherwise");
  expect(handleOf({ from: "a", label: "branch 0" })).toBe("branch:0");
  expect(handleOf({ from: "a", label: "path 12" })).toBe("path:12");
  expect(handleOf({ from: "a", label: "sideways" })).toBe(null);
});

test("every edge of the published graph gets the count of the same step, exit and next step", () => {
  const g = fromDefinition(published);
  const counts = edgeCounts(g.edges, stats, g.edges);
  expect(Object.fromEntries(counts)).toStrictEqual({
    "__trigger:start": 9,
    "country:branch:0": 4,
    "country:branch:1": 3,
    "country:otherwise": 2,
    "ab:path:0": 1,
    "ab:path:1": 3,
    "wait:next": 2,
    "wait:timeout_next": 1,
    "hold:next": 1,
  });
});

test("an edge no one took yet counts zero; one only the draft has, or one that now leads elsewhere, gets no count", () => {
  const g = fromDefinition(published);
  const draft = fromDefinition({
    ...published,
    nodes: {
      ...published.nodes,
      // The wait's timeout now leads to the exit, and a new step follows the delay.
      wait: { ...published.nodes.wait, timeout_next: "done" },
      hold: { type: "delay", duration: { days: 1 }, next: "nudge" },
      nudge: { type: "change_score", score: "engagement", by: 1, next: "done" },
    },
  });
  const few = stats.filter((s) => s.from === null || s.from === "country");
  const counts = edgeCounts(draft.edges, few, g.edges);
  expect(counts.get("ab:path:0")).toBe(0);
  expect(counts.get("wait:next")).toBe(0);
  expect(counts.has("wait:timeout_next")).toBe(false);
  expect(counts.has("hold:next")).toBe(false);
  expect(counts.has("nudge:next")).toBe(false);
  expect(counts.get("country:branch:1")).toBe(3);
  // Without the published graph only what the stats name is counted.
  expect(edgeCounts(draft.edges, few, null).has("ab:path:0")).toBe(false);
  expect(edgeCounts(draft.edges, few, null).get("__trigger:start")).toBe(9);
});

test("the exits of steps with several are named on their edges, a wait's two as well", () => {
  expect(exitLabel("next", "wait_event")).toBe("event came");
  expect(exitLabel("timeout_next", "wait_event")).toBe("timed out");
  expect(exitLabel("next", "send")).toBe(undefined);
  expect(exitLabel("start", undefined)).toBe(undefined);
  expect(exitLabel("branch:0", "branch")).toBe("branch 1");
  expect(exitLabel("otherwise", "branch")).toBe("otherwise");
  expect(exitLabel("path:1", "split")).toBe("path 2");
});

test("edge labels say which exit and how many took it", () => {
  expect(edgeLabel("branch 1", 4)).toBe("branch 1 · 4 contacts");
  expect(edgeLabel(undefined, 1)).toBe("1 contact");
  expect(edgeLabel(undefined, 1200, true)).toBe("1,200 entered");
  expect(edgeLabel("otherwise", undefined)).toBe("otherwise");
  expect(edgeLabel(undefined, undefined)).toBe(undefined);
});

test("runs still at a step are here now; failed, finished and converted runs are not", () => {
  expect(stepCounts({ delayed: 2, waiting: 1, acting: 1, failed: 3, completed: 4, exited: 1, converted: 2 })).toStrictEqual({
    here: 4,
    failed: 3,
    finished: 5,
    converted: 2,
  });
  expect(stepCountParts("wait_event", { waiting: 1 }, 3)).toStrictEqual(["1 here now", "3 reached"]);
  expect(stepCountParts("send", {}, 1)).toStrictEqual(["0 here now", "1 reached"]);
  expect(stepCountParts("webhook", { acting: 1, failed: 2 }, 3)).toStrictEqual(["1 here now", "2 failed here", "3 reached"]);
  // No one stays at an exit: the runs that ended there finished there.
  expect(stepCountParts("exit", { completed: 3 }, 3)).toStrictEqual(["3 finished here", "3 reached"]);
  expect(stepCountParts("delay", { delayed: 1, converted: 1, exited: 1 }, 3)).toStrictEqual(["1 here now", "1 finished here", "1 converted here", "3 reached"]);
});
