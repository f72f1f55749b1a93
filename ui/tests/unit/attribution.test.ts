// Unit tests of the attribution report's logic: the controls read from and
// written to the page address (a linked report reopens the same), the API
// query they stand for, sorting the sources, the model comparison table,
// ROI and money as shown, source links, and the cost form's body.
import { expect, test } from "vitest";
import {
  addDays,
  apiQuery,
  compareModels,
  comparisonQuery,
  costBody,
  costFormOf,
  periodLabel,
  DEFAULT_QUERY,
  formatCredit,
  formatMoney,
  formatRoi,
  formatShare,
  MODELS,
  nextSort,
  paramsOfQuery,
  periodOf,
  queryFromParams,
  sortFromParams,
  sortParam,
  sortSources,
  sourceLink,
  utcToday,
  type AttributionQuery,
  type AttributionReport,
  type AttributionSource,
} from "../../src/reports/attributionReport";

const q = (patch: Partial<AttributionQuery> = {}): AttributionQuery => ({ ...DEFAULT_QUERY, ...patch });

test("the default report has an empty address, and every control survives a round trip through it", () => {
  expect(paramsOfQuery(DEFAULT_QUERY).toString()).toBe("");
  expect(queryFromParams(new URLSearchParams(""))).toStrictEqual(DEFAULT_QUERY);
  const custom = q({
    event: "Trial Started",
    range: null,
    since: "2026-11-01",
    until: "2026-11-30",
    model: "time_decay",
    halfLife: "3.5",
    window: "14",
    touch: "clicked",
    value: "order.total",
    currency: "EUR",
  });
  const params = paramsOfQuery(custom);
  expect(params.toString()).toBe("event=Trial+Started&since=2026-11-01&until=2026-11-30&model=time_decay&half_life_days=3.5&window_days=14&email_touch=clicked&value=order.total&currency=EUR");
  expect(queryFromParams(params)).toStrictEqual(custom);
  // A quick range is kept as a range, so a linked "last 7 days" stays relative.
  expect(paramsOfQuery(q({ range: 7 })).toString()).toBe("range=7");
  expect(queryFromParams(new URLSearchParams("range=90"))).toStrictEqual(q({ range: 90 }));
});

test("the address is read leniently: unknown models and touches fall back, dates win over a range, half-typed numbers stay", () => {
  expect(queryFromParams(new URLSearchParams("model=bogus")).model).toBe("last_touch");
  expect(queryFromParams(new URLSearchParams("email_touch=read")).touch).toBe("opened");
  expect(queryFromParams(new URLSearchParams("range=7&since=2026-10-01"))).toStrictEqual(q({ range: null, since: "2026-10-01", until: "" }));
  expect(queryFromParams(new URLSearchParams("range=-3")).range).toBe(30);
  expect(queryFromParams(new URLSearchParams("window_days=1x")).window, "kept as typed, for the server to name").toBe("1x");
  // The half-life only matters, so is only written, under time decay.
  expect(paramsOfQuery(q({ halfLife: "3" })).toString()).toBe("");
});

test("periods: a quick range ends today and includes it; days are UTC", () => {
  expect(addDays("2026-12-07", -6)).toBe("2026-12-01");
  expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  expect(utcToday(new Date("2026-12-07T23:30:00-05:00"))).toBe("2026-12-08");
  expect(periodOf(q({ range: 7 }), "2026-12-07")).toStrictEqual({ since: "2026-12-01", until: "2026-12-07" });
  expect(periodOf(q({ range: null, since: "2026-11-01", until: "" }), "2026-12-07")).toStrictEqual({ since: "2026-11-01", until: "" });
});

test("the API query names every control, trims and upper-cases, and the comparison swaps only the model", () => {
  const base = apiQuery(q(), "2026-12-07");
  expect(base).toBe("event=Order+Completed&since=2026-11-08&until=2026-12-07&model=last_touch&window_days=7&email_touch=opened");
  const p = new URLSearchParams(apiQuery(q({ event: "  ", currency: " eur ", value: " revenue ", model: "linear" }), "2026-12-07", "time_decay"));
  expect(p.get("event"), "an emptied event means the default").toBe("Order Completed");
  expect(p.get("currency")).toBe("EUR");
  expect(p.get("value")).toBe("revenue");
  expect(p.get("model")).toBe("time_decay");
  expect(p.get("half_life_days"), "the half-life goes with time decay").toBe("7");
  expect(new URLSearchParams(apiQuery(q({ model: "linear" }), "2026-12-07")).has("half_life_days")).toBe(false);
});

test("the comparison asks for every model in MODELS order, with the half-life and without a single model", () => {
  const p = new URLSearchParams(comparisonQuery(q({ model: "linear", halfLife: "3", currency: "eur" }), "2026-12-07"));
  expect(p.get("models")).toBe("last_touch,first_touch,linear,time_decay,position_based");
  expect(p.has("model")).toBe(false);
  expect(p.get("half_life_days")).toBe("3");
  expect(p.get("currency")).toBe("EUR");
  expect(p.get("since")).toBe("2026-11-08");
});

const src = (source: string, name: string, value: number, extra: Partial<AttributionSource> = {}): AttributionSource => ({
  source,
  name,
  channel: source.startsWith("utm:") ? "web" : "email",
  conversions: value / 100,
  value,
  messages_sent: 0,
  cost: null,
  roi: null,
  ...extra,
});

test("sources sort by any column, sources without cost or ROI last either way, ties by name", () => {
  const rows = [
    src("utm:a", "Alpha", 300, { cost: 100, roi: 2 }),
    src("campaign:1", "Broadcast", 0, { messages_sent: 500 }),
    src("utm:c", "Charlie", 500, { cost: 1000, roi: -0.5 }),
    src("journey:2", "Delta", 300),
  ];
  const names = (s: Parameters<typeof sortSources>[1]) => sortSources(rows, s).map((r) => r.name);
  expect(names({ key: "value", dir: "desc" })).toStrictEqual(["Charlie", "Alpha", "Delta", "Broadcast"]);
  expect(names({ key: "value", dir: "asc" })).toStrictEqual(["Broadcast", "Alpha", "Delta", "Charlie"]);
  expect(names({ key: "roi", dir: "desc" })).toStrictEqual(["Alpha", "Charlie", "Broadcast", "Delta"]);
  expect(names({ key: "roi", dir: "asc" })).toStrictEqual(["Charlie", "Alpha", "Broadcast", "Delta"]);
  expect(names({ key: "name", dir: "desc" })).toStrictEqual(["Delta", "Charlie", "Broadcast", "Alpha"]);
  expect(names({ key: "messages_sent", dir: "desc" })[0]).toStrictEqual("Broadcast");
  expect(rows[0].name, "the report's own list is left alone").toBe("Alpha");
});

test("sorting follows clicks and lives in the address", () => {
  expect(sortFromParams(new URLSearchParams(""))).toStrictEqual({ key: "value", dir: "desc" });
  expect(sortFromParams(new URLSearchParams("sort=-roi"))).toStrictEqual({ key: "roi", dir: "desc" });
  expect(sortFromParams(new URLSearchParams("sort=name"))).toStrictEqual({ key: "name", dir: "asc" });
  expect(sortFromParams(new URLSearchParams("sort=bogus"))).toStrictEqual({ key: "value", dir: "desc" });
  expect(nextSort({ key: "value", dir: "desc" }, "value")).toStrictEqual({ key: "value", dir: "asc" });
  expect(nextSort({ key: "value", dir: "desc" }, "name")).toStrictEqual({ key: "name", dir: "asc" });
  expect(nextSort({ key: "name", dir: "asc" }, "cost")).toStrictEqual({ key: "cost", dir: "desc" });
  expect(sortParam({ key: "value", dir: "desc" })).toBe(null);
  expect(sortParam({ key: "roi", dir: "asc" })).toBe("roi");
  expect(sortParam({ key: "roi", dir: "desc" })).toBe("-roi");
});

const report = (sources: AttributionSource[]): AttributionReport => ({
  event: "Order Completed",
  since: "",
  until: "",
  window_days: 7,
  model: { name: "linear" },
  email_touch: "opened",
  value_property: "revenue|total|value",
  currency: "USD",
  totals: { conversions: 0, contacts: 0, value: 0, attributed_conversions: 0, attributed_value: 0, unattributed_conversions: 0, unattributed_value: 0, without_value: 0, other_currency: 0, cost: 0, roi: null },
  sources,
  series: [],
  warnings: [],
});

test("the model comparison has a row per source found under any model, values in model order, biggest spread first", () => {
  expect(MODELS.map((m) => m.name)).toStrictEqual(["last_touch", "first_touch", "linear", "time_decay", "position_based"]);
  const reports = [
    report([src("utm:a", "Ads", 100), src("utm:n", "Newsletter", 50)]),
    report([src("utm:a", "Ads", 40), src("utm:n", "Newsletter", 120)]),
    report([src("utm:a", "Ads", 70), src("utm:n", "Newsletter", 80), src("campaign:1", "Broadcast", 0)]),
    undefined, // still loading
    report([src("utm:a", "Ads", 75), src("utm:n", "Newsletter", 75)]),
  ];
  const rows = compareModels(reports);
  expect(rows.map((r) => [r.name, r.values, r.spread])).toStrictEqual([
      ["Newsletter", [50, 120, 80, null, 75], 70],
      ["Ads", [100, 40, 70, null, 75], 60],
      ["Broadcast", [0, 0, 0, null, 0], 0],
    ]);
  expect(rows[2].channel).toBe("email");
  expect(compareModels([undefined, undefined, undefined, undefined, undefined])).toStrictEqual([]);
});

test("ROI reads as a gain in percent and a multiple of what was spent", () => {
  expect(formatRoi(11.902333)).toStrictEqual({ percent: "+1,190%", multiple: "12.90×" });
  expect(formatRoi(-0.4348)).toStrictEqual({ percent: "−43%", multiple: "0.57×" });
  expect(formatRoi(0)).toStrictEqual({ percent: "0%", multiple: "1.00×" });
  expect(formatRoi(null)).toBe(null);
  expect(formatRoi(Infinity)).toBe(null);
});

test("money, shares and credited conversions as the page writes them", () => {
  expect(formatMoney(40000, "USD")).toBe("$40,000");
  expect(formatMoney(1234.56, "EUR")).toBe("€1,235");
  expect(formatMoney(12.5, "USD")).toBe("$12.50");
  expect(formatMoney(0, "USD")).toBe("$0");
  expect(formatMoney(0.002, "USD", { cents: true })).toBe("$0.00");
  expect(formatMoney(null, "USD")).toBe("—");
  expect(formatMoney(500, "XYZW"), "a code the browser does not know stays readable").toBe("500 XYZW");
  expect(formatMoney(500, null)).toBe("500");
  expect(formatShare(113989, 192920)).toBe("59.1%");
  expect(formatShare(1, 0)).toBe("—");
  expect(formatCredit(151.3999999)).toBe("151.4");
  expect(formatCredit(0)).toBe("0.0");
});

test("sources lead to their campaign or journey report", () => {
  expect(sourceLink("campaign:01a2")).toStrictEqual({ kind: "campaign", to: "/email/campaigns/01a2" });
  expect(sourceLink("journey:01b3")).toStrictEqual({ kind: "journey", to: "/journeys/01b3?view=report" });
  expect(sourceLink("utm:google/cpc/black-friday")).toStrictEqual({ kind: "utm", to: null });
  expect(sourceLink("campaign:")).toStrictEqual({ kind: "other", to: null });
});

test("a cost's period: sent as typed, shown with its last day (the API's end is not included)", () => {
  const made = costBody({ source: "utm:a/b/c", amount: "250", perMessage: "", currency: "USD", note: "", since: "2026-10-20", until: "2026-11-13" });
  expect(made).toStrictEqual({
    body: { source: "utm:a/b/c", amount: 250, per_message: 0, currency: "USD", note: null, since: "2026-10-20", until: "2026-11-13" },
  });
  const stored = {
    source: "utm:a/b/c", amount: 250, per_message: 0, currency: "USD", note: null,
    since: "2026-10-20T00:00:00+00:00", until: "2026-11-14T00:00:00+00:00", updated_at: "2026-12-07T01:00:00+00:00",
  };
  expect(costFormOf(stored).since).toBe("2026-10-20");
  expect(costFormOf(stored).until).toBe("2026-11-13");
  expect(periodLabel(stored)).toBe("2026-10-20 – 2026-11-13");
  expect(periodLabel({ ...stored, since: null, until: null })).toBe("every report");
  expect(costFormOf({ ...stored, since: null, until: null }).until).toBe("");
});

test("the cost form's body: numbers as numbers, empty ones 0, codes upper-cased, an empty note null; non-numbers named at their field", () => {
  expect(costBody({ source: " utm:google/cpc/x ", amount: "4000", perMessage: "", currency: "usd", note: " " })).toStrictEqual({
    body: { source: "utm:google/cpc/x", amount: 4000, per_message: 0, currency: "USD", note: null },
  });
  expect(costBody({ source: "campaign:1", amount: "", perMessage: "0.002", currency: "EUR", note: "ESP price" })).toStrictEqual({
    body: { source: "campaign:1", amount: 0, per_message: 0.002, currency: "EUR", note: "ESP price" },
  });
  // Negative amounts go to the server, which names the field; only what is no number at all is caught here.
  expect("body" in costBody({ source: "x", amount: "-5", perMessage: "", currency: "USD", note: "" })).toBeTruthy();
  expect(costBody({ source: "x", amount: "4k", perMessage: "cheap", currency: "USD", note: "" })).toStrictEqual({
    fields: { amount: "must be a number, like 4000 or 12.50", per_message: "must be a number, like 0.002" },
  });
});
