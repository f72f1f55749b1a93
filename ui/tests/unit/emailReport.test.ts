// Unit tests of the email report logic campaigns and journeys share (the
// funnel and its rates, the list health rates, days filled in, the CSV
// built in the browser) and of the journey report's step funnel and runs.
import assert from "node:assert/strict";
import { test } from "node:test";
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
  assert.deepEqual(
    steps.map((s) => [s.key, s.count, s.rate, s.of, s.width]),
    [
      ["sent", 100, null, "", 1],
      ["delivered", 95, 0.95, "of sent", 0.95],
      ["opened", 40, 40 / 95, "of delivered", 0.4],
      ["clicked", 10, 0.25, "of opened", 0.1],
      ["converted", 5, 5 / 95, "of delivered", 0.05],
    ],
  );
  // No conversion goal: no converted step; nothing sent: no rates and no division by zero.
  assert.equal(funnel(totals()).length, 4);
  assert.equal(funnel(totals(), null).length, 4);
  const none = funnel(totals({ sent: 0, delivered: 0, unique_opens: 0, unique_clicks: 0 }), 0);
  assert.deepEqual(none.map((s) => s.rate), [null, null, null, null, null]);
  assert.deepEqual(none.map((s) => s.width), [0, 0, 0, 0, 0]);
});

test("bounces count against sent mail, unsubscribes and complaints against delivered mail", () => {
  assert.deepEqual(
    healthRates(totals()).map((r) => [r.key, r.rate, r.count]),
    [
      ["bounce", 0.03, 3],
      ["unsubscribe", 2 / 95, 2],
      ["complaint", 1 / 95, 1],
    ],
  );
  assert.deepEqual(healthRates(totals({ sent: 0, delivered: 0 })).map((r) => r.rate), [null, null, null]);
  assert.equal(formatRate(0.0305), "3.1%");
  assert.equal(formatRate(0.001), "0.10%", "small rates keep two decimals");
  assert.equal(formatRate(0), "0.0%");
  assert.equal(formatRate(null), "—");
});

test("days without activity are filled in with zeros, in order", () => {
  const day = (d: string, sent: number) => ({ day: d, sent, opened: 0, clicked: 0, unsubscribed: 0 });
  assert.deepEqual(fillDays([]), []);
  assert.deepEqual(
    fillDays([day("2026-03-01", 4), day("2026-02-27", 2)]).map((d) => [d.day, d.sent]),
    [
      ["2026-02-27", 2],
      ["2026-02-28", 0],
      ["2026-03-01", 4],
    ],
  );
});

test("CSV cells are quoted when they must be, and text cannot turn into a spreadsheet formula", () => {
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell('say "hi", twice'), '"say ""hi"", twice"');
  assert.equal(csvCell("two\nlines"), '"two\nlines"');
  assert.equal(csvCell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvCell("-5"), "'-5", "text that looks like a formula is defused");
  assert.equal(csvCell(-5), "-5", "numbers are numbers");
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(NaN), "");
  assert.equal(toCsv([["a", 1], ["b,c", null]]), 'a,1\r\n"b,c",\r\n');
  assert.equal(csvSections([{ title: "T1", header: ["x"], rows: [[1]] }, { title: "T2", header: ["y"], rows: [] }]), "T1\r\nx\r\n1\r\n\r\nT2\r\ny\r\n");
  assert.equal(csvName("campaign", "Black Friday: 30% off!"), "campaign-black-friday-30-off.csv");
  assert.equal(csvName("journey", "???"), "journey.csv");
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
  assert.deepEqual(sections.map((s) => s.title), ["Totals", "Clicks per link", "Per day (UTC)"]);
  const byMetric = new Map(sections[0].rows.map((r) => [r[0], r[2]]));
  assert.equal(byMetric.get("sent"), 100);
  assert.equal(byMetric.get("converted"), 5);
  assert.equal(byMetric.get("opened_rate"), 0.4211);
  assert.equal(byMetric.get("bounce_rate"), 0.03);
  assert.equal(byMetric.get("complaint_rate"), 0.0105);
  const text = csvSections(sections);
  assert.ok(text.includes('"https://shop.example/?a=1,b=2",9,1\r\n'), text);
  assert.ok(text.includes("day,sent,opened,clicked,unsubscribed\r\n2026-12-01,60,20,5,1\r\n2026-12-02,0,0,0,0\r\n2026-12-03,40,20,5,1\r\n"), text);
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
  // As the demo's stats answer after five sign-ups (a send passes straight on; the delay holds them).
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
  assert.equal(f.entered, 5);
  assert.deepEqual(
    f.rows.map((r) => [r.id, r.reached, r.share, r.now]),
    [
      ["points", 5, 1, 0],
      ["welcome", 5, 1, 0],
      ["settle_in", 5, 1, 3],
      ["bought?", 2, 0.4, 1],
      ["customer", 1, 0.2, 0],
      ["nudge", 0, 0, 0],
      ["done", 1, 0.2, 1],
      ["orphan", 0, 0, 0],
      ["old_step", 2, 0.4, 0],
    ],
  );
  assert.equal(f.rows.find((r) => r.id === "old_step")?.inVersion, false);
  assert.equal(f.rows[0].label, "Change score");
  // Before anyone entered there are no shares.
  assert.deepEqual(stepFunnel(WELCOME, []).rows.map((r) => r.share), Array(8).fill(null));
  assert.equal(reachedOf({ entered: 1, passed: 1, left: 1 }), 1);
});

test("runs are listed by status in the order of a run's life, unknown ones after, with the total", () => {
  const r = runsByStatus({ delayed: 3, completed: 4, paused_forever: 1 });
  assert.deepEqual(r.rows.map((x) => x.status), ["delayed", "waiting", "acting", "completed", "converted", "exited", "failed", "paused_forever"]);
  assert.equal(r.rows[0].count, 3);
  assert.equal(r.rows[1].count, 0);
  assert.equal(r.total, 8);
});
