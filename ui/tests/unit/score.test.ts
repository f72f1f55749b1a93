// Unit tests of the score editor's model: a definition survives a round trip
// through the editor's state, typed inputs are written as the API expects,
// server error paths land on the rule, condition, threshold or field they
// name, and values are shown rounded with their sign.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Schema } from "../../src/segments/rule";
import {
  definitionOf,
  emptyForm,
  errorsOf,
  formatDelta,
  formatScore,
  formOf,
  newPaths,
  thresholdsText,
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
  assert.deepEqual(definitionOf(formOf(full), schema), full);
  // The demo's score, as the server returns it.
  const demo: ScoreDefinition = {
    name: "engagement",
    description: "Shopping interest, fading with a 30-day half-life",
    half_life_days: 30,
    events: [{ event: "Product Viewed", points: 2, cap: { points: 10, per: "day" } }],
    attributes: [{ when: { field: "plan", op: "equals", value: "pro" }, points: 10 }],
    thresholds: [{ name: "Warm", value: 40 }],
  };
  assert.deepEqual(definitionOf(formOf(demo), schema), demo);
});

test("empty optional parts are left out, typed numbers are numbers, and a half-typed number is sent as typed", () => {
  const f = emptyForm();
  f.name = " fit ";
  f.events[0] = { ...f.events[0], event: " Signed Up ", points: "-2.5" };
  assert.deepEqual(definitionOf(f, schema), { name: "fit", events: [{ event: "Signed Up", points: -2.5 }], attributes: [], thresholds: [] });
  f.halfLifeDays = "14";
  f.events[0] = { ...f.events[0], capped: true, capPoints: "", capPer: "week" };
  f.thresholds = [{ id: "t", name: "Warm", value: "abc" }];
  const d = definitionOf(f, schema);
  assert.equal(d.half_life_days, 14);
  assert.deepEqual(d.events?.[0].cap, { points: "", per: "week" });
  assert.deepEqual(d.thresholds, [{ name: "Warm", value: "abc" }]);
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
  assert.equal(e.parts.get(form.events[0].id), "unknown operator (events[0].where[0].op)");
  assert.equal(e.parts.get(form.events[3].id), "points must not be 0 (events[3].points)");
  assert.equal(e.parts.has(form.events[1].id), false);
  // A single condition is shown on that condition, not on the group around it.
  const single = form.attributes[0].when.children[0];
  assert.equal(e.conditions.get(single.id), "unknown contact field (attributes[0].when.field)");
  // An AND of several is the rule's top group; the negated consent is its second condition.
  assert.equal(e.conditions.get(form.attributes[2].when.children[1].id), "unknown channel (attributes[2].when.and[1].not.consent.channel)");
  assert.equal(e.parts.get(form.attributes[1].id), "must not be 0 (attributes[1].points)");
  assert.equal(e.parts.get(form.thresholds[1].id), "expected a name (thresholds[1].name)");
  assert.deepEqual(e.fields, { half_life_days: "expected a number of days", name: "expected a name" });
  assert.deepEqual(
    e.rest.map((r) => r.path),
    ["$", "events[9].event"],
  );
});

test("values are rounded sensibly and changes carry their sign", () => {
  assert.equal(formatScore(177.70193), "178");
  assert.equal(formatScore(31.850383), "31.9");
  assert.equal(formatScore(20), "20");
  assert.equal(formatScore(-0.04), "0");
  assert.equal(formatScore(1234.5), "1,235");
  assert.equal(formatDelta(2), "+2");
  assert.equal(formatDelta(-30), "−30");
  assert.equal(formatDelta(1.25), "+1.3");
  assert.equal(thresholdsText(full), "MQL 50 · SQL 100");
  assert.equal(thresholdsText({ name: "x", thresholds: [{ name: "Hot", value: 80 }, { name: "Warm", value: 40 }] }), "Warm 40 · Hot 80");
  assert.equal(thresholdsText({ name: "x" }), "—");
});
