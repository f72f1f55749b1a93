// Unit tests of the journey canvas model: a definition survives the trip to
// steps and edges and back, open exits are left out for the server to name,
// the layout places every step, a new step lands on no other, and error
// paths find their step.
import { expect, test } from "vitest";
import { exitsOf, freeSpot, fromDefinition, layout, newStepId, NODE_GAP, NODE_GROWTH, NODE_SIZE, stepBox, stepForPath, toDefinition, TRIGGER_ID } from "../../src/journeys/graph";

const welcome = {
  trigger: { type: "event", event: "Signed Up" },
  entry: { mode: "once" },
  goals: [{ event: "Order Completed" }],
  start: "points",
  nodes: {
    points: { type: "change_score", score: "engagement", by: 5, next: "settle_in" },
    settle_in: { type: "delay", duration: { days: 1 }, next: "bought?" },
    "bought?": { type: "wait_event", event: "Order Completed", timeout: { days: 7 }, next: "split", timeout_next: "vip?" },
    "vip?": { type: "branch", branches: [{ rule: { field: "plan", op: "equals", value: "pro" }, next: "done" }], otherwise: "split" },
    split: { type: "split", paths: [{ weight: 70, next: "done" }, { weight: 30, next: "done" }] },
    done: { type: "exit" },
  },
};

test("a definition survives the canvas round trip", () => {
  const g = fromDefinition(welcome);
  expect(g.steps.length).toBe(6);
  expect(g.edges.some((e) => e.source === TRIGGER_ID && e.target === "points")).toBeTruthy();
  expect(g.edges.some((e) => e.source === "vip?" && e.handle === "branch:0" && e.target === "done")).toBeTruthy();
  expect(g.edges.some((e) => e.source === "split" && e.handle === "path:1" && e.target === "done")).toBeTruthy();
  expect(toDefinition(g)).toStrictEqual(welcome);
});

test("exits without an edge are left out, so the server names the step", () => {
  const g = fromDefinition(welcome);
  g.edges = g.edges.filter((e) => !(e.source === "bought?" && e.handle === "timeout_next"));
  const def = toDefinition(g) as { nodes: Record<string, Record<string, unknown>> };
  expect(def.nodes["bought?"].timeout_next).toBe(undefined);
  expect(def.nodes["bought?"].next).toBe("split");
});

test("each step type has the exits the definition gives it", () => {
  expect(exitsOf({ type: "delay", config: {} }).map((x) => x.handle)).toStrictEqual(["next"]);
  expect(exitsOf({ type: "wait_event", config: {} }).map((x) => x.handle)).toStrictEqual(["next", "timeout_next"]);
  expect(exitsOf({ type: "branch", config: { branches: [{}, {}] } }).map((x) => x.handle)).toStrictEqual(["branch:0", "branch:1", "otherwise"]);
  expect(exitsOf({ type: "split", config: { paths: [{ weight: 1 }, { weight: 2 }] } }).map((x) => x.handle)).toStrictEqual(["path:0", "path:1"]);
  expect(exitsOf({ type: "exit", config: {} })).toStrictEqual([]);
});

test("the layout puts the trigger on top and each step below every step leading to it", () => {
  const g = fromDefinition(welcome);
  const pos = layout(g);
  expect(Object.keys(pos).length).toBe(7);
  expect(pos[TRIGGER_ID].y < pos.points.y).toBeTruthy();
  expect(pos.points.y < pos.settle_in.y && pos.settle_in.y < pos["bought?"].y).toBeTruthy();
  // "split" is reached from "bought?" and from "vip?" (one layer lower): it goes below both, "done" below it.
  expect(pos.split.y > pos["vip?"].y && pos.done.y > pos.split.y).toBeTruthy();
  // A loop (with a delay in it) does not push steps down forever.
  const loop = fromDefinition({ ...welcome, nodes: { ...welcome.nodes, done: { type: "delay", duration: { days: 1 }, next: "points" } } });
  const lp = layout(loop);
  expect(lp.done.y > lp.split.y && lp.points.y < lp.settle_in.y).toBeTruthy();
  const orphan = fromDefinition({ ...welcome, nodes: { ...welcome.nodes, lonely: { type: "exit" } } });
  expect(layout(orphan).lonely, "unreachable steps are placed too").toBeTruthy();
});

test("new step ids are unused and error paths find their step", () => {
  expect(newStepId("delay", ["delay_1", "exit_1"])).toBe("delay_2");
  const ids = Object.keys(welcome.nodes);
  expect(stepForPath("$.nodes.settle_in.duration", ids)).toBe("settle_in");
  expect(stepForPath("$.nodes.bought?", ids)).toBe("bought?");
  expect(stepForPath("$.trigger.event", ids)).toBe(TRIGGER_ID);
  expect(stepForPath("$.start", ids)).toBe(TRIGGER_ID);
  expect(stepForPath("$.nodes.nope", ids)).toBe(undefined);
});

test("the server's problems with the start and the trigger are the trigger's, as it words them", () => {
  const ids = Object.keys(welcome.nodes);
  // A part the definition lacks is said of the whole definition ("$"): its message names the part.
  expect(stepForPath("$", ids, '"start" is required')).toBe(TRIGGER_ID);
  expect(stepForPath("$", ids, '"trigger" is required')).toBe(TRIGGER_ID);
  expect(stepForPath("$", ids, '"nodes" is required')).toBe(TRIGGER_ID);
  // A first step that is no step of the journey; the trigger's settings; goals; no steps at all.
  expect(stepForPath("$.start", ids, 'the start node "x" is not a node of this journey')).toBe(TRIGGER_ID);
  expect(stepForPath("$.trigger", ids, "expected an object")).toBe(TRIGGER_ID);
  expect(stepForPath("$.goals[0].event", ids)).toBe(TRIGGER_ID);
  expect(stepForPath("$.nodes", [], "a journey has 1 to 500 nodes")).toBe(TRIGGER_ID);
  // What is about the definition itself (an unknown key), or a part of no step, stays off the canvas.
  expect(stepForPath("$", ids, 'unexpected key "colour"; expected "trigger", "entry", "exit_on_unsubscribe", "goals", "start", "nodes"')).toBe(undefined);
  expect(stepForPath("$", ids)).toBe(undefined);
  expect(stepForPath("$.starting", ids)).toBe(undefined);
});

test("a new step lands where it is wanted when that is free, else on the nearest free spot beside a step", () => {
  const size = { width: 200, height: 100 };
  const trigger = { x: 0, y: 0, width: 200, height: 70 };
  const send = { x: 0, y: 150, width: 200, height: 110 };
  // Clear of both (the gap counted): kept.
  expect(freeSpot({ x: 0, y: 300 }, size, [trigger, send], 20)).toStrictEqual({ x: 0, y: 300 });
  expect(freeSpot({ x: 400, y: 150 }, size, [trigger, send], 20)).toStrictEqual({ x: 400, y: 150 });
  // Dropped just below the send step, onto its exit handles: pushed down under it, in the same column.
  expect(freeSpot({ x: 10, y: 240 }, size, [trigger, send], 20)).toStrictEqual({ x: 10, y: 280 });
  // Dropped a little right of the send step's middle: out to its right, on the same row, rather than far below.
  expect(freeSpot({ x: 150, y: 160 }, size, [trigger, send], 20)).toStrictEqual({ x: 220, y: 160 });
  // Nothing there: anywhere will do.
  expect(freeSpot({ x: 5, y: 5 }, size, [])).toStrictEqual({ x: 5, y: 5 });
});

test("a new step never lands on another, however crowded the spot it was dropped on", () => {
  const size = NODE_SIZE;
  const overlaps = (p: { x: number; y: number }, b: { x: number; y: number; width: number; height: number }) =>
    p.x < b.x + b.width && p.x + size.width > b.x && p.y < b.y + b.height && p.y + size.height > b.y;
  // A grid of steps with no room between them anywhere: the step goes below them all.
  const grid = [0, 1, 2].flatMap((r) => [-1, 0, 1].map((c) => ({ x: c * 210, y: r * 120, width: 210, height: 120 })));
  const p = freeSpot({ x: 0, y: 120 }, size, grid);
  expect(grid.some((b) => overlaps(p, b))).toBe(false);
  expect(p.y).toBe(360 + NODE_GAP);
  // Each of many steps dropped on the same point finds its own place.
  const placed: { x: number; y: number; width: number; height: number }[] = [];
  for (let i = 0; i < 12; i++) {
    const at = freeSpot({ x: 30, y: 40 }, size, placed);
    expect(placed.some((b) => overlaps(at, b)), `step ${i + 1}`).toBe(false);
    placed.push({ ...at, ...size });
  }
});

test("a step takes the room it was measured at, or a new step's, and what it may yet grow at its bottom", () => {
  expect(stepBox({ x: 1, y: 2 }, { width: 230, height: 90 })).toStrictEqual({ x: 1, y: 2, width: 230, height: 90 + NODE_GROWTH });
  expect(stepBox({ x: 0, y: 0 })).toStrictEqual({ x: 0, y: 0, width: NODE_SIZE.width, height: NODE_SIZE.height + NODE_GROWTH });
  // A step dropped onto the one above lands below what that one may grow to, with the gap for its exits.
  expect(freeSpot({ x: 0, y: 100 }, NODE_SIZE, [stepBox({ x: 0, y: 0 }, { width: 210, height: 90 })]).y).toBe(90 + NODE_GROWTH + NODE_GAP);
});
