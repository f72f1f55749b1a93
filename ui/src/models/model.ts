// Predictive conversion models as the UI handles them: the wire shapes of
// /api/v1/models/conversion and of a contact's conversion, the train form
// written as the API's request, and how figures are shown (percentages,
// metrics, coefficients sorted by size and flagged when weak, dropped
// features' reasons, contributions as bars). Pure, so it is unit tested.
import type { FieldType, Schema } from "../segments/rule";

export interface Calibration {
  lower: number;
  upper: number;
  mean_predicted: number;
  observed_rate: number;
  count: number;
}

export interface Holdout {
  rows: number;
  positives: number;
  negatives: number;
  auc: number;
  log_loss: number;
  brier: number;
  base_rate: number;
  top_decile_rate: number;
  lift_top_decile: number;
  calibration: Calibration[];
  calibration_error: number;
}

export interface Column {
  name: string;
  feature: number;
  kind: "value" | "missing_indicator";
  mean: number;
  scale: number;
  coefficient: number;
  coefficient_original: number;
  standard_error: number;
  standard_error_original: number;
}

export interface Dropped {
  feature: string;
  reason: { kind: string; [k: string]: unknown };
}

export interface FairnessGroup {
  group: string;
  count: number;
  selected: number;
  positives: number;
  negatives: number;
  selection_rate: number;
  true_positive_rate: number | null;
  false_positive_rate: number | null;
}

export interface Fairness {
  threshold: number;
  groups: FairnessGroup[];
  demographic_parity_difference: number;
  demographic_parity_ratio: number | null;
  equalized_odds_difference: number | null;
  four_fifths_violated: boolean;
  warning: string | null;
}

/** GET /api/v1/models/conversion/{id} and the answer to training. */
export interface ModelVersion {
  id: string;
  event: string;
  horizon_days: number;
  trained_at: number;
  training_cutoff: number;
  holdout_cutoff: number;
  spec: { conversion: string; events: string[]; numeric: string[]; categorical: [string, string[]][] };
  model: {
    features: string[];
    columns: Column[];
    intercept: number;
    dropped: Dropped[];
    training: { rows: number; positives: number; negatives: number; l2: number; iterations: number; objective: number };
  };
  holdout: Holdout;
  current_on_holdout: Holdout | null;
  promoted: boolean;
  promotion: string;
  sensitive_attribute: string | null;
  sensitive_excluded: boolean;
  fairness: Fairness | null;
}

/** One item of GET /api/v1/models/conversion's `versions`. */
export interface VersionSummary {
  id: string;
  event: string;
  horizon_days: number;
  trained_at: number;
  promoted: boolean;
  promotion: string;
  holdout: { auc: number; log_loss: number; lift_top_decile: number; rows: number; positives: number };
  fairness_warning: string | null;
}

export interface VersionList {
  current: string | null;
  versions: VersionSummary[];
}

/** GET /api/v1/contacts/{id}/conversion. */
export interface ContactConversion {
  model_id: string;
  event: string;
  horizon_days: number;
  probability: number;
  explanation: {
    probability: number;
    logit: number;
    baseline_logit: number;
    contributions: { feature: string; value: number | null; contribution: number }[];
  };
}

export interface TrainForm {
  event: string;
  horizonDays: string;
  sensitiveAttribute: string;
  allowSensitive: boolean;
  threshold: string;
  l2: string;
}

export function emptyTrainForm(): TrainForm {
  return { event: "Order Completed", horizonDays: "30", sensitiveAttribute: "", allowSensitive: false, threshold: "", l2: "" };
}

export interface TrainBody {
  event: string;
  horizon_days: number | string;
  sensitive_attribute?: string;
  allow_sensitive?: boolean;
  fairness_threshold?: number | string;
  l2?: number | string;
}

/** A typed number, or the text as typed when it is none (the server then
 * says what is wrong with it, at its field). */
function numberOrText(raw: string): number | string {
  const s = raw.trim();
  return s !== "" && !Number.isNaN(Number(s)) ? Number(s) : s;
}

/** The training request of a filled-in form: optional parts only when given. */
export function trainBody(f: TrainForm): TrainBody {
  const body: TrainBody = { event: f.event.trim(), horizon_days: numberOrText(f.horizonDays) };
  if (f.sensitiveAttribute) {
    body.sensitive_attribute = f.sensitiveAttribute;
    if (f.allowSensitive) body.allow_sensitive = true;
  }
  if (f.threshold.trim()) body.fairness_threshold = numberOrText(f.threshold);
  if (f.l2.trim()) body.l2 = numberOrText(f.l2);
  return body;
}

/** The form's own complaints, by request field, before anything is sent: a
 * number the server could only refuse as an unreadable body. */
export function trainFormErrors(f: TrainForm): Record<string, string> {
  const out: Record<string, string> = {};
  const h = f.horizonDays.trim();
  if (h === "" || !/^\d+$/.test(h)) out.horizon_days = "Enter a whole number of days.";
  if (f.threshold.trim() && Number.isNaN(Number(f.threshold.trim()))) out.fairness_threshold = "Enter a probability between 0 and 1.";
  if (f.l2.trim() && Number.isNaN(Number(f.l2.trim()))) out.l2 = "Enter a positive number.";
  return out;
}

const STANDARD_GROUPS = ["country", "locale", "timezone"];
const GROUP_TYPES: FieldType[] = ["string", "boolean"];
const STANDARD_NAMES: Record<string, true> = { email: true, first_name: true, last_name: true, country: true, phone: true, external_id: true, timezone: true, locale: true };

/** Contact fields that split people into groups (the standard country,
 * locale and time zone, and custom text and yes/no fields): the candidates
 * for a sensitive attribute. Names, addresses and numbers would make a group
 * of nearly everyone. */
export function sensitiveCandidates(schema: Schema): string[] {
  const custom = Object.entries(schema.contact)
    .filter(([name, type]) => GROUP_TYPES.includes(type) && !(name in STANDARD_NAMES))
    .map(([name]) => name)
    .sort();
  return [...STANDARD_GROUPS.filter((n) => n in schema.contact), ...custom];
}

/** 0.1234 → "12.3%" (digits after the point as asked); null → "—". */
export function formatPercent(p: number | null | undefined, digits = 1): string {
  if (p === null || p === undefined || Number.isNaN(p)) return "—";
  return `${(p * 100).toFixed(digits)}%`;
}

/** A metric to 3 decimals (AUC, log loss), null → "—". */
export function formatMetric(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  return x.toFixed(digits);
}

/** A lift as "1.61×". */
export function formatLift(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? "—" : `${x.toFixed(2)}×`;
}

/** A signed number with a real minus sign: "+0.82", "−0.26". */
export function formatSigned(x: number, digits = 2): string {
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return s;
  return `${x < 0 ? "−" : "+"}${s}`;
}

/** A feature's value as shown beside its contribution: integers as they
 * are, others to 2 decimals; none → "missing". */
export function formatValue(v: number | null): string {
  if (v === null || v === undefined) return "missing";
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** A feature's value for people, from how the server builds features:
 * event counts are kept as log(1 + n) ("Order Completed ever", "… in the
 * last 30 days") and shown as the count; categories ("plan = pro") and
 * missing-value indicators are 1 or 0, shown as yes or no; days are rounded. */
export function describeValue(feature: string, v: number | null): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "missing";
  if (/ (in the last \d+ days|ever)$/.test(feature)) {
    const n = Math.max(0, Math.round(Math.expm1(v)));
    return n === 0 ? "never" : n === 1 ? "once" : `${n.toLocaleString("en-US")} times`;
  }
  if (/ = /.test(feature) || / \(missing\)$/.test(feature)) return v >= 0.5 ? "yes" : "no";
  if (/^days since /.test(feature)) return `${Math.round(v).toLocaleString("en-US")} days`;
  return formatValue(v);
}

/** Whether a coefficient is within 2 standard errors of zero: the data
 * cannot tell it from no effect. */
export function isWeak(c: Pick<Column, "coefficient" | "standard_error">): boolean {
  return !(Math.abs(c.coefficient) > 2 * c.standard_error);
}

/** The columns by the size of their effect, largest first (ties by name). */
export function byEffect<T extends Pick<Column, "coefficient" | "name">>(columns: readonly T[]): T[] {
  return [...columns].sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient) || a.name.localeCompare(b.name));
}

/** Why a feature was left out, in words. */
export function dropReason(r: Dropped["reason"]): string {
  const v = r.value;
  switch (r.kind) {
    case "constant":
      return `the same value (${typeof v === "number" ? formatValue(v) : String(v ?? "")}) for everyone in the training data`;
    case "sensitive":
      return "the sensitive attribute, left out so the model cannot use it";
    case "collinear":
    case "duplicate":
      return `carries the same information as ${typeof r.of === "string" ? `"${r.of}"` : "another feature"}`;
    case "too_many_missing":
    case "missing":
      return "missing for too many contacts";
    default: {
      const rest = Object.entries(r)
        .filter(([k]) => k !== "kind")
        .map(([k, x]) => `${k.replace(/_/g, " ")} ${typeof x === "object" ? JSON.stringify(x) : String(x)}`)
        .join(", ");
      return `${r.kind.replace(/_/g, " ")}${rest ? ` (${rest})` : ""}`;
    }
  }
}

/** The calibration chart's series: each bin's mean prediction (x) and
 * observed rate (y), bins without rows left out, in order of x. */
export function calibrationPoints(bins: readonly Calibration[]): { x: number[]; y: number[] } {
  const kept = bins.filter((b) => b.count > 0).sort((a, b) => a.mean_predicted - b.mean_predicted);
  return { x: kept.map((b) => b.mean_predicted), y: kept.map((b) => b.observed_rate) };
}

/** Contributions as bars: each one's share of the largest (0..1) and its direction. */
export function contributionBars(cs: readonly { feature: string; value: number | null; contribution: number }[]) {
  const max = Math.max(1e-9, ...cs.map((c) => Math.abs(c.contribution)));
  return cs.map((c) => ({ ...c, width: Math.abs(c.contribution) / max, up: c.contribution >= 0 }));
}

/** What an AUC says, in words, for the headline. */
export function aucMeaning(auc: number): string {
  return `${formatPercent(auc, 0)} chance that a contact who converted is ranked above one who did not (50% is a coin toss)`;
}

/** Versions numbered from the oldest (#1), for a list given newest first. */
export function versionNumbers(versions: readonly { id: string }[]): Map<string, number> {
  return new Map(versions.map((v, i) => [v.id, versions.length - i]));
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** Why a version was or was not promoted, without the "not promoted: "
 * its badge already says. */
export function promotionReason(sentence: string): string {
  return sentence.replace(/^not promoted: /, "");
}

/** The server's sentence with each version id it names written as its number ("#2"). */
export function withVersionNames(sentence: string, numbers: ReadonlyMap<string, number>): string {
  return sentence.replace(UUID, (id) => {
    const n = numbers.get(id.toLowerCase()) ?? numbers.get(id);
    return n === undefined ? id : `#${n}`;
  });
}
