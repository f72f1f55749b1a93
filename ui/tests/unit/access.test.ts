// Unit tests of the UI's access logic: the permission check and the
// navigation it filters, the role rules the members page mirrors, the
// wording of sign-in refusals, and the audit query and key expiry the
// settings pages send.
import { expect, test } from "vitest";
import { allowedItems, assignableRoles, auditQuery, can, endOfDay, NAV, roleRefusal, SETTINGS_NAV, signInRefusal, type SessionView } from "../../src/access";

const session = (role: string, permissions: string[], principal: "user" | "key" = "user"): SessionView => ({
  principal,
  workspace: { id: "w1", name: "Demo", role },
  role,
  permissions,
  workspaces: [],
});
// As the server gives them (kairos-core access.rs).
const analyst = session("analyst", ["session", "marketing:read", "reports:read", "settings:read"]);
const compliance = session("compliance", ["session", "people:read", "marketing:read", "reports:read", "consent:read", "consent:write", "privacy:rights", "audit:read", "settings:read"]);
const ALL = ["session", "people:read", "people:write", "marketing:read", "marketing:write", "reports:read", "consent:read", "consent:write", "privacy:rights", "audit:read", "settings:read", "settings:write", "members"];

test("can answers from the session's permissions, and nothing without a session", () => {
  expect(can(analyst, "marketing:read")).toBe(true);
  expect(can(analyst, "people:read")).toBe(false);
  expect(can(null, "session")).toBe(false);
  expect(can(undefined, "reports:read")).toBe(false);
});

test("the navigation shows each role only what it may open", () => {
  const labels = (s: SessionView) => allowedItems(s, NAV).map((i) => i.label);
  expect(labels(analyst)).toStrictEqual(["Dashboard", "Segments", "Scores", "Models", "Journeys", "Campaigns", "Email templates", "Reports", "Settings"]);
  expect(labels(compliance)).toStrictEqual(["Dashboard", "Contacts", "Segments", "Scores", "Models", "Journeys", "Campaigns", "Email templates", "Reports", "Outbox", "Settings"]);
  expect(labels(session("owner", ALL))).toStrictEqual(NAV.map((i) => i.label));
});

test("settings sections follow the role, and the password only for people who signed in with one", () => {
  const labels = (s: SessionView) => allowedItems(s, SETTINGS_NAV).map((i) => i.label);
  expect(labels(analyst)).toStrictEqual(["Email & address", "Email delivery", "Sending policy", "Consent texts", "Password"]);
  expect(labels(compliance)).toStrictEqual(["Email & address", "Email delivery", "Sending policy", "Forms", "Consent texts", "Retention", "Audit log", "Password"]);
  expect(labels(session("admin", ALL))).toStrictEqual(["Email & address", "Email delivery", "Sending policy", "Members", "API keys", "Forms", "Consent texts", "Retention", "Audit log", "Password"]);
  expect(labels(session("admin", ALL, "key"))).toStrictEqual(["Email & address", "Email delivery", "Sending policy", "Members", "API keys", "Forms", "Consent texts", "Retention", "Audit log"]);
});

test("owners assign every role, admins all but owner, others none", () => {
  expect(assignableRoles("owner")).toStrictEqual(["owner", "admin", "marketer", "analyst", "compliance"]);
  expect(assignableRoles("admin")).toStrictEqual(["admin", "marketer", "analyst", "compliance"]);
  expect(assignableRoles("marketer")).toStrictEqual([]);
  expect(assignableRoles("nonsense")).toStrictEqual([]);
});

test("a refused page names the role and what it cannot do", () => {
  expect(roleRefusal("analyst", "view contacts")).toBe("Your role (analyst) cannot view contacts.");
});

test("sign-in refusals are told apart: wrong password, locked with the time, too many from the address", () => {
  expect(signInRefusal(401, "wrong email or password").title).toBe("Wrong email or password");
  const at = new Date(Date.UTC(2026, 10, 29, 10, 45));
  const locked = signInRefusal(
    429,
    `this account is locked after 5 failed sign-ins; try again in 15 minutes (at ${at.toISOString().replace(".000Z", "+00:00")}) or ask an admin to unlock it`,
  );
  const local = at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  expect(locked.title).toBe(`This account is locked until ${local}`);
  expect(locked.detail).toMatch(/unlock/);
  const address = signInRefusal(429, "too many failed sign-ins from this address; wait 15 minutes");
  expect(address.title).toBe("Too many failed sign-ins from this computer");
  expect(address.detail).toBe("Too many failed sign-ins from this address; wait 15 minutes.");
  expect(signInRefusal(0, "offline").title).toBe("The server cannot be reached");
  expect(signInRefusal(403, "you are not a member of any workspace")).toStrictEqual({ title: "Sign-in failed", detail: "you are not a member of any workspace" });
});

test("audit filters become the API's query; empty ones are left out", () => {
  expect(auditQuery({ action: "", who: "", since: "", until: "" })).toBe("");
  const q = new URLSearchParams(auditQuery({ action: " member. ", who: "user:a@b.c", since: "2026-11-29T10:00", until: "" }, { limit: "50", cursor: "1:x" }));
  expect(q.get("action")).toBe("member.");
  expect(q.get("who")).toBe("user:a@b.c");
  expect(q.get("since")).toBe(new Date("2026-11-29T10:00").toISOString());
  expect(q.has("until")).toBe(false);
  expect(q.get("limit")).toBe("50");
  expect(q.get("cursor")).toBe("1:x");
  expect(new URLSearchParams(auditQuery({ action: "", who: "", since: "not a time", until: "" })).has("since")).toBe(false);
});

test("a key's expiry date means the end of that day, local time", () => {
  expect(endOfDay("")).toBe(null);
  expect(endOfDay("nonsense")).toBe(null);
  const t = new Date(endOfDay("2026-12-31")!);
  expect([t.getFullYear(), t.getMonth(), t.getDate(), t.getHours(), t.getMinutes()]).toStrictEqual([2026, 11, 31, 23, 59]);
});
