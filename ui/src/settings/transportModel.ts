// Settings → Email delivery, the pure part: the wire shapes of
// GET /api/v1/settings/email-transport and its connection check, and how
// they are worded on the page (what is in effect, what keeps email from
// going out, a check's outcome). Unit tested.

export type TransportKind = "disabled" | "capture" | "smtp";
export type RelaySecurity = "none" | "starttls" | "starttls_if_offered" | "tls";

export interface RelayInfo {
  host: string;
  port: number;
  security: RelaySecurity;
  user: string | null;
}

/** GET /api/v1/settings/email-transport */
export interface TransportView {
  kind: TransportKind;
  relay: RelayInfo | null;
  problem: string | null;
  public_url: string;
  per_domain_concurrency: number;
  per_domain_rate: number | null;
  pool_size: number;
  extra_ca: boolean;
}

/** POST /api/v1/settings/email-transport/check */
export type TransportCheck =
  | { ok: true; server: string; encrypted: boolean; authenticated: boolean; elapsed_ms: number }
  | { ok: false; error: string };

/** The transport's name as the page heads it. */
export function kindLabel(kind: TransportKind | string): string {
  if (kind === "smtp") return "SMTP relay";
  if (kind === "capture") return "Captured, not sent";
  if (kind === "disabled") return "Not configured";
  return kind;
}

/** The relay's connection security in words. */
export function securityLabel(s: RelaySecurity | string): string {
  switch (s) {
    case "none":
      return "None (plain text; only for a relay on this machine)";
    case "starttls":
      return "STARTTLS, required";
    case "starttls_if_offered":
      return "STARTTLS when the relay offers it";
    case "tls":
      return "TLS from the start (SMTPS)";
    default:
      return s;
  }
}

/** The relay as one line: "smtp.example.com:587". */
export function relayAddress(r: RelayInfo): string {
  return r.host.includes(":") ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

/** What keeps email from going out, worded for the page, or null when it
 * goes out. Capture is not a server problem (the demo's default) but it
 * means nothing is delivered, so it is said just as plainly. */
export function blocker(v: Pick<TransportView, "kind" | "problem">): { title: string; detail: string; outbox: boolean } | null {
  if (v.problem) {
    const title = v.kind === "disabled" ? "Email is not sent: no transport is configured" : "Email cannot be sent";
    return { title, detail: capitalise(v.problem) + ".", outbox: false };
  }
  if (v.kind === "capture")
    return {
      title: "Email is kept in the outbox and not sent",
      detail: "Every message is rendered and stored so you can look at it, but none leaves this server.",
      outbox: true,
    };
  if (v.kind === "disabled") return { title: "Email is not sent: no transport is configured", detail: "Sends fail until the server is started with a transport.", outbox: false };
  return null;
}

/** The per-domain sending limits in words. */
export function limitsLabel(v: Pick<TransportView, "per_domain_concurrency" | "per_domain_rate">): string {
  const conns = `${v.per_domain_concurrency} ${v.per_domain_concurrency === 1 ? "connection" : "connections"} at once`;
  const rate = v.per_domain_rate === null ? "no rate limit" : `at most ${formatRate(v.per_domain_rate)} ${v.per_domain_rate === 1 ? "message" : "messages"} a second`;
  return `${conns}, ${rate}, per recipient domain`;
}

function formatRate(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** A check's outcome as the page reports it: a headline and its facts. */
export function checkSummary(c: TransportCheck): { ok: boolean; title: string; facts: string[] } {
  if (!c.ok) return { ok: false, title: "The connection failed", facts: [capitalise(c.error)] };
  return {
    ok: true,
    title: `Connected to ${c.server || "the relay"}`,
    facts: [
      c.encrypted ? "Encrypted (TLS)" : "Not encrypted",
      c.authenticated ? "Logged in" : "Not logged in",
      `Took ${formatMs(c.elapsed_ms)}`,
    ],
  };
}

/** Milliseconds as a short duration: "36 ms", "1.2 s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(1, Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
