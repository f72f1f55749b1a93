// Unit tests of the email report logic campaigns and journeys share (the
// funnel and its rates, the list health rates, days filled in, the CSV
// built in the browser) and of the journey report's step funnel and runs.
import { expect, test } from "vitest";
import type { CampaignTotals } from "../../src/email/campaign";
import { csvCell, csvName, csvSections, emailCsvSections, fillDays, formatRate, funnel, healthRates, toCsv } from "../../src/reports/emailReport";
import { reachedOf, runsByStatus, stepFunnel } from "../../src/journeys/report";

const totals = (patch: Partial<CampaignTotals> = {}): CampaignTotals => ({
  messages: 120,
  sent: 100,
  delivered: 95,
  bounced: 3,
  soft_bounced: 2,
  complained: 1,
  refused: 20,
  skipped: 0,
  failed: 0,
  unique_opens: 40,
  opens: 55,
  machine_opens: 7,
  unique_clicks: 10,
  clicks: 14,
  unsubscribed: 2,
  ...patch,
});

test("the funnel rates each step against what it comes from, bars against what was sent", () => {
  const steps = funnel(totals(), 5);
  expect(steps.map((s) => [s.key, s.count, s.rate, s.of, s.width])).toStrictEqual([
      ["sent", 100, null, "", 1],
      ["delivered", 95, 0.95, "of sent", 0.95],
      ["opened", 40, 40 / 95, "of delivered", 0.4],
      ["clicked", 10, 0.25, "of opened", 0.1],
      ["converted", 5, 5 / 95, "of delivered", 0.05],
    ]);
  // No conversion goal: no converted step; nothing sent: no rates and no division by zero.
  expect(funnel(totals()).length).toBe(4);
  expect(funnel(totals(), null).length).toBe(4);
  const none = funnel(totals({ sent: 0, delivered: 0, unique_opens: 0, unique_clicks: 0 }), 0);
  expect(none.map((s) => s.rate)).toStrictEqual([null, null, null, null, null]);
  expect(none.map((s) => s.width)).toStrictEqual([0, 0, 0, 0, 0]);
});

test("bounces count against sent mail, unsubscribes and complaints against delivered mail", () => {
  expect(healthRates(totals()).map((r) => [r.key, r.rate, r.count])).toStrictEqual([
      ["bounce", 0.03, 3],
      ["unsubscribe", 2 / 95, 2],
      ["complaint", 1 / 95, 1],
    ]);
  expect(healthRates(totals({ sent: 0, delivered: 0 })).map((r) => r.rate)).toStrictEqual([null, null, null]);
  expect(formatRate(0.0305)).toBe("3.1%");
  expect(formatRate(0.001), "small rates keep two decimals").toBe("0.10%");
  expect(formatRate(0)).toBe("0.0%");
  expect(formatRate(null)).toBe("—");
});

test("days without activity are filled in with zeros, in order", () => {
  const day = (d: string, sent: number) => ({ day: d, sent, opened: 0, clicked: 0, unsubscribed: 0 });
  expect(fillDays([])).toStrictEqual([]);
  expect(fillDays([day("2026-03-01", 4), day("2026-02-27", 2)]).map((d) => [d.day, d.sent])).toStrictEqual([
      ["2026-02-27", 2],
      ["2026-02-28", 0],
      ["2026-03-01", 4],
    ]);
});

test("CSV cells are quoted when they must be, and text cannot turn into a spreadsheet formula", () => {
  expect(csvCell("plain")).toBe("plain");
  expect(csvCell('say "hi", twice')).toBe('"say ""hi"", twice"');
  expect(csvCell("two\nlines")).toBe('"two\nlines"');
  expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
  expect(csvCell("-5"), "text that looks like a formula is defused").toBe("'-5");
  expect(csvCell(-5), "numbers are numbers").toBe("-5");
  expect(csvCell(null)).toBe("");
  expect(csvCell(NaN)).toBe("");
  expect(toCsv([["a", 1], ["b,c", null]])).toBe('a,1\r\n"b,c",\r\n');
  expect(csvSections([{ title: "T1", header: ["x"], rows: [[1]] }, { title: "T2", header: ["y"], rows: [] }])).toBe("T1\r\nx\r\n1\r\n\r\nT2\r\ny\r\n");
  expect(csvName("campaign", "Black Friday: 30% off!")).toBe("campaign-black-friday-30-off.csv");
  expect(csvName("journey", "???")).toBe("journey.csv");
});

test("a report's CSV holds its totals with rates, clicks per link and every day", () => {
  const sections = emailCsvSections({
    totals: totals(),
    links: [{ url: "https://shop.example/?a=1,b=2", clicks: 9, machine_clicks: 1 }],
    series: [
      { day: "2026-12-01", sent: 60, opened: 20, clicked: 5, unsubscribed: 1 },
      { day: "2026-12-03", sent: 40, opened: 20, clicked: 5, unsubscribed: 1 },
    ],
    conversions: { event: "Order Completed", days: 7, converted: 5 },
  });
  expect(sections.map((s) => s.title)).toStrictEqual(["Totals", "Clicks per link", "Per day (UTC)"]);
  const byMetric = new Map(sections[0].rows.map((r) => [r[0], r[2]]));
  expect(byMetric.get("sent")).toBe(100);
  expect(byMetric.get("converted")).toBe(5);
  expect(byMetric.get("opened_rate")).toBe(0.4211);
  expect(byMetric.get("bounce_rate")).toBe(0.03);
  expect(byMetric.get("complaint_rate")).toBe(0.0105);
  const text = csvSections(sections);
  expect(text.includes('"https://shop.example/?a=1,b=2",9,1\r\n'), text).toBeTruthy();
  expect(text.includes("day,sent,opened,clicked,unsubscribed\r\n2026-12-01,60,20,5,1\r\n2026-12-02,0,0,0,0\r\n2026-12-03,40,20,5,1\r\n"), text).toBeTruthy();
});

const WELCOME = {
  trigger: { type: "event", event: "Signed Up" },
  start: "points",
  nodes: {
    done: { type: "exit" },
    nudge: { type: "update_contact", set: { stage: "needs-nudge" }, next: "done" },
    "bought?": { type: "wait_event", event: "Order Completed", timeout: { days: 7 }, next: "customer", timeout_next: "nudge" },
    customer: { type: "update_contact", set: { stage: "customer" }, next: "done" },
    points: { type: "change_score", score: "engagement", by: 5, next: "welcome" },
    welcome: { type: "send", channel: "email", template: "Welcome", next: "settle_in" },
    settle_in: { type: "delay", duration: { days: 1 }, next: "bought?" },
    orphan: { type: "exit" },
  },
};

test("steps come in the order contacts meet them, each with the runs that reached it against those that entered", () => {
  // As the demo's stats answer after five sign-ups (a send passes straight on; the delay holds them;
  // the run that completed at "done" finished there and is not "here now").
  const nodes = [
    { node: "points", current: {}, outcomes: { entered: 5, passed: 5 } },
    { node: "settle_in", current: { delayed: 3 }, outcomes: { arrived: 5, left: 2 } },
    { node: "welcome", current: {}, outcomes: { passed: 5 } },
    { node: "bought?", current: { waiting: 1 }, outcomes: { arrived: 2, left: 1 } },
    { node: "customer", current: {}, outcomes: { passed: 1 } },
    { node: "done", current: { completed: 1 }, outcomes: { exit: 1 } },
    { node: "old_step", current: {}, outcomes: { passed: 2 } },
  ];
  const f = stepFunnel(WELCOME, nodes);
  expect(f.entered).toBe(5);
  expect(f.rows.map((r) => [r.id, r.reached, r.share, r.now])).toStrictEqual([
      ["points", 5, 1, 0],
      ["welcome", 5, 1, 0],
      ["settle_in", 5, 1, 3],
      ["bought?", 2, 0.4, 1],
      ["customer", 1, 0.2, 0],
      ["nudge", 0, 0, 0],
      ["done", 1, 0.2, 0],
      ["orphan", 0, 0, 0],
      ["old_step", 2, 0.4, 0],
    ]);
  expect(f.rows.find((r) => r.id === "old_step")?.inVersion).toBe(false);
  expect(f.rows[0].label).toBe("Change score");
  // Before anyone entered there are no shares.
  expect(stepFunnel(WELCOME, []).rows.map((r) => r.share)).toStrictEqual(Array(8).fill(null));
  expect(reachedOf({ entered: 1, passed: 1, left: 1 })).toBe(1);
});

test("runs are listed by status in the order of a run's life, unknown ones after, with the total", () => {
  const r = runsByStatus({ delayed: 3, completed: 4, paused_forever: 1 });
  expect(r.rows.map((x) => x.status)).toStrictEqual(["delayed", "waiting", "acting", "completed", "converted", "exited", "failed", "paused_forever"]);
  expect(r.rows[0].count).toBe(3);
  expect(r.rows[1].count).toBe(0);
  expect(r.total).toBe(8);
});
