// Unit tests of the UI's access logic: the permission check and the
// navigation it filters, the role rules the members page mirrors, the
// wording of sign-in refusals, and the audit query and key expiry the
// settings pages send.
import assert from "node:assert/strict";
import { test } from "node:test";
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
  assert.equal(can(analyst, "marketing:read"), true);
  assert.equal(can(analyst, "people:read"), false);
  assert.equal(can(null, "session"), false);
  assert.equal(can(undefined, "reports:read"), false);
});

test("the navigation shows each role only what it may open", () => {
  const labels = (s: SessionView) => allowedItems(s, NAV).map((i) => i.label);
  assert.deepEqual(labels(analyst), ["Dashboard", "Segments", "Scores", "Models", "Journeys", "Campaigns", "Email templates", "Reports", "Settings"]);
  assert.deepEqual(labels(compliance), ["Dashboard", "Contacts", "Segments", "Scores", "Models", "Journeys", "Campaigns", "Email templates", "Reports", "Outbox", "Settings"]);
  assert.deepEqual(labels(session("owner", ALL)), NAV.map((i) => i.label));
});

test("settings sections follow the role, and the password only for people who signed in with one", () => {
  const labels = (s: SessionView) => allowedItems(s, SETTINGS_NAV).map((i) => i.label);
  assert.deepEqual(labels(analyst), ["Email & address", "Password"]);
  assert.deepEqual(labels(compliance), ["Email & address", "Forms", "Retention", "Audit log", "Password"]);
  assert.deepEqual(labels(session("admin", ALL)), ["Email & address", "Members", "API keys", "Forms", "Retention", "Audit log", "Password"]);
  assert.deepEqual(labels(session("admin", ALL, "key")), ["Email & address", "Members", "API keys", "Forms", "Retention", "Audit log"]);
});

test("owners assign every role, admins all but owner, others none", () => {
  assert.deepEqual(assignableRoles("owner"), ["owner", "admin", "marketer", "analyst", "compliance"]);
  assert.deepEqual(assignableRoles("admin"), ["admin", "marketer", "analyst", "compliance"]);
  assert.deepEqual(assignableRoles("marketer"), []);
  assert.deepEqual(assignableRoles("nonsense"), []);
});

test("a refused page names the role and what it cannot do", () => {
  assert.equal(roleRefusal("analyst", "view contacts"), "Your role (analyst) cannot view contacts.");
});

test("sign-in refusals are told apart: wrong password, locked with the time, too many from the address", () => {
  assert.equal(signInRefusal(401, "wrong email or password").title, "Wrong email or password");
  const at = new Date(Date.UTC(2026, 10, 29, 10, 45));
  const locked = signInRefusal(
    429,
    `this account is locked after 5 failed sign-ins; try again in 15 minutes (at ${at.toISOString().replace(".000Z", "+00:00")}) or ask an admin to unlock it`,
  );
  const local = at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  assert.equal(locked.title, `This account is locked until ${local}`);
  assert.match(locked.detail, /unlock/);
  const address = signInRefusal(429, "too many failed sign-ins from this address; wait 15 minutes");
  assert.equal(address.title, "Too many failed sign-ins from this computer");
  assert.equal(address.detail, "Too many failed sign-ins from this address; wait 15 minutes.");
  assert.equal(signInRefusal(0, "offline").title, "The server cannot be reached");
  assert.deepEqual(signInRefusal(403, "you are not a member of any workspace"), { title: "Sign-in failed", detail: "you are not a member of any workspace" });
});

test("audit filters become the API's query; empty ones are left out", () => {
  assert.equal(auditQuery({ action: "", who: "", since: "", until: "" }), "");
  const q = new URLSearchParams(auditQuery({ action: " member. ", who: "user:a@b.c", since: "2026-11-29T10:00", until: "" }, { limit: "50", cursor: "1:x" }));
  assert.equal(q.get("action"), "member.");
  assert.equal(q.get("who"), "user:a@b.c");
  assert.equal(q.get("since"), new Date("2026-11-29T10:00").toISOString());
  assert.equal(q.has("until"), false);
  assert.equal(q.get("limit"), "50");
  assert.equal(q.get("cursor"), "1:x");
  assert.equal(new URLSearchParams(auditQuery({ action: "", who: "", since: "not a time", until: "" })).has("since"), false);
});

test("a key's expiry date means the end of that day, local time", () => {
  assert.equal(endOfDay(""), null);
  assert.equal(endOfDay("nonsense"), null);
  const t = new Date(endOfDay("2026-12-31")!);
  assert.deepEqual([t.getFullYear(), t.getMonth(), t.getDate(), t.getHours(), t.getMinutes()], [2026, 11, 31, 23, 59]);
});
