// Unit tests of Settings → Email delivery: where email goes now (the
// workspace's own relay, the server's relay, capture, nothing, a problem),
// the relay's security and address, the sending limits, a connection check's
// outcome; and the relay form: default ports, its
// inputs from the stored relay, the request body, the plain-text warning.
import { expect, test } from "vitest";
import {
  checkSummary,
  defaultPort,
  describeRoute,
  formatMs,
  isLocalHost,
  kindLabel,
  limitsLabel,
  plainTextWarning,
  relayAddress,
  relayBodyOf,
  relayChanged,
  relayInputsOf,
  SECURITY_CHOICES,
  securityLabel,
  type WorkspaceRelay,
} from "../../src/settings/transportModel";

const RELAY = { host: "smtp.example.com", port: 587, security: "starttls" as const, user: "mailer" };
const STORED: WorkspaceRelay = { ...RELAY, password_set: true, updated_at: 1_765_000_000_000, updated_by: "user:ann@example.com", problem: null };

test("capture says email stays in the outbox and points there", () => {
  const r = describeRoute({ kind: "capture", problem: null, relay: null, source: "server" });
  expect(r.title).toBe("Email is kept in the outbox and not sent");
  expect(r.tone).toBe("warn");
  expect(r.outbox).toBe(true);
});

test("the server's problem is shown as it said it, as a sentence", () => {
  const r = describeRoute({ kind: "smtp", problem: "the SMTP URL is not usable: bad port", relay: null, source: "server" });
  expect(r).toStrictEqual({ tone: "problem", title: "Email cannot be sent", detail: "The SMTP URL is not usable: bad port.", outbox: false });
  expect(describeRoute({ kind: "disabled", problem: "no transport is configured: sends fail", relay: null }).title).toBe("Email is not sent: no transport is configured");
  expect(describeRoute({ kind: "disabled", problem: "it stopped.", relay: null }).detail).toBe("It stopped.");
  const none = describeRoute({ kind: "disabled", problem: null, relay: null });
  expect([none.tone, none.outbox]).toStrictEqual(["warn", false]);
});

test("a working relay says whose it is and where", () => {
  const server = describeRoute({ kind: "smtp", problem: null, relay: RELAY, source: "server" });
  expect(server.tone).toBe("ok");
  expect(server.title).toBe("Email goes through the server's SMTP relay");
  expect(server.detail).toContain("smtp.example.com:587");
  const own = describeRoute({ kind: "smtp", problem: null, relay: RELAY, source: "workspace" });
  expect(own.title).toBe("Email goes through this workspace's own SMTP relay");
  expect(own.detail).toContain("smtp.example.com:587");
});

test("the workspace's own relay with a problem is named as such, with the problem", () => {
  const r = describeRoute({ kind: "smtp", problem: "the workspace's SMTP password cannot be decrypted", relay: RELAY, source: "workspace" });
  expect(r.tone).toBe("problem");
  expect(r.title).toBe("Email cannot be sent: this workspace's own SMTP relay is not usable");
  expect(r.detail).toBe("The workspace's SMTP password cannot be decrypted.");
});

test("labels: kind, security, address with IPv6 in brackets", () => {
  expect(kindLabel("smtp")).toBe("SMTP relay");
  expect(kindLabel("something-new")).toBe("something-new");
  expect(securityLabel("starttls")).toBe("STARTTLS, required");
  expect(securityLabel("starttls_if_offered")).toBe("STARTTLS when the relay offers it");
  expect(relayAddress({ host: "smtp.example.com", port: 587, security: "starttls", user: "u" })).toBe("smtp.example.com:587");
  expect(relayAddress({ host: "::1", port: 25, security: "none", user: null })).toBe("[::1]:25");
});

test("limits are counted in words, singular for one", () => {
  expect(limitsLabel({ per_domain_concurrency: 8, per_domain_rate: null })).toBe("8 connections at once, no rate limit, per recipient domain");
  expect(limitsLabel({ per_domain_concurrency: 1, per_domain_rate: 1 })).toBe("1 connection at once, at most 1 message a second, per recipient domain");
  expect(limitsLabel({ per_domain_concurrency: 2, per_domain_rate: 0.5 })).toBe("2 connections at once, at most 0.5 messages a second, per recipient domain");
});

test("a check's outcome: server, encryption, login, time; or the error", () => {
  expect(checkSummary({ ok: true, server: "mx.example.com", encrypted: true, authenticated: true, elapsed_ms: 35.8 })).toStrictEqual({
    ok: true,
    title: "Connected to mx.example.com",
    facts: ["Encrypted (TLS)", "Logged in", "Took 36 ms"],
  });
  expect(checkSummary({ ok: true, server: "", encrypted: false, authenticated: false, elapsed_ms: 1500 }).facts).toStrictEqual(["Not encrypted", "Not logged in", "Took 1.5 s"]);
  expect(checkSummary({ ok: false, error: "email is captured, not sent" })).toStrictEqual({ ok: false, title: "The connection failed", facts: ["Email is captured, not sent"] });
  expect(formatMs(0.2)).toBe("1 ms");
  // An error that begins with the relay's name keeps it as it is.
  expect(checkSummary({ ok: false, error: "localhost:2525: authentication failed" }).facts).toStrictEqual(["localhost:2525: authentication failed"]);
  expect(checkSummary({ ok: false, error: "smtp.example.com: connection refused" }).facts).toStrictEqual(["smtp.example.com: connection refused"]);
});

test("default ports follow the security, as the server applies them", () => {
  expect(defaultPort("none")).toBe(25);
  expect(defaultPort("starttls")).toBe(587);
  expect(defaultPort("starttls_if_offered")).toBe(587);
  expect(defaultPort("tls")).toBe(465);
  // Every choice is offered, STARTTLS (required) first, in plain words.
  expect(SECURITY_CHOICES.map((c) => c.value)).toStrictEqual(["starttls", "tls", "starttls_if_offered", "none"]);
  expect(SECURITY_CHOICES.map((c) => c.label)).toStrictEqual([
    "STARTTLS (required)",
    "TLS from the start (port 465)",
    "STARTTLS if offered",
    "None — only for a relay on this machine",
  ]);
});

test("the form starts empty on STARTTLS, or from the stored relay without its password", () => {
  expect(relayInputsOf(null)).toStrictEqual({ host: "", port: "", security: "starttls", user: "", password: "" });
  // The default port is left empty so that it follows a change of security…
  expect(relayInputsOf(STORED)).toStrictEqual({ host: "smtp.example.com", port: "", security: "starttls", user: "mailer", password: "" });
  // …another one is shown.
  expect(relayInputsOf({ ...STORED, port: 2525, user: null }).port).toBe("2525");
  expect(relayInputsOf({ ...STORED, port: 587, security: "tls" }).port).toBe("587");
  expect(relayInputsOf({ ...STORED, user: null }).user).toBe("");
});

test("the body: trimmed host and user, port only when typed, password only when typed and as typed", () => {
  expect(relayBodyOf({ host: " smtp.example.com ", port: "", security: "starttls", user: " mailer ", password: "" })).toStrictEqual({
    host: "smtp.example.com",
    security: "starttls",
    user: "mailer",
  });
  expect(relayBodyOf({ host: "localhost", port: " 2525 ", security: "none", user: "", password: "" })).toStrictEqual({
    host: "localhost",
    port: 2525,
    security: "none",
    user: null,
  });
  // A password keeps its spaces; a port that is not a number goes as typed, for the server to name.
  expect(relayBodyOf({ host: "h", port: "25x", security: "tls", user: "u", password: " pass word " })).toStrictEqual({
    host: "h",
    port: "25x",
    security: "tls",
    user: "u",
    password: " pass word ",
  });
  // A password without a user is sent, so that the server says the user is missing.
  expect(relayBodyOf({ host: "h", port: "", security: "tls", user: "  ", password: "p" })).toStrictEqual({ host: "h", security: "tls", user: null, password: "p" });
});

test("this machine: localhost, 127/8 and ::1, bracketed or not", () => {
  for (const h of ["localhost", "LOCALHOST", "mail.localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", " localhost. "]) expect(isLocalHost(h), h).toBe(true);
  for (const h of ["smtp.example.com", "10.0.0.5", "128.0.0.1", "localhost.example.com", "::2", "127.0.0.1.example.com", ""]) expect(isLocalHost(h), h).toBe(false);
});

test("no encryption to another machine is warned about, naming the login when there is one", () => {
  expect(plainTextWarning({ host: "smtp.example.com", security: "none", user: "" })).toMatch(/^Without encryption, every message crosses the network to smtp.example.com in plain text\./);
  expect(plainTextWarning({ host: "smtp.example.com", security: "none", user: "mailer" })).toMatch(/the login, its password and every message cross the network/);
  expect(plainTextWarning({ host: "127.0.0.1", security: "none", user: "mailer" })).toBeNull();
  expect(plainTextWarning({ host: "", security: "none", user: "" })).toBeNull();
  for (const security of ["starttls", "starttls_if_offered", "tls"] as const) expect(plainTextWarning({ host: "smtp.example.com", security, user: "" })).toBeNull();
});

test("what Save would change, against the stored relay or none", () => {
  expect(relayChanged(relayInputsOf(null), null)).toBe(false);
  expect(relayChanged({ ...relayInputsOf(null), host: "smtp.example.com" }, null)).toBe(true);
  const same = relayInputsOf(STORED);
  expect(relayChanged(same, STORED)).toBe(false);
  // The default port typed out is the same relay.
  expect(relayChanged({ ...same, port: "587" }, STORED)).toBe(false);
  expect(relayChanged({ ...same, port: "2525" }, STORED)).toBe(true);
  expect(relayChanged({ ...same, security: "tls" }, STORED)).toBe(true);
  expect(relayChanged({ ...same, user: "" }, STORED)).toBe(true);
  expect(relayChanged({ ...same, password: "new" }, STORED)).toBe(true);
});
