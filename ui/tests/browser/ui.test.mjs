// Browser tests of the web UI against the real `kairos` binary with demo
// data: a marketer signs in with a key (and a bad key is refused) or with
// the demo owner's password, finds demo contacts,
// builds a segment whose live count changes as the rule is edited and
// equals the API's count, and builds, saves and publishes a journey on the
// canvas, which the API then returns; each page's code arrives when it is
// first opened, and a page whose code cannot arrive says so while the rest
// still work. No test may leave a console error (but those that test
// provokes), and every call the UI makes must be an endpoint of the OpenAPI
// document.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, signInWithKey, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

describe("the web UI", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos();
  });
  after(async () => {
    await server?.stop();
  });

  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { calledApi: true });
  });

  test("a bad key is refused with the server's explanation, a good one signs in and out", async () => {
    b = await openBrowser();
    const { page } = b;
    await page.goto(server.url + "/");
    await page.getByRole("button", { name: "Use an API key instead" }).click();
    await page.getByLabel("Admin API key").fill("ka_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Sign-in failed/);
    const problem = await fetch(server.url + "/api/v1/workspace", { headers: { Authorization: "Bearer ka_not-a-real-key" } }).then((r) => r.json());
    assert.ok((await alert.innerText()).includes(problem.detail), "the problem's detail is shown");
    await b.shot("signin-refused");
    // The page first asks whether a session cookie is there (none is), then tries the key.
    assert.equal(b.refusals.length, 2, "two refused requests: the session check on load and the sign-in");
    assert.ok(b.refusals.every((r) => r.includes("/api/v1/auth/session")), b.refusals.join("\n"));

    await page.getByLabel("Admin API key").fill(server.key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const ws = (await server.api("GET", "/api/v1/workspace")).body;
    const contacts = page.getByTestId("stat-Contacts");
    await eventually(async () => (await contacts.innerText()) === ws.contacts.toLocaleString("en-US"), 10_000, "the contact count");
    await page.getByRole("img", { name: /^Events, one point per day/ }).locator("canvas").waitFor();
    await b.shot("dashboard");

    // The key lives in sessionStorage: a reload keeps the session, sign-out ends it.
    await page.reload();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin API key").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("kairos.adminKey")), null);
  });

  test("each page's code arrives when first opened; one that cannot arrive says so and the others still open", async () => {
    b = await openBrowser();
    const { page } = b;
    const scripts = [];
    page.on("request", (r) => {
      const m = /\/assets\/([A-Za-z]+)-[\w-]+\.js$/.exec(new URL(r.url()).pathname);
      if (m) scripts.push(m[1]);
    });
    await page.goto(server.url + "/");
    await page.getByLabel("Email").waitFor();
    assert.deepEqual(scripts, ["index"], "the sign-in page needs only the main bundle");
    await signIn(page, server);
    await page.getByRole("img", { name: /^Events, one point per day/ }).locator("canvas").waitFor();
    assert.ok(scripts.includes("Dashboard") && scripts.includes("Chart"), scripts.join(" "));
    assert.ok(!scripts.includes("JourneyBuilder"), "no journey canvas on the dashboard");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Journeys" }).click();
    await page.getByRole("link", { name: "New journey" }).click();
    await page.getByTestId("journey-canvas").waitFor();
    assert.ok(scripts.includes("JourneyBuilder"));

    // The segments page's code cannot be fetched (a deploy replaced it, say).
    await page.route("**/assets/Segments-*.js", (r) => r.abort());
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Segments" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "This page could not be loaded" });
    await alert.waitFor();
    assert.match(await alert.innerText(), /reload to fetch the current version/);
    await page.getByRole("button", { name: "Reload" }).waitFor();
    await b.shot("page-load-failed");
    // The shell stays, and another page opens.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Scores" }).click();
    await page.getByRole("heading", { name: "Scores" }).waitFor();
    assert.equal(await alert.count(), 0);
    // The errors this test caused on purpose, and no other.
    const provoked = (e) => /Segments-[\w-]+\.js/.test(e) || /^Failed to load resource: net::ERR_FAILED$/.test(e);
    assert.ok(b.consoleErrors.some(provoked), b.consoleErrors.join("\n"));
    b.consoleErrors.splice(0, b.consoleErrors.length, ...b.consoleErrors.filter((e) => !provoked(e)));
  });

  test("a key revoked while signed in sends the marketer back to sign in, saying why", async () => {
    const key = (await server.api("POST", "/api/v1/keys", { name: "ui test", scope: "admin" })).body;
    b = await openBrowser();
    const { page } = b;
    await signInWithKey(page, server, key.secret);
    // Revoke only once the dashboard's own calls are done: one of them
    // failing would sign out before the click this test is about.
    await page.waitForLoadState("networkidle");
    assert.equal((await server.api("DELETE", `/api/v1/keys/${key.id}`)).status, 204);
    await page.getByRole("link", { name: "Contacts" }).first().click();
    await page.getByText("Your key is no longer accepted; sign in again.").waitFor();
    await page.getByLabel("Admin API key").waitFor();
    // The contacts page asks for several things at once, each refused: the later refusals leave the message as it is.
    await page.waitForLoadState("networkidle");
    await page.getByText("Your key is no longer accepted; sign in again.").waitFor({ timeout: 1000 });
    assert.equal(await page.getByText("Your session has ended").count(), 0);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("kairos.adminKey")), null);
    await b.shot("signin-revoked");
  });

  test("contacts from the demo are listed, searched, paged and opened", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Contacts" }).first().click();
    const rows = page.locator("table tbody tr");
    await eventually(async () => (await rows.count()) === 25, 10_000, "a full page of contacts");
    const firstPage = await rows.locator("td:nth-child(2)").allInnerTexts();
    const api = (await server.api("GET", "/api/v1/contacts?limit=25")).body;
    assert.deepEqual(firstPage, api.data.map((c) => c.email ?? "—"), "the table shows the API's first page");

    await page.getByRole("button", { name: "Next →" }).click();
    await eventually(async () => (await page.getByText("Page 2").count()) === 1 && (await rows.count()) === 25, 10_000, "page 2");
    const second = (await server.api("GET", `/api/v1/contacts?limit=25&cursor=${api.next_cursor}`)).body;
    await eventually(async () => (await rows.locator("td:nth-child(2)").first().innerText()) === second.data[0].email, 10_000, "page 2 rows");

    await page.getByLabel("Search").fill("lovelace");
    await eventually(async () => new URL(page.url()).searchParams.get("q") === "lovelace", 5000, "the search in the URL");
    const found = (await server.api("GET", "/api/v1/contacts?limit=25&q=lovelace")).body.data;
    assert.ok(found.length > 0, "the demo has a Lovelace");
    await eventually(async () => (await rows.count()) === found.length && (await rows.locator("td:nth-child(2)").first().innerText()) === found[0].email, 10_000, "search results");
    for (const email of await rows.locator("td:nth-child(2)").allInnerTexts()) assert.match(email, /lovelace/);
    await b.shot("contacts-search");

    await rows.first().locator("a").click();
    await page.getByRole("heading", { name: "Event timeline" }).waitFor();
    // Exactly: the timeline may already show an identify event carrying the email too.
    await page.getByText(found[0].email, { exact: true }).waitFor();
    const events = (await server.api("GET", `/api/v1/contacts/${found[0].id}/events?limit=25`)).body.data;
    await eventually(async () => (await page.locator(".timeline li").count()) === events.length, 10_000, "the timeline");
    await b.shot("contact-page");
  });

  test("the segment builder's live count follows the rule and equals the API's count; saving creates the segment", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Segments" }).first().click();
    await page.getByRole("link", { name: "New segment" }).click();
    await page.getByLabel("Name").fill("German pro customers (UI test)");
    const count = page.getByTestId("live-count");
    const state = page.getByTestId("live-count-state");
    const preview = async (rule) => (await server.api("POST", "/api/v1/segments/preview", { rule })).body.count;
    const settled = async (expected) =>
      eventually(async () => (await state.innerText()).includes("contacts match") && (await count.innerText()) === expected.toLocaleString("en-US"), 10_000, `live count ${expected}`);

    // country is DE
    const cond = page.getByTestId("rule-condition").first();
    await cond.getByLabel("Field").selectOption("country");
    await cond.getByLabel("Operator").selectOption("equals");
    await cond.getByLabel("Value").fill("DE");
    const germans = await preview({ field: "country", op: "equals", value: "DE" });
    assert.ok(germans > 0);
    await settled(germans);
    await b.shot("segment-one-condition");

    // … and plan is pro
    await page.getByLabel("Add a condition").selectOption("field");
    const second = page.getByTestId("rule-condition").nth(1);
    await second.getByLabel("Field").selectOption("plan");
    await second.getByLabel("Value").fill("pro");
    const rule = { and: [{ field: "country", op: "equals", value: "DE" }, { field: "plan", op: "equals", value: "pro" }] };
    const germanPros = await preview(rule);
    assert.ok(germanPros < germans, "the second condition narrows the segment");
    await settled(germanPros);

    // A nested OR group: (country DE and plan pro) and (Order Completed at least once, or lifetime value > 400)
    await page.getByRole("button", { name: "+ Add group" }).first().click();
    const group = page.getByTestId("rule-group").nth(1);
    await group.getByLabel("Add a condition").selectOption("event");
    await group.getByLabel("Event name").fill("Order Completed");
    await group.getByLabel("Add a condition").selectOption("field");
    const ltv = group.getByTestId("rule-condition").nth(1);
    await ltv.getByLabel("Field").selectOption("lifetime_value");
    await ltv.getByLabel("Operator").selectOption("gt");
    await ltv.getByLabel("Value").fill("400");
    const nested = { and: [...rule.and, { or: [{ event: "Order Completed" }, { field: "lifetime_value", op: "gt", value: 400 }] }] };
    const nestedCount = await preview(nested);
    await settled(nestedCount);
    await b.shot("segment-nested");

    // An invalid value is explained on the condition at fault.
    await ltv.getByLabel("Operator").selectOption("between");
    await page.locator(".rule-cond.has-error").first().waitFor();
    assert.match(await page.locator(".rule-cond.has-error .node-error").first().innerText(), /value/);
    await ltv.getByLabel("Operator").selectOption("gt");
    await settled(nestedCount);

    await page.getByRole("button", { name: "Save segment" }).click();
    await page.waitForURL(/\/segments\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();
    const saved = (await server.api("GET", `/api/v1/segments/${id}`)).body;
    assert.equal(saved.name, "German pro customers (UI test)");
    assert.deepEqual(saved.rule, nested, "the saved rule is the one built");
    const final = await eventually(async () => {
      const s = (await server.api("GET", `/api/v1/segments/${id}`)).body;
      return s.status === "active" ? s : null;
    }, 20_000, "the segment to be built");
    assert.equal(final.count, nestedCount, "the saved segment's count equals the live count");
    await eventually(async () => (await page.getByTestId("saved-count").innerText()) === nestedCount.toLocaleString("en-US"), 10_000, "the saved count");
    await b.shot("segment-saved");

    // A deep link survives a reload: the server answers the client route with the app, the session is kept.
    await page.reload();
    await eventually(async () => (await page.getByLabel("Name", { exact: true }).inputValue()) === "German pro customers (UI test)", 10_000, "the segment after a reload");
    await settled(nestedCount);
  });

  test("a journey dragged together on the canvas is saved, refused with errors on the step, fixed and published", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Journeys" }).first().click();
    await page.getByRole("link", { name: "New journey" }).click();
    await page.getByLabel("Name").fill("Win-back (UI test)");
    const canvas = page.getByTestId("journey-canvas");
    await canvas.locator(".react-flow__viewport").waitFor();

    // Drag two steps from the palette onto the canvas.
    const box = await canvas.boundingBox();
    await page.locator('[data-step-type="delay"]').dragTo(canvas, { targetPosition: { x: box.width / 2 - 100, y: 200 } });
    await page.getByTestId("node-delay_1").waitFor();
    await page.locator('[data-step-type="exit"]').dragTo(canvas, { targetPosition: { x: box.width / 2 + 20, y: 380 } });
    await page.getByTestId("node-exit_1").waitFor();

    // Configure the trigger in the side panel.
    await page.getByTestId("node-trigger").click();
    await page.getByLabel("Event", { exact: true }).fill("Order Completed");

    // Connect trigger → delay by dragging between handles; leave the delay's exit open.
    const drag = async (from, to) => {
      const a = await page.locator(from).boundingBox();
      const z = await page.locator(to).boundingBox();
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(z.x + z.width / 2, z.y + z.height / 2, { steps: 12 });
      await page.mouse.up();
    };
    await drag('.react-flow__handle[data-nodeid="__trigger"][data-handleid="start"]', '.react-flow__node[data-id="delay_1"] .react-flow__handle.target');
    await eventually(async () => (await page.locator('.react-flow__edge[data-id="__trigger:start"], .react-flow__edge[data-testid="rf__edge-__trigger:start"]').count()) === 1, 5000, "the first edge");

    // Saving with an open exit: the server refuses and the step says why.
    await page.getByRole("button", { name: "Save draft" }).click();
    const delayNode = page.getByTestId("node-delay_1");
    await delayNode.locator(".flow-node-error").waitFor();
    assert.match(await delayNode.locator(".flow-node-error").innerText(), /next/);
    assert.match(page.url(), /\/journeys\/new$/, "nothing was created");
    await b.shot("journey-refused");

    // Set the delay to 2 hours in its side panel, connect it to the exit, save.
    await delayNode.click();
    await page.getByLabel("Duration: days").fill("");
    await page.getByLabel("Duration: hours").fill("2");
    await drag('.react-flow__handle[data-nodeid="delay_1"][data-handleid="next"]', '.react-flow__node[data-id="exit_1"] .react-flow__handle.target');
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.waitForURL(/\/journeys\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();
    const saved = (await server.api("GET", `/api/v1/journeys/${id}`)).body;
    assert.equal(saved.name, "Win-back (UI test)");
    assert.equal(saved.status, "draft");
    assert.deepEqual(saved.definition.trigger, { type: "event", event: "Order Completed" });
    assert.equal(saved.definition.start, "delay_1");
    assert.deepEqual(saved.definition.nodes, {
      delay_1: { type: "delay", duration: { hours: 2 }, next: "exit_1" },
      exit_1: { type: "exit" },
    });
    await page.getByTestId("node-exit_1").waitFor();
    await b.shot("journey-saved");

    // Publish, and the live counts appear on the steps once a contact enters.
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByText(/Published as version 1/).waitFor();
    assert.equal((await server.api("GET", `/api/v1/journeys/${id}`)).body.status, "active");
    const someone = (await server.api("GET", "/api/v1/contacts?limit=1")).body.data[0];
    await server.track({ userId: someone.external_id, event: "Order Completed", properties: { total: 10 } });
    await eventually(async () => {
      const st = (await server.api("GET", `/api/v1/journeys/${id}/stats`)).body;
      return st.nodes.find((n) => n.node === "delay_1")?.current?.delayed === 1;
    }, 15_000, "the contact to wait in the delay");
    await eventually(async () => /^1 here now/.test(await page.getByTestId("stats-delay_1").innerText().catch(() => "")), 15_000, "the live count on the step");
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByText("Paused: no one enters or moves.").waitFor();
    assert.equal((await server.api("GET", `/api/v1/journeys/${id}`)).body.status, "paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByText("Resumed.").waitFor();
    await b.shot("journey-published");
  });

  test("with the keyboard alone a journey is built from the palette and the side panel, at tablet width", async () => {
    b = await openBrowser({ width: 820, height: 1180 });
    const { page } = b;
    await signIn(page, server);
    const fits = async (what) =>
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what} fits 820 px without scrolling sideways`);
    await fits("the dashboard");
    await page.getByRole("link", { name: "Journeys" }).first().click();
    await page.getByRole("link", { name: "New journey" }).focus();
    await page.keyboard.press("Enter");
    await page.getByLabel("Name").focus();
    await page.keyboard.type("Keyboard journey (UI test)");
    await page.locator(".react-flow__viewport").waitFor();

    // Steps from the palette with Enter; each new step is selected, its panel opens.
    const add = async (label) => {
      await page.getByRole("button", { name: label, exact: true }).focus();
      await page.keyboard.press("Enter");
    };
    await add("Wait for event");
    await page.getByLabel("Event to wait for").focus();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("Signed Up");
    await add("Change score");
    await add("Exit");
    for (const id of ["wait_event_1", "change_score_1", "exit_1"]) await page.getByTestId(`node-${id}`).waitFor();

    // Connect through the side panels: focus a node on the canvas, Enter selects it.
    const select = async (id) => {
      await page.locator(`.react-flow__node[data-id="${id}"]`).focus();
      await page.keyboard.press("Enter");
    };
    await select("__trigger");
    await page.getByLabel("First step").selectOption("wait_event_1");
    await select("wait_event_1");
    await page.getByLabel("event came").selectOption("change_score_1");
    await page.getByLabel("timed out").selectOption("exit_1");
    await select("change_score_1");
    await page.getByLabel("next").selectOption("exit_1");
    await fits("the journey builder");
    await page.getByRole("button", { name: "Tidy up" }).focus();
    await page.keyboard.press("Enter");
    await b.shot("journey-keyboard");

    await page.getByRole("button", { name: "Save draft" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/journeys\/[0-9a-f-]{36}$/);
    const saved = (await server.api("GET", `/api/v1/journeys/${page.url().split("/").pop()}`)).body;
    assert.equal(saved.name, "Keyboard journey (UI test)");
    assert.equal(saved.definition.start, "wait_event_1");
    assert.deepEqual(saved.definition.nodes, {
      wait_event_1: { type: "wait_event", event: "Signed Up", timeout: { days: 3 }, next: "change_score_1", timeout_next: "exit_1" },
      change_score_1: { type: "change_score", score: "engagement", by: 5, next: "exit_1" },
      exit_1: { type: "exit" },
    });
    // Edges drawn on the canvas for every connection made in the panels.
    await eventually(async () => (await page.locator(".react-flow__edge").count()) === 4, 5000, "four edges on the canvas");

    for (const path of ["/contacts", "/segments/new"]) {
      await page.goto(server.url + path);
      await page.locator("h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      await fits(path);
    }
    await b.shot("segment-builder-tablet");
  });
});
