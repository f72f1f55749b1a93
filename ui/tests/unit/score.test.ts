// Unit tests of the score editor's model: a definition survives a round trip
// through the editor's state, typed inputs are written as the API expects,
// server error paths land on the rule, condition, threshold or field they
// name, values are shown rounded with their sign, and a contact's history
// is shown newest first whatever order it arrived in.
import { expect, test } from "vitest";
import type { Schema } from "../../src/segments/rule";
import {
  definitionOf,
  emptyForm,
  errorsOf,
  formatDelta,
  formatScore,
  formOf,
  newestFirst,
  newPaths,
  thresholdsText,
  type ScoreChange,
  type ScoreDefinition,
} from "../../src/scores/score";

const schema: Schema = {
  contact: { country: "string", plan: "string", lifetime_value: "number" },
  company: { name: "string", employees: "number" },
};

// docs/scores.md's example, plus a negated group and a consent condition.
const full: ScoreDefinition = {
  name: "engagement",
  description: "Pricing interest and fit",
  half_life_days: 30,
  events: [
    { event: "Page Viewed", where: [{ property: "path", op: "starts_with", value: "/pricing" }], points: 5, cap: { points: 20, per: "day" } },
    { event: "Email Clicked", points: 3 },
    { event: "Order Completed", where: [{ property: "total", op: "gte", value: 100 }, { property: "coupon", op: "is_set" }], points: 20, cap: { points: 40, per: "ever" } },
    { event: "Unsubscribed", points: -30 },
  ],
  attributes: [
    { when: { field: "country", op: "in", value: ["DE", "FR"] }, points: 10 },
    { when: { company: { field: "employees", op: "gte", value: 200 } }, points: 15 },
    { when: { and: [{ field: "plan", op: "equals", value: "pro" }, { not: { consent: { channel: "email", purpose: "marketing" } } }] }, points: -5 },
  ],
  thresholds: [
    { name: "MQL", value: 50 },
    { name: "SQL", value: 100 },
  ],
};

test("a definition survives a round trip through the editor", () => {
  expect(definitionOf(formOf(full), schema)).toStrictEqual(full);
  // The demo's score, as the server returns it.
  const demo: ScoreDefinition = {
    name: "engagement",
    description: "Shopping interest, fading with a 30-day half-life",
    half_life_days: 30,
    events: [{ event: "Product Viewed", points: 2, cap: { points: 10, per: "day" } }],
    attributes: [{ when: { field: "plan", op: "equals", value: "pro" }, points: 10 }],
    thresholds: [{ name: "Warm", value: 40 }],
  };
  expect(definitionOf(formOf(demo), schema)).toStrictEqual(demo);
});

test("empty optional parts are left out, typed numbers are numbers, and a half-typed number is sent as typed", () => {
  const f = emptyForm();
  f.name = " fit ";
  f.events[0] = { ...f.events[0], event: " Signed Up ", points: "-2.5" };
  expect(definitionOf(f, schema)).toStrictEqual({ name: "fit", events: [{ event: "Signed Up", points: -2.5 }], attributes: [], thresholds: [] });
  f.halfLifeDays = "14";
  f.events[0] = { ...f.events[0], capped: true, capPoints: "", capPer: "week" };
  f.thresholds = [{ id: "t", name: "Warm", value: "abc" }];
  const d = definitionOf(f, schema);
  expect(d.half_life_days).toBe(14);
  expect(d.events?.[0].cap).toStrictEqual({ points: "", per: "week" });
  expect(d.thresholds).toStrictEqual([{ name: "Warm", value: "abc" }]);
});

test("server error paths land on the rule, condition, threshold or field they name", () => {
  const form = formOf(full);
  const paths = newPaths();
  definitionOf(form, schema, paths);
  const e = errorsOf(
    [
      { path: "events[0].where[0].op", message: "unknown operator" },
      { path: "events[3].points", message: "points must not be 0" },
      { path: "$.attributes[0].when.field", message: "unknown contact field" },
      { path: "attributes[2].when.and[1].not.consent.channel", message: "unknown channel" },
      { path: "attributes[1].points", message: "must not be 0" },
      { path: "thresholds[1].name", message: "expected a name" },
      { path: "half_life_days", message: "expected a number of days" },
      { path: "name", message: "expected a name" },
      { path: "$", message: "a score needs at least one rule" },
      { path: "events[9].event", message: "no such rule here" },
    ],
    paths,
  );
  expect(e.parts.get(form.events[0].id)).toBe("unknown operator (events[0].where[0].op)");
  expect(e.parts.get(form.events[3].id)).toBe("points must not be 0 (events[3].points)");
  expect(e.parts.has(form.events[1].id)).toBe(false);
  // A single condition is shown on that condition, not on the group around it.
  const single = form.attributes[0].when.children[0];
  expect(e.conditions.get(single.id)).toBe("unknown contact field (attributes[0].when.field)");
  // An AND of several is the rule's top group; the negated consent is its second condition.
  expect(e.conditions.get(form.attributes[2].when.children[1].id)).toBe("unknown channel (attributes[2].when.and[1].not.consent.channel)");
  expect(e.parts.get(form.attributes[1].id)).toBe("must not be 0 (attributes[1].points)");
  expect(e.parts.get(form.thresholds[1].id)).toBe("expected a name (thresholds[1].name)");
  expect(e.fields).toStrictEqual({ half_life_days: "expected a number of days", name: "expected a name" });
  expect(e.rest.map((r) => r.path)).toStrictEqual(["$", "events[9].event"]);
});

test("values are rounded sensibly and changes carry their sign", () => {
  expect(formatScore(177.70193)).toBe("178");
  expect(formatScore(31.850383)).toBe("31.9");
  expect(formatScore(20)).toBe("20");
  expect(formatScore(-0.04)).toBe("0");
  expect(formatScore(1234.5)).toBe("1,235");
  expect(formatDelta(2)).toBe("+2");
  expect(formatDelta(-30)).toBe("−30");
  expect(formatDelta(1.25)).toBe("+1.3");
  expect(thresholdsText(full)).toBe("MQL 50 · SQL 100");
  expect(thresholdsText({ name: "x", thresholds: [{ name: "Hot", value: 80 }, { name: "Warm", value: 40 }] })).toBe("Warm 40 · Hot 80");
  expect(thresholdsText({ name: "x" })).toBe("—");
});

test("a contact's score history is shown newest first by when it happened, ties in the order they came", () => {
  const change = (id: string, at: number): ScoreChange => ({
    id,
    score: "engagement",
    version: 1,
    at,
    delta: 5,
    value: 10,
    reason: "+5 Product Viewed",
    source: "event",
    rule: 0,
    period: null,
    event_id: null,
  });
  // Oldest first, as a server might answer, with two changes at one moment.
  const came = [change("a", 1_000), change("b", 3_000), change("c", 2_000), change("d", 3_000)];
  expect(newestFirst(came).map((c) => c.id)).toEqual(["b", "d", "c", "a"]);
  expect(came.map((c) => c.id), "the list given is left as it was").toEqual(["a", "b", "c", "d"]);
  expect(newestFirst([])).toEqual([]);
});
