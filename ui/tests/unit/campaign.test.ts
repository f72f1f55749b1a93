// Unit tests of the campaign editor's pure logic: a definition read into
// form state and written back, empty inputs left to the server's defaults,
// half-typed numbers sent as typed (so the server names the field), problem
// paths placed on their fields, and the actions each status allows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { actionsFor, definitionOf, EMPTY_FORM, fieldOf, formOf, isLive, problemsByField, templatesOf, type CampaignDefinition } from "../../src/email/campaign";

test("a definition survives the round trip through the form", () => {
  const single: CampaignDefinition = { audience: { list: "L1" }, template: "T1", per_minute: 600, local_time: "09:00", conversion: { event: "Order Completed", days: 7 } };
  assert.deepEqual(definitionOf(formOf("Spring", single)), single);
  const ab: CampaignDefinition = { audience: { segment: "S1" }, ab: { variants: ["A", "B", "C"], sample_percent: 20, wait_minutes: 240, metric: "clicks" } };
  const f = formOf("Test", ab);
  assert.equal(f.mode, "ab");
  assert.equal(f.audienceKind, "segment");
  assert.deepEqual(definitionOf(f), ab);
  assert.deepEqual(formOf("Test", definitionOf(f) as CampaignDefinition), f, "form → definition → form is stable");
});

test("send_at goes out as an instant and comes back as the same local input", () => {
  const f = { ...EMPTY_FORM, audience: "S", template: "T", sendAt: "2026-12-01T09:30" };
  const d = definitionOf(f) as CampaignDefinition;
  assert.equal(d.send_at, new Date("2026-12-01T09:30").toISOString());
  assert.equal(formOf("", d).sendAt, "2026-12-01T09:30");
});

test("empty inputs are left out; a number that is not one is sent as typed", () => {
  assert.deepEqual(definitionOf(EMPTY_FORM), {}, "nothing chosen: the server says what is missing");
  const d = definitionOf({ ...EMPTY_FORM, audience: "S", template: "T", perMinute: "ten" });
  assert.deepEqual(d, { audience: { segment: "S" }, template: "T", per_minute: "ten" });
  assert.equal(definitionOf({ ...EMPTY_FORM, perMinute: " 0 " }).per_minute, 0);
  const ab = definitionOf({ ...EMPTY_FORM, mode: "ab", variants: ["A", ""], samplePercent: "95" });
  assert.deepEqual(ab.ab, { variants: ["A"], sample_percent: 95, wait_minutes: 240, metric: "opens" }, "blank variant rows are dropped");
  assert.equal(definitionOf({ ...EMPTY_FORM, mode: "ab", template: "T" }).template, undefined, "an A/B test never sends the single template too");
});

test("problem paths land on their fields", () => {
  assert.equal(fieldOf("definition.audience"), "audience");
  assert.equal(fieldOf("definition.audience.segment"), "audience");
  assert.equal(fieldOf("definition.ab.variants"), "variants");
  assert.equal(fieldOf("definition.ab.sample_percent"), "samplePercent");
  assert.equal(fieldOf("definition.ab"), "variants");
  assert.equal(fieldOf("definition.per_minute"), "perMinute");
  assert.equal(fieldOf("definition.conversion.days"), "conversionDays");
  assert.equal(fieldOf("name"), "name");
  assert.equal(fieldOf("definition.per_minute_x"), null, "a prefix of a word is no match");
  assert.equal(fieldOf("definition"), null);
  const { fields, rest } = problemsByField([
    { path: "definition.per_minute", message: "must be a whole number from 1 to 1000000" },
    { path: "definition", message: "must be a JSON object" },
  ]);
  assert.deepEqual(fields, { perMinute: "must be a whole number from 1 to 1000000" });
  assert.deepEqual(rest, [{ path: "definition", message: "must be a JSON object" }]);
});

test("each status allows what the server allows", () => {
  assert.deepEqual(actionsFor("draft"), ["launch", "cancel"]);
  assert.deepEqual(actionsFor("sending"), ["pause", "cancel"]);
  assert.deepEqual(actionsFor("scheduled"), ["pause", "cancel"]);
  assert.deepEqual(actionsFor("paused"), ["resume", "cancel"]);
  assert.deepEqual(actionsFor("sent"), []);
  assert.deepEqual(actionsFor("cancelled"), []);
  assert.equal(isLive("sending"), true);
  assert.equal(isLive("paused"), false);
  assert.deepEqual(templatesOf({ ab: { variants: ["A", "B"] } }), ["A", "B"]);
  assert.deepEqual(templatesOf({ template: "T" }), ["T"]);
});
