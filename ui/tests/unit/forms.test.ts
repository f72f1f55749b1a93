// Unit tests of the subscription-form editor's and the retention policy's
// pure logic: a definition read into inputs and written back, empty inputs
// meaning "none", half-typed numbers sent as typed so the server names the
// field, and problem paths placed on their group of checkboxes.
import { expect, test } from "vitest";
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
  expect(bodyOf(inputsOf(def))).toStrictEqual({ name, purposes, wording, wording_version, list_id, double_opt_in, token_lifetime_hours, reminder_after_hours, max_reminders, fields });
});

test("empty inputs mean no list and no reminders; odd numbers go as typed; purposes keep their order", () => {
  const b = bodyOf({ ...EMPTY_FORM, purposes: ["profiling", "marketing"], reminder_after_hours: " ", max_reminders: "2x" });
  expect(b.list_id).toBe(null);
  expect(b.reminder_after_hours).toBe(null);
  expect(b.max_reminders).toBe("2x");
  expect(b.token_lifetime_hours).toBe(168);
  expect(b.purposes).toStrictEqual(["marketing", "profiling"]);
});

test("problem paths of list items belong to their input", () => {
  expect(inputOfPath("purposes[1]")).toBe("purposes");
  expect(inputOfPath("fields[0]")).toBe("fields");
  expect(inputOfPath("wording")).toBe("wording");
});

test("a retention policy survives the round trip; empty days keep for ever", () => {
  const p = { events_max_age_days: 30, events_action: "anonymise" as const, inactive_contacts_days: null };
  expect(retentionBodyOf(retentionInputsOf(p))).toStrictEqual(p);
  expect(retentionInputsOf({})).toStrictEqual({ events_max_age_days: "", events_action: "delete", inactive_contacts_days: "" });
});
