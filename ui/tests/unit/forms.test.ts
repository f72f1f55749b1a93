// Unit tests of the subscription-form editor's and the retention policy's
// pure logic: a definition read into inputs and written back, empty inputs
// meaning "none", half-typed numbers sent as typed so the server names the
// field, problem paths placed on their group of checkboxes, and a wording
// from the consent library (which texts are offered, choosing one, sending
// it by key, switching to the form's own words).
import { expect, test } from "vitest";
import { ApiError } from "../../src/api";
import {
  bodyOf,
  chooseText,
  EMPTY_FORM,
  formEditorProblems,
  inputOfPath,
  inputsOf,
  newFormInputs,
  offeredTexts,
  previewOf,
  retentionBodyOf,
  retentionInputsOf,
  switchToOwn,
  type FormDefinition,
  type LibraryText,
} from "../../src/settings/formModel";

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
  expect(bodyOf(inputsOf(def))).toStrictEqual({
    name,
    purposes,
    // The form's own words unlink any library text it had.
    consent_text: null,
    wording,
    wording_version,
    list_id,
    double_opt_in,
    token_lifetime_hours,
    reminder_after_hours,
    max_reminders,
    fields,
  });
});

const text = (key: string, more: Partial<LibraryText> = {}): LibraryText => ({
  key,
  channel: "email",
  purpose: "marketing",
  text: `Words of ${key}.`,
  wording_version: `${key}@v1`,
  retired_at: null,
  ...more,
});

test("a form asking with a library text sends its key and no wording of its own", () => {
  const linked: FormDefinition = { ...def, consent_text: "newsletter", wording: "Email me the newsletter.", wording_version: "newsletter@v2" };
  const inputs = inputsOf(linked);
  expect(inputs.wording_source).toBe("library");
  expect(inputs.consent_text).toBe("newsletter");
  const body = bodyOf(inputs);
  expect(body.consent_text).toBe("newsletter");
  expect(body).not.toHaveProperty("wording");
  expect(body).not.toHaveProperty("wording_version");
  // An unchosen text goes as typed, for the server to refuse on its field.
  expect(bodyOf({ ...EMPTY_FORM, wording_source: "library" }).consent_text).toBe("");
});

test("unlinking keeps the library's words as the form's own", () => {
  const linked: FormDefinition = { ...def, consent_text: "newsletter", wording: "Email me the newsletter.", wording_version: "newsletter@v2" };
  const own = switchToOwn(inputsOf(linked), text("newsletter"));
  expect(bodyOf(own)).toMatchObject({ consent_text: null, wording: "Email me the newsletter.", wording_version: "newsletter@v2" });
});

test("switching to the form's own words starts from the chosen text's only when none are written", () => {
  const fresh = chooseText({ ...EMPTY_FORM, wording_source: "library" }, text("news"));
  expect(switchToOwn(fresh, text("news"))).toMatchObject({ wording_source: "own", wording: "Words of news.", wording_version: "news@v1" });
  const typed = { ...fresh, wording: "My own words.", wording_version: "" };
  expect(switchToOwn(typed, text("news"))).toMatchObject({ wording_source: "own", wording: "My own words.", wording_version: "" });
  expect(switchToOwn({ ...EMPTY_FORM, wording_source: "library" }, undefined)).toMatchObject({ wording_source: "own", wording: "" });
});

test("the library offers a form its email texts in use, by key; a new form asks with one when there is one", () => {
  const all = [text("zeta"), text("sms", { channel: "sms" }), text("old", { retired_at: "2026-01-01T00:00:00Z" }), text("alpha")];
  expect(offeredTexts(all).map((t) => t.key)).toStrictEqual(["alpha", "zeta"]);
  expect(newFormInputs(offeredTexts(all)).wording_source).toBe("library");
  expect(newFormInputs([]).wording_source).toBe("own");
});

test("choosing a text adds its purpose to the form's, once", () => {
  const f = chooseText({ ...EMPTY_FORM, purposes: ["marketing"] }, text("updates", { purpose: "product_updates" }));
  expect(f.consent_text).toBe("updates");
  expect(f.purposes).toStrictEqual(["marketing", "product_updates"]);
  expect(chooseText(f, text("news")).purposes).toStrictEqual(["marketing", "product_updates"]);
  expect(chooseText(f, undefined).consent_text).toBe("");
});

test("a refused save puts each message on its input, library text included, and the rest in the box", () => {
  const e = new ApiError({
    title: "Invalid",
    status: 422,
    detail: "bad form",
    errors: [
      { path: "consent_text", message: '"old" is retired: reinstate it, or choose another text' },
      { path: "purposes[1]", message: "must be one of marketing, …" },
      { path: "channel", message: "forms ask for email consent only" },
    ],
  });
  const p = formEditorProblems(e);
  expect(p.fields).toStrictEqual({
    consent_text: '"old" is retired: reinstate it, or choose another text',
    purposes: "purposes[1]: must be one of marketing, …",
  });
  expect((p.rest as ApiError).problem.errors).toStrictEqual([{ path: "channel", message: "forms ask for email consent only" }]);
  // A refusal naming no input is the box's whole.
  const conflict = new ApiError({ title: "Conflict", status: 409, detail: "x" });
  const whole = formEditorProblems(conflict);
  expect(whole.fields).toStrictEqual({});
  expect((whole.rest as ApiError).problem).toMatchObject({ status: 409, detail: "x" });
});

test("a wording's preview is one line, cut with an ellipsis", () => {
  expect(previewOf("Email me\n  the news.")).toBe("Email me the news.");
  expect(previewOf("a".repeat(80), 10)).toBe("aaaaaaaaa…");
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
