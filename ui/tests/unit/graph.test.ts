// Unit tests of the journey canvas model: a definition survives the trip to
// steps and edges and back, open exits are left out for the server to name,
// the layout places every step, and error paths find their step.
import assert from "node:assert/strict";
import { test } from "node:test";
import { exitsOf, fromDefinition, layout, newStepId, stepForPath, toDefinition, TRIGGER_ID } from "../../src/journeys/graph";

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
  assert.equal(g.steps.length, 6);
  assert.ok(g.edges.some((e) => e.source === TRIGGER_ID && e.target === "points"));
  assert.ok(g.edges.some((e) => e.source === "vip?" && e.handle === "branch:0" && e.target === "done"));
  assert.ok(g.edges.some((e) => e.source === "split" && e.handle === "path:1" && e.target === "done"));
  assert.deepEqual(toDefinition(g), welcome);
});

test("exits without an edge are left out, so the server names the step", () => {
  const g = fromDefinition(welcome);
  g.edges = g.edges.filter((e) => !(e.source === "bought?" && e.handle === "timeout_next"));
  const def = toDefinition(g) as { nodes: Record<string, Record<string, unknown>> };
  assert.equal(def.nodes["bought?"].timeout_next, undefined);
  assert.equal(def.nodes["bought?"].next, "split");
});

test("each step type has the exits the definition gives it", () => {
  assert.deepEqual(exitsOf({ type: "delay", config: {} }).map((x) => x.handle), ["next"]);
  assert.deepEqual(exitsOf({ type: "wait_event", config: {} }).map((x) => x.handle), ["next", "timeout_next"]);
  assert.deepEqual(exitsOf({ type: "branch", config: { branches: [{}, {}] } }).map((x) => x.handle), ["branch:0", "branch:1", "otherwise"]);
  assert.deepEqual(exitsOf({ type: "split", config: { paths: [{ weight: 1 }, { weight: 2 }] } }).map((x) => x.handle), ["path:0", "path:1"]);
  assert.deepEqual(exitsOf({ type: "exit", config: {} }), []);
});

test("the layout puts the trigger on top and each step below every step leading to it", () => {
  const g = fromDefinition(welcome);
  const pos = layout(g);
  assert.equal(Object.keys(pos).length, 7);
  assert.ok(pos[TRIGGER_ID].y < pos.points.y);
  assert.ok(pos.points.y < pos.settle_in.y && pos.settle_in.y < pos["bought?"].y);
  // "split" is reached from "bought?" and from "vip?" (one layer lower): it goes below both, "done" below it.
  assert.ok(pos.split.y > pos["vip?"].y && pos.done.y > pos.split.y);
  // A loop (with a delay in it) does not push steps down forever.
  const loop = fromDefinition({ ...welcome, nodes: { ...welcome.nodes, done: { type: "delay", duration: { days: 1 }, next: "points" } } });
  const lp = layout(loop);
  assert.ok(lp.done.y > lp.split.y && lp.points.y < lp.settle_in.y);
  const orphan = fromDefinition({ ...welcome, nodes: { ...welcome.nodes, lonely: { type: "exit" } } });
  assert.ok(layout(orphan).lonely, "unreachable steps are placed too");
});

test("new step ids are unused and error paths find their step", () => {
  assert.equal(newStepId("delay", ["delay_1", "exit_1"]), "delay_2");
  const ids = Object.keys(welcome.nodes);
  assert.equal(stepForPath("$.nodes.settle_in.duration", ids), "settle_in");
  assert.equal(stepForPath("$.nodes.bought?", ids), "bought?");
  assert.equal(stepForPath("$.trigger.event", ids), TRIGGER_ID);
  assert.equal(stepForPath("$.start", ids), TRIGGER_ID);
  assert.equal(stepForPath("$.nodes.nope", ids), undefined);
});
