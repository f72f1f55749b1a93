// What the signed-in person may do, as the UI decides what to show: the
// session the server describes (role, permissions, workspaces), the one
// permission check every page and button uses, the navigation (main,
// settings, reports) it filters, the role rules the members page mirrors,
// and the wording of sign-in refusals. Pure, so it is unit
// tested; the server still checks every request.

/** Permission strings as the server names them (kairos-core access.rs). */
export type Permission =
  | "session"
  | "people:read"
  | "people:write"
  | "marketing:read"
  | "marketing:write"
  | "reports:read"
  | "consent:read"
  | "consent:write"
  | "privacy:rights"
  | "audit:read"
  | "settings:read"
  | "settings:write"
  | "members";

export type Role = "owner" | "admin" | "marketer" | "analyst" | "compliance";
export const ROLES: readonly Role[] = ["owner", "admin", "marketer", "analyst", "compliance"];

export interface WorkspaceRole {
  id: string;
  name: string;
  role: string;
}

/** GET /api/v1/auth/session (and the answer to sign-in and switch). */
export interface SessionView {
  principal: "user" | "key";
  user?: { id: string; email: string; name: string };
  key?: string;
  workspace: WorkspaceRole;
  role: string;
  permissions: string[];
  workspaces: WorkspaceRole[];
  csrf_token?: string;
  expires_at?: string | null;
}

export function can(session: Pick<SessionView, "permissions"> | null | undefined, p: Permission): boolean {
  return session?.permissions.includes(p) ?? false;
}

/** The main navigation, each item with the permission without which its page shows nothing. */
export const NAV: readonly { to: string; label: string; need: Permission }[] = [
  { to: "/", label: "Dashboard", need: "reports:read" },
  { to: "/contacts", label: "Contacts", need: "people:read" },
  { to: "/segments", label: "Segments", need: "marketing:read" },
  { to: "/scores", label: "Scores", need: "marketing:read" },
  { to: "/models", label: "Models", need: "reports:read" },
  { to: "/journeys", label: "Journeys", need: "marketing:read" },
  { to: "/email/campaigns", label: "Campaigns", need: "marketing:read" },
  { to: "/email/templates", label: "Email templates", need: "marketing:read" },
  { to: "/reports", label: "Reports", need: "reports:read" },
  { to: "/email/outbox", label: "Outbox", need: "people:read" },
  { to: "/settings", label: "Settings", need: "settings:read" },
];

/** The reports sections, each with the permission it needs (campaigns and journeys are marketing data). */
export const REPORTS_NAV: readonly { to: string; label: string; need: Permission }[] = [
  { to: "/reports", label: "Attribution", need: "reports:read" },
  { to: "/reports/costs", label: "Costs", need: "reports:read" },
  { to: "/reports/email", label: "Campaigns & journeys", need: "marketing:read" },
];

/** The settings sections, each with the permission it needs. */
export const SETTINGS_NAV: readonly { to: string; label: string; need: Permission; userOnly?: boolean }[] = [
  { to: "/settings", label: "Email & address", need: "settings:read" },
  { to: "/settings/email-delivery", label: "Email delivery", need: "settings:read" },
  { to: "/settings/sending", label: "Sending policy", need: "settings:read" },
  { to: "/settings/members", label: "Members", need: "members" },
  { to: "/settings/keys", label: "API keys", need: "members" },
  { to: "/settings/forms", label: "Forms", need: "consent:read" },
  { to: "/settings/consent-texts", label: "Consent texts", need: "marketing:read" },
  { to: "/settings/retention", label: "Retention", need: "privacy:rights" },
  { to: "/settings/audit", label: "Audit log", need: "audit:read" },
  { to: "/settings/password", label: "Password", need: "session", userOnly: true },
];

/** The items of `items` the session may open. */
export function allowedItems<T extends { need: Permission; userOnly?: boolean }>(session: SessionView | null, items: readonly T[]): T[] {
  return items.filter((i) => can(session, i.need) && (!i.userOnly || session?.principal === "user"));
}

/** What a page says to someone whose role cannot open it. */
export function roleRefusal(role: string, what: string): string {
  return `Your role (${role}) cannot ${what}.`;
}

/** The roles someone with `role` may give or take away (mirrors Role::may_assign). */
export function assignableRoles(role: string): Role[] {
  if (role === "owner") return [...ROLES];
  if (role === "admin") return ROLES.filter((r) => r !== "owner");
  return [];
}

/** Why a sign-in was refused, worded for the sign-in page. `status` and
 * `detail` are the refusal's problem document; 0 means no answer. */
export function signInRefusal(status: number, detail: string): { title: string; detail: string } {
  if (status === 401) return { title: "Wrong email or password", detail: "Check both and try again. After 5 wrong tries the account is locked for a while." };
  if (status === 429) {
    // The lock's end is in the detail as "(at <RFC 3339 time>)".
    const at = /\(at ([^)]+)\)/.exec(detail)?.[1];
    const until = at ? new Date(at) : null;
    if (until && !Number.isNaN(until.getTime())) {
      const time = until.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
      return { title: `This account is locked until ${time}`, detail: "Too many wrong passwords. Wait until then, or ask an owner or admin to unlock it under Settings → Members." };
    }
    if (/address/.test(detail)) return { title: "Too many failed sign-ins from this computer", detail: detail ? capitalise(detail) + "." : "" };
    return { title: "Too many attempts", detail };
  }
  if (status === 0) return { title: "The server cannot be reached", detail };
  return { title: "Sign-in failed", detail };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The end of the day `date` (YYYY-MM-DD, from a date input) in local time,
 * as RFC 3339 for the API; null for no date. */
export function endOfDay(date: string): string | null {
  if (!date) return null;
  const d = new Date(`${date}T23:59:59`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export interface AuditFilters {
  action: string;
  who: string;
  /** Local date-times from datetime-local inputs, or "". */
  since: string;
  until: string;
}

/** The query string of an audit request with `filters` (and a page cursor). */
export function auditQuery(f: AuditFilters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.action.trim()) q.set("action", f.action.trim());
  if (f.who.trim()) q.set("who", f.who.trim());
  for (const k of ["since", "until"] as const) {
    const t = f[k] ? new Date(f[k]) : null;
    if (t && !Number.isNaN(t.getTime())) q.set(k, t.toISOString());
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}
