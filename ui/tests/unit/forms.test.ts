// Unit tests of the subscription-form editor's and the retention policy's
// pure logic: a definition read into inputs and written back, empty inputs
// meaning "none", half-typed numbers sent as typed so the server names the
// field, and problem paths placed on their group of checkboxes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bodyOf, EMPTY_FORM, inputOfPath, inputsOf, retentionBodyOf, retentionInputsOf, type FormDefinition } from "../../src/settings/formModel";

const def: FormDefinition = {
  name: "News",
  purposes: ["marketing", "profiling"],
  wording: "  Email me. \n Really.",
  wording_version: "v1",
  list_id: "L1",
  double_opt_in: false,
  token_lifetime_hours: 72,
  reminder_after_hours: null,
  max_reminders: 0,
  fields: ["first_name"],
};

test("a form definition survives the round trip through the inputs", () => {
  const { name, purposes, wording, wording_version, list_id, double_opt_in, token_lifetime_hours, reminder_after_hours, max_reminders, fields } = def;
  assert.deepEqual(bodyOf(inputsOf(def)), { name, purposes, wording, wording_version, list_id, double_opt_in, token_lifetime_hours, reminder_after_hours, max_reminders, fields });
});

test("empty inputs mean no list and no reminders; odd numbers go as typed; purposes keep their order", () => {
  const b = bodyOf({ ...EMPTY_FORM, purposes: ["profiling", "marketing"], reminder_after_hours: " ", max_reminders: "2x" });
  assert.equal(b.list_id, null);
  assert.equal(b.reminder_after_hours, null);
  assert.equal(b.max_reminders, "2x");
  assert.equal(b.token_lifetime_hours, 168);
  assert.deepEqual(b.purposes, ["marketing", "profiling"]);
});

test("problem paths of list items belong to their input", () => {
  assert.equal(inputOfPath("purposes[1]"), "purposes");
  assert.equal(inputOfPath("fields[0]"), "fields");
  assert.equal(inputOfPath("wording"), "wording");
});

test("a retention policy survives the round trip; empty days keep for ever", () => {
  const p = { events_max_age_days: 30, events_action: "anonymise" as const, inactive_contacts_days: null };
  assert.deepEqual(retentionBodyOf(retentionInputsOf(p)), p);
  assert.deepEqual(retentionInputsOf({}), { events_max_age_days: "", events_action: "delete", inactive_contacts_days: "" });
});
