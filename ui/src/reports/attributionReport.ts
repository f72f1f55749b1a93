// The attribution report as the UI handles it: the wire shapes of
// /api/v1/reports/attribution and /reports/costs, the page's controls read
// from and written to the address bar (so a report can be linked and
// reloaded), the API query they stand for, the models with their plain
// explanations, sorting the sources, the model comparison table, and how
// ROI and money are written. Pure, so it is unit tested.

export type ModelName = "first_touch" | "last_touch" | "linear" | "time_decay" | "position_based";
export type EmailTouch = "sent" | "opened" | "clicked";

export const MODELS: readonly { name: ModelName; label: string; explain: string }[] = [
  { name: "last_touch", label: "Last touch", explain: "All the credit goes to the last thing that reached them before they converted." },
  { name: "first_touch", label: "First touch", explain: "All the credit goes to the first thing that reached them within the look-back window." },
  { name: "linear", label: "Linear", explain: "Every touch in the window gets an equal share." },
  { name: "time_decay", label: "Time decay", explain: "Recent touches get more: a touch's share halves for every half-life it lies before the conversion." },
  { name: "position_based", label: "Position based", explain: "40% to the first touch, 40% to the last, 20% shared by the ones between." },
];

export const TOUCHES: readonly { name: EmailTouch; label: string }[] = [
  { name: "opened", label: "Opened (machine opens excluded)" },
  { name: "clicked", label: "Clicked" },
  { name: "sent", label: "Sent" },
];

/** The quick ranges offered, in days ending today. */
export const RANGES = [7, 30, 90] as const;

export interface Cost {
  source: string;
  /** What reports call the source (a campaign's or journey's name); the source itself when it has no other name. */
  name?: string;
  amount: number;
  per_message: number;
  currency: string;
  note: string | null;
  /** When the amount was spent (RFC 3339; `until` is the end, not included); null: charged whole to every report. */
  since: string | null;
  until: string | null;
  updated_at: string;
}

export interface AttributionSource {
  source: string;
  channel: string;
  name: string;
  conversions: number;
  value: number;
  messages_sent: number;
  cost: number | null;
  roi: number | null;
}

export interface AttributionTotals {
  conversions: number;
  contacts: number;
  value: number;
  attributed_conversions: number;
  attributed_value: number;
  unattributed_conversions: number;
  unattributed_value: number;
  without_value: number;
  other_currency: number;
  cost: number;
  roi: number | null;
}

export interface AttributionReport {
  event: string;
  since: string;
  until: string;
  window_days: number;
  model: { name: ModelName; half_life_days?: number };
  email_touch: EmailTouch;
  value_property: string;
  currency: string | null;
  totals: AttributionTotals;
  sources: AttributionSource[];
  series: { day: string; conversions: number; value: number; attributed_value: number }[];
  warnings: string[];
}

/** The page's controls, as typed (strings, so a half-typed number stays and the server names what is wrong). */
export interface AttributionQuery {
  event: string;
  /** A quick range in days ending today; null when `since` and `until` are given. */
  range: number | null;
  since: string;
  until: string;
  model: ModelName;
  halfLife: string;
  window: string;
  touch: EmailTouch;
  value: string;
  currency: string;
}

export const DEFAULT_QUERY: AttributionQuery = {
  event: "Order Completed",
  range: 30,
  since: "",
  until: "",
  model: "last_touch",
  halfLife: "7",
  window: "7",
  touch: "opened",
  value: "",
  currency: "",
};

const isModel = (s: string | null): s is ModelName => MODELS.some((m) => m.name === s);
const isTouch = (s: string | null): s is EmailTouch => TOUCHES.some((t) => t.name === s);

/** The controls a page address (its query string) describes; what it leaves out is the default. */
export function queryFromParams(p: URLSearchParams): AttributionQuery {
  const q: AttributionQuery = { ...DEFAULT_QUERY };
  if (p.has("event")) q.event = p.get("event")!;
  const since = p.get("since") ?? "";
  const until = p.get("until") ?? "";
  const range = Number(p.get("range"));
  if (since || until) {
    q.range = null;
    q.since = since;
    q.until = until;
  } else if (Number.isInteger(range) && range > 0) q.range = range;
  if (isModel(p.get("model"))) q.model = p.get("model") as ModelName;
  if (p.has("half_life_days")) q.halfLife = p.get("half_life_days")!;
  if (p.has("window_days")) q.window = p.get("window_days")!;
  if (isTouch(p.get("email_touch"))) q.touch = p.get("email_touch") as EmailTouch;
  if (p.has("value")) q.value = p.get("value")!;
  if (p.has("currency")) q.currency = p.get("currency")!;
  return q;
}

/** The page address's query for `q`: only what differs from the defaults, so links stay short. */
export function paramsOfQuery(q: AttributionQuery): URLSearchParams {
  const p = new URLSearchParams();
  const d = DEFAULT_QUERY;
  if (q.event !== d.event) p.set("event", q.event);
  if (q.range === null) {
    if (q.since) p.set("since", q.since);
    if (q.until) p.set("until", q.until);
  } else if (q.range !== d.range) p.set("range", String(q.range));
  if (q.model !== d.model) p.set("model", q.model);
  if (q.model === "time_decay" && q.halfLife !== d.halfLife) p.set("half_life_days", q.halfLife);
  if (q.window !== d.window) p.set("window_days", q.window);
  if (q.touch !== d.touch) p.set("email_touch", q.touch);
  if (q.value.trim()) p.set("value", q.value.trim());
  if (q.currency.trim()) p.set("currency", q.currency.trim());
  return p;
}

/** A day `days` before `day` (both YYYY-MM-DD). */
export function addDays(day: string, days: number): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return new Date(t + days * 86_400_000).toISOString().slice(0, 10);
}

/** Today as the API counts days (UTC), for the quick ranges. */
export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** The first and last day a query covers (a quick range ends `today`, inclusive). */
export function periodOf(q: AttributionQuery, today: string): { since: string; until: string } {
  if (q.range !== null) return { since: addDays(today, -(q.range - 1)), until: today };
  return { since: q.since, until: q.until };
}

/** The API's query string for `q`, as of `today` (UTC); `model` overrides the query's. */
export function apiQuery(q: AttributionQuery, today: string, model: ModelName = q.model): string {
  const p = new URLSearchParams();
  p.set("event", q.event.trim() || DEFAULT_QUERY.event);
  const { since, until } = periodOf(q, today);
  if (since) p.set("since", since);
  if (until) p.set("until", until);
  p.set("model", model);
  if (model === "time_decay") p.set("half_life_days", q.halfLife.trim());
  p.set("window_days", q.window.trim());
  p.set("email_touch", q.touch);
  if (q.value.trim()) p.set("value", q.value.trim());
  if (q.currency.trim()) p.set("currency", q.currency.trim().toUpperCase());
  return p.toString();
}

/** The comparison's query string (`/api/v1/reports/attribution/models`): the same report under
 * every model, in MODELS order, read by the server once. */
export function comparisonQuery(q: AttributionQuery, today: string): string {
  // Asked as time decay, the query carries the half-life that model needs.
  const p = new URLSearchParams(apiQuery(q, today, "time_decay"));
  p.delete("model");
  p.set("models", MODELS.map((m) => m.name).join(","));
  return p.toString();
}

/** The query fields the API's problems may name, by the control showing them. */
export const QUERY_FIELDS = ["event", "since", "until", "window_days", "half_life_days", "model", "email_touch", "value", "currency"] as const;

export type SortKey = "name" | "conversions" | "value" | "messages_sent" | "cost" | "roi";
export interface Sort {
  key: SortKey;
  dir: "asc" | "desc";
}
export const DEFAULT_SORT: Sort = { key: "value", dir: "desc" };
const SORT_KEYS: SortKey[] = ["name", "conversions", "value", "messages_sent", "cost", "roi"];

/** The table's order from the address (`sort=roi` or `sort=-roi`), else by value, highest first. */
export function sortFromParams(p: URLSearchParams): Sort {
  const s = p.get("sort") ?? "";
  const key = s.replace(/^-/, "") as SortKey;
  if (!SORT_KEYS.includes(key)) return DEFAULT_SORT;
  return { key, dir: s.startsWith("-") ? "desc" : "asc" };
}

export function sortParam(s: Sort): string | null {
  if (s.key === DEFAULT_SORT.key && s.dir === DEFAULT_SORT.dir) return null;
  return `${s.dir === "desc" ? "-" : ""}${s.key}`;
}

/** Clicking a column: its natural order first (names A–Z, numbers highest first), then the other way. */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key, dir: key === "name" ? "asc" : "desc" };
}

/** The sources in `sort` order; sources without a cost or ROI stay last either way, ties by name. */
export function sortSources(sources: readonly AttributionSource[], sort: Sort): AttributionSource[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  return [...sources].sort((a, b) => {
    if (sort.key === "name") return sign * a.name.localeCompare(b.name) || a.source.localeCompare(b.source);
    const x = a[sort.key];
    const y = b[sort.key];
    if (x === null && y === null) return a.name.localeCompare(b.name);
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x - y) || a.name.localeCompare(b.name);
  });
}

export interface ComparisonRow {
  source: string;
  name: string;
  channel: string;
  /** Credited value per model, in MODELS order; null where that model credited nothing and listed nothing. */
  values: (number | null)[];
  /** The highest minus the lowest credited value: how much the choice of model moves this source. */
  spread: number;
}

/** One row per source found under any model, each with its credited value per model (MODELS order),
 * biggest spread first: the sources whose figure depends most on the model choice on top. */
export function compareModels(reports: readonly (AttributionReport | undefined)[]): ComparisonRow[] {
  const rows = new Map<string, ComparisonRow>();
  reports.forEach((r, i) => {
    for (const s of r?.sources ?? []) {
      let row = rows.get(s.source);
      if (!row) {
        row = { source: s.source, name: s.name, channel: s.channel, values: MODELS.map(() => null), spread: 0 };
        rows.set(s.source, row);
      }
      row.values[i] = s.value;
    }
  });
  for (const row of rows.values()) {
    // A source missing from a loaded report was credited nothing under that model.
    row.values = row.values.map((v, i) => (v === null && reports[i] ? 0 : v));
    const known = row.values.filter((v): v is number => v !== null);
    row.spread = known.length ? Math.max(...known) - Math.min(...known) : 0;
  }
  return [...rows.values()].sort((a, b) => b.spread - a.spread || a.name.localeCompare(b.name));
}

/** ROI as the table shows it: the gain as a percentage, and what each unit spent brought back. */
export function formatRoi(roi: number | null | undefined): { percent: string; multiple: string } | null {
  if (roi === null || roi === undefined || !Number.isFinite(roi)) return null;
  const pct = Math.round(roi * 100);
  const percent = `${pct > 0 ? "+" : pct < 0 ? "−" : ""}${Math.abs(pct).toLocaleString("en-US")}%`;
  const multiple = `${(roi + 1).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}×`;
  return { percent, multiple };
}

/** An amount in `currency` (ISO 4217): whole units for large or whole sums, cents below 100 (or always with `cents`);
 * the code after the number when the browser does not know it. */
export function formatMoney(n: number | null | undefined, currency: string | null | undefined, opts: { cents?: boolean } = {}): string {
  if (n === null || n === undefined) return "—";
  const digits = opts.cents ? 2 : Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : 2;
  if (currency) {
    try {
      return n.toLocaleString("en-US", { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    } catch {
      /* not a currency code the browser knows */
    }
  }
  const plain = n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return currency ? `${plain} ${currency}` : plain;
}

/** A share (0–1) as a percentage with one decimal. */
export function formatShare(part: number, whole: number): string {
  if (!whole) return "—";
  return `${((part / whole) * 100).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })}%`;
}

/** Credited conversions: shares of conversions, so one decimal. */
export function formatCredit(n: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** What kind of source a key is (`campaign:ID`, `journey:ID`, `utm:…`), and the page it has, if any. */
export function sourceLink(source: string): { kind: "campaign" | "journey" | "utm" | "other"; to: string | null } {
  const [kind, ...rest] = source.split(":");
  const id = rest.join(":");
  if (kind === "campaign" && id) return { kind, to: `/email/campaigns/${id}` };
  if (kind === "journey" && id) return { kind, to: `/journeys/${id}?view=report` };
  if (kind === "utm") return { kind, to: null };
  return { kind: "other", to: null };
}

/** The cost form as typed. */
export interface CostForm {
  source: string;
  amount: string;
  perMessage: string;
  currency: string;
  note: string;
  /** The period the amount was spent in, as date inputs give it (`YYYY-MM-DD`, `until` included). */
  since?: string;
  until?: string;
}

/** The form for changing a stored cost. The API's `until` is the instant the
 * period ends; a date input shows the last day in it. */
export function costFormOf(c: Cost): CostForm {
  const day = (iso: string | null, last: boolean) => {
    if (!iso) return "";
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return "";
    const midnight = t % 86_400_000 === 0;
    return new Date(last && midnight ? t - 86_400_000 : t).toISOString().slice(0, 10);
  };
  return {
    source: c.source,
    amount: String(c.amount),
    perMessage: c.per_message ? String(c.per_message) : "",
    currency: c.currency,
    note: c.note ?? "",
    since: day(c.since, false),
    until: day(c.until, true),
  };
}

/** A cost's period as read in a table: first and last day, or that it has none. */
export function periodLabel(c: Cost): string {
  const f = costFormOf(c);
  return f.since && f.until ? `${f.since} – ${f.until}` : "every report";
}

/** A number input's value for the API: 0 when empty, else the number it reads as (null when it does not). */
function amountOf(s: string): number | null {
  const t = s.trim();
  if (!t) return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The PUT body for a cost form, or the inputs that do not read as numbers: the server's JSON
 * reader would refuse those as a malformed body without naming the field. */
export function costBody(f: CostForm): { body: Record<string, unknown> } | { fields: Record<string, string> } {
  const amount = amountOf(f.amount);
  const perMessage = amountOf(f.perMessage);
  const fields: Record<string, string> = {};
  if (amount === null) fields.amount = "must be a number, like 4000 or 12.50";
  if (perMessage === null) fields.per_message = "must be a number, like 0.002";
  if (amount === null || perMessage === null) return { fields };
  return {
    body: {
      source: f.source.trim(),
      amount,
      per_message: perMessage,
      currency: f.currency.trim().toUpperCase(),
      note: f.note.trim() ? f.note.trim() : null,
      // Both or neither: the server names the one missing.
      ...(f.since?.trim() ? { since: f.since.trim() } : {}),
      ...(f.until?.trim() ? { until: f.until.trim() } : {}),
    },
  };
}

export const COST_FIELDS = ["source", "amount", "per_message", "currency", "note", "since", "until"] as const;
