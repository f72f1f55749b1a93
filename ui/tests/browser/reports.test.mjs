// Browser tests of the Reports section against the real `kairos demo`
// binary (UTM-tagged visits, orders with totals, USD costs for three UTM
// sources; a broadcast launched here to five consented contacts, two of
// whom open it and one clicks and then orders; two sign-ups that run the
// welcome journey): a marketer reads the attribution report, switches the
// model and sees the API's new figures, sorts by ROI, enters a cost for the
// campaign and sees its ROI appear, compares the five models and downloads
// the CSV, and a reload keeps the controls; an analyst reads it all but
// changes nothing; a refused cost is shown at its field and a cost is
// removed after a confirm; the campaign and journey reports show their
// funnels, rates and days and export CSV; at tablet width the page fits,
// is used with the keyboard and does not jump as it loads or while a
// report loads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos, steadyLayout } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "ana.lyst@example.test", password: "analysts read every report" };
const MARKETER = { email: "mark.eter@example.test", password: "marketers enter what ads cost" };
const CAMPAIGN = "November picks";
const ORDER = 480;
const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const usd = (n) => n.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 0, maximumFractionDigits: 0 });

/** The tracking links of a captured message's HTML part: its open pixel and its first click link. */
function trackingLinks(raw) {
  const at = raw.search(/Content-Type: text\/html/i);
  const part = raw.slice(at, raw.indexOf("\n--", at + 1));
  const body = part.slice(part.search(/\r?\n\r?\n/)).replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  const urls = [...body.matchAll(/(?:src|href)="(http[^"]+\/t\/[oc]\/[^"]+)"/g)].map((m) => m[1]);
  return { open: urls.find((u) => u.includes("/t/o/")), click: urls.find((u) => u.includes("/t/c/")) };
}

describe("reports", { skip: skip ?? false }, () => {
  let server;
  let b;
  let campaign;
  let journey;
  let buyer;

  before(async () => {
    server = await startKairos({ contacts: 400 });
    for (const [who, name, role] of [[ANALYST, "Ana Lyst", "analyst"], [MARKETER, "Mark Eter", "marketer"]]) {
      const u = await server.api("POST", "/api/v1/users", { ...who, name, role });
      assert.equal(u.status, 201, JSON.stringify(u.body));
    }
    // Five consented contacts on a list, for a broadcast with a conversion goal.
    const contacts = (await server.api("GET", "/api/v1/contacts?limit=100")).body.data.filter((c) => c.email && c.external_id && c.custom?.newsletter !== true).slice(0, 5);
    assert.equal(contacts.length, 5);
    const list = (await server.api("POST", "/api/v1/lists", { name: "Report test list" })).body;
    for (const c of contacts) {
      const r = await server.api("PUT", `/api/v1/contacts/${c.id}/consents`, { channel: "email", purpose: "marketing", state: "granted", wording: "Send me news and offers by email" });
      assert.ok(r.status < 300, JSON.stringify(r.body));
    }
    await server.api("POST", `/api/v1/lists/${list.id}/members`, { contact_ids: contacts.map((c) => c.id) });
    const created = await server.api("POST", "/api/v1/email/campaigns", {
      name: CAMPAIGN,
      definition: { audience: { list: list.id }, template: "Welcome", conversion: { event: "Order Completed", days: 7 } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    campaign = created.body;
    assert.equal((await server.api("POST", `/api/v1/email/campaigns/${campaign.id}/launch`)).status, 200);
    await eventually(async () => (await server.api("GET", `/api/v1/email/campaigns/${campaign.id}`)).body.status === "sent", 30_000, "the campaign to finish");

    // Two recipients open it (in a browser, so the opens are human); the first clicks and then orders.
    const messages = (await server.api("GET", `/api/v1/email/messages?limit=50`)).body.data.filter((m) => m.source === `campaign:${campaign.id}`);
    assert.equal(messages.length, 5);
    for (const [i, m] of messages.slice(0, 2).entries()) {
      const raw = await fetch(`${server.url}/api/v1/email/messages/${m.id}/raw`, { headers: { Authorization: `Bearer ${server.key}` } }).then((r) => r.text());
      const { open, click } = trackingLinks(raw);
      assert.ok(open && click, "the message has an open pixel and a tracked link");
      assert.equal((await fetch(open, { headers: { "User-Agent": BROWSER_UA } })).status, 200);
      if (i === 0) {
        // A click within seconds of the send is a link scanner's, not a person's.
        await new Promise((r) => setTimeout(r, Math.max(0, m.sent_at + 3500 - Date.now())));
        const r = await fetch(click, { headers: { "User-Agent": BROWSER_UA }, redirect: "manual" });
        assert.ok(r.status >= 300 && r.status < 400, `the click redirects: ${r.status}`);
        buyer = contacts.find((c) => c.id === m.contact_id);
      }
    }
    await eventually(async () => (await server.api("GET", `/api/v1/email/campaigns/${campaign.id}/report`)).body.totals.unique_clicks === 1, 10_000, "the click counted");
    await server.track({ userId: buyer.external_id, event: "Order Completed", properties: { revenue: ORDER, currency: "USD" } });
    await eventually(async () => (await server.api("GET", `/api/v1/email/campaigns/${campaign.id}/report`)).body.conversions?.converted === 1, 10_000, "the conversion counted");

    // Two sign-ups run the welcome journey, which sends them its email.
    journey = (await server.api("GET", "/api/v1/journeys")).body.data.find((j) => j.name === "Welcome series");
    assert.ok(journey);
    const subscribers = (await server.api("GET", "/api/v1/contacts?limit=200")).body.data.filter((c) => c.custom?.newsletter === true && c.external_id).slice(0, 2);
    assert.equal(subscribers.length, 2);
    for (const s of subscribers) await server.track({ userId: s.external_id, event: "Signed Up", properties: { plan: "pro" } });
    await eventually(async () => (await server.api("GET", `/api/v1/journeys/${journey.id}/stats`)).body.email.totals.sent === 2, 20_000, "the journey's emails");
  });
  after(async () => {
    await server?.stop();
  });

  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-reports-", maxName: 60, calledApi: true });
  });

  /** The next attribution answer the page receives whose query has `model`. */
  const nextReport = (page, model) =>
    page
      .waitForResponse((r) => {
        const u = new URL(r.url());
        return u.pathname === "/api/v1/reports/attribution" && u.searchParams.get("model") === model && r.request().method() === "GET";
      })
      .then((r) => r.json());

  test("a marketer reads attribution, switches the model, sorts by ROI, enters a cost, compares models and downloads the CSV", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, MARKETER);
    const first = nextReport(page, "last_touch");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Reports" }).waitFor();
    const lastTouch = await first;
    assert.ok(lastTouch.sources.filter((s) => s.source.startsWith("utm:") && s.roi !== null).length === 3, "the demo's three UTM sources have a cost and an ROI");

    // Every source the API credited is a row, with its ROI as the API has it.
    const table = page.getByTestId("sources-table");
    await table.waitFor();
    assert.equal(await table.locator("tbody tr").count(), lastTouch.sources.length);
    for (const s of lastTouch.sources.filter((x) => x.roi !== null)) {
      const pct = Math.round(s.roi * 100);
      const roi = await page.getByTestId(`source-${s.source}`).getByTestId("roi").innerText();
      assert.ok(roi.includes(`${Math.abs(pct).toLocaleString("en-US")}%`), `${s.source}: ${roi} shows ${pct}%`);
      assert.ok(roi.includes(`${(s.roi + 1).toFixed(2)}×`), `${s.source}: ${roi} shows the multiple`);
    }
    assert.equal(await page.getByTestId("figure-conversions").innerText(), lastTouch.totals.conversions.toLocaleString("en-US"));
    assert.equal(await page.getByTestId("figure-value").innerText(), usd(lastTouch.totals.value));
    assert.ok((await page.locator(".series-chart").getAttribute("aria-label")).includes(`over ${lastTouch.series.length} day(s)`));
    // The campaign is a source: it sent, and the order its clicker placed is credited to it.
    const campaignRow = page.getByTestId(`source-campaign:${campaign.id}`);
    assert.match(await campaignRow.innerText(), new RegExp(CAMPAIGN));
    const credited = lastTouch.sources.find((s) => s.source === `campaign:${campaign.id}`);
    assert.equal(credited.value, ORDER, "last touch gives the order to the email opened just before it");
    assert.equal(await campaignRow.getByTestId("roi").innerText(), "—", "no cost entered yet");
    await b.shot("reports-attribution-marketer");

    // Another model: new figures from the API, shown; the choice is in the address.
    const retargeting = "utm:facebook/paid_social/retargeting";
    const valueCell = page.getByTestId(`source-${retargeting}`).locator("td").nth(2);
    assert.equal(await valueCell.innerText(), usd(lastTouch.sources.find((s) => s.source === retargeting).value));
    const firstTouchNext = nextReport(page, "first_touch");
    await page.getByRole("radio", { name: /^First touch/ }).check();
    const firstTouch = await firstTouchNext;
    const changed = firstTouch.sources.find((s) => s.source === retargeting).value;
    assert.notEqual(changed, lastTouch.sources.find((s) => s.source === retargeting).value, "the demo's figures differ between models");
    await eventually(async () => (await valueCell.innerText()) === usd(changed), 10_000, "the first-touch figure");
    assert.equal(new URL(page.url()).searchParams.get("model"), "first_touch");

    // Sorted by ROI, highest first, sources without one last.
    await page.getByRole("button", { name: "ROI" }).click();
    await page.getByRole("columnheader", { name: "ROI" }).and(page.locator("[aria-sort]")).waitFor();
    const byRoi = firstTouch.sources.filter((s) => s.roi !== null).sort((a, b) => b.roi - a.roi);
    await eventually(async () => (await table.locator("tbody tr").first().getAttribute("data-testid")) === `source-${byRoi[0].source}`, 5000, "the best ROI on top");
    assert.equal(await page.getByRole("columnheader", { name: "ROI" }).getAttribute("aria-sort"), "descending");

    // A cost for the campaign: its ROI appears, from the report the API makes after.
    await page.getByRole("button", { name: `Add a cost for ${CAMPAIGN}` }).click();
    const editor = page.getByRole("form", { name: `Cost of ${CAMPAIGN}` });
    await editor.waitFor();
    assert.equal(await editor.getByLabel("Currency").inputValue(), "USD", "the report's currency is offered");
    await editor.getByLabel("Amount", { exact: true }).fill("120");
    await editor.getByLabel("Note (optional)").fill("design and copy");
    const after = nextReport(page, "first_touch");
    await editor.getByRole("button", { name: "Save cost" }).click();
    const withCost = await after;
    const campaignSource = withCost.sources.find((s) => s.source === `campaign:${campaign.id}`);
    assert.equal(campaignSource.cost, 120);
    await eventually(async () => (await campaignRow.getByTestId("cost").innerText()).startsWith("$120"), 10_000, "the cost in the row");
    const roiText = await campaignRow.getByTestId("roi").innerText();
    assert.ok(roiText.includes(`${(campaignSource.roi + 1).toFixed(2)}×`), `the campaign's ROI appears: ${roiText}`);
    await page.getByText(`The cost of ${CAMPAIGN} was saved.`).waitFor();
    const stored = (await server.api("GET", "/api/v1/reports/costs")).body.data.find((c) => c.source === `campaign:${campaign.id}`);
    assert.deepEqual({ amount: stored.amount, currency: stored.currency, note: stored.note }, { amount: 120, currency: "USD", note: "design and copy" });
    await b.shot("reports-attribution-cost-entered");

    // All five models side by side, each column the API's figure under that model.
    // One request answers all five.
    const comparisonNext = page
      .waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/reports/attribution/models" && r.request().method() === "GET")
      .then((r) => r.json());
    await page.getByRole("tab", { name: "Compare models" }).click();
    const compare = page.getByTestId("compare-table");
    await compare.waitFor();
    const comparison = await comparisonNext;
    assert.deepEqual(comparison.reports.map((r) => r.model.name), ["last_touch", "first_touch", "linear", "time_decay", "position_based"]);
    const linear = comparison.reports[2];
    const row = page.getByTestId(`compare-${retargeting}`);
    await eventually(async () => (await row.locator("td").nth(3).innerText()) === usd(linear.sources.find((s) => s.source === retargeting).value), 15_000, "the linear column");
    assert.equal(await row.locator("td").nth(2).innerText(), usd(changed), "the first-touch column");
    assert.match(await compare.locator("thead th.current-model").textContent(), /^First touch/, "the report's own model is marked");
    await b.shot("reports-compare-models");

    // The server's CSV of the same report.
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
    assert.match(dl.suggestedFilename(), /^attribution-first_touch-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
    const csv = readFileSync(await dl.path(), "utf8").trim().split("\n");
    assert.equal(csv[0], "source,channel,name,conversions,value,messages_sent,cost,roi");
    const line = csv.find((l) => l.startsWith(`campaign:${campaign.id},email,${CAMPAIGN},`));
    assert.ok(line, csv.join("\n"));
    assert.equal(line.split(",")[6], "120.0000", "the cost entered is in the CSV");
    assert.match(csv[csv.length - 1], /^\(unattributed\),/);

    // A reload (or a link) opens the same report.
    await page.reload();
    await page.getByTestId("compare-table").waitFor();
    assert.equal(await page.getByRole("radio", { name: /^First touch/ }).isChecked(), true);
    assert.equal(await page.getByRole("tab", { name: "Compare models" }).getAttribute("aria-selected"), "true");
  });

  test("an analyst reads the report and the costs but cannot change a cost", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
    const table = page.getByTestId("sources-table");
    await table.waitFor();
    assert.ok((await table.locator("tbody tr").count()) >= 4);
    assert.notEqual(await page.getByTestId("source-utm:google/cpc/black-friday").getByTestId("roi").innerText(), "—");
    assert.equal(await page.getByRole("button", { name: /Add a cost|Change the cost/ }).count(), 0, "no cost editing on the report");
    await b.shot("reports-attribution-analyst");

    await page.getByRole("link", { name: "Costs" }).click();
    await page.getByTestId("costs-table").waitFor();
    assert.equal(await page.getByTestId("costs-table").locator("tbody tr").count(), (await server.api("GET", "/api/v1/reports/costs")).body.data.length);
    assert.equal(await page.getByRole("button", { name: /Enter a cost|Change|Remove/ }).count(), 0, "no cost editing on the costs page");
    await page.getByText("Your role can read costs").waitFor();
    assert.ok(!b.apiCalls.some((c) => /^(PUT|DELETE) \/api\/v1\/reports\/costs/.test(c)));
    await b.shot("reports-costs-analyst");

    // The campaign and journey reports are in the section too.
    await page.getByRole("link", { name: "Campaigns & journeys" }).click();
    await page.getByRole("link", { name: CAMPAIGN }).waitFor();
    await page.getByRole("link", { name: "Welcome series" }).click();
    await page.getByTestId("journey-report").waitFor();
    assert.equal(new URL(page.url()).searchParams.get("view"), "report");
  });

  test("a refused cost is shown at its field; a cost is entered with the source picker and removed after a confirm", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/reports/costs`);
    await page.getByTestId("costs-table").waitFor();
    await page.getByRole("button", { name: "Enter a cost" }).click();
    const form = page.getByRole("form", { name: "New cost" });
    const source = form.getByLabel("Source");
    assert.ok(await source.evaluate((el) => el === document.activeElement), "the source has the focus");
    // The picker offers the report's sources (a datalist), and takes any key.
    await eventually(async () => (await page.locator("#cost-sources option").count()) >= 5, 10_000, "the report's sources offered");
    assert.ok((await page.locator("#cost-sources option").evaluateAll((os) => os.map((o) => o.value))).includes(`journey:${journey.id}`));
    await source.fill("utm:bing/cpc/winter-sale");
    await form.getByLabel("Amount", { exact: true }).fill("-5");
    await form.getByLabel("Currency").fill("USD");
    await form.getByRole("button", { name: "Save cost" }).click();
    const amountError = page.locator("#cost-amount-error");
    await amountError.waitFor();
    assert.match(await amountError.innerText(), /at least 0/);
    assert.equal(await form.getByLabel("Amount", { exact: true }).getAttribute("aria-invalid"), "true");
    assert.equal(await form.getByRole("alert").count(), 0, "the field says it all: no box besides");
    await b.shot("reports-cost-refused");

    await form.getByLabel("Amount", { exact: true }).fill("2500");
    await form.getByLabel("Per message").fill("0.01");
    // A period with only its first day is refused at the other field.
    await form.getByLabel("Spent from (optional)").fill("2026-10-01");
    await form.getByRole("button", { name: "Save cost" }).click();
    await page.locator("#cost-until-error").waitFor();
    await form.getByLabel("Last day (optional)").fill("2026-10-31");
    await form.getByRole("button", { name: "Save cost" }).click();
    const row = page.getByTestId("cost-utm:bing/cpc/winter-sale");
    await row.waitFor();
    assert.match(await row.innerText(), /\$2,500/);
    assert.match(await row.innerText(), /\$0\.01/);
    assert.match(await row.innerText(), /2026-10-01 – 2026-10-31/);
    // Named as reports name it, though no report of the last 30 days has it.
    assert.match(await row.innerText(), /winter-sale \(bing \/ cpc\)/);
    const stored = (await server.api("GET", "/api/v1/reports/costs")).body.data.find((c) => c.source === "utm:bing/cpc/winter-sale");
    assert.equal(stored.per_message, 0.01);
    assert.equal(stored.until, "2026-11-01T00:00:00+00:00", "the last day is included");
    assert.equal(stored.name, "winter-sale (bing / cpc)");
    // Changing it shows the period as entered.
    await row.getByRole("button", { name: "Change the cost of winter-sale (bing / cpc)" }).click();
    const change = page.getByRole("form", { name: /Cost of/ });
    assert.equal(await change.getByLabel("Last day (optional)").inputValue(), "2026-10-31");
    await change.getByRole("button", { name: "Cancel" }).click();

    await row.getByRole("button", { name: "Remove the cost of winter-sale (bing / cpc)" }).click();
    const confirm = row.getByRole("group", { name: /Confirm removing/ });
    await confirm.getByRole("button", { name: "Remove" }).click();
    await row.waitFor({ state: "detached" });
    await page.getByText("The cost of winter-sale (bing / cpc) was removed.").waitFor();
    assert.equal((await server.api("GET", "/api/v1/reports/costs")).body.data.some((c) => c.source === "utm:bing/cpc/winter-sale"), false);
  });

  test("the campaign report shows its funnel, rates and days, and exports them as CSV", async () => {
    const api = (await server.api("GET", `/api/v1/email/campaigns/${campaign.id}/report`)).body;
    assert.equal(api.series.length, 1, "everything happened today");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/reports/email`);
    await page.getByRole("link", { name: CAMPAIGN }).click();
    const report = page.getByTestId("campaign-report");
    await report.waitFor();
    const count = async (key) => (await page.getByTestId(`funnel-${key}`).locator(".funnel-count").innerText()).trim();
    assert.equal(await count("sent"), "5");
    assert.equal(await count("delivered"), String(api.totals.delivered));
    assert.equal(await count("opened"), "2");
    assert.equal(await count("clicked"), "1");
    assert.equal(await count("converted"), "1");
    assert.match(await page.getByTestId("funnel-opened").innerText(), /40\.0% of delivered/);
    assert.match(await page.getByTestId("funnel-clicked").innerText(), /50\.0% of opened/);
    assert.match(await page.getByTestId("rate-bounce").innerText(), /0\.0%/);
    assert.match(await page.getByTestId("rate-unsubscribe").innerText(), /0\.0%/);
    const chart = report.locator(".series-chart");
    await chart.locator("canvas").waitFor();
    assert.match(await chart.getAttribute("aria-label"), /Sent: 5 in total, Opened \(first\): 2 in total, Clicked \(first\): 1 in total, Unsubscribed: 0 in total/);
    assert.equal(await page.getByTestId("total-sent").innerText(), "5", "the totals table is still there");
    await b.shot("reports-campaign-report");

    const [dl] = await Promise.all([page.waitForEvent("download"), report.getByRole("button", { name: "Export CSV" }).click()]);
    assert.equal(dl.suggestedFilename(), "campaign-november-picks.csv");
    const csv = readFileSync(await dl.path(), "utf8");
    assert.ok(csv.startsWith(`Campaign\r\nid,name,status,started_at,finished_at,recipients\r\n${campaign.id},${CAMPAIGN},sent,`), csv.slice(0, 200));
    assert.ok(csv.includes("\r\nsent,Sent,5\r\n"), "the totals");
    assert.ok(csv.includes("\r\nopened_rate,Opened (unique) of delivered,0.4\r\n"), "the rates");
    assert.ok(csv.includes(`\r\n${api.links[0].url},1,0\r\n`), "the clicks per link");
    assert.ok(csv.includes(`\r\n${api.series[0].day},5,2,1,0\r\n`), "the day");
  });

  test("the journey report shows runs, steps and the journey's email, and exports them as CSV", async () => {
    const stats = (await server.api("GET", `/api/v1/journeys/${journey.id}/stats`)).body;
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Journeys" }).click();
    await page.getByRole("link", { name: "Welcome series" }).click();
    await page.getByTestId("journey-canvas").waitFor();
    await page.getByRole("tab", { name: "Report" }).click();
    const report = page.getByTestId("journey-report");
    await report.waitFor();
    assert.equal(new URL(page.url()).searchParams.get("view"), "report");
    const total = Object.values(stats.runs).reduce((a, b) => a + b, 0);
    assert.equal(await page.getByTestId("runs-total").innerText(), String(total));
    assert.equal(await page.getByTestId("runs-delayed").innerText(), String(stats.runs.delayed ?? 0));
    const start = journey.definition.start;
    const startStats = stats.nodes.find((n) => n.node === start);
    assert.match(await page.getByTestId(`step-${start}`).innerText(), new RegExp(`\\b${startStats.outcomes.passed}\\b[\\s\\S]*100\\.0%`));
    const steps = await report.locator(".step-funnel li").evaluateAll((ls) => ls.map((l) => l.dataset.testid));
    assert.deepEqual(steps.slice(0, 3), [`step-${start}`, "step-welcome", "step-settle_in"], "steps in the order contacts meet them");
    assert.equal((await page.getByTestId("funnel-sent").locator(".funnel-count").innerText()).trim(), String(stats.email.totals.sent));
    assert.match(await report.locator(".series-chart").getAttribute("aria-label"), new RegExp(`Sent: ${stats.email.totals.sent} in total`));
    await b.shot("reports-journey-report");

    const [dl] = await Promise.all([page.waitForEvent("download"), report.getByRole("button", { name: "Export CSV" }).click()]);
    assert.equal(dl.suggestedFilename(), "journey-welcome-series.csv");
    const csv = readFileSync(await dl.path(), "utf8");
    assert.ok(csv.includes(`Runs by status\r\nstatus,runs\r\n`), csv.slice(0, 300));
    assert.ok(csv.includes(`\r\ntotal,${total}\r\n`));
    assert.ok(csv.includes(`\r\n${start},change_score,${startStats.outcomes.passed},1,`), "the steps");
    assert.ok(csv.includes(`\r\nsent,Sent,${stats.email.totals.sent}\r\n`), "the journey's email totals");

    // Back to the canvas: the steps are framed again.
    await page.getByRole("tab", { name: "Canvas" }).click();
    await page.getByTestId(`node-${start}`).waitFor();
    assert.ok(await page.getByTestId(`node-${start}`).isVisible());
  });

  test("at tablet width the attribution page fits, works from the keyboard and does not jump while a report loads", async (t) => {
    b = await openBrowser({ width: 768, height: 1024 });
    const { page } = b;
    await signIn(page, server, MARKETER);
    await page.goto(`${server.url}/reports`);
    await page.getByTestId("sources-table").waitFor();
    await page.locator(".series-chart canvas").waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "the page fits 768 px without scrolling sideways");
    await b.shot("reports-attribution-tablet");

    const shiftsBefore = await steadyLayout(b, "the attribution page", { t });
    // The model by keyboard: arrows move along the radio group, and the report follows.
    await page.getByRole("radio", { name: /^Last touch/ }).focus();
    const next = nextReport(page, "first_touch");
    await page.keyboard.press("ArrowRight");
    await next;
    assert.equal(await page.getByRole("radio", { name: /^First touch/ }).isChecked(), true);
    // A quick range, reached with Tab and pressed with Enter.
    await page.getByRole("button", { name: "30 days" }).focus();
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "7 days");
    const week = page.waitForResponse((r) => r.url().includes("/api/v1/reports/attribution?") && r.url().includes("model=first_touch"));
    await page.keyboard.press("Enter");
    await week;
    assert.equal(new URL(page.url()).searchParams.get("range"), "7");
    assert.equal(await page.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed"), "true");
    // A typed window waits for the typing to pause, then shows the server's complaint at the field.
    await page.waitForLoadState("networkidle");
    await steadyLayout(b, "the attribution page while two reports loaded", { from: shiftsBefore, t });

    await page.getByLabel("Look-back window (days)").fill("200");
    const error = page.locator("#att-window-error");
    await error.waitFor();
    assert.match(await error.innerText(), /1 to 90/);
    assert.equal(await page.getByLabel("Look-back window (days)").getAttribute("aria-invalid"), "true");
    await page.getByLabel("Look-back window (days)").fill("14");
    await error.waitFor({ state: "detached" });
    // The views are tabs: arrow keys move between them.
    await page.getByRole("tab", { name: "Sources" }).focus();
    await page.keyboard.press("ArrowRight");
    await page.getByTestId("compare-table").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Compare models");
    assert.equal(new URL(page.url()).searchParams.get("view"), "compare");
    await page.waitForLoadState("networkidle");
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "the comparison fits 768 px too");
    await b.shot("reports-attribution-tablet-after");
  });
});
