// Unit tests of the builder's checks while editing: a whole journey has no
// problems; exits that lead nowhere, steps nothing leads to, loops with no
// wait and missing settings are each found at the step at fault.
import { expect, test } from "vitest";
import { checkGraph, problemCount, serverProblems, settingProblems } from "../../src/journeys/check";
import { fromDefinition, newStepConfig, TRIGGER_ID } from "../../src/journeys/graph";

const whole = {
  trigger: { type: "event", event: "Signed Up" },
  start: "country",
  nodes: {
    country: { type: "branch", branches: [{ rule: { field: "country", op: "equals", value: "DE" }, next: "wait" }], otherwise: "done" },
    wait: { type: "wait_event", event: "Order Completed", timeout: { days: 3 }, next: "done", timeout_next: "again" },
    // A loop back through a delay is fine.
    again: { type: "delay", duration: { days: 1 }, next: "country" },
    done: { type: "exit" },
  },
};

test("a whole journey has no problems", () => {
  expect(problemCount(checkGraph(fromDefinition(whole)))).toBe(0);
});

test("an exit with no edge is named at its step", () => {
  const g = fromDefinition(whole);
  g.edges = g.edges.filter((e) => !(e.source === "wait" && e.handle === "timeout_next") && !(e.source === "again"));
  const p = checkGraph(g);
  expect(p.get("wait")).toStrictEqual(['"timed out" leads nowhere: connect it to a step']);
  expect(p.get("again")).toContain("leads nowhere: connect it to the next step");
  expect(p.get("again")).toContain("unreachable: no path from the trigger leads here");
});

test("steps nothing leads to are unreachable; a trigger leading nowhere is said at the trigger", () => {
  const g = fromDefinition({ ...whole, nodes: { ...whole.nodes, stray: { type: "exit" } } });
  expect(checkGraph(g).get("stray")).toStrictEqual(["unreachable: no path from the trigger leads here"]);
  g.edges = g.edges.filter((e) => e.source !== TRIGGER_ID);
  const p = checkGraph(g);
  expect(p.get(TRIGGER_ID)).toStrictEqual(["connect the trigger to the first step"]);
  expect(p.has("stray")).toBe(false);
  expect(checkGraph(fromDefinition({ trigger: { type: "event", event: "" }, nodes: {} })).get(TRIGGER_ID)).toStrictEqual([
    "name the event that starts the journey",
    "add a first step",
  ]);
});

test("a loop with no delay or wait in it is found; one through a wait is fine", () => {
  // wait → points → country → wait: the wait holds contacts each time round.
  const g = fromDefinition({
    ...whole,
    nodes: {
      ...whole.nodes,
      wait: { ...whole.nodes.wait, timeout_next: "points" },
      points: { type: "change_score", score: "engagement", by: 1, next: "country" },
    },
  });
  const p = checkGraph(g);
  const looped = [...p.entries()].filter(([, ms]) => ms.some((m) => m.startsWith("part of a loop")));
  expect(looped.length).toBe(0);
  // country → points → country passes contacts straight on for ever.
  const h = fromDefinition({
    ...whole,
    start: "country",
    nodes: {
      country: { type: "branch", branches: [{ rule: { field: "country", op: "equals", value: "DE" }, next: "points" }], otherwise: "done" },
      points: { type: "change_score", score: "engagement", by: 1, next: "country" },
      done: { type: "exit" },
    },
  });
  const q = checkGraph(h);
  expect([...q.values()].flat().filter((m) => m.startsWith("part of a loop")).length).toBe(1);
});

test("new steps say which settings they still need", () => {
  expect(settingProblems({ type: "send", config: newStepConfig("send") })).toStrictEqual(["choose a template"]);
  expect(settingProblems({ type: "add_to_list", config: newStepConfig("add_to_list") })).toStrictEqual(["choose a list"]);
  expect(settingProblems({ type: "webhook", config: newStepConfig("webhook") })).toStrictEqual(["choose a webhook endpoint"]);
  expect(settingProblems({ type: "notify", config: newStepConfig("notify") })).toStrictEqual(["write the message", "say whom to notify"]);
  expect(settingProblems({ type: "update_contact", config: newStepConfig("update_contact") })).toStrictEqual(["choose a field to set"]);
  for (const type of ["delay", "wait_event", "branch", "split", "change_score", "exit"]) expect(settingProblems({ type, config: newStepConfig(type) }), type).toStrictEqual([]);
  expect(settingProblems({ type: "delay", config: { duration: {} } })).toStrictEqual(["set how long to wait"]);
  expect(settingProblems({ type: "delay", config: { until: { weekdays: [], at: "09:00" } } })).toStrictEqual(["choose at least one weekday"]);
  expect(settingProblems({ type: "wait_event", config: { event: " ", timeout: { days: 0 } } })).toStrictEqual([
    "name the event to wait for",
    "set how long to wait before giving up",
  ]);
  expect(settingProblems({ type: "split", config: { paths: [{ weight: 0 }] } })).toStrictEqual([
    "a split needs at least two paths",
    "path 1: give it a whole-number weight from 1 to 10,000",
  ]);
  expect(settingProblems({ type: "change_score", config: { score: "engagement", by: 0 } })).toStrictEqual(["points must be a number other than zero"]);
});

test("the server's problems are placed on their steps, the stepless ones on the trigger, each once", () => {
    const p = serverProblems([
      { path: "$.nodes.alert.endpoint", node: "alert", message: "unknown webhook endpoint \"crm\"" },
      { path: "$.nodes.alert.endpoint", node: "alert", message: "unknown webhook endpoint \"crm\"" },
      { path: "$.goals[0]", node: null, message: "unknown event" },
      { path: "$.nodes.mail.template", node: "mail", message: "unknown template \"Welcome\"" },
    ]);
    expect(p.get("alert")).toEqual(["unknown webhook endpoint \"crm\""]);
    expect(p.get(TRIGGER_ID)).toEqual(["unknown event"]);
    expect(p.get("mail")).toEqual(["unknown template \"Welcome\""]);
    expect(problemCount(p)).toBe(3);
    expect(problemCount(serverProblems([]))).toBe(0);
});
