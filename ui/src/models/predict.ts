// Predictions put to use, as the UI handles them: fairness audits run after
// the fact on a model version or a score (their requests and stored shape),
// the ranked list of scored contacts, retraining schedules, and a contact's
// best hour to be emailed in words. Pure, so it is unit tested.
import type { Fairness } from "./model";
import { countOf } from "../plural";

/** One stored audit: POST …/fairness and GET /api/v1/fairness-audits. */
export interface FairnessAuditRecord {
  id: string;
  /** "conversion:ID" or "score:NAME". */
  subject: string;
  version: string;
  request: { sensitive_attribute: string; outcome_event?: string | null; outcome_days?: number | null; threshold?: number | string | null };
  report: Fairness;
  created_at: number;
}

/** What the audit form holds: the outcome parts only matter for a score. */
export interface AuditForm {
  attribute: string;
  threshold: string;
  outcomeEvent: string;
  outcomeDays: string;
}

export function emptyAuditForm(): AuditForm {
  return { attribute: "", threshold: "", outcomeEvent: "Order Completed", outcomeDays: "30" };
}

/** A number as typed, or the text as typed (the server says what is wrong with it). */
function numberOrText(raw: string): number | string {
  const s = raw.trim();
  return s !== "" && !Number.isNaN(Number(s)) ? Number(s) : s;
}

/** The request auditing a model version: the attribute, a threshold only when given. */
export function modelAuditBody(f: AuditForm): Record<string, unknown> {
  const body: Record<string, unknown> = { sensitive_attribute: f.attribute };
  if (f.threshold.trim()) body.threshold = numberOrText(f.threshold);
  return body;
}

/** The request auditing a score: the attribute and outcome, the outcome's
 * days and the threshold only when given; a threshold is a number or one of
 * the score's threshold names (kept as text). */
export function scoreAuditBody(f: AuditForm): Record<string, unknown> {
  const body: Record<string, unknown> = { sensitive_attribute: f.attribute, outcome_event: f.outcomeEvent.trim() };
  if (f.outcomeDays.trim()) body.outcome_days = numberOrText(f.outcomeDays);
  if (f.threshold.trim()) body.threshold = numberOrText(f.threshold);
  return body;
}

/** An audit's request in a few words: "by country, at Warm, Order Completed within 30 days". */
export function auditSummary(r: FairnessAuditRecord["request"]): string {
  const parts = [`by ${r.sensitive_attribute}`];
  if (r.threshold !== null && r.threshold !== undefined && r.threshold !== "") parts.push(`threshold ${r.threshold}`);
  if (r.outcome_event) parts.push(`${r.outcome_event} within ${countOf(r.outcome_days ?? 30, "day")}`);
  return parts.join(", ");
}

/** The subject of a model version's audits, and of a score's. */
export const modelSubject = (id: string) => `conversion:${id}`;
export const scoreSubject = (name: string) => `score:${name}`;

/** GET /api/v1/models/conversion/scores. */
export interface ScoredContact {
  contact_id: string;
  event: string;
  model_id: string;
  probability: number;
  scored_at: number;
}

export interface ScoresPage {
  event: string;
  model_id: string;
  scored_contacts: number;
  contacts: number;
  data: ScoredContact[];
  next_cursor: string | null;
}

/** "180 of 200 contacts scored". */
export function scoredText(p: Pick<ScoresPage, "scored_contacts" | "contacts">): string {
  return `${p.scored_contacts.toLocaleString("en-US")} of ${countOf(p.contacts, "contact")} scored`;
}

/** The ranked-list URL for a page after `cursor` (none: the first). */
export function scoresPath(limit: number, cursor?: string | null): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set("cursor", cursor);
  return `/api/v1/models/conversion/scores?${q}`;
}

/** GET /api/v1/models/conversion/schedules. */
export interface Schedule {
  event: string;
  request: { event: string; horizon_days: number; [k: string]: unknown };
  every_days: number;
  next_at: number;
  last_run_at: number | null;
  last_result: string | null;
}

/** The schedule request: every N days (as typed), the training request as the form has it. */
export function scheduleBody(everyDays: string, request: object): { every_days: number | string; request: object } {
  return { every_days: numberOrText(everyDays), request };
}

/** The form's own complaint about the days, before anything is sent. */
export function everyDaysError(everyDays: string): string | undefined {
  return /^\d+$/.test(everyDays.trim()) ? undefined : "Enter a whole number of days.";
}

/** DELETE path of the schedule of `event` (encoded: events have spaces). */
export function schedulePath(event: string): string {
  return `/api/v1/models/conversion/schedules/${encodeURIComponent(event)}`;
}

/** GET /api/v1/contacts/{id}/send-time. */
export interface SendTime {
  hour: number;
  share: number;
  personal_weight: number;
  timezone: string;
}

/** A contact's best hour as "20:00". */
export function formatHour(hour: number): string {
  return `${String(((Math.round(hour) % 24) + 24) % 24).padStart(2, "0")}:00`;
}

/** Where the hour comes from: the contact's own opens when they weigh at least half. */
export function sendTimeSource(personalWeight: number): string {
  return personalWeight >= 0.5 ? "mostly from their own opens" : "from the workspace's pattern";
}

/** "20:00 (Europe/Berlin) — mostly from their own opens". */
export function sendTimeText(s: SendTime): string {
  return `${formatHour(s.hour)} (${s.timezone}) — ${sendTimeSource(s.personal_weight)}`;
}
