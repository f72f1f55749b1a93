// Unit tests of the consent-text library's pure logic: the create body (key
// and language trimmed, the wording exactly as typed), where a refusal's
// messages go (the field named, with or without a leading slash; a taken key
// on the key field; the rest in the box), the list order with the retired
// texts apart, what is said of the forms a new version reaches, what counts
// as a new wording, and the labels.
import { expect, test } from "vitest";
import { ApiError } from "../../src/api";
import {
  channelLabel,
  createBodyOf,
  CREATE_FIELDS,
  isNewWording,
  placeProblems,
  purposeLabel,
  revisionReach,
  sortedTexts,
  splitRetired,
  type ConsentText,
} from "../../src/settings/consentTextModel";

test("the create body trims identifiers and keeps the wording verbatim", () => {
  expect(createBodyOf({ key: "  news-en ", channel: "email", purpose: "marketing", language: " en ", text: "  Email me <b>news</b>.\n" })).toStrictEqual({
    key: "news-en",
    channel: "email",
    purpose: "marketing",
    language: "en",
    text: "  Email me <b>news</b>.\n",
  });
});

test("a 422 puts each message on the field it names, slash or not, and leaves the rest for the box", () => {
  const e = new ApiError({
    title: "Invalid",
    status: 422,
    detail: "bad input",
    errors: [
      { path: "/language", message: "must be a language tag" },
      { path: "text", message: "must not be empty" },
    ],
  });
  expect(placeProblems(e, CREATE_FIELDS)).toStrictEqual({ fields: { language: "must be a language tag", text: "must not be empty" }, rest: null });
  const other = new ApiError({ title: "Invalid", status: 422, detail: "x", errors: [{ path: "workspace", message: "nope" }] });
  const p = placeProblems(other, CREATE_FIELDS);
  expect(p.fields).toStrictEqual({});
  expect((p.rest as ApiError).problem.errors).toStrictEqual([{ path: "workspace", message: "nope" }]);
});

test("a taken key (409) is said on the key field", () => {
  const e = new ApiError({ title: "Conflict", status: 409, detail: "a consent text news-en exists" });
  expect(placeProblems(e, CREATE_FIELDS)).toStrictEqual({
    fields: { key: "A consent text with this key exists: open it from the list and edit its text to make a new version." },
    rest: null,
  });
  // Editing has no key field: the box says it.
  expect((placeProblems(e, ["text"]).rest as ApiError).message).toBe("a consent text news-en exists");
});

const t = (key: string, more: Partial<ConsentText> = {}): ConsentText => ({
  key,
  channel: "email",
  purpose: "marketing",
  language: "en",
  version: 1,
  text: "",
  created_at: 0,
  created_by: null,
  ...more,
});

test("texts are listed by key", () => {
  expect(sortedTexts([t("b"), t("a"), t("c")]).map((x) => x.key)).toStrictEqual(["a", "b", "c"]);
});

test("retired texts are listed apart, each list by key; a text without the field is in use", () => {
  const { active, retired } = splitRetired([
    t("d", { retired_at: "2026-03-01T10:00:00Z", retired_by: "ann@example.org" }),
    t("b", { retired_at: null }),
    t("c", { retired_at: "2026-02-01T10:00:00Z" }),
    t("a"),
  ]);
  expect(active.map((x) => x.key)).toStrictEqual(["a", "b"]);
  expect(retired.map((x) => x.key)).toStrictEqual(["c", "d"]);
});

test("before a new version is saved, the forms using the text are told of, by name and count", () => {
  expect(revisionReach(undefined)).toBe(null);
  expect(revisionReach([])).toBe(null);
  expect(revisionReach([{ id: "1", name: "Newsletter" }])).toBe('The form "Newsletter" asks with this text: it will show the new words as soon as you save.');
  expect(
    revisionReach([
      { id: "1", name: "Newsletter" },
      { id: "2", name: "Footer" },
    ]),
  ).toBe('The 2 forms asking with this text ("Newsletter", "Footer") will show the new words as soon as you save.');
});

test("only a changed wording makes a new version; spaces count", () => {
  expect(isNewWording("Email me.", "Email me.")).toBe(false);
  expect(isNewWording("Email me.", "Email me. ")).toBe(true);
  expect(isNewWording("Email me.", "")).toBe(true);
});

test("labels of channels and purposes, unknown ones as sent", () => {
  expect(channelLabel("in_app")).toBe("In-app");
  expect(purposeLabel("third_party_sharing")).toBe("Third-party sharing");
  expect(channelLabel("fax")).toBe("fax");
});
