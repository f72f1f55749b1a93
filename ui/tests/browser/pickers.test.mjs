// Browser tests of the builders' event pickers and the segment builder's
// sample members against the real `kairos demo` binary: an event, one of its
// properties and one of that property's frequent values are picked from the
// event catalogue (GET /api/v1/workspace/events), the live count equals the
// API's preview of the same rule, and the contacts in the sample really
// match; a saved segment, with its sample and members, does not move while
// it loads, at laptop and tablet widths; an analyst sees the count but no
// sample (and is never refused); the journey builder's trigger offers the
// same names and properties, picked with the keyboard, and saves the
// trigger's property filter.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos, steadyLayout } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "pia.picker@example.test", password: "an analyst counts but sees nobody" };
const CATALOG = "/api/v1/workspace/events?days=30&sample=20000&values=10";

describe("event pickers from the catalogue and the live sample", { skip: skip ?? false }, () => {
  let server;
  let b;
  let catalog;

  before(async () => {
    server = await startKairos({ contacts: 300 });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Pia Picker", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    catalog = (await server.api("GET", CATALOG)).body;
    assert.ok(catalog.events.some((e) => e.name === "Order Completed"), "the demo tracks orders");
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-pickers-", maxName: 60, calledApi: true });
  });

  const optionNames = async (listbox) => (await listbox.getByRole("option").locator(".combo-value").allInnerTexts()).map((s) => s.trim());

  test("an event, a property and a frequent value picked from the catalogue; the live count is the API's and the sample matches", async () => {
    b = await openBrowser();
    const { page } = b;
    const previews = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/api/v1/segments/preview")) previews.push(JSON.parse(r.postData() ?? "{}"));
    });
    await signIn(page, server);
    await page.getByRole("link", { name: "Segments" }).first().click();
    await page.getByRole("link", { name: "New segment" }).click();
    await page.getByTestId("rule-condition").first().getByRole("button", { name: "Remove condition" }).click();
    await page.getByLabel("Add a condition").selectOption("event");

    // The names offered are the catalogue's, most frequent first, with their counts.
    const cond = page.getByTestId("rule-condition").first();
    const eventName = cond.getByLabel("Event name");
    assert.equal(await eventName.getAttribute("role"), "combobox");
    await eventName.click();
    const events = page.getByRole("listbox", { name: "Events seen" });
    // Names known before the catalogue arrives show at once; its counts follow.
    const order = catalog.events.find((e) => e.name === "Order Completed");
    const counted = new RegExp(`${order.count.toLocaleString("en-US")} events in 30 days`);
    await eventually(async () => counted.test(await events.getByRole("option", { name: /^Order Completed/ }).innerText().catch(() => "")), 10_000, "the catalogue's counts");
    assert.equal(await events.getByText("Loading the events seen…").count(), 0);
    const names = await optionNames(events);
    assert.deepEqual(names.slice(0, catalog.events.length), catalog.events.map((e) => e.name), "the catalogue's names, in its order");
    assert.equal(await eventName.getAttribute("aria-expanded"), "true");
    await b.shot("pickers-event-names");
    await events.getByRole("option", { name: /^Order Completed/ }).click();
    assert.equal(await eventName.inputValue(), "Order Completed");
    assert.equal(await events.isHidden(), true, "the list closes once a name is picked");

    // The event's properties with their types; a number property gets the number operators.
    await cond.getByRole("button", { name: "+ property filter" }).click();
    const filter = cond.getByTestId("property-filter").first();
    await filter.getByLabel("Property", { exact: true }).click();
    const props = page.getByRole("listbox", { name: "Properties of Order Completed" });
    await props.getByRole("option").first().waitFor();
    const testable = order.properties.filter((p) => p.types.some((t) => t !== "object")).map((p) => p.path);
    assert.deepEqual(await optionNames(props), testable);
    const total = order.properties.find((p) => p.path === "total");
    assert.deepEqual(total.types, ["number"]);
    assert.match(await props.getByRole("option", { name: /^total/ }).innerText(), /number/);
    await b.shot("pickers-properties");
    await props.getByRole("option", { name: /^total/ }).click();
    const ops = await filter.getByLabel("Property operator").locator("option").evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(ops, ["equals", "not_equals", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_set", "not_set"]);
    await filter.getByLabel("Property operator").selectOption("gte");

    // A frequent value, suggested with how often it was seen.
    await filter.getByLabel("Property value", { exact: true }).click();
    const values = page.getByRole("listbox", { name: "Frequent values of total" });
    await values.getByRole("option").first().waitFor();
    assert.deepEqual(await optionNames(values), total.top_values.map((v) => String(v.value)));
    await b.shot("pickers-values");
    const picked = total.top_values[0].value;
    await values.getByRole("option").first().click();
    assert.equal(await filter.getByLabel("Property value", { exact: true }).inputValue(), String(picked));

    // The rule sent has the value as a JSON number, and the live count is the API's for it.
    const rule = { and: [{ event: "Order Completed", where: [{ property: "total", op: "gte", value: picked }] }] };
    assert.equal(typeof picked, "number");
    const expected = (await server.api("POST", "/api/v1/segments/preview", { rule })).body.count;
    assert.ok(expected > 0, "some contacts ordered that much");
    await eventually(
      async () => (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US") && /match/.test(await page.getByTestId("live-count-state").innerText()),
      10_000,
      `the live count ${expected}`,
    );
    await page.getByText("Rule as JSON").click();
    assert.deepEqual(JSON.parse(await page.locator(".rule-json pre").innerText()), rule);
    assert.ok(previews.some((p) => JSON.stringify(p.rule) === JSON.stringify(rule) && p.sample === 10), "the preview asked for a sample of the same rule");

    // The sample: up to 10 contacts, each linking to their page, each matching the rule.
    const sample = page.getByTestId("preview-sample");
    await eventually(async () => (await sample.getByRole("link").count()) === Math.min(10, expected), 10_000, "the sample");
    const hrefs = await sample.getByRole("link").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    const ids = hrefs.map((h) => h.match(/^\/contacts\/([0-9a-f-]{36})$/)?.[1]);
    assert.ok(ids.every(Boolean), `links to contact pages: ${hrefs}`);
    assert.equal(new Set(ids).size, ids.length, "no contact twice");
    for (const id of ids) {
      const c = (await server.api("GET", `/api/v1/contacts/${id}`)).body;
      const one = (await server.api("POST", "/api/v1/segments/preview", { rule: { and: [rule, { field: "email", op: "equals", value: c.email }] } })).body.count;
      assert.equal(one, 1, `${c.email} matches the rule`);
    }
    // One of them checked against their own events.
    let found = false;
    for (let cursor = null, n = 0; !found && n < 50; n++) {
      const page_ = (await server.api("GET", `/api/v1/contacts/${ids[0]}/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).body;
      found = page_.data.some((e) => e.name === "Order Completed" && Number(e.properties?.total) >= picked);
      cursor = page_.next_cursor;
      if (!cursor) break;
    }
    assert.ok(found, "the first sampled contact completed an order of at least the value picked");
    await b.shot("pickers-live-sample");

    // A sampled contact's link opens their page.
    await sample.getByRole("link").first().click();
    await page.waitForURL(new RegExp(`/contacts/${ids[0]}$`));
    await page.getByRole("heading", { name: "Event timeline" }).waitFor();
  });

  test("typing a property's value: text stays text, and the keyboard picks names and values", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/segments/new`);
    await page.getByTestId("rule-condition").first().getByRole("button", { name: "Remove condition" }).click();
    await page.getByLabel("Add a condition").selectOption("event");
    const cond = page.getByTestId("rule-condition").first();
    // A name typed in part, then ↓ and Enter.
    await cond.getByLabel("Event name").fill("signed");
    await page.getByRole("listbox", { name: "Events seen" }).getByRole("option", { name: /^Signed Up/ }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    assert.equal(await cond.getByLabel("Event name").inputValue(), "Signed Up");
    await cond.getByRole("button", { name: "+ property filter" }).click();
    const filter = cond.getByTestId("property-filter").first();
    await filter.getByLabel("Property", { exact: true }).fill("pla");
    await page.getByRole("listbox", { name: "Properties of Signed Up" }).getByRole("option", { name: /^plan/ }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    assert.equal(await filter.getByLabel("Property", { exact: true }).inputValue(), "plan");
    const ops = await filter.getByLabel("Property operator").locator("option").evaluateAll((os) => os.map((o) => o.value));
    assert.ok(ops.includes("starts_with") && !ops.includes("gt"), `text operators: ${ops}`);
    // "is one of": each picked value joins the list.
    await filter.getByLabel("Property operator").selectOption("in");
    const value = filter.getByLabel("Property value", { exact: true });
    for (const v of ["pro", "enterprise"]) {
      await value.click();
      await page.getByRole("listbox", { name: "Frequent values of plan" }).getByRole("option", { name: new RegExp(`^${v}`) }).click();
    }
    assert.equal(await value.inputValue(), "pro, enterprise");
    // Escape closes the list without changing the value.
    await value.click();
    await page.getByRole("listbox", { name: "Frequent values of plan" }).waitFor();
    await page.keyboard.press("Escape");
    assert.equal(await page.getByRole("listbox", { name: "Frequent values of plan" }).isHidden(), true);
    const rule = { and: [{ event: "Signed Up", where: [{ property: "plan", op: "in", value: ["pro", "enterprise"] }] }] };
    const expected = (await server.api("POST", "/api/v1/segments/preview", { rule })).body.count;
    await eventually(async () => (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US"), 10_000, `the live count ${expected}`);
    // A number-looking text for a text property is sent as text.
    await filter.getByLabel("Property operator").selectOption("equals");
    await value.fill("123");
    await page.getByText("Rule as JSON").click();
    await eventually(async () => {
      const shown = JSON.parse(await page.locator(".rule-json pre").innerText());
      return shown.and[0].where[0].value === "123";
    }, 5000, "the value as text");
    await eventually(async () => (await page.getByTestId("live-count").innerText()) === "0", 10_000, "no one has plan 123");
  });

  test("the last occurrence and a window between dates are picked, and counted as the API counts them", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/segments/new`);
    await page.getByTestId("rule-condition").first().getByRole("button", { name: "Remove condition" }).click();
    await page.getByLabel("Add a condition").selectOption("event");
    const cond = page.getByTestId("rule-condition").first();
    await cond.getByLabel("Event name").click();
    await page.getByRole("listbox", { name: "Events seen" }).getByRole("option", { name: /^Order Completed/ }).click();
    const count = page.getByTestId("live-count");
    const settled = async (rule) => {
      const expected = (await server.api("POST", "/api/v1/segments/preview", { rule })).body.count;
      await eventually(async () => (await count.innerText()) === expected.toLocaleString("en-US") && /match/.test(await page.getByTestId("live-count-state").innerText()), 10_000, `the live count ${expected}`);
      return expected;
    };

    // "Order Completed, the last time was within the last 7 days".
    await cond.getByLabel("What to test").selectOption("last");
    await cond.getByLabel("When").selectOption("within_last_days");
    assert.match(await page.getByTestId("live-count-state").innerText(), /Finish the conditions/, "no count until the days are given");
    await cond.getByLabel("Days").fill("7");
    const recent = await settled({ and: [{ event: "Order Completed", last: { op: "within_last_days", value: 7 } }] });

    // "… more than 7 days ago" is the rest of those who ever ordered.
    await cond.getByLabel("When").selectOption("more_than_days_ago");
    await cond.getByLabel("Days").fill("7");
    const older = await settled({ and: [{ event: "Order Completed", last: { op: "more_than_days_ago", value: 7 } }] });
    const ever = (await server.api("POST", "/api/v1/segments/preview", { rule: { event: "Order Completed" } })).body.count;
    assert.equal(recent + older, ever);

    // At least once between two dates: the last 10 days as a range.
    const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await cond.getByLabel("What to test").selectOption("at_least");
    await cond.getByLabel("Time window").selectOption("between");
    await cond.getByLabel("From date").fill(day(-10));
    await cond.getByLabel("To date").fill(day(1));
    await settled({ and: [{ event: "Order Completed", window: { between: [day(-10), day(1)] } }] });
    await page.getByText("Rule as JSON").click();
    assert.deepEqual(JSON.parse(await page.locator(".rule-json pre").innerText()), { and: [{ event: "Order Completed", window: { between: [day(-10), day(1)] } }] });
    await b.shot("pickers-window-between");
  });

  test("when the catalogue cannot be read the builder says so, and event names can still be typed", async () => {
    b = await openBrowser();
    const { page } = b;
    await page.route("**/api/v1/workspace/events?**", (route) =>
      route.fulfill({
        status: 422,
        contentType: "application/problem+json",
        body: JSON.stringify({ title: "Unprocessable", status: 422, detail: "made to fail by the test" }),
      }),
    );
    await signIn(page, server);
    await page.goto(`${server.url}/segments/new`);
    const problem = page.getByRole("alert").filter({ hasText: "Loading the events seen" });
    await problem.waitFor();
    assert.match(await problem.innerText(), /made to fail by the test/);
    await page.getByTestId("rule-condition").first().getByRole("button", { name: "Remove condition" }).click();
    await page.getByLabel("Add a condition").selectOption("event");
    await page.getByLabel("Event name").fill("Order Completed");
    const expected = (await server.api("POST", "/api/v1/segments/preview", { rule: { event: "Order Completed" } })).body.count;
    await eventually(async () => (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US"), 10_000, `the live count ${expected}`);
    await b.shot("pickers-catalogue-failed");
  });

  for (const [width, height] of [[1366, 900], [768, 1024]]) {
    test(`at ${width} px a saved segment with its sample and members does not move while it loads`, async (t) => {
      const seg = (await server.api("GET", "/api/v1/segments")).body.data.find((s) => s.count > 0);
      assert.ok(seg, "a demo segment with members");
      b = await openBrowser({ width, height });
      const { page } = b;
      await signIn(page, server);
      await page.goto(`${server.url}/segments/${seg.id}`);
      const expected = (await server.api("POST", "/api/v1/segments/preview", { rule: seg.rule })).body.count;
      await eventually(async () => (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US"), 15_000, `the live count ${expected}`);
      await page.getByTestId("preview-sample").waitFor();
      await page.getByText("Members of the saved version").waitFor();
      await page.waitForLoadState("networkidle");
      await steadyLayout(b, "a saved segment", { t });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling");
      await b.shot(`pickers-segment-${width}`);
    });
  }

  test("an analyst sees the live count of a segment but no sample, and is never refused", async (t) => {
    const seg = (await server.api("GET", "/api/v1/segments")).body.data.find((s) => s.count > 0);
    assert.ok(seg, "a demo segment with members");
    b = await openBrowser();
    const { page } = b;
    const previews = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/api/v1/segments/preview")) previews.push(JSON.parse(r.postData() ?? "{}"));
    });
    await signIn(page, server, ANALYST);
    const refusedBefore = b.refusals.length; // the sign-in page's session check is a 401
    await page.goto(`${server.url}/segments/${seg.id}`);
    const expected = (await server.api("POST", "/api/v1/segments/preview", { rule: seg.rule })).body.count;
    await eventually(async () => (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US"), 15_000, `the live count ${expected}`);
    await page.waitForLoadState("networkidle");
    assert.ok(previews.length > 0);
    assert.ok(previews.every((p) => !("sample" in p)), "the analyst's previews ask for no sample");
    assert.equal(await page.getByTestId("preview-sample").count(), 0, "no sample shown");
    assert.deepEqual(b.refusals.slice(refusedBefore), [], "nothing was refused");
    assert.equal(await page.getByRole("alert").count(), 0, "no error shown");
    await steadyLayout(b, "a saved segment for an analyst", { t });
    await b.shot("pickers-analyst");
  });

  test("the journey builder's trigger picks its event and a property filter from the catalogue, and saves them", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Journeys" }).first().click();
    await page.getByRole("link", { name: "New journey" }).click();
    await page.getByLabel("Name").fill("Pro sign-ups (pickers test)");
    await page.locator(".react-flow__viewport").waitFor();
    await page.getByRole("button", { name: "Exit", exact: true }).click();
    await page.getByTestId("node-exit_1").waitFor();

    await page.getByTestId("node-trigger").click();
    const event = page.getByLabel("Event", { exact: true });
    await event.click();
    const events = page.getByRole("listbox", { name: "Events seen" });
    await eventually(async () => /events in 30 days/.test(await events.getByRole("option").first().innerText().catch(() => "")), 10_000, "the catalogue's counts");
    const names = await optionNames(events);
    assert.deepEqual(names.slice(0, catalog.events.length), catalog.events.map((e) => e.name), "the catalogue's names");
    await b.shot("pickers-journey-trigger");
    // With the keyboard: type part of the name, ↓, Enter.
    await event.fill("Signed");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    assert.equal(await event.inputValue(), "Signed Up");

    const where = page.getByTestId("event-where");
    await where.getByRole("button", { name: "+ property filter" }).click();
    await where.getByLabel("Property", { exact: true }).click();
    const signedUp = catalog.events.find((e) => e.name === "Signed Up");
    assert.deepEqual(await optionNames(page.getByRole("listbox", { name: "Properties of Signed Up" })), signedUp.properties.map((p) => p.path));
    await page.getByRole("listbox", { name: "Properties of Signed Up" }).getByRole("option", { name: /^plan/ }).click();
    await where.getByLabel("Property value", { exact: true }).click();
    await page.getByRole("listbox", { name: "Frequent values of plan" }).getByRole("option", { name: /^pro/ }).click();
    await page.getByLabel("First step").selectOption("exit_1");

    await page.getByRole("button", { name: "Save draft" }).click();
    await page.waitForURL(/\/journeys\/[0-9a-f-]{36}$/);
    const saved = (await server.api("GET", `/api/v1/journeys/${page.url().split("/").pop()}`)).body;
    assert.deepEqual(saved.definition.trigger, { type: "event", event: "Signed Up", where: [{ property: "plan", op: "equals", value: "pro" }] });

    // A wait step offers the same names.
    await page.getByRole("button", { name: "Wait for event", exact: true }).click();
    const wait = page.getByTestId("step-panel").getByLabel("Event to wait for");
    await wait.click();
    assert.deepEqual((await optionNames(page.getByRole("listbox", { name: "Events seen" }))).slice(0, catalog.events.length), catalog.events.map((e) => e.name));
    await page.keyboard.press("Escape");
    await b.shot("pickers-journey-saved");
  });
});
