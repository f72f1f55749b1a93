// Broadcast campaigns as the UI handles them: the wire shapes of
// /api/v1/email/campaigns, the editor's form state read from and written
// back to a campaign definition, where each server problem path belongs in
// the form, which actions a campaign's status allows, and the server's
// account of it with its templates named. Pure, so it is unit tested.
import type { EmailTotals } from "./types";
import type { EmailDay, LinkClicks } from "../reports/emailReport";

export type CampaignStatus = "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled";

export interface CampaignDefinition {
  audience?: { segment?: string; list?: string };
  template?: string;
  ab?: { variants: string[]; sample_percent?: number; wait_minutes?: number; metric?: "opens" | "clicks" };
  sender?: string;
  send_at?: string;
  local_time?: string;
  send_time?: "optimised";
  per_minute?: number;
  conversion?: { event: string; days?: number };
}

export interface Campaign {
  id: string;
  name: string;
  definition: CampaignDefinition;
  status: CampaignStatus;
  winner: string | null;
  detail: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface CampaignTotals extends EmailTotals {
  delivered: number;
  soft_bounced: number;
  unsubscribed: number;
}

export interface CampaignReport {
  campaign: string;
  status: CampaignStatus;
  winner: string | null;
  detail: string | null;
  recipients: { total: number; pending: number; done: number; awaiting_winner: number };
  totals: CampaignTotals;
  links: LinkClicks[];
  conversions: { event: string; days: number; converted: number } | null;
  variants: { template: string; totals: CampaignTotals }[];
  /** Per UTC day: messages sent, first opens, first clicks, unsubscribes. */
  series: EmailDay[];
}

/** The editor's state: every input as the marketer sees it (strings for numbers, so a half-typed value stays). */
export interface CampaignForm {
  name: string;
  audienceKind: "segment" | "list";
  audience: string;
  mode: "single" | "ab";
  template: string;
  variants: string[];
  samplePercent: string;
  waitMinutes: string;
  metric: "opens" | "clicks";
  /** "" sends on launch; else a datetime-local value ("2026-12-01T09:00"). */
  sendAt: string;
  localTime: string;
  /** When each recipient gets it: at the start, at a time of their day, or at their best hour. */
  timing: Timing;
  perMinute: string;
  conversionEvent: string;
  conversionDays: string;
  /** Kept as given, since the editor has no sender picker. */
  sender: string;
}

export type Timing = "start" | "local" | "best";

export const EMPTY_FORM: CampaignForm = {
  name: "",
  audienceKind: "segment",
  audience: "",
  mode: "single",
  template: "",
  variants: ["", ""],
  samplePercent: "20",
  waitMinutes: "240",
  metric: "opens",
  sendAt: "",
  localTime: "",
  timing: "start",
  perMinute: "",
  conversionEvent: "",
  conversionDays: "7",
  sender: "",
};

/** A datetime-local value ("YYYY-MM-DDTHH:MM", the browser's zone) for an instant. */
export function localInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formOf(name: string, d: CampaignDefinition): CampaignForm {
  return {
    ...EMPTY_FORM,
    name,
    audienceKind: d.audience?.list !== undefined ? "list" : "segment",
    audience: d.audience?.list ?? d.audience?.segment ?? "",
    mode: d.ab ? "ab" : "single",
    template: d.template ?? "",
    variants: d.ab ? [...d.ab.variants] : EMPTY_FORM.variants,
    samplePercent: String(d.ab?.sample_percent ?? 20),
    waitMinutes: String(d.ab?.wait_minutes ?? 240),
    metric: d.ab?.metric ?? "opens",
    sendAt: d.send_at ? localInput(d.send_at) : "",
    localTime: d.local_time ?? "",
    timing: d.send_time === "optimised" ? "best" : d.local_time ? "local" : "start",
    perMinute: d.per_minute !== undefined ? String(d.per_minute) : "",
    conversionEvent: d.conversion?.event ?? "",
    conversionDays: String(d.conversion?.days ?? 7),
    sender: d.sender ?? "",
  };
}

/** A number input's value for the API: a number when it reads as one, else
 * the text itself, so the server names the field that is wrong. */
function numberOf(s: string): number | string {
  const t = s.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** The definition the form describes. Empty inputs are left out (the server's defaults apply); nothing is
 * checked here: the server's answer, with its paths, is the one check. */
export function definitionOf(f: CampaignForm): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (f.audience) d.audience = { [f.audienceKind]: f.audience };
  if (f.mode === "single") {
    if (f.template) d.template = f.template;
  } else {
    d.ab = {
      variants: f.variants.filter((v) => v !== ""),
      sample_percent: numberOf(f.samplePercent),
      wait_minutes: numberOf(f.waitMinutes),
      metric: f.metric,
    };
  }
  if (f.sendAt) {
    const t = new Date(f.sendAt);
    d.send_at = Number.isNaN(t.getTime()) ? f.sendAt : t.toISOString();
  }
  if (f.timing === "best") d.send_time = "optimised";
  else if (f.localTime) d.local_time = f.localTime;
  if (f.perMinute.trim()) d.per_minute = numberOf(f.perMinute);
  if (f.conversionEvent.trim()) d.conversion = { event: f.conversionEvent.trim(), days: numberOf(f.conversionDays) };
  if (f.sender) d.sender = f.sender;
  return d;
}

/** The form fields a problem may name, each with the input's id. */
export type Field =
  | "name"
  | "audience"
  | "template"
  | "variants"
  | "samplePercent"
  | "waitMinutes"
  | "metric"
  | "sendAt"
  | "localTime"
  | "timing"
  | "perMinute"
  | "conversionEvent"
  | "conversionDays"
  | "sender";

const PATHS: [string, Field][] = [
  ["name", "name"],
  ["definition.audience", "audience"],
  ["definition.template", "template"],
  ["definition.ab.variants", "variants"],
  ["definition.ab.sample_percent", "samplePercent"],
  ["definition.ab.wait_minutes", "waitMinutes"],
  ["definition.ab.metric", "metric"],
  ["definition.ab", "variants"],
  ["definition.send_at", "sendAt"],
  ["definition.local_time", "localTime"],
  ["definition.send_time", "timing"],
  ["definition.per_minute", "perMinute"],
  ["definition.conversion.event", "conversionEvent"],
  ["definition.conversion.days", "conversionDays"],
  ["definition.conversion", "conversionEvent"],
  ["definition.sender", "sender"],
];

/** The field a problem's path names ("definition.audience.segment" → audience), or null for none. */
export function fieldOf(path: string): Field | null {
  for (const [p, f] of PATHS) if (path === p || path.startsWith(p + ".")) return f;
  return null;
}

/** A refusal's problems by field; those naming no field are left to the problem box. */
export function problemsByField(errors: { path: string; message: string }[] | undefined): {
  fields: Partial<Record<Field, string>>;
  rest: { path: string; message: string }[];
} {
  const fields: Partial<Record<Field, string>> = {};
  const rest: { path: string; message: string }[] = [];
  for (const e of errors ?? []) {
    const f = fieldOf(e.path);
    if (f && !(f in fields)) fields[f] = e.message;
    else if (!f) rest.push(e);
  }
  return { fields, rest };
}

export type CampaignAction = "launch" | "pause" | "resume" | "cancel";

/** What may be done to a campaign in `status` (mirrors the server's transitions). */
export function actionsFor(status: CampaignStatus): CampaignAction[] {
  switch (status) {
    case "draft":
      return ["launch", "cancel"];
    case "scheduled":
    case "sending":
      return ["pause", "cancel"];
    case "paused":
      return ["resume", "cancel"];
    default:
      return [];
  }
}

/** Whether the report is still changing, so worth polling. */
export function isLive(status: CampaignStatus): boolean {
  return status === "sending" || status === "scheduled";
}

/** The templates a definition sends. */
export function templatesOf(d: CampaignDefinition): string[] {
  return d.template ? [d.template] : (d.ab?.variants ?? []);
}

/** The server's account of a campaign (`detail`: an A/B test's winner and
 * each variant's tally) names each template as the definition gave it, by
 * id or by name; here each is named by `name` (an id's template name), as
 * the report's variants are. */
export function detailWithNames(detail: string, d: CampaignDefinition, name: (template: string) => string): string {
  // Longest first, so that no template's id or name is replaced inside another's.
  const given = [...new Set(templatesOf(d))].sort((a, b) => b.length - a.length);
  // One pass over the text: a name put in is not looked at again.
  const pattern = given.filter((t) => t !== "" && name(t) !== t).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return pattern.length === 0 ? detail : detail.replace(new RegExp(pattern.join("|"), "g"), (t) => name(t));
}
