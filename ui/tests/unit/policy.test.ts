// Unit tests of Settings → Sending policy's pure logic: the form's inputs
// read from the settings document and the whole document written back
// (the postal address and keys the form does not edit kept, channels
// without caps left out, empty texts as null, transparency off as null),
// the checks before sending (negative, fractional and unreadable caps, the
// same hour twice, a missing organisation, lengths in bytes as the server
// counts), where the server's messages go, whether anything changed, the
// quiet-hours sentence and the time zones suggested.
import { expect, test } from "vitest";
import { ApiError } from "../../src/api";
import {
  capKey,
  checkPolicy,
  fieldOfPath,
  hourLabel,
  isChanged,
  placePolicyProblems,
  policyChangesOf,
  policyInputsOf,
  quietSentence,
  standingErrors,
  timeZoneChoices,
  withCap,
  type PolicyInputs,
  type SettingsDoc,
} from "../../src/settings/policyModel";

const ADDRESS = "Acme Ltd, 1 Main St, Springfield 12345";

const full: SettingsDoc = {
  caps: { email: { per_day: 2, per_week: 5 }, sms: { per_day: null, per_week: 1 } },
  quiet_hours: { start_hour: 21, end_hour: 8 },
  default_timezone: "Europe/Berlin",
  postal_address: ADDRESS,
  transparency: { organisation: "Acme Ltd", disclose_automation: true, public_page: true, privacy_contact: "privacy@acme.example", statement: "Why we collect." },
};

test("the inputs read every part of the document, numbers as text and absent parts as off", () => {
  const i = policyInputsOf(full);
  expect(i.caps.email).toStrictEqual({ per_day: "2", per_week: "5" });
  expect(i.caps.sms).toStrictEqual({ per_day: "", per_week: "1" });
  expect(i.caps.push).toStrictEqual({ per_day: "", per_week: "" });
  expect([i.quiet, i.quiet_start, i.quiet_end, i.timezone]).toStrictEqual([true, 21, 8, "Europe/Berlin"]);
  expect([i.transparency, i.organisation, i.disclose_automation, i.public_page, i.privacy_contact, i.statement]).toStrictEqual([
    true,
    "Acme Ltd",
    true,
    true,
    "privacy@acme.example",
    "Why we collect.",
  ]);

  const empty = policyInputsOf({ caps: {}, quiet_hours: null, default_timezone: null, postal_address: null, transparency: null });
  expect(empty.quiet).toBe(false);
  // Switching quiet hours on offers the evening until the morning.
  expect([empty.quiet_start, empty.quiet_end]).toStrictEqual([21, 8]);
  expect(empty.transparency).toBe(false);
  expect(empty.timezone).toBe("");
  // A document from before caps existed (no key at all) reads the same.
  expect(policyInputsOf({}).caps.email).toStrictEqual({ per_day: "", per_week: "" });
});

test("the change sent back is the form's settings as read, the postal address left to the server", () => {
  const body = policyChangesOf(policyInputsOf(full));
  expect(body).toStrictEqual({
    caps: { email: { per_day: 2, per_week: 5 }, sms: { per_day: null, per_week: 1 }, push: null, in_app: null, phone: null },
    quiet_hours: { start_hour: 21, end_hour: 8 },
    default_timezone: "Europe/Berlin",
    transparency: { organisation: "Acme Ltd", disclose_automation: true, public_page: true, privacy_contact: "privacy@acme.example", statement: "Why we collect." },
  });
});

test("edits replace the form's parts: caps trimmed, channels without caps null (lifted), off parts null, empty texts null", () => {
  let i = policyInputsOf(full);
  i = withCap(i, "email", "per_day", "", false);
  i = withCap(i, "email", "per_week", "", false);
  i = withCap(i, "in_app", "per_day", " 3 ", false);
  i = { ...i, quiet: false, timezone: "  ", privacy_contact: " ", statement: "" };
  const body = policyChangesOf(i);
  expect(body.caps).toStrictEqual({ email: null, sms: { per_day: null, per_week: 1 }, push: null, in_app: { per_day: 3, per_week: null }, phone: null });
  expect(body.quiet_hours).toBeNull();
  expect(body.default_timezone).toBeNull();
  expect(body.transparency).toStrictEqual({ organisation: "Acme Ltd", disclose_automation: true, public_page: true, privacy_contact: null, statement: null });
  expect(body.postal_address).toBeUndefined();

  // Transparency off is null, whatever its fields still hold.
  expect(policyChangesOf({ ...i, transparency: false }).transparency).toBeNull();
  // Only the form's own settings are sent: others stay as the server has them.
  expect(Object.keys(policyChangesOf(i)).sort()).toStrictEqual(["caps", "default_timezone", "quiet_hours", "transparency"]);
});

test("the statement is kept as typed, the organisation and contact trimmed", () => {
  const i = { ...policyInputsOf(full), organisation: "  Acme Ltd ", privacy_contact: " https://acme.example/privacy ", statement: "Line one.\n  Line two.\n" };
  expect(policyChangesOf(i).transparency).toStrictEqual({
    organisation: "Acme Ltd",
    disclose_automation: true,
    public_page: true,
    privacy_contact: "https://acme.example/privacy",
    statement: "Line one.\n  Line two.\n",
  });
});

test("caps must be whole numbers of 0 or more; empty is no cap and 0 is allowed", () => {
  let i = policyInputsOf({});
  i = withCap(i, "email", "per_day", "0", false);
  i = withCap(i, "sms", "per_day", "-1", false);
  i = withCap(i, "push", "per_week", "2.5", false);
  i = withCap(i, "phone", "per_week", "99999999999", false);
  expect(checkPolicy(i)).toStrictEqual({
    "caps.sms.per_day": "Must be 0 or more.",
    "caps.push.per_week": "Enter a whole number, or leave empty for no cap.",
    "caps.phone.per_week": "Too large: leave empty for no cap.",
  });
  expect(policyChangesOf(withCap(policyInputsOf({}), "email", "per_day", "0", false)).caps).toStrictEqual({ email: { per_day: 0, per_week: null }, sms: null, push: null, in_app: null, phone: null });
});

test("a number the browser could not read is refused until it is typed again", () => {
  const bad = withCap(policyInputsOf({}), "email", "per_week", "", true);
  expect(checkPolicy(bad)).toStrictEqual({ [capKey("email", "per_week")]: "Enter a whole number, or leave empty for no cap." });
  expect(isChanged({}, bad)).toBe(true);
  const fixed = withCap(bad, "email", "per_week", "4", false);
  expect(fixed.unreadable).toStrictEqual([]);
  expect(checkPolicy(fixed)).toStrictEqual({});
});

test("quiet hours need two different hours, only when they are on", () => {
  const i = { ...policyInputsOf({}), quiet: true, quiet_start: 8, quiet_end: 8 };
  expect(checkPolicy(i)).toStrictEqual({ quiet_hours: "From and until must be different hours." });
  expect(checkPolicy({ ...i, quiet: false })).toStrictEqual({});
  expect(checkPolicy({ ...i, quiet_end: 24 })).toStrictEqual({ quiet_hours: "Choose hours from 00:00 to 23:00." });
  expect(checkPolicy({ ...i, quiet_start: 21 })).toStrictEqual({});
});

test("transparency needs an organisation; lengths are counted in characters as the server counts them", () => {
  const on: PolicyInputs = { ...policyInputsOf({}), transparency: true, organisation: "   " };
  expect(checkPolicy(on)).toStrictEqual({ "transparency.organisation": "Name the organisation responsible for the messages." });
  expect(checkPolicy({ ...on, transparency: false })).toStrictEqual({});
  // 200 "é" (400 bytes) and 200 "😀" (two UTF-16 units each) are allowed; 201 are not.
  expect(checkPolicy({ ...on, organisation: "é".repeat(200) })).toStrictEqual({});
  expect(checkPolicy({ ...on, organisation: "😀".repeat(200) })).toStrictEqual({});
  expect(checkPolicy({ ...on, organisation: "é".repeat(201) })["transparency.organisation"]).toBe("At most 200 characters.");
  expect(checkPolicy({ ...on, organisation: "Acme", statement: "x".repeat(5001) })).toStrictEqual({ "transparency.statement": "At most 5000 characters (5001 now)." });
  expect(checkPolicy({ ...on, organisation: "Acme", privacy_contact: "x".repeat(301) })).toStrictEqual({ "transparency.privacy_contact": "At most 300 characters." });
});

test("the time zone is left to the server", () => {
  expect(checkPolicy({ ...policyInputsOf({}), timezone: "Mars/Olympus" })).toStrictEqual({});
});

test("problem paths find their field: dots, slashes, indexes, or the nearest field above", () => {
  expect(fieldOfPath("default_timezone")).toBe("default_timezone");
  expect(fieldOfPath("/transparency/organisation")).toBe("transparency.organisation");
  expect(fieldOfPath("quiet_hours.start_hour")).toBe("quiet_hours");
  expect(fieldOfPath("caps.email.per_day")).toBe("caps.email.per_day");
  expect(fieldOfPath("caps[email].per_week")).toBe("caps.email.per_week");
  expect(fieldOfPath("caps.fax")).toBe("caps");
  expect(fieldOfPath("transparency.colour")).toBe("transparency");
  expect(fieldOfPath("body")).toBeNull();
  expect(fieldOfPath("postal_address")).toBeNull();
});

test("a 422 puts the API's message at its field and leaves the rest for the box", () => {
  const tz = new ApiError({ title: "Invalid", status: 422, detail: "x", errors: [{ path: "default_timezone", message: '"Mars/Olympus" is not an IANA time zone like "Europe/Berlin"' }] });
  expect(placePolicyProblems(tz)).toStrictEqual({ fields: { default_timezone: '"Mars/Olympus" is not an IANA time zone like "Europe/Berlin"' }, rest: null });

  const body = new ApiError({ title: "Invalid", status: 422, detail: "body: invalid type", errors: [{ path: "body", message: "invalid type: string, expected u32" }] });
  const p = placePolicyProblems(body);
  expect(p.fields).toStrictEqual({});
  expect((p.rest as ApiError).problem.errors).toStrictEqual([{ path: "body", message: "invalid type: string, expected u32" }]);

  // Not an API problem at all (the network): the box.
  const down = new Error("offline");
  expect(placePolicyProblems(down)).toStrictEqual({ fields: {}, rest: down });
});

test("nothing changed until an input says something the document does not", () => {
  const i = policyInputsOf(full);
  expect(isChanged(full, i)).toBe(false);
  expect(isChanged(full, withCap(i, "email", "per_day", "3", false))).toBe(true);
  // Hours chosen while quiet hours are off change nothing.
  const off: SettingsDoc = { ...full, quiet_hours: null };
  expect(isChanged(off, { ...policyInputsOf(off), quiet_start: 1 })).toBe(false);
  // Fields typed while transparency is off change nothing either.
  const none: SettingsDoc = { ...full, transparency: null };
  expect(isChanged(none, { ...policyInputsOf(none), organisation: "Someone" })).toBe(false);
  expect(isChanged(none, { ...policyInputsOf(none), organisation: "Someone", transparency: true })).toBe(true);
});

test("the quiet-hours sentence says the hours, whether they wrap midnight, and how long", () => {
  expect(hourLabel(8)).toBe("08:00");
  expect(hourLabel(21)).toBe("21:00");
  expect(quietSentence({ quiet: true, quiet_start: 21, quiet_end: 8 })).toBe(
    "Marketing messages wait from 21:00 until 08:00 the next day in each contact's time zone (11 hours a day). Transactional messages are never held.",
  );
  expect(quietSentence({ quiet: true, quiet_start: 12, quiet_end: 13 })).toBe(
    "Marketing messages wait from 12:00 until 13:00 in each contact's time zone (1 hour a day). Transactional messages are never held.",
  );
  expect(quietSentence({ quiet: false, quiet_start: 21, quiet_end: 8 })).toBe("Marketing messages go out at any hour.");
  expect(quietSentence({ quiet: true, quiet_start: 5, quiet_end: 5 })).toBe("Choose two different hours.");
});

test("the time zones suggested are the runtime's, with UTC, and none where it has no list", () => {
  const zones = timeZoneChoices();
  expect(zones).toContain("Europe/Berlin");
  expect(zones).toContain("UTC");
  expect(timeZoneChoices(() => ["Europe/Paris"])).toStrictEqual(["Europe/Paris", "UTC"]);
  expect(
    timeZoneChoices(() => {
      throw new RangeError("unsupported");
    }),
  ).toStrictEqual(["UTC"]);
});

test("a field's message goes once its input is edited; the others stay", () => {
  const before = { ...policyInputsOf(full), quiet_start: 8, quiet_end: 8 };
  const errors = { "caps.email.per_day": "Must be 0 or more.", quiet_hours: "From and until must be different hours.", default_timezone: "unknown", body: "bad" };
  expect(standingErrors(errors, before, { ...before, quiet_start: 21 })).toStrictEqual({ "caps.email.per_day": "Must be 0 or more.", default_timezone: "unknown", body: "bad" });
  expect(standingErrors(errors, before, withCap(before, "email", "per_day", "3", false))).toStrictEqual({
    quiet_hours: "From and until must be different hours.",
    default_timezone: "unknown",
    body: "bad",
  });
  // Another channel's cap leaves the message alone; so does retyping the same time zone.
  expect(standingErrors(errors, before, withCap(before, "sms", "per_day", "2", false))).toStrictEqual(errors);
  expect(standingErrors(errors, before, { ...before, timezone: before.timezone })).toStrictEqual(errors);
  expect(standingErrors({ "transparency.organisation": "Name it." }, before, { ...before, organisation: "Acme" })).toStrictEqual({});
});
