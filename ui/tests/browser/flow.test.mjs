// The issue's end-to-end flow as one browser test against the real `kairos
// demo` binary, all through the UI but for the tracking call and the
// marketer's account: a member with the marketer role (added through the
// API) signs in on the sign-in page, builds a segment with the rule pickers
// (French newsletter subscribers) whose live count equals the API's preview,
// saves it and opens one of its members; drags three steps (send the Welcome
// email, wait for an event, exit) from the palette onto the canvas, where no
// step lands on another, joins them to an event trigger by dragging between
// handles, sets each one up in the side panel and publishes; an SDK-style
// call to the tracking API puts the member in the journey, and the UI shows
// them move — waiting on the canvas and on their contact page, then
// completed once a second event arrives — and the email in the outbox,
// opened with its HTML. So the marketer role is enough for the whole flow.
// Then the owner adds an analyst on the Members page; the analyst signs in
// and finds nothing to edit on the journey or the segment, and the API
// refuses a change made with their session (403).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const SEGMENT = "French subscribers (flow test)";
const JOURNEY = "Flow test welcome";
const SIGNUP = "Flow Test Signup";
const ACTIVATED = "Flow Test Activated";
const MARKETER = { email: "mark.eter@example.test", name: "Mark Eter", password: "marketers build the journeys" };
const ANALYST = { email: "ana.lyst@example.test", name: "Ana Lyst", password: "analysts look but never touch" };

describe("the marketer's flow from segment to outbox, and an analyst who cannot edit", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 300 });
    const u = await server.api("POST", "/api/v1/users", { ...MARKETER, role: "marketer" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-flow-", maxName: 60, calledApi: true });
  });

  test("segment with a live count, a dragged journey published, a tracked event moves a contact through it to the outbox; an analyst cannot edit", async () => {
    b = await openBrowser();
    const { page } = b;
    const nav = page.getByRole("navigation", { name: "Main" });

    // a. The marketer signs in on the sign-in page.
    await signIn(page, server, MARKETER);
    const session = await page.evaluate(() => fetch("/api/v1/auth/session").then((r) => r.json()));
    assert.equal(session.role, "marketer", "signed in as the marketer, not the owner");

    // b. A segment built with the pickers: country is FR and newsletter is true.
    await nav.getByRole("link", { name: "Segments" }).click();
    await page.getByRole("link", { name: "New segment" }).click();
    await page.getByLabel("Name", { exact: true }).fill(SEGMENT);
    const country = page.getByTestId("rule-condition").first();
    await country.getByLabel("Field").selectOption("country");
    await country.getByLabel("Operator").selectOption("equals");
    await country.getByLabel("Value").fill("FR");
    await page.getByLabel("Add a condition").selectOption("field");
    const newsletter = page.getByTestId("rule-condition").nth(1);
    await newsletter.getByLabel("Field").selectOption("newsletter");
    await newsletter.getByLabel("Value").selectOption("true");
    const rule = { and: [{ field: "country", op: "equals", value: "FR" }, { field: "newsletter", op: "equals", value: true }] };
    const preview = await server.api("POST", "/api/v1/segments/preview", { rule });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    const expected = preview.body.count;
    assert.ok(expected > 0, "the demo has French subscribers");
    await eventually(
      async () =>
        (await page.getByTestId("live-count-state").innerText()).includes("match") &&
        (await page.getByTestId("live-count").innerText()) === expected.toLocaleString("en-US"),
      10_000,
      `the live count ${expected}`,
    );
    await b.shot("flow-segment-live-count");
    await page.getByRole("button", { name: "Save segment" }).click();
    await page.waitForURL(/\/segments\/[0-9a-f-]{36}$/);
    const segmentId = page.url().split("/").pop();
    const saved = (await server.api("GET", `/api/v1/segments/${segmentId}`)).body;
    assert.equal(saved.name, SEGMENT);
    assert.deepEqual(saved.rule, rule);
    await eventually(async () => (await server.api("GET", `/api/v1/segments/${segmentId}`)).body.status === "active", 20_000, "the segment to be built");
    const counted = (await server.api("GET", `/api/v1/segments/${segmentId}/count`)).body;
    assert.equal(counted.count, expected, "the saved segment's count equals the preview's");
    await eventually(async () => (await page.getByTestId("saved-count").innerText().catch(() => "")) === expected.toLocaleString("en-US"), 15_000, "the saved count");

    // The member this flow follows: the first of the segment's sample, opened from the segment page.
    const member = page.locator(".saved-segment li a").first();
    await member.waitFor();
    const memberName = await member.innerText();
    await member.click();
    await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
    const contactId = page.url().split("/").pop();
    const contact = (await server.api("GET", `/api/v1/contacts/${contactId}`)).body;
    assert.equal(contact.country, "FR");
    const consent = (await server.api("GET", `/api/v1/contacts/${contactId}/consents`)).body.current;
    assert.ok(
      consent.some((c) => c.channel === "email" && c.purpose === "marketing" && c.state === "granted"),
      `${memberName} may be sent marketing email: ${JSON.stringify(consent)}`,
    );
    await page.getByText("Not in any journey.").waitFor();

    // c. A journey of three steps dragged from the palette, joined on the canvas, set up in the side panel.
    await nav.getByRole("link", { name: "Journeys" }).click();
    await page.getByRole("link", { name: "New journey" }).click();
    await page.getByLabel("Name", { exact: true }).fill(JOURNEY);
    const canvas = page.getByTestId("journey-canvas");
    await canvas.locator(".react-flow__viewport").waitFor();
    await page.getByTestId("node-trigger").waitFor();
    // The canvas checks the journey a moment after each change and marks the
    // steps (aria-busy until then): wait for that, so nothing moves under the mouse.
    const checked = (what) => eventually(async () => (await canvas.getAttribute("aria-busy")) === "false", 5000, `the canvas checked after ${what}`);
    await checked("it opened");
    const box = await canvas.boundingBox();
    const x = box.width / 2 - 100;
    // One below the other in the trigger's column, with room between them to spare.
    for (const [type, y, id] of [["send", 180, "send_1"], ["wait_event", 360, "wait_event_1"], ["exit", 580, "exit_1"]]) {
      await page.locator(`[data-step-type="${type}"]`).dragTo(canvas, { targetPosition: { x, y } });
      await page.getByTestId(`node-${id}`).waitFor();
      await checked(`${id} was dropped`);
    }
    assert.equal(await page.locator(".react-flow__node-step").count(), 3, "three steps on the canvas");
    // The steps carry their problems (the trigger and send_1 lead nowhere…) and none covers another.
    assert.match(await page.getByTestId("node-wait_event_1").getByTestId("node-flags").innerText(), /2 to fix/);
    const boxes = await page.locator(".react-flow__node").evaluateAll((els) => els.map((e) => ({ id: e.dataset.id, ...e.getBoundingClientRect().toJSON() })));
    for (const [i, a] of boxes.entries())
      for (const z of boxes.slice(i + 1))
        assert.ok(a.bottom <= z.top || z.bottom <= a.top || a.right <= z.left || z.right <= a.left, `${a.id} and ${z.id} do not overlap: ${JSON.stringify([a, z])}`);

    // Joined by dragging from each exit handle to the next step, one at a time,
    // each once the canvas has checked the last (a step's marks may change its height).
    const drag = async (from, to) => {
      const a = await page.locator(from).boundingBox();
      const z = await page.locator(to).boundingBox();
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(z.x + z.width / 2, z.y + z.height / 2, { steps: 12 });
      await page.mouse.up();
    };
    const handle = (node, id) => `.react-flow__handle[data-nodeid="${node}"][data-handleid="${id}"]`;
    const target = (node) => `.react-flow__node[data-id="${node}"] .react-flow__handle.target`;
    const joins = [
      ["__trigger", "start", "send_1"],
      ["send_1", "next", "wait_event_1"],
      ["wait_event_1", "next", "exit_1"],
      ["wait_event_1", "timeout_next", "exit_1"],
    ];
    for (const [from, exit, to] of joins) {
      await drag(handle(from, exit), target(to));
      await eventually(async () => (await page.locator(`.react-flow__edge[data-id="${from}:${exit}"], .react-flow__edge[data-testid="rf__edge-${from}:${exit}"]`).count()) === 1, 5000, `the edge ${from} (${exit}) → ${to}`);
      await checked(`joining ${from} (${exit}) to ${to}`);
    }
    assert.equal(await page.locator(".react-flow__edge").count(), 4, "four edges drawn");

    // Each step set up in its side panel.
    await page.getByTestId("node-trigger").click();
    await page.getByLabel("Starts when").selectOption("event");
    await page.getByLabel("Event", { exact: true }).fill(SIGNUP);
    await page.getByTestId("node-send_1").click();
    const panel = page.getByTestId("step-panel");
    await panel.getByLabel("Channel").selectOption("email");
    await panel.getByLabel("Template").selectOption("Welcome");
    await panel.getByText(/^Subject: Welcome to/).waitFor();
    await page.getByTestId("node-wait_event_1").click();
    await panel.getByLabel("Event to wait for").fill(ACTIVATED);
    await panel.getByLabel("Give up after: days").fill("2");
    await page.getByTestId("node-exit_1").click();
    await panel.getByRole("heading", { name: /Exit/ }).waitFor();
    await checked("the steps were set up");
    assert.equal(await page.getByTestId("problem-count").count(), 0, "nothing left to fix");
    await b.shot("flow-journey-built");

    await page.getByRole("button", { name: "Save draft" }).click();
    await page.waitForURL(/\/journeys\/[0-9a-f-]{36}$/);
    const journeyId = page.url().split("/").pop();
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByText("Published as version 1.").waitFor();
    const nodes = {
      send_1: { type: "send", channel: "email", template: "Welcome", next: "wait_event_1" },
      wait_event_1: { type: "wait_event", event: ACTIVATED, timeout: { days: 2 }, next: "exit_1", timeout_next: "exit_1" },
      exit_1: { type: "exit" },
    };
    const journey = (await server.api("GET", `/api/v1/journeys/${journeyId}`)).body;
    assert.equal(journey.name, JOURNEY);
    assert.equal(journey.status, "active");
    assert.equal(journey.version, 1);
    const versions = (await server.api("GET", `/api/v1/journeys/${journeyId}/versions`)).body.data;
    const published = versions.find((v) => v.version === 1)?.definition;
    assert.ok(published, JSON.stringify(versions));
    assert.deepEqual(published.trigger, { type: "event", event: SIGNUP });
    assert.equal(published.start, "send_1", "the trigger leads to the send step");
    // The steps with their settings and where each exit leads (the edges).
    for (const [id, node] of Object.entries(nodes)) {
      for (const [k, v] of Object.entries(node)) assert.deepEqual(published.nodes[id]?.[k], v, `${id}.${k} in the published version`);
    }
    assert.deepEqual(Object.keys(published.nodes).sort(), Object.keys(nodes).sort(), "exactly the three steps");

    // d. The member signs up, as an SDK would report it.
    await server.track({ userId: contact.external_id, event: SIGNUP, properties: { source: "flow test" } });

    // e. The canvas shows them past the email and waiting for the next event…
    await eventually(async () => /^1 here now/.test(await page.getByTestId("stats-wait_event_1").innerText().catch(() => "")), 20_000, "the member waiting on the canvas");
    assert.match(await page.getByTestId("stats-send_1").innerText(), /0 here now · 1 reached/);
    await b.shot("flow-journey-live");

    // … and so does their contact page.
    await page.goto(`${server.url}/contacts/${contactId}`);
    const runs = page.getByRole("list", { name: "Journey runs" });
    const run = runs.getByRole("listitem").filter({ hasText: JOURNEY });
    await eventually(async () => /waiting[\s\S]*at wait_event_1/i.test(await run.innerText().catch(() => "")), 20_000, "the run waiting on the contact page");
    await b.shot("flow-contact-waiting");

    // The event they waited for moves them on to the exit.
    await server.track({ userId: contact.external_id, event: ACTIVATED });
    await page.reload();
    await eventually(async () => /completed[\s\S]*at exit_1/i.test(await run.innerText().catch(() => "")), 20_000, "the run completed on the contact page");
    const apiRuns = (await server.api("GET", `/api/v1/contacts/${contactId}/journeys`)).body.data;
    assert.equal(apiRuns.find((r) => r.run.journey_id === journeyId)?.run.status, "completed");
    await b.shot("flow-contact-completed");

    // f. The email in the outbox, opened.
    await page.getByRole("link", { name: "Emails to this contact" }).click();
    await page.getByRole("heading", { name: "Outbox" }).waitFor();
    const row = page.locator("table tbody tr", { hasText: "Journey" });
    await row.waitFor();
    assert.match(await row.innerText(), /Welcome to Kairos Demo Shop/);
    assert.match(await row.innerText(), /captured/);
    const sent = (await server.api("GET", `/api/v1/email/messages?contact_id=${contactId}`)).body.data.find((m) => m.source === `journey:${journeyId}`);
    assert.ok(sent, "the API lists the journey's email");
    await row.getByRole("link").first().click();
    await page.waitForURL(new RegExp(`/email/outbox/${sent.id}$`));
    const html = page.frameLocator("iframe[title='HTML part of the message']");
    await eventually(async () => ((await html.locator("body").innerText().catch(() => "")) || "").includes(`Welcome, ${contact.first_name}!`), 10_000, "the rendered email");
    await page.locator("iframe[title='HTML part of the message']").scrollIntoViewIfNeeded();
    await b.shot("flow-outbox-message");

    // The role was enough: the server forbade the marketer nothing along the way.
    assert.deepEqual(b.refusals.filter((r) => r.startsWith("403 ")), [], "no call of the marketer's was forbidden");
    const marketer = b;
    b = undefined;
    await closeAndCheck(marketer, server, "flow marketer", { prefix: "last-flow-" });

    // g. The owner adds an analyst on the Members page (managing members is no marketer's job).
    b = await openBrowser();
    const owner = b.page;
    await signIn(owner, server);
    await owner.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await owner.getByRole("link", { name: "Members", exact: true }).click();
    const form = owner.getByRole("form", { name: "Add a member" });
    await form.getByLabel("Email").fill(ANALYST.email);
    await form.getByLabel("Name").fill(ANALYST.name);
    await form.getByLabel("Role").selectOption("analyst");
    await form.getByLabel("First password").fill(ANALYST.password);
    await form.getByRole("button", { name: "Add member" }).click();
    await owner.getByTestId(`member-${ANALYST.email}`).waitFor();
    await owner.getByTestId(`member-${MARKETER.email}`).waitFor();
    const ownerBrowser = b;
    b = undefined;
    await closeAndCheck(ownerBrowser, server, "flow owner", { prefix: "last-flow-" });

    // The analyst signs in in a browser of their own.
    b = await openBrowser();
    const analyst = b.page;
    await signIn(analyst, server, ANALYST);
    await analyst.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Journeys" }).click();
    await analyst.getByRole("link", { name: JOURNEY }).click();
    await analyst.getByTestId("node-wait_event_1").waitFor();
    assert.equal(await analyst.getByLabel("Name", { exact: true }).getAttribute("readonly"), "");
    for (const name of ["Save draft", "Publish", "Pause", "Resume"]) assert.equal(await analyst.getByRole("button", { name }).count(), 0, `no ${name} for an analyst`);
    assert.equal(await analyst.getByRole("complementary", { name: "Steps you can add" }).count(), 0, "no palette");
    assert.equal(await analyst.locator(".react-flow__node.draggable").count(), 0, "no step can be moved");
    await analyst.getByTestId("node-send_1").click();
    const analystPanel = analyst.getByTestId("step-panel");
    await analystPanel.waitFor();
    assert.ok(await analystPanel.getByLabel("Template").isDisabled(), "the template cannot be changed");
    assert.equal(await analyst.getByRole("button", { name: "Delete step" }).count(), 0);
    await b.shot("flow-analyst-journey");

    await analyst.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Segments" }).click();
    await analyst.getByRole("link", { name: SEGMENT }).click();
    await analyst.getByTestId("rule-group").first().waitFor();
    assert.equal(await analyst.getByRole("button", { name: /Save/ }).count(), 0, "no Save for an analyst");
    assert.equal(await analyst.locator(".rule-editor").locator("button:enabled, input:enabled, select:enabled").count(), 0, "the rule cannot be changed");
    await analyst.getByText(/can look at segments but not change them/).waitFor();
    await b.shot("flow-analyst-segment");

    // A change sent straight to the API with the analyst's session (cookie and CSRF token) is refused.
    const write = await analyst.evaluate(async ({ segmentId }) => {
      const session = await fetch("/api/v1/auth/session").then((r) => r.json());
      const r = await fetch(`/api/v1/segments/${segmentId}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
        body: JSON.stringify({ name: "Renamed by an analyst" }),
      });
      return { role: session.role, status: r.status, problem: await r.json().catch(() => null) };
    }, { segmentId });
    assert.equal(write.role, "analyst");
    assert.equal(write.status, 403, JSON.stringify(write.problem));
    assert.ok(write.problem?.detail, "the refusal is a problem document with a detail");
    assert.equal((await server.api("GET", `/api/v1/segments/${segmentId}`)).body.name, SEGMENT, "the segment kept its name");
  });
});
