// Settings → Sending policy, the pure part: the wire shape of
// GET/PUT /api/v1/settings (frequency caps per channel, quiet hours, the
// default time zone, transparency, and the postal address edited on another
// tab), the form's inputs read from it and the whole document written back
// with every key the form does not edit kept, the checks made before
// sending (whole numbers of 0 or more, two different hours, an organisation
// named; the server checks the time zone, the browser's list of zones being
// no authority), where each of the server's messages goes, and the sentence
// that explains quiet hours. Unit tested.
import { ApiError, formProblems } from "../api";
import { CHANNELS, channelLabel } from "./consentTextModel";

export { CHANNELS, channelLabel };
export type Channel = (typeof CHANNELS)[number];
export const WINDOWS = ["per_day", "per_week"] as const;
export type CapWindow = (typeof WINDOWS)[number];

/** One channel's limits on marketing messages per contact; none: no limit. */
export interface FrequencyCap {
  per_day?: number | null;
  per_week?: number | null;
}

/** Local hours during which marketing waits: from `start_hour` until `end_hour` (may wrap midnight). */
export interface QuietHours {
  start_hour: number;
  end_hour: number;
}

export interface Transparency {
  organisation: string;
  disclose_automation: boolean;
  public_page: boolean;
  privacy_contact: string | null;
  statement: string | null;
}

/** GET/PUT /api/v1/settings: validated as a whole on every PUT. */
export interface SettingsDoc {
  caps?: Partial<Record<string, FrequencyCap>>;
  quiet_hours?: QuietHours | null;
  default_timezone?: string | null;
  postal_address?: string | null;
  transparency?: Transparency | null;
  [key: string]: unknown;
}

/** The form's inputs: numbers as typed (empty: no cap), the parts that may be off with their switch. */
export interface PolicyInputs {
  caps: Record<Channel, Record<CapWindow, string>>;
  /** Caps the browser could not read as a number ("1e", say): a number input then reports "". */
  unreadable: string[];
  quiet: boolean;
  quiet_start: number;
  quiet_end: number;
  timezone: string;
  /** Off: no transparency settings at all (null); the fields below are kept to switch back. */
  transparency: boolean;
  organisation: string;
  disclose_automation: boolean;
  public_page: boolean;
  privacy_contact: string;
  statement: string;
}

/** The key of a cap's input, as errors name it: `caps.email.per_day`. */
export const capKey = (channel: string, window: CapWindow) => `caps.${channel}.${window}`;

/** Every input a message may be placed at; a message for another path goes to the nearest of these above it, or the box. */
export const POLICY_FIELDS: readonly string[] = [
  "caps",
  ...CHANNELS.flatMap((c) => WINDOWS.map((w) => capKey(c, w))),
  "quiet_hours",
  "default_timezone",
  "transparency",
  "transparency.organisation",
  "transparency.privacy_contact",
  "transparency.statement",
];

/** Quiet hours offered when they are switched on for the first time: the evening until the morning. */
export const DEFAULT_QUIET: QuietHours = { start_hour: 21, end_hour: 8 };

/** The server's limits, in characters (code points) as it counts them. */
export const ORGANISATION_MAX = 200;
export const STATEMENT_MAX = 5000;
export const CONTACT_MAX = 300;
const CAP_MAX = 4_294_967_295;

export function policyInputsOf(doc: SettingsDoc): PolicyInputs {
  const caps = {} as PolicyInputs["caps"];
  for (const c of CHANNELS) {
    const cap = doc.caps?.[c];
    caps[c] = { per_day: cap?.per_day == null ? "" : String(cap.per_day), per_week: cap?.per_week == null ? "" : String(cap.per_week) };
  }
  const q = doc.quiet_hours ?? null;
  const t = doc.transparency ?? null;
  return {
    caps,
    unreadable: [],
    quiet: q !== null,
    quiet_start: q?.start_hour ?? DEFAULT_QUIET.start_hour,
    quiet_end: q?.end_hour ?? DEFAULT_QUIET.end_hour,
    timezone: doc.default_timezone ?? "",
    transparency: t !== null,
    organisation: t?.organisation ?? "",
    disclose_automation: t?.disclose_automation ?? false,
    public_page: t?.public_page ?? false,
    privacy_contact: t?.privacy_contact ?? "",
    statement: t?.statement ?? "",
  };
}

/** A cap's typed text as the document holds it: a whole number, null for empty (no cap), else the text as typed
 * (which `checkPolicy` refuses before it is sent). */
function capOf(text: string): number | string | null {
  const t = text.trim();
  return t === "" ? null : /^\d+$/.test(t) ? Number(t) : t;
}

/** The PATCH body (a JSON Merge Patch): this form's settings only, so the postal address and any key the form does
 * not know stay as the server has them (a change saved meanwhile elsewhere is not undone). Channels without a cap
 * are null (lifting a stored one); empty optional texts are null. */
export function policyChangesOf(i: PolicyInputs): Record<string, unknown> {
  // A merge patch: a channel without caps is null, which lifts any stored.
  const caps: Record<string, { per_day: number | string | null; per_week: number | string | null } | null> = {};
  for (const c of CHANNELS) {
    const per_day = capOf(i.caps[c].per_day);
    const per_week = capOf(i.caps[c].per_week);
    caps[c] = per_day !== null || per_week !== null ? { per_day, per_week } : null;
  }
  const blank = (s: string) => (s.trim() === "" ? null : s.trim());
  return {
    caps,
    quiet_hours: i.quiet ? { start_hour: i.quiet_start, end_hour: i.quiet_end } : null,
    default_timezone: blank(i.timezone),
    transparency: i.transparency
      ? {
          organisation: i.organisation.trim(),
          disclose_automation: i.disclose_automation,
          public_page: i.public_page,
          privacy_contact: blank(i.privacy_contact),
          // The statement is the organisation's own words: kept as typed, only an empty one is none.
          statement: i.statement.trim() === "" ? null : i.statement,
        }
      : null,
  };
}

const chars = (s: string) => [...s].length;

/** What is wrong with the inputs before the server is asked, by field (empty: nothing). The time zone is left to the server. */
export function checkPolicy(i: PolicyInputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of CHANNELS)
    for (const w of WINDOWS) {
      const key = capKey(c, w);
      const t = i.caps[c][w].trim();
      if (i.unreadable.includes(key)) out[key] = "Enter a whole number, or leave empty for no cap.";
      else if (t === "") continue;
      else if (/^-/.test(t)) out[key] = "Must be 0 or more.";
      else if (!/^\d+$/.test(t)) out[key] = "Enter a whole number, or leave empty for no cap.";
      else if (Number(t) > CAP_MAX) out[key] = "Too large: leave empty for no cap.";
    }
  if (i.quiet) {
    const ok = (h: number) => Number.isInteger(h) && h >= 0 && h <= 23;
    if (!ok(i.quiet_start) || !ok(i.quiet_end)) out.quiet_hours = "Choose hours from 00:00 to 23:00.";
    else if (i.quiet_start === i.quiet_end) out.quiet_hours = "From and until must be different hours.";
  }
  if (i.transparency) {
    const org = i.organisation.trim();
    if (org === "") out["transparency.organisation"] = "Name the organisation responsible for the messages.";
    else if (chars(org) > ORGANISATION_MAX) out["transparency.organisation"] = `At most ${ORGANISATION_MAX} characters.`;
    if (chars(i.privacy_contact.trim()) > CONTACT_MAX) out["transparency.privacy_contact"] = `At most ${CONTACT_MAX} characters.`;
    if (chars(i.statement) > STATEMENT_MAX) out["transparency.statement"] = `At most ${STATEMENT_MAX} characters (${chars(i.statement)} now).`;
  }
  return out;
}

/** A problem path as the form names fields: JSON-pointer slashes and `[n]` as dots, then up to the nearest field there is. */
export function fieldOfPath(path: string): string | null {
  let p = path.replace(/^\//, "").replace(/\//g, ".").replace(/\[(\w+)\]/g, ".$1");
  for (;;) {
    if (POLICY_FIELDS.includes(p)) return p;
    const dot = p.lastIndexOf(".");
    if (dot < 0) return null;
    p = p.slice(0, dot);
  }
}

/** A refused save split for showing: each message at its field (the API's message as it said it), the rest for the box. */
export function placePolicyProblems(e: unknown): { fields: Record<string, string>; rest: unknown } {
  if (!(e instanceof ApiError) || !e.problem.errors) return formProblems(e, POLICY_FIELDS);
  const errors = e.problem.errors.map((x) => ({ ...x, path: fieldOfPath(x.path) ?? x.path }));
  return formProblems(new ApiError({ ...e.problem, errors }), POLICY_FIELDS);
}

/** An hour as the selects and sentences show it: "08:00". */
export const hourLabel = (h: number) => `${String(h).padStart(2, "0")}:00`;

/** What quiet hours do, in a sentence. */
export function quietSentence(i: Pick<PolicyInputs, "quiet" | "quiet_start" | "quiet_end">): string {
  if (!i.quiet) return "Marketing messages go out at any hour.";
  if (i.quiet_start === i.quiet_end) return "Choose two different hours.";
  const next = i.quiet_end < i.quiet_start ? " the next day" : "";
  const hours = (i.quiet_end - i.quiet_start + 24) % 24;
  return (
    `Marketing messages wait from ${hourLabel(i.quiet_start)} until ${hourLabel(i.quiet_end)}${next} in each contact's time zone ` +
    `(${hours} ${hours === 1 ? "hour" : "hours"} a day). Transactional messages are never held.`
  );
}

/** The time zones to suggest: the browser's list where it has one, with UTC. Any IANA zone the server knows may be typed. */
export function timeZoneChoices(supported: () => string[] = () => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [])): string[] {
  let zones: string[];
  try {
    zones = supported();
  } catch {
    zones = [];
  }
  return zones.includes("UTC") ? zones : [...zones, "UTC"];
}

/** Whether saving the inputs would change the saved document (fields kept while their part is off change nothing). */
export function isChanged(saved: SettingsDoc, i: PolicyInputs): boolean {
  return i.unreadable.length > 0 || JSON.stringify(policyChangesOf(i)) !== JSON.stringify(policyChangesOf(policyInputsOf(saved)));
}

/** A cap's input with the browser's reading of it: a number input that cannot read what was typed reports "" and `bad`. */
export function withCap(i: PolicyInputs, channel: Channel, window: CapWindow, text: string, bad: boolean): PolicyInputs {
  const key = capKey(channel, window);
  const unreadable = i.unreadable.filter((k) => k !== key);
  return { ...i, caps: { ...i.caps, [channel]: { ...i.caps[channel], [window]: text } }, unreadable: bad ? [...unreadable, key] : unreadable };
}

/** The value of the inputs a field's message is about, to tell whether it was edited since. */
function valueOf(i: PolicyInputs, field: string): unknown {
  const cap = /^caps\.(\w+)\.(per_day|per_week)$/.exec(field);
  if (cap) return [i.caps[cap[1] as Channel]?.[cap[2] as CapWindow], i.unreadable.includes(field)];
  switch (field) {
    case "caps":
      return [i.caps, i.unreadable];
    case "quiet_hours":
      return [i.quiet, i.quiet_start, i.quiet_end];
    case "default_timezone":
      return i.timezone;
    case "transparency":
      return i.transparency;
    case "transparency.organisation":
      return [i.transparency, i.organisation];
    case "transparency.privacy_contact":
      return [i.transparency, i.privacy_contact];
    case "transparency.statement":
      return [i.transparency, i.statement];
    default:
      return undefined;
  }
}

/** The messages still standing after an edit from `before` to `after`: a field's message goes once its input changes. */
export function standingErrors(errors: Record<string, string>, before: PolicyInputs, after: PolicyInputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors))
    if (JSON.stringify(valueOf(before, field)) === JSON.stringify(valueOf(after, field))) out[field] = message;
  return out;
}
