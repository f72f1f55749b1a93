// Unit tests of the attribution report's logic: the controls read from and
// written to the page address (a linked report reopens the same), the API
// query they stand for, sorting the sources, the model comparison table,
// ROI and money as shown, source links, and the cost form's body.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addDays,
  apiQuery,
  compareModels,
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
  assert.equal(paramsOfQuery(DEFAULT_QUERY).toString(), "");
  assert.deepEqual(queryFromParams(new URLSearchParams("")), DEFAULT_QUERY);
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
  assert.equal(params.toString(), "event=Trial+Started&since=2026-11-01&until=2026-11-30&model=time_decay&half_life_days=3.5&window_days=14&email_touch=clicked&value=order.total&currency=EUR");
  assert.deepEqual(queryFromParams(params), custom);
  // A quick range is kept as a range, so a linked "last 7 days" stays relative.
  assert.equal(paramsOfQuery(q({ range: 7 })).toString(), "range=7");
  assert.deepEqual(queryFromParams(new URLSearchParams("range=90")), q({ range: 90 }));
});

test("the address is read leniently: unknown models and touches fall back, dates win over a range, half-typed numbers stay", () => {
  assert.equal(queryFromParams(new URLSearchParams("model=bogus")).model, "last_touch");
  assert.equal(queryFromParams(new URLSearchParams("email_touch=read")).touch, "opened");
  assert.deepEqual(queryFromParams(new URLSearchParams("range=7&since=2026-10-01")), q({ range: null, since: "2026-10-01", until: "" }));
  assert.equal(queryFromParams(new URLSearchParams("range=-3")).range, 30);
  assert.equal(queryFromParams(new URLSearchParams("window_days=1x")).window, "1x", "kept as typed, for the server to name");
  // The half-life only matters, so is only written, under time decay.
  assert.equal(paramsOfQuery(q({ halfLife: "3" })).toString(), "");
});

test("periods: a quick range ends today and includes it; days are UTC", () => {
  assert.equal(addDays("2026-12-07", -6), "2026-12-01");
  assert.equal(addDays("2026-03-01", -1), "2026-02-28");
  assert.equal(utcToday(new Date("2026-12-07T23:30:00-05:00")), "2026-12-08");
  assert.deepEqual(periodOf(q({ range: 7 }), "2026-12-07"), { since: "2026-12-01", until: "2026-12-07" });
  assert.deepEqual(periodOf(q({ range: null, since: "2026-11-01", until: "" }), "2026-12-07"), { since: "2026-11-01", until: "" });
});

test("the API query names every control, trims and upper-cases, and the comparison swaps only the model", () => {
  const base = apiQuery(q(), "2026-12-07");
  assert.equal(base, "event=Order+Completed&since=2026-11-08&until=2026-12-07&model=last_touch&window_days=7&email_touch=opened");
  const p = new URLSearchParams(apiQuery(q({ event: "  ", currency: " eur ", value: " revenue ", model: "linear" }), "2026-12-07", "time_decay"));
  assert.equal(p.get("event"), "Order Completed", "an emptied event means the default");
  assert.equal(p.get("currency"), "EUR");
  assert.equal(p.get("value"), "revenue");
  assert.equal(p.get("model"), "time_decay");
  assert.equal(p.get("half_life_days"), "7", "the half-life goes with time decay");
  assert.equal(new URLSearchParams(apiQuery(q({ model: "linear" }), "2026-12-07")).has("half_life_days"), false);
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
  assert.deepEqual(names({ key: "value", dir: "desc" }), ["Charlie", "Alpha", "Delta", "Broadcast"]);
  assert.deepEqual(names({ key: "value", dir: "asc" }), ["Broadcast", "Alpha", "Delta", "Charlie"]);
  assert.deepEqual(names({ key: "roi", dir: "desc" }), ["Alpha", "Charlie", "Broadcast", "Delta"]);
  assert.deepEqual(names({ key: "roi", dir: "asc" }), ["Charlie", "Alpha", "Broadcast", "Delta"]);
  assert.deepEqual(names({ key: "name", dir: "desc" }), ["Delta", "Charlie", "Broadcast", "Alpha"]);
  assert.deepEqual(names({ key: "messages_sent", dir: "desc" })[0], "Broadcast");
  assert.equal(rows[0].name, "Alpha", "the report's own list is left alone");
});

test("sorting follows clicks and lives in the address", () => {
  assert.deepEqual(sortFromParams(new URLSearchParams("")), { key: "value", dir: "desc" });
  assert.deepEqual(sortFromParams(new URLSearchParams("sort=-roi")), { key: "roi", dir: "desc" });
  assert.deepEqual(sortFromParams(new URLSearchParams("sort=name")), { key: "name", dir: "asc" });
  assert.deepEqual(sortFromParams(new URLSearchParams("sort=bogus")), { key: "value", dir: "desc" });
  assert.deepEqual(nextSort({ key: "value", dir: "desc" }, "value"), { key: "value", dir: "asc" });
  assert.deepEqual(nextSort({ key: "value", dir: "desc" }, "name"), { key: "name", dir: "asc" });
  assert.deepEqual(nextSort({ key: "name", dir: "asc" }, "cost"), { key: "cost", dir: "desc" });
  assert.equal(sortParam({ key: "value", dir: "desc" }), null);
  assert.equal(sortParam({ key: "roi", dir: "asc" }), "roi");
  assert.equal(sortParam({ key: "roi", dir: "desc" }), "-roi");
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
  assert.deepEqual(
    MODELS.map((m) => m.name),
    ["last_touch", "first_touch", "linear", "time_decay", "position_based"],
  );
  const reports = [
    report([src("utm:a", "Ads", 100), src("utm:n", "Newsletter", 50)]),
    report([src("utm:a", "Ads", 40), src("utm:n", "Newsletter", 120)]),
    report([src("utm:a", "Ads", 70), src("utm:n", "Newsletter", 80), src("campaign:1", "Broadcast", 0)]),
    undefined, // still loading
    report([src("utm:a", "Ads", 75), src("utm:n", "Newsletter", 75)]),
  ];
  const rows = compareModels(reports);
  assert.deepEqual(
    rows.map((r) => [r.name, r.values, r.spread]),
    [
      ["Newsletter", [50, 120, 80, null, 75], 70],
      ["Ads", [100, 40, 70, null, 75], 60],
      ["Broadcast", [0, 0, 0, null, 0], 0],
    ],
  );
  assert.equal(rows[2].channel, "email");
  assert.deepEqual(compareModels([undefined, undefined, undefined, undefined, undefined]), []);
});

test("ROI reads as a gain in percent and a multiple of what was spent", () => {
  assert.deepEqual(formatRoi(11.902333), { percent: "+1,190%", multiple: "12.90×" });
  assert.deepEqual(formatRoi(-0.4348), { percent: "−43%", multiple: "0.57×" });
  assert.deepEqual(formatRoi(0), { percent: "0%", multiple: "1.00×" });
  assert.equal(formatRoi(null), null);
  assert.equal(formatRoi(Infinity), null);
});

test("money, shares and credited conversions as the page writes them", () => {
  assert.equal(formatMoney(40000, "USD"), "$40,000");
  assert.equal(formatMoney(1234.56, "EUR"), "€1,235");
  assert.equal(formatMoney(12.5, "USD"), "$12.50");
  assert.equal(formatMoney(0, "USD"), "$0");
  assert.equal(formatMoney(0.002, "USD", { cents: true }), "$0.00");
  assert.equal(formatMoney(null, "USD"), "—");
  assert.equal(formatMoney(500, "XYZW"), "500 XYZW", "a code the browser does not know stays readable");
  assert.equal(formatMoney(500, null), "500");
  assert.equal(formatShare(113989, 192920), "59.1%");
  assert.equal(formatShare(1, 0), "—");
  assert.equal(formatCredit(151.3999999), "151.4");
  assert.equal(formatCredit(0), "0.0");
});

test("sources lead to their campaign or journey report", () => {
  assert.deepEqual(sourceLink("campaign:01a2"), { kind: "campaign", to: "/email/campaigns/01a2" });
  assert.deepEqual(sourceLink("journey:01b3"), { kind: "journey", to: "/journeys/01b3?view=report" });
  assert.deepEqual(sourceLink("utm:google/cpc/black-friday"), { kind: "utm", to: null });
  assert.deepEqual(sourceLink("campaign:"), { kind: "other", to: null });
});

test("a cost's period: sent as typed, shown with its last day (the API's end is not included)", () => {
  const made = costBody({ source: "utm:a/b/c", amount: "250", perMessage: "", currency: "USD", note: "", since: "2026-10-20", until: "2026-11-13" });
  assert.deepEqual(made, {
    body: { source: "utm:a/b/c", amount: 250, per_message: 0, currency: "USD", note: null, since: "2026-10-20", until: "2026-11-13" },
  });
  const stored = {
    source: "utm:a/b/c", amount: 250, per_message: 0, currency: "USD", note: null,
    since: "2026-10-20T00:00:00+00:00", until: "2026-11-14T00:00:00+00:00", updated_at: "2026-12-07T01:00:00+00:00",
  };
  assert.equal(costFormOf(stored).since, "2026-10-20");
  assert.equal(costFormOf(stored).until, "2026-11-13");
  assert.equal(periodLabel(stored), "2026-10-20 – 2026-11-13");
  assert.equal(periodLabel({ ...stored, since: null, until: null }), "every report");
  assert.equal(costFormOf({ ...stored, since: null, until: null }).until, "");
});

test("the cost form's body: numbers as numbers, empty ones 0, codes upper-cased, an empty note null; non-numbers named at their field", () => {
  assert.deepEqual(costBody({ source: " utm:google/cpc/x ", amount: "4000", perMessage: "", currency: "usd", note: " " }), {
    body: { source: "utm:google/cpc/x", amount: 4000, per_message: 0, currency: "USD", note: null },
  });
  assert.deepEqual(costBody({ source: "campaign:1", amount: "", perMessage: "0.002", currency: "EUR", note: "ESP price" }), {
    body: { source: "campaign:1", amount: 0, per_message: 0.002, currency: "EUR", note: "ESP price" },
  });
  // Negative amounts go to the server, which names the field; only what is no number at all is caught here.
  assert.ok("body" in costBody({ source: "x", amount: "-5", perMessage: "", currency: "USD", note: "" }));
  assert.deepEqual(costBody({ source: "x", amount: "4k", perMessage: "cheap", currency: "USD", note: "" }), {
    fields: { amount: "must be a number, like 4000 or 12.50", per_message: "must be a number, like 0.002" },
  });
});
