// Settings → Email delivery, the pure part: the wire shapes of
// GET /api/v1/settings/email-transport, of the workspace's own relay and of
// a connection check; how they are worded on the page (where email goes
// now, what keeps it from going out, a check's outcome; who changed the
// relay is named by actors.ts); and the relay form: its inputs from the
// stored relay, the request body from its inputs, the port each security
// implies, and when to warn that nothing is encrypted. Unit tested.

export type TransportKind = "disabled" | "capture" | "smtp";
export type RelaySecurity = "none" | "starttls" | "starttls_if_offered" | "tls";

export interface RelayInfo {
  host: string;
  port: number;
  security: RelaySecurity;
  user: string | null;
}

/** The workspace's own relay as the server shows it (never the password). */
export interface WorkspaceRelay extends RelayInfo {
  password_set: boolean;
  /** Milliseconds since the epoch. */
  updated_at: number;
  /** "user:EMAIL" or "key:PREFIX (NAME)", shown through actorLabel (actors.ts). */
  updated_by: string;
  problem: string | null;
}

/** GET /api/v1/settings/email-transport */
export interface TransportView {
  /** What is in effect for this workspace. */
  kind: TransportKind;
  /** `workspace`: its own relay (`workspace_relay`) is in use; `server`: the operator's transport (`server_kind`). */
  source: "workspace" | "server";
  server_kind: TransportKind;
  /** Where SMTP goes, whichever set it. */
  relay: RelayInfo | null;
  problem: string | null;
  workspace_relay: WorkspaceRelay | null;
  public_url: string;
  per_domain_concurrency: number;
  per_domain_rate: number | null;
  pool_size: number;
  extra_ca: boolean;
  /** False when the operator runs the server with --no-workspace-relays: every send takes the server's transport. */
  workspace_relays_allowed: boolean;
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

/** Where this workspace's email goes now, worded for the top of the page:
 * `ok` when it leaves through a relay, `warn` when it is kept (capture) or
 * nothing is configured, `problem` when the server says it cannot be sent;
 * `outbox` when the captured messages are worth a look. Capture is not a
 * server problem (the demo's default) but it means nothing is delivered, so
 * it is said just as plainly. */
export function describeRoute(
  v: Pick<TransportView, "kind" | "problem" | "relay"> & Partial<Pick<TransportView, "source">>,
): { tone: "ok" | "warn" | "problem"; title: string; detail: string; outbox: boolean } {
  const own = v.source === "workspace";
  const at = v.relay ? relayAddress(v.relay) : "the relay";
  if (v.problem) {
    const title = own
      ? "Email cannot be sent: this workspace's own SMTP relay is not usable"
      : v.kind === "disabled"
        ? "Email is not sent: no transport is configured"
        : "Email cannot be sent";
    return { tone: "problem", title, detail: sentence(v.problem), outbox: false };
  }
  if (own)
    return {
      tone: "ok",
      title: "Email goes through this workspace's own SMTP relay",
      detail: `Every message from this workspace is handed to ${at}, instead of the server's transport.`,
      outbox: false,
    };
  if (v.kind === "smtp")
    return { tone: "ok", title: "Email goes through the server's SMTP relay", detail: `Every message is handed to ${at}, the relay the server was started with.`, outbox: false };
  if (v.kind === "capture")
    return {
      tone: "warn",
      title: "Email is kept in the outbox and not sent",
      detail: "Every message is rendered and stored so you can look at it, but none leaves this server.",
      outbox: true,
    };
  return {
    tone: "warn",
    title: "Email is not sent: no transport is configured",
    detail: "Sends fail until this workspace sets its own relay below or the server is started with a transport.",
    outbox: false,
  };
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

/** `s` with its first letter made a capital when it begins with a plain
 * word: "email is captured…" but not "localhost:2525: …", a name kept as it is. */
function capitalise(s: string): string {
  return /^[a-z]+(\s|,|$)/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** Capitalised, with a full stop unless it ends in one already. */
function sentence(s: string): string {
  const t = capitalise(s.trim());
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

// The relay form.

/** The choices of connection security, in the order offered, in plain words. */
export const SECURITY_CHOICES: readonly { value: RelaySecurity; label: string; help: string }[] = [
  {
    value: "starttls",
    label: "STARTTLS (required)",
    help: "Switches to encryption before logging in or sending, or refuses to go on. Most providers use it, on port 587.",
  },
  { value: "tls", label: "TLS from the start (port 465)", help: "Encrypted from the first byte (SMTPS), usually on port 465." },
  {
    value: "starttls_if_offered",
    label: "STARTTLS if offered",
    help: "Encrypts when the relay offers it, and otherwise sends in plain text: someone on the way can make it do that.",
  },
  { value: "none", label: "None — only for a relay on this machine", help: "Plain text: the login and every message can be read on the way." },
];

/** The port a relay usually listens on for `security`: what the server uses when none is given. */
export function defaultPort(security: RelaySecurity): number {
  switch (security) {
    case "none":
      return 25;
    case "tls":
      return 465;
    default:
      return 587;
  }
}

/** The relay form's inputs, as typed. */
export interface RelayInputs {
  host: string;
  /** Empty: the default port of `security`. */
  port: string;
  security: RelaySecurity;
  user: string;
  /** Empty: keep the stored password (none when none is stored). */
  password: string;
}

/** The inputs the server names in a refused relay's `errors`. */
export const RELAY_FIELDS = ["host", "port", "security", "user", "password"] as const;

/** The form's inputs for the stored relay, or empty (STARTTLS) without one.
 * A port that is the default of its security is left empty, so that it
 * follows a change of security; the password is never known. */
export function relayInputsOf(r: WorkspaceRelay | RelayInfo | null): RelayInputs {
  if (!r) return { host: "", port: "", security: "starttls", user: "", password: "" };
  return { host: r.host, port: r.port === defaultPort(r.security) ? "" : String(r.port), security: r.security, user: r.user ?? "", password: "" };
}

/** The body of PUT …/email-transport/relay and of a check before saving. */
export interface RelayBody {
  host: string;
  /** A number when typed as one; anything else is sent as typed for the server to name. */
  port?: number | string;
  security: RelaySecurity;
  user: string | null;
  password?: string;
}

/** The request body from the form: host and user trimmed (an empty user:
 * no login), the port left out when empty (the server takes the security's
 * default), the password left out when empty (the server keeps the stored
 * one) and otherwise sent as typed, spaces and all. */
export function relayBodyOf(i: RelayInputs): RelayBody {
  const body: RelayBody = { host: i.host.trim(), security: i.security, user: i.user.trim() === "" ? null : i.user.trim() };
  const port = i.port.trim();
  if (port !== "") body.port = /^\d+$/.test(port) ? Number(port) : port;
  if (i.password !== "") body.password = i.password;
  return body;
}

/** Whether `host` is this machine: localhost (or a name under .localhost), 127.0.0.0/8 or ::1. */
export function isLocalHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h === "::1" || h === "0:0:0:0:0:0:0:1";
}

/** The warning under the security choice when nothing is encrypted on the
 * way to another machine, or null (encrypted, or the relay is local, or no
 * host yet). */
export function plainTextWarning(i: Pick<RelayInputs, "host" | "security" | "user">): string | null {
  if (i.security !== "none" || i.host.trim() === "" || isLocalHost(i.host)) return null;
  const what = i.user.trim() !== "" ? "the login, its password and every message cross" : "every message crosses";
  return `Without encryption, ${what} the network to ${i.host.trim()} in plain text. Choose None only for a relay on this machine; otherwise use STARTTLS or TLS.`;
}

/** Whether the form says something other than the stored relay (or, with
 * none stored, anything at all): what "Save relay" would change. */
export function relayChanged(i: RelayInputs, stored: WorkspaceRelay | null): boolean {
  const a = relayBodyOf(i);
  if (!stored) return a.host !== "" || a.user !== null || a.password !== undefined || a.port !== undefined;
  const port = a.port === undefined ? defaultPort(a.security) : a.port;
  return a.host !== stored.host || port !== stored.port || a.security !== stored.security || a.user !== stored.user || a.password !== undefined;
}
