// Browser tests of the read-only editors against the real `kairos demo`
// binary: an analyst (marketing:read without marketing:write) opens one of
// the demo's segments, journeys and email templates and finds nothing to
// change — no add or remove buttons in the rule, no step palette, no "Tidy
// up", canvas steps that cannot be dragged, joined or deleted, trigger and
// step settings that cannot be changed, no "Delete step", and
// template fields and body that cannot be typed into. The server refuses
// the changes anyway; these tests are about the issue's "an analyst sees no
// edit buttons".
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "rita.readonly@example.test", password: "an analyst reads but never edits" };

describe("read-only editors for an analyst", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 150 });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Rita Readonly", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-readonly-", maxName: 60, calledApi: true });
  });

  test("an analyst reads the postal address but cannot type into it or save it", async () => {
    const saved = (await server.api("GET", "/api/v1/settings")).body.postal_address;
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.goto(`${server.url}/settings`);
    const address = page.locator("#postal-address-input");
    await page.waitForFunction((v) => document.querySelector("#postal-address-input")?.value === v, saved);
    assert.equal(await address.getAttribute("readonly"), "");
    await address.press("End").catch(() => {});
    await page.keyboard.type(" typed by an analyst");
    assert.equal(await address.inputValue(), saved, "typing changes nothing");
    assert.ok(await page.getByRole("button", { name: "Save address" }).isDisabled());
  });

  test("an analyst opens a segment and finds the rule, name and description without editing controls", async () => {
    const seg = (await server.api("GET", "/api/v1/segments")).body.data[0];
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.goto(`${server.url}/segments/${seg.id}`);
    await page.getByTestId("rule-group").first().waitFor();
    const editor = page.locator(".rule-editor");
    assert.equal(await editor.locator("button:enabled, input:enabled, select:enabled, textarea:enabled").count(), 0, "nothing in the rule can be used");
    assert.equal(await page.getByRole("button", { name: "Remove condition" }).count(), 0, "no × buttons");
    assert.equal(await editor.getByRole("button").count(), 0, "no add or remove buttons at all");
    assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("readonly"), "");
    assert.equal(await page.getByLabel("Description").getAttribute("readonly"), "");
    assert.equal(await page.getByRole("button", { name: /Save/ }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Duplicate" }).count(), 0);
    await page.getByText(/can look at segments but not change them/).waitFor();
    // The live count still works: looking is allowed.
    await page.waitForFunction(() => /\d/.test(document.querySelector("[data-testid=live-count]")?.textContent ?? ""));
  });

  test("an analyst opens a journey: no palette or Tidy up, steps neither draggable nor deletable, settings disabled, no Delete step", async () => {
    const journey = (await server.api("GET", "/api/v1/journeys")).body.data.find((j) => j.definition?.nodes?.length > 0 || j.status === "active")
      ?? (await server.api("GET", "/api/v1/journeys")).body.data[0];
    assert.ok(journey, "the demo has a journey");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.goto(`${server.url}/journeys/${journey.id}`);
    const nodes = page.locator(".react-flow__node");
    await nodes.nth(1).waitFor();
    const count = await nodes.count();
    assert.equal(await page.getByRole("complementary", { name: "Steps you can add" }).count(), 0, "no palette");
    assert.equal(await page.locator(".react-flow__node.draggable").count(), 0, "no node is draggable");
    assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("readonly"), "");
    for (const name of ["Save draft", "Publish", "Pause", "Resume", "Tidy up"]) assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name}`);
    // Only the view can be changed: zoom and fit, no lock to unlock the canvas.
    assert.deepEqual(
      await page.locator(".react-flow__controls button").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? e.getAttribute("title"))),
      ["Zoom In", "Zoom Out", "Fit View"],
      "the canvas controls only move the view",
    );
    const sidePanel = page.getByRole("complementary", { name: "Selected step" });

    // The trigger's settings show, disabled.
    await page.getByTestId("node-trigger").click();
    await sidePanel.getByRole("heading", { name: "Trigger" }).waitFor();
    assert.equal(await sidePanel.locator("button:enabled, input:enabled, select:enabled, textarea:enabled").count(), 0, "the trigger's settings cannot be changed");

    // Selecting a step shows its settings, disabled; Delete does nothing.
    const step = page.locator(".react-flow__node-step").first();
    await step.click();
    const panel = page.getByTestId("step-panel");
    await panel.waitFor();
    assert.equal(await panel.locator("button:enabled, input:enabled, select:enabled, textarea:enabled").count(), 0, "the step's settings cannot be changed");
    assert.equal(await page.getByRole("button", { name: "Delete step" }).count(), 0, "no Delete step");
    // Dragging a step leaves it where it was on the canvas (the drag pans the view instead).
    const box = await step.boundingBox();
    const placed = () => step.evaluate((el) => el.style.transform);
    const before = await placed();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 80, { steps: 8 });
    await page.mouse.up();
    assert.equal(await placed(), before, "the step did not move");

    await step.focus();
    await page.keyboard.press("Delete");
    await page.keyboard.press("Backspace");
    await page.waitForTimeout(300);
    assert.equal(await nodes.count(), count, "no step was deleted");
    assert.equal(await page.getByText("Unsaved changes.").count(), 0);
    await b.shot("journey-analyst");
  });

  test("an analyst opens a template: name, subject and body are read-only, with no save or delete", async () => {
    const tpl = (await server.api("GET", "/api/v1/email/templates")).body.data[0];
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.goto(`${server.url}/email/templates/${tpl.id}`);
    const body = page.getByLabel(/^Body/);
    await page.waitForFunction((v) => document.querySelector("#tpl-body")?.value === v, tpl.body);
    for (const field of [page.getByLabel("Name"), page.getByLabel("Subject"), body]) assert.equal(await field.getAttribute("readonly"), "");
    assert.ok(await page.getByLabel("Format").isDisabled());
    // Typing into the body changes nothing.
    await body.click();
    await page.keyboard.type("typed by an analyst");
    assert.equal(await body.inputValue(), tpl.body);
    for (const name of [/Save/, /Create/, /Delete/]) assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} button`);
    await page.getByText("Read only: your role can read templates but not change them.").waitFor();
  });
});
