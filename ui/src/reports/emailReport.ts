// The email part of campaign and journey reports, worked out for showing:
// the funnel from sent to converted with each step's rate, the bounce,
// unsubscribe and complaint rates, the daily series with the days nothing
// happened filled in, and the CSV a report downloads (built here, in the
// browser, from what the page already has). Pure, so it is unit tested.
import type { CampaignTotals } from "../email/campaign";
import { countOf } from "../plural";

export interface EmailDay {
  day: string;
  sent: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
}

export interface LinkClicks {
  url: string;
  clicks: number;
  machine_clicks: number;
}

export interface FunnelStep {
  key: "sent" | "delivered" | "opened" | "clicked" | "converted";
  label: string;
  count: number;
  /** The step's rate (0–1) against `of`, or null when that is 0. */
  rate: number | null;
  of: string;
  /** The bar's length against the first step (0–1). */
  width: number;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** Sent → delivered → opened → clicked (unique people, machine opens and clicks left out)
 * → converted when the report has a conversion goal. Opens and conversions are rated against
 * delivered mail, clicks against opens (click-to-open), as email tools usually do. */
export function funnel(t: Pick<CampaignTotals, "sent" | "delivered" | "unique_opens" | "unique_clicks">, converted?: number | null): FunnelStep[] {
  const base = Math.max(t.sent, 1);
  const steps: Omit<FunnelStep, "width">[] = [
    { key: "sent", label: "Sent", count: t.sent, rate: null, of: "" },
    { key: "delivered", label: "Delivered", count: t.delivered, rate: ratio(t.delivered, t.sent), of: "of sent" },
    { key: "opened", label: "Opened (unique)", count: t.unique_opens, rate: ratio(t.unique_opens, t.delivered), of: "of delivered" },
    { key: "clicked", label: "Clicked (unique)", count: t.unique_clicks, rate: ratio(t.unique_clicks, t.unique_opens), of: "of opened" },
  ];
  if (converted !== undefined && converted !== null) steps.push({ key: "converted", label: "Converted", count: converted, rate: ratio(converted, t.delivered), of: "of delivered" });
  return steps.map((s) => ({ ...s, width: Math.min(1, s.count / base) }));
}

export interface Rate {
  key: "bounce" | "unsubscribe" | "complaint";
  label: string;
  rate: number | null;
  count: number;
  explain: string;
}

/** The rates that tell whether a list is healthy: hard bounces of what was sent; unsubscribes
 * and spam complaints of what was delivered. */
export function healthRates(t: Pick<CampaignTotals, "sent" | "delivered" | "bounced" | "unsubscribed" | "complained">): Rate[] {
  return [
    { key: "bounce", label: "Bounce rate", rate: ratio(t.bounced, t.sent), count: t.bounced, explain: "hard bounces of sent" },
    { key: "unsubscribe", label: "Unsubscribe rate", rate: ratio(t.unsubscribed, t.delivered), count: t.unsubscribed, explain: "unsubscribes of delivered" },
    { key: "complaint", label: "Complaint rate", rate: ratio(t.complained, t.delivered), count: t.complained, explain: "spam complaints of delivered" },
  ];
}

/** A rate as a percentage: one decimal, two below 1% (complaint rates matter at 0.1%). */
export function formatRate(r: number | null): string {
  if (r === null) return "—";
  const pct = r * 100;
  const digits = pct !== 0 && pct < 1 ? 2 : 1;
  return `${pct.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })}%`;
}

/** The series from its first to its last day, days without activity as zeros, so the chart's
 * line drops to nothing on them instead of jumping across. */
export function fillDays(series: readonly EmailDay[]): EmailDay[] {
  if (series.length === 0) return [];
  const byDay = new Map(series.map((d) => [d.day, d]));
  const days = [...byDay.keys()].sort();
  const out: EmailDay[] = [];
  const last = Date.parse(`${days[days.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${days[0]}T00:00:00Z`); t <= last; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push(byDay.get(day) ?? { day, sent: 0, opened: 0, clicked: 0, unsubscribed: 0 });
  }
  return out;
}

export type Cell = string | number | null | undefined;

/** One CSV field: quoted when it holds a comma, quote or line break; text that a spreadsheet
 * would run as a formula (=, +, -, @ first) is prefixed with ' so a link cannot become one. */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV text (CRLF line ends, as RFC 4180 has them). */
export function toCsv(rows: readonly (readonly Cell[])[]): string {
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export interface CsvSection {
  title: string;
  header: string[];
  rows: Cell[][];
}

/** Several tables in one file: each its title on a line, its header, its rows, a blank line between. */
export function csvSections(sections: readonly CsvSection[]): string {
  const rows: Cell[][] = [];
  sections.forEach((s, i) => {
    if (i > 0) rows.push([]);
    rows.push([s.title], s.header, ...s.rows);
  });
  return toCsv(rows);
}

/** The totals a report lists, in order, with their labels. */
export const TOTAL_ROWS: [keyof CampaignTotals, string][] = [
  ["messages", "Messages prepared"],
  ["sent", "Sent"],
  ["delivered", "Delivered"],
  ["bounced", "Hard bounces"],
  ["soft_bounced", "Soft bounces (deferred)"],
  ["refused", "Refused (consent, suppression, caps)"],
  ["skipped", "Skipped"],
  ["failed", "Failed"],
  ["unique_opens", "Unique opens"],
  ["opens", "Opens (total)"],
  ["machine_opens", "Machine opens (privacy proxies, scanners)"],
  ["unique_clicks", "Unique clicks"],
  ["clicks", "Clicks (total)"],
  ["unsubscribed", "Unsubscribes"],
  ["complained", "Complaints"],
];

/** The email sections of a report's CSV: totals (with the rates), clicks per link, the days. */
export function emailCsvSections(r: {
  totals: CampaignTotals;
  links: readonly LinkClicks[];
  series: readonly EmailDay[];
  conversions?: { event: string; days: number; converted: number } | null;
}): CsvSection[] {
  const totals: Cell[][] = TOTAL_ROWS.map(([k, label]) => [k, label, r.totals[k]]);
  if (r.conversions) totals.push(["converted", `Converted (${r.conversions.event} within ${countOf(r.conversions.days, "day")})`, r.conversions.converted]);
  for (const s of funnel(r.totals, r.conversions?.converted)) if (s.rate !== null) totals.push([`${s.key}_rate`, `${s.label} ${s.of}`, round(s.rate)]);
  for (const x of healthRates(r.totals)) totals.push([`${x.key}_rate`, `${x.label} (${x.explain})`, x.rate === null ? null : round(x.rate)]);
  return [
    { title: "Totals", header: ["metric", "label", "value"], rows: totals },
    { title: "Clicks per link", header: ["url", "clicks", "machine_clicks"], rows: r.links.map((l) => [l.url, l.clicks, l.machine_clicks]) },
    { title: "Per day (UTC)", header: ["day", "sent", "opened", "clicked", "unsubscribed"], rows: fillDays(r.series).map((d) => [d.day, d.sent, d.opened, d.clicked, d.unsubscribed]) },
  ];
}

function round(r: number): number {
  return Math.round(r * 10_000) / 10_000;
}

/** A file name from a report's name: lower case, dashes for anything else. */
export function csvName(prefix: string, name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${prefix}${slug ? `-${slug}` : ""}.csv`;
}
