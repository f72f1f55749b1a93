// Unit tests of Settings → Email delivery's wording: what keeps email from
// going out (a server problem, capture, nothing configured), the relay's
// security and address, the sending limits, and a connection check's outcome.
import { expect, test } from "vitest";
import { blocker, checkSummary, formatMs, kindLabel, limitsLabel, relayAddress, securityLabel } from "../../src/settings/transportModel";

test("capture says email stays in the outbox and points there", () => {
  const b = blocker({ kind: "capture", problem: null });
  expect(b?.title).toBe("Email is kept in the outbox and not sent");
  expect(b?.outbox).toBe(true);
});

test("the server's problem is shown as it said it, capitalised", () => {
  const b = blocker({ kind: "smtp", problem: "the SMTP URL is not usable: bad port" });
  expect(b).toStrictEqual({ title: "Email cannot be sent", detail: "The SMTP URL is not usable: bad port.", outbox: false });
  expect(blocker({ kind: "disabled", problem: "no transport is configured: sends fail" })?.title).toBe("Email is not sent: no transport is configured");
  expect(blocker({ kind: "disabled", problem: null })?.outbox).toBe(false);
});

test("a working relay has nothing in the way", () => {
  expect(blocker({ kind: "smtp", problem: null })).toBeNull();
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
});
