// The dashboard's pure logic, unit tested: email rates, and the "Needs
// attention" feed assembled from what the role may read (dead letters,
// failed journey runs or their counts, failed segments, a missing postal
// address or sender), each item saying where it is fixed.
import { countOf } from "../plural";

/** GET /api/v1/workspace/email-activity. */
export interface EmailActivity {
  days: number;
  per_day: { day: string; sent: number; opened: number; clicked: number; unsubscribed: number }[];
  sent: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
}

/** `part` of `whole` as a percentage with one decimal ("12.5%"), or "—" when nothing was sent. */
export function rate(part: number, whole: number): string {
  if (!whole || whole <= 0) return "—";
  return `${(Math.round((part / whole) * 1000) / 10).toLocaleString("en-US")}%`;
}

/** An effect the outbox gave up on (GET /api/v1/outbox/dead-letters). */
export interface DeadLetter {
  key: string;
  run_id?: string;
  journey_id: string;
  node: string;
  kind: string;
  attempts: number;
  last_error: string | null;
  created_at: number;
  done_at: number | null;
}

/** A run parked in an error state (GET /api/v1/journeys/{id}/runs?status=failed). */
export interface FailedRun {
  id: string;
  journey_id: string;
  contact_id: string;
  node: string;
  error: string | null;
  updated_at: number;
}

export interface AttentionInput {
  /** Each undefined when the role may not read it or it has not loaded. */
  deadLetters?: DeadLetter[];
  /** Failed runs by journey, for roles that see people. */
  failedRuns?: { journeyId: string; runs: FailedRun[] }[];
  /** Failed run counts by journey (from the journey's stats), for roles that see only aggregates. */
  failedCounts?: { journeyId: string; failed: number }[];
  segments?: { id: string; name: string; status: string; error?: string | null }[];
  postalAddress?: string | null;
  senders?: number;
  journeyName: (id: string) => string;
  /** Whether the role may retry runs (marketing:write). */
  canRetry: boolean;
}

export interface AttentionItem {
  key: string;
  kind: "postal-address" | "no-sender" | "segment" | "dead-letter" | "failed-run" | "failed-runs";
  title: string;
  detail?: string;
  /** Where it is fixed. */
  to: string;
  linkLabel: string;
  /** The run to retry, for roles that may. */
  retryRun?: string;
  when?: number;
}

/** The feed, most blocking first: what stops all marketing email (address,
 * sender), then failed segments, then journey actions given up on, then
 * failed runs not already listed as a dead letter. */
export function attentionItems(i: AttentionInput): AttentionItem[] {
  const out: AttentionItem[] = [];
  if (i.postalAddress !== undefined && !(i.postalAddress ?? "").trim())
    out.push({
      key: "postal-address",
      kind: "postal-address",
      title: "No company postal address",
      detail: "Marketing email is refused without one (anti-spam law requires it in every message).",
      to: "/settings",
      linkLabel: "Add it under Settings → Email & address",
    });
  if (i.senders === 0)
    out.push({
      key: "no-sender",
      kind: "no-sender",
      title: "No sender identity",
      detail: "Email cannot be sent until there is a sender to send it from.",
      to: "/settings",
      linkLabel: "Add a sender under Settings → Email & address",
    });
  for (const s of i.segments ?? [])
    if (s.status === "failed")
      out.push({ key: `segment-${s.id}`, kind: "segment", title: `Segment “${s.name}” failed to build`, detail: s.error ?? undefined, to: `/segments/${s.id}`, linkLabel: "Open the segment" });
  const listed = new Set<string>();
  for (const d of i.deadLetters ?? []) {
    if (d.run_id) listed.add(d.run_id);
    out.push({
      key: `dead-${d.key}`,
      kind: "dead-letter",
      title: `${d.kind} at step ${d.node} of ${i.journeyName(d.journey_id)} gave up after ${countOf(d.attempts, "attempt")}`,
      detail: d.last_error ?? undefined,
      to: `/journeys/${d.journey_id}`,
      linkLabel: "Open the journey",
      retryRun: i.canRetry ? d.run_id : undefined,
      when: d.done_at ?? d.created_at,
    });
  }
  for (const { journeyId, runs } of i.failedRuns ?? [])
    for (const r of runs) {
      if (listed.has(r.id)) continue;
      out.push({
        key: `run-${r.id}`,
        kind: "failed-run",
        title: `A run of ${i.journeyName(journeyId)} failed at step ${r.node}`,
        detail: r.error ?? undefined,
        to: `/journeys/${journeyId}`,
        linkLabel: "Open the journey",
        retryRun: i.canRetry ? r.id : undefined,
        when: r.updated_at,
      });
    }
  for (const { journeyId, failed } of i.failedCounts ?? [])
    if (failed > 0)
      out.push({
        key: `runs-${journeyId}`,
        kind: "failed-runs",
        title: `${countOf(failed, "run")} of ${i.journeyName(journeyId)} failed`,
        to: `/journeys/${journeyId}`,
        linkLabel: "Open the journey",
      });
  return out;
}
