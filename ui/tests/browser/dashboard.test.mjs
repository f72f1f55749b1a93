// Browser tests of the dashboard against the real `kairos demo` binary: the
// Email card shows the API's email activity (the demo sends none at start,
// so its empty state; then emails sent through the API, one of them opened,
// with open and click rates); "Needs attention" lists a missing company
// postal address with a link to where it is set, for the owner and for an
// analyst, whose page reads no personal data (no dead letters, no runs);
// a segment of one contact reads "1 contact" (not "1 contacts") there and
// "1 member" and "1 contact matches now" on its page; the dashboard fits a 768 px tablet.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "dana.dashboard@example.test", password: "an analyst watches the dashboard" };

describe("the dashboard", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 150 });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Dana Dashboard", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-dashboard-", maxName: 60, calledApi: true });
  });

  const activity = async () => (await server.api("GET", "/api/v1/workspace/email-activity?days=30")).body;
  const rate = (part, whole) => (whole ? `${(Math.round((part / whole) * 1000) / 10).toLocaleString("en-US")}%` : "—");

  test("a segment of exactly one contact is counted in the singular on the dashboard and on its page", async () => {
    const one = (await server.api("GET", "/api/v1/contacts?limit=1")).body.data[0];
    const made = await server.api("POST", "/api/v1/segments", { name: "Just one (dashboard test)", rule: { field: "email", op: "equals", value: one.email } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await eventually(async () => (await server.api("GET", `/api/v1/segments/${made.body.id}`)).body.count === 1, 20_000, "the segment of one to be built");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const item = page.locator("li", { has: page.getByRole("link", { name: "Just one (dashboard test)" }) });
    await eventually(async () => /Just one \(dashboard test\)\s+1 contact$/.test((await item.innerText().catch(() => "")).trim()), 10_000, "the segment counted as 1 contact");
    // The other segments stay in the plural.
    const big = (await server.api("GET", "/api/v1/segments")).body.data.find((s) => s.count > 1);
    await page.locator("li", { has: page.getByRole("link", { name: big.name, exact: true }) }).getByText(`${big.count.toLocaleString("en-US")} contacts`).waitFor();
    await item.getByRole("link").click();
    await eventually(async () => /^\s*active version 1 · 1 member\s*$/.test(await page.locator(".saved-segment p").first().innerText().catch(() => "")), 10_000, "1 member on the segment page");
    await eventually(
      async () => (await page.getByTestId("live-count").innerText()) === "1" && /^contact matches now/.test(await page.getByTestId("live-count-state").innerText()),
      10_000,
      "the live count in the singular",
    );
    await b.shot("dashboard-one-contact");
  });

  test("the demo's dashboard shows the Email and Conversions cards as the API counts them, and nothing needing attention about setup", async () => {
    const a = await activity();
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const card = page.getByTestId("email-card");
    await card.getByRole("heading", { name: "Email, last 30 days" }).waitFor();
    await eventually(async () => (await page.getByTestId("email-sent").innerText()) !== "…", 10_000, "the email totals");
    assert.equal(await page.getByTestId("email-sent").innerText(), a.sent.toLocaleString("en-US"));
    if (a.sent === 0) {
      assert.match(await page.getByTestId("email-empty").innerText(), /No email sent in the last 30 days/);
      assert.equal(await page.getByTestId("email-opened-rate").innerText(), "Open rate —", "no rate of nothing");
    } else {
      await card.getByRole("img", { name: /Email per day/ }).waitFor();
    }
    // Conversions over the same days, as the attribution report counts them.
    const report = (await server.api("GET", "/api/v1/reports/attribution")).body;
    assert.ok(report.totals.conversions > 0, "the demo has orders in the last 30 days");
    const conversions = page.getByTestId("conversions-card");
    await eventually(async () => (await page.getByTestId("conversions-conversions").innerText()) !== "…", 15_000, "the conversion totals");
    assert.equal(await page.getByTestId("conversions-conversions").innerText(), report.totals.conversions.toLocaleString("en-US"));
    const usd = (n) => n.toLocaleString("en-US", { style: "currency", currency: report.currency, minimumFractionDigits: 0, maximumFractionDigits: 0 });
    assert.equal(await page.getByTestId("conversions-value").innerText(), usd(report.totals.value));
    assert.equal(await page.getByTestId("conversions-attributed").innerText(), usd(report.totals.attributed_value));
    await conversions.getByRole("img", { name: /Conversions and their value per day/ }).waitFor();
    const feed = page.getByTestId("needs-attention");
    await feed.getByText(/^Nothing:|gave up|failed/).first().waitFor();
    assert.equal(await feed.getByTestId("attention-postal-address").count(), 0, "the demo has a postal address");
    assert.equal(await feed.getByTestId("attention-no-sender").count(), 0, "the demo has a sender");
    await b.shot("dashboard");
  });

  test("without a postal address Needs attention says so, for the owner and an analyst, and links to the settings", async () => {
    const settings = (await server.api("GET", "/api/v1/settings")).body;
    const cleared = await server.api("PUT", "/api/v1/settings", { ...settings, postal_address: null });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    try {
      b = await openBrowser();
      const { page } = b;
      await signIn(page, server);
      const item = page.getByTestId("attention-postal-address");
      await item.waitFor();
      assert.match(await item.innerText(), /No company postal address[\s\S]*Marketing email is refused without one/);
      await b.shot("dashboard-attention-postal");
      await item.getByRole("link", { name: /Settings/ }).click();
      await page.getByRole("heading", { name: "Postal address" }).waitFor();
      await closeAndCheck(b, server, "owner sees the postal address item", { prefix: "last-dashboard-" });

      // The analyst sees the same item, and their page asked for nothing personal.
      b = await openBrowser();
      await signIn(b.page, server, ANALYST);
      await b.page.getByTestId("attention-postal-address").waitFor();
      await b.page.waitForLoadState("networkidle");
      assert.equal(await b.page.getByRole("button", { name: /Retry/ }).count(), 0);
      const personal = b.apiCalls.filter((c) => /dead-letters|\/runs|\/contacts/.test(c));
      assert.deepEqual(personal, [], "an analyst's dashboard reads aggregates only");
      assert.ok(b.apiCalls.some((c) => /\/journeys\/[^/]+\/stats$/.test(c)), "failed runs are counted from the journeys' stats");
    } finally {
      await server.api("PUT", "/api/v1/settings", settings);
    }
  });

  test("emails sent through the API show in the card with open and click rates", async () => {
    const contacts = (await server.api("GET", "/api/v1/contacts?limit=20")).body.data.filter((c) => c.email).slice(0, 3);
    const sent = [];
    for (const c of contacts) {
      const r = await server.api("POST", "/api/v1/email/send", { template: "Welcome", contact_id: c.id, transactional: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      if (r.body.message_id) sent.push(r.body.message_id);
    }
    assert.ok(sent.length > 0, "at least one email was sent");
    // Open the first as a mail client would: fetch its tracking pixel.
    const raw = await fetch(`${server.url}/api/v1/email/messages/${sent[0]}/raw`, { headers: { Authorization: `Bearer ${server.key}` } }).then((r) => r.text());
    const pixel = raw.replace(/=\r?\n/g, "").match(/\/t\/o\/[^"'\s]+\.gif/)?.[0];
    if (pixel) await fetch(server.url + pixel, { headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36" } });
    const a = await eventually(async () => {
      const x = await activity();
      return x.sent >= sent.length ? x : null;
    }, 10_000, "the sends counted");

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await eventually(async () => (await page.getByTestId("email-sent").innerText()) === a.sent.toLocaleString("en-US"), 10_000, "the sent total");
    assert.equal(await page.getByTestId("email-opened").innerText(), a.opened.toLocaleString("en-US"));
    assert.equal(await page.getByTestId("email-clicked").innerText(), a.clicked.toLocaleString("en-US"));
    assert.equal(await page.getByTestId("email-opened-rate").innerText(), `Open rate ${rate(a.opened, a.sent)}`);
    assert.equal(await page.getByTestId("email-clicked-rate").innerText(), `Click rate ${rate(a.clicked, a.sent)}`);
    const chart = page.getByTestId("email-card").getByRole("img", { name: /Email per day/ });
    await chart.waitFor();
    assert.match(await chart.getAttribute("aria-label"), new RegExp(`Sent: ${a.sent}`));
    assert.equal(await page.getByTestId("email-empty").count(), 0);
    await b.shot("dashboard-email");
  });

  test("at tablet width (768 px) the dashboard fits and keeps its layout while loading", async () => {
    b = await openBrowser({ width: 768, height: 1024 });
    const { page } = b;
    await signIn(page, server);
    await page.getByTestId("email-card").waitFor();
    await page.waitForLoadState("networkidle");
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling at 768 px");
    const box = await page.getByTestId("email-card").boundingBox();
    assert.ok(box.width <= 768, "the Email card fits");
    await b.shot("dashboard-tablet");
  });
});
