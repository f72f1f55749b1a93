// Browser tests of broadcast campaigns, against the real `kairos` binary
// with demo data (capture transport): the owner builds a campaign on a
// static list of consented contacts with the Welcome template, meets the
// server's problems on the fields they name (no audience, a throttle of 0),
// fixes them, launches after a confirm that gives the audience size, and
// watches the report reach every recipient, its numbers equal to the API's;
// a throttled campaign is paused, resumed and cancelled; a marketer saves an
// A/B test of two templates and finds its variants and settings again after
// a reload; an analyst sees the list and the report but nothing to change.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "cam.analyst@example.test", password: "an analyst reads the reports" };
const MARKETER = { email: "abby.tester@example.test", password: "a marketer tests subject lines" };
const LIST = "Campaign test list";

describe("campaigns", { skip: skip ?? false }, () => {
  let server;
  let b;
  let listId;
  let sentId;

  before(async () => {
    server = await startKairos({ contacts: 200 });
    const list = await server.api("POST", "/api/v1/lists", { name: LIST });
    assert.equal(list.status, 201, JSON.stringify(list.body));
    listId = list.body.id;
    const contacts = (await server.api("GET", "/api/v1/contacts?limit=5")).body.data;
    assert.equal(contacts.length, 5);
    for (const c of contacts) {
      const r = await server.api("PUT", `/api/v1/contacts/${c.id}/consents`, {
        channel: "email",
        purpose: "marketing",
        state: "granted",
        wording: "Send me news and offers by email",
      });
      assert.ok(r.status < 300, `consent for ${c.id}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const added = await server.api("POST", `/api/v1/lists/${listId}/members`, { contact_ids: contacts.map((c) => c.id) });
    assert.equal(added.body.added, 5);
    for (const [who, name, role] of [[ANALYST, "Cam Analyst", "analyst"], [MARKETER, "Abby Tester", "marketer"]]) {
      const u = await server.api("POST", "/api/v1/users", { ...who, name, role });
      assert.equal(u.status, 201, JSON.stringify(u.body));
    }
  });
  after(async () => {
    await server?.stop();
  });

  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name);
  });

  test("the owner builds a campaign, fixes what the server refuses, launches it and watches the report", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Campaigns" }).click();
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByRole("link", { name: "New campaign" }).click();
    await page.getByRole("heading", { name: "New campaign" }).waitFor();

    // No audience: the server's problem is shown on the audience picker.
    await page.getByLabel("Name", { exact: true }).fill("Welcome broadcast");
    await page.getByLabel("Template", { exact: true }).selectOption({ label: "Welcome" });
    await page.getByRole("button", { name: "Save" }).click();
    const audienceError = page.locator("#cmp-audience-error");
    await audienceError.waitFor();
    assert.match(await audienceError.innerText(), /is required/);
    assert.equal(await page.locator("#cmp-audience").getAttribute("aria-invalid"), "true");
    await b.shot("campaign-audience-refused");

    // A throttle of 0: refused on the throttle field, the audience error gone.
    await page.getByLabel("A static list").check();
    await page.getByLabel("List", { exact: true }).selectOption({ label: `${LIST} (5)` });
    await page.getByLabel("Throttle (messages per minute)").fill("0");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#cmp-per-minute-error").waitFor();
    assert.match(await page.locator("#cmp-per-minute-error").innerText(), /whole number from 1/);
    assert.equal(await audienceError.count(), 0);
    await b.shot("campaign-throttle-refused");

    await page.getByLabel("Throttle (messages per minute)").fill("");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/email\/campaigns\/[0-9a-f-]{36}$/);
    sentId = page.url().split("/").pop();
    const saved = (await server.api("GET", `/api/v1/email/campaigns/${sentId}`)).body;
    assert.equal(saved.status, "draft");
    assert.deepEqual(saved.definition.audience, { list: listId });

    // Launch, after a confirm with the audience size.
    await page.getByRole("button", { name: "Launch…" }).click();
    const confirm = page.getByRole("group", { name: "Confirm the launch" });
    await confirm.getByText("Send to 5 recipients now?").waitFor();
    await b.shot("campaign-launch-confirm");
    await confirm.getByRole("button", { name: "Yes, launch" }).click();

    // The report fills in while it sends, and ends where the API's does.
    const report = page.getByTestId("campaign-report");
    await report.waitFor();
    await eventually(async () => (await page.locator(".page-header .badge").innerText()).trim() === "sent", 20_000, "the campaign to finish");
    await eventually(async () => (await page.getByTestId("recipients-pending").innerText()) === "0" && (await page.getByTestId("total-sent").innerText()) === "5", 10_000, "the report to show every message sent");
    const api = (await server.api("GET", `/api/v1/email/campaigns/${sentId}/report`)).body;
    assert.equal(api.status, "sent");
    assert.equal(api.recipients.total, 5);
    assert.equal(api.totals.sent, 5, "every recipient consented, so the capture transport took all five");
    assert.equal(await page.getByTestId("recipients-total").innerText(), String(api.recipients.total));
    assert.equal(await page.getByTestId("recipients-done").innerText(), String(api.recipients.done));
    for (const k of ["messages", "sent", "delivered", "bounced", "soft_bounced", "refused", "skipped", "failed", "unique_opens", "opens", "machine_opens", "unique_clicks", "clicks", "unsubscribed", "complained"]) {
      assert.equal(await page.getByTestId(`total-${k}`).innerText(), String(api.totals[k]), k);
    }
    assert.equal(await page.getByRole("button", { name: "Save" }).count(), 0, "a launched campaign cannot be edited");
    assert.equal(await page.getByLabel("Name", { exact: true }).isDisabled(), true);
    await b.shot("campaign-report");

    // The list shows it with its status and headline numbers.
    await page.getByRole("link", { name: "All campaigns" }).click();
    const row = page.getByTestId("campaign-Welcome broadcast");
    await row.waitFor();
    assert.equal((await row.locator(".badge").last().innerText()).trim(), "sent");
    // The list's and template's names arrive apart from the campaigns (ids until then).
    await eventually(async () => new RegExp(`List: ${LIST}`).test(await row.innerText()), 10_000, "the list's name");
    await eventually(async () => /\t\s*Welcome\s*\t/.test(await row.innerText()), 10_000, "the template's name");
    await eventually(async () => (await row.getByTestId("headline").count()) > 0, 10_000, "headline numbers");
    assert.equal((await row.getByTestId("headline").innerText()).trim(), "5 · 0 · 0");
    await b.shot("campaign-list");
  });

  test("a throttled campaign is paused, resumed and cancelled", async () => {
    const c = await server.api("POST", "/api/v1/email/campaigns", {
      name: "Slow drip",
      definition: { audience: { list: listId }, template: "Welcome", per_minute: 1 },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/email/campaigns/${c.body.id}`);
    await page.getByRole("heading", { name: /Slow drip/ }).waitFor();
    assert.equal(await page.getByLabel("Throttle (messages per minute)").inputValue(), "1");
    await page.getByRole("button", { name: "Launch…" }).click();
    await page.getByRole("group", { name: "Confirm the launch" }).getByRole("button", { name: "Yes, launch" }).click();
    const badge = page.locator(".page-header .badge");
    await eventually(async () => (await badge.innerText()).trim() === "sending", 10_000, "sending");
    await page.getByRole("button", { name: "Pause" }).click();
    await eventually(async () => (await badge.innerText()).trim() === "paused", 10_000, "paused");
    assert.equal((await server.api("GET", `/api/v1/email/campaigns/${c.body.id}`)).body.status, "paused");
    await b.shot("campaign-paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await eventually(async () => (await badge.innerText()).trim() === "sending", 10_000, "sending again");
    await page.getByRole("button", { name: "Cancel campaign…" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await eventually(async () => (await badge.innerText()).trim() === "cancelled", 10_000, "cancelled");
    const r = (await server.api("GET", `/api/v1/email/campaigns/${c.body.id}/report`)).body;
    assert.equal(r.status, "cancelled");
    assert.ok(r.recipients.pending > 0, "the throttle kept most recipients waiting");
    assert.equal(await page.getByRole("button", { name: /Pause|Resume|Launch/ }).count(), 0);
  });

  test("a marketer saves an A/B test of two templates and finds its variants and settings after a reload", async () => {
    // A second template to test against the demo's Welcome.
    const welcome = (await server.api("GET", "/api/v1/email/templates")).body.data.find((t) => t.name === "Welcome");
    const { id: _id, created_at: _c, updated_at: _u, ...copy } = welcome;
    const other = await server.api("POST", "/api/v1/email/templates", { ...copy, name: "Welcome (short subject)", subject: "Hi {{ contact.first_name | default: 'there' }}" });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const segment = (await server.api("GET", "/api/v1/segments")).body.data.find((s) => s.name === "Recent buyers");

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, MARKETER);
    await page.getByRole("link", { name: "Campaigns" }).click();
    await page.getByRole("link", { name: "New campaign" }).click();
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Subject line test");
    await page.getByLabel("Segment", { exact: true }).selectOption({ label: `${segment.name} (${segment.count.toLocaleString("en-US")})` });
    await page.getByLabel("A/B test").check();
    await page.getByLabel("Variant A").selectOption({ label: "Welcome" });
    await page.getByLabel("Variant B").selectOption({ label: "Welcome (short subject)" });
    await page.getByLabel("Sample (% of the audience)").fill("30");
    await page.getByLabel("Wait before the winner (minutes)").fill("90");
    await page.getByLabel("Winner by").selectOption("clicks");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/email\/campaigns\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();

    // The server holds what was chosen.
    const saved = (await server.api("GET", `/api/v1/email/campaigns/${id}`)).body;
    assert.equal(saved.status, "draft");
    assert.equal(saved.name, "Subject line test");
    assert.deepEqual(saved.definition.audience, { segment: segment.id });
    assert.equal(saved.definition.template, undefined, "an A/B test has variants instead of one template");
    assert.deepEqual(saved.definition.ab.variants, [welcome.id, other.body.id]);
    assert.equal(saved.definition.ab.sample_percent, 30);
    assert.equal(saved.definition.ab.wait_minutes, 90);
    assert.equal(saved.definition.ab.metric, "clicks");

    // After a reload the editor shows the same test.
    await page.reload();
    await page.getByRole("heading", { name: /Subject line test/ }).waitFor();
    await eventually(async () => (await page.getByLabel("A/B test").isChecked()) && (await page.getByLabel("Variant B").count()) === 1, 10_000, "the A/B inputs");
    const chosen = async (label) => (await page.getByLabel(label).locator("option:checked").innerText()).trim();
    await eventually(async () => (await chosen("Variant A")) === "Welcome", 10_000, "the template names loaded");
    assert.equal(await chosen("Variant A"), "Welcome");
    assert.equal(await chosen("Variant B"), "Welcome (short subject)");
    assert.equal(await page.getByLabel("Variant C").count(), 0, "two variants, no more");
    assert.equal(await page.getByLabel("Sample (% of the audience)").inputValue(), "30");
    assert.equal(await page.getByLabel("Wait before the winner (minutes)").inputValue(), "90");
    assert.equal(await page.getByLabel("Winner by").inputValue(), "clicks");
    assert.equal(await chosen("Segment"), `${segment.name} (${segment.count.toLocaleString("en-US")})`);
    assert.equal(await page.getByRole("button", { name: "Save" }).isDisabled(), true, "nothing unsaved after a reload");
    await b.shot("campaign-ab-reloaded");
  });

  test("an analyst sees the campaigns and the report but cannot change anything", async () => {
    const draft = await server.api("POST", "/api/v1/email/campaigns", {
      name: "Analyst draft",
      definition: { audience: { list: listId }, template: "Welcome" },
    });
    assert.equal(draft.status, 201);
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.getByRole("link", { name: "Campaigns" }).click();
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByTestId("campaign-Welcome broadcast").waitFor();
    assert.equal(await page.getByRole("link", { name: "New campaign" }).count(), 0);
    await b.shot("campaign-list-analyst");

    await page.getByRole("link", { name: "Welcome broadcast" }).click();
    await page.getByTestId("campaign-report").waitFor();
    await eventually(async () => (await page.getByTestId("total-sent").innerText()) === "5", 10_000, "the report");
    assert.equal(await page.getByRole("button", { name: /Save|Launch|Pause|Resume|Cancel/ }).count(), 0);
    await b.shot("campaign-report-analyst");

    await page.goto(`${server.url}/email/campaigns/${draft.body.id}`);
    await page.getByRole("heading", { name: /Analyst draft/ }).waitFor();
    assert.equal(await page.getByLabel("Name", { exact: true }).isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: /Save|Launch|Cancel/ }).count(), 0);
    await page.goto(`${server.url}/email/campaigns/new`);
    await page.getByRole("heading", { name: "Not available to your role" }).waitFor();
  });
});
