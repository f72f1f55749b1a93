// Browser tests of Settings → Forms and Settings → Retention, against the
// real `kairos` binary with demo data: the owner signs in with the form,
// creates a subscription form (an empty wording is refused on its field
// first) that adds to a static list, finds it listed, opens its hosted page
// from the link and sees the wording verbatim, edits it (a bad reminder count
// refused on its field), then deletes it after a confirm; sets a retention policy
// that the API then holds, runs it now and sees the report and the run.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

// Markup and odd spacing, to show the wording is kept and shown as typed, never as HTML.
const WORDING = `Email me the <b>Acme</b> newsletter & offers. I can unsubscribe at any time.`;

describe("subscription forms and retention", { skip: skip ?? false }, () => {
  let server;
  let b;

  let list;

  before(async () => {
    server = await startKairos({ contacts: 200 });
    list = (await server.api("POST", "/api/v1/lists", { name: "Newsletter subscribers" })).body;
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

  test("the owner creates a form, opens its hosted page, edits it and deletes it", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("link", { name: "Forms", exact: true }).click();
    await page.getByRole("button", { name: "New form" }).click();

    const form = page.getByRole("form", { name: "New form" });
    await form.getByLabel("Form name").fill("Acme newsletter");
    await form.getByLabel("Wording version").fill("2026-11");
    // A wording of spaces only is refused, and the problem shows on its field.
    await form.getByLabel(/^Wording \(/).fill("   ");
    await form.getByRole("button", { name: "Create form" }).click();
    const wordingError = form.locator("#form-wording-error");
    await wordingError.waitFor();
    assert.match(await wordingError.innerText(), /must not be empty/);
    assert.equal(await form.getByLabel(/^Wording \(/).getAttribute("aria-invalid"), "true");
    await b.shot("forms-wording-refused");

    await form.getByLabel(/^Wording \(/).fill(WORDING);
    await form.getByLabel("Profiling").check();
    await form.getByLabel("First name").check();
    await form.getByLabel("Add subscribers to list").selectOption({ label: list.name });
    await form.getByRole("button", { name: "Create form" }).click();
    await form.waitFor({ state: "detached" });

    const created = await eventually(async () => (await server.api("GET", "/api/v1/forms")).body.data.find((f) => f.name === "Acme newsletter"), 10_000, "the form");
    assert.equal(created.definition.wording, WORDING);
    assert.deepEqual(created.definition.purposes, ["marketing", "profiling"]);
    assert.deepEqual(created.definition.fields, ["first_name"]);
    assert.equal(created.definition.list_id, list.id);

    const row = page.getByTestId(`form-${created.id}`);
    await row.waitFor();
    assert.match(await row.innerText(), /Marketing, Profiling/);
    assert.match(await row.innerText(), new RegExp(list.name));
    const link = row.getByTestId("form-url");
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.equal(await link.getAttribute("href"), `${server.url}/f/${created.id}`);
    await b.shot("forms-list");

    // The link opens the hosted page in a new tab, with the wording exactly as typed.
    const [hosted] = await Promise.all([page.context().waitForEvent("page"), link.click()]);
    await hosted.waitForLoadState();
    assert.equal(new URL(hosted.url()).pathname, `/f/${created.id}`);
    const text = await hosted.locator("body").innerText();
    assert.ok(text.includes(WORDING), `the hosted page shows the wording verbatim:\n${text}`);
    assert.equal(await hosted.locator("b").count(), 0, "the wording's markup is text, not HTML");
    await hosted.screenshot({ path: `${process.cwd()}/test-results/forms-hosted-page.png`, fullPage: true });
    await hosted.close();

    // Editing: a bad reminder count is refused on its field; then a new wording version is saved.
    await row.getByRole("button", { name: "Edit Acme newsletter" }).click();
    const edit = page.getByRole("form", { name: "Edit form Acme newsletter" });
    assert.equal(await edit.getByLabel(/^Wording \(/).inputValue(), WORDING);
    await edit.getByLabel("Most reminders").fill("9");
    await edit.getByRole("button", { name: "Save form" }).click();
    await edit.locator("#form-max_reminders-error").waitFor();
    await edit.getByLabel("Most reminders").fill("2");
    await edit.getByLabel("Wording version").fill("2026-12");
    await edit.getByRole("button", { name: "Save form" }).click();
    await edit.waitFor({ state: "detached" });
    const edited = (await server.api("GET", `/api/v1/forms/${created.id}`)).body.definition;
    assert.equal(edited.wording_version, "2026-12");
    assert.equal(edited.max_reminders, 2);
    assert.equal(edited.wording, WORDING);

    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: "Delete Acme newsletter" }).click();
    await row.waitFor({ state: "detached" });
    assert.equal((await server.api("GET", `/api/v1/forms/${created.id}`)).status, 404);
  });

  test("the owner sets a retention policy and runs it now", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("link", { name: "Retention", exact: true }).click();

    const form = page.getByRole("form", { name: "Retention policy" });
    await form.getByLabel("Events older than (days)").fill("0");
    await form.getByRole("button", { name: "Save policy" }).click();
    await form.locator("#retention-events_max_age_days-error").waitFor();

    await form.getByLabel("Events older than (days)").fill("400");
    await form.getByLabel("are").selectOption("anonymise");
    await form.getByLabel("Purge contacts inactive for (days)").fill("3650");
    await form.getByRole("button", { name: "Save policy" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    assert.deepEqual((await server.api("GET", "/api/v1/retention")).body, {
      events_max_age_days: 400,
      events_action: "anonymise",
      inactive_contacts_days: 3650,
    });

    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Run now" }).click();
    const report = page.getByTestId("retention-report");
    await report.waitFor();
    assert.match(await report.innerText(), /\d+ events? deleted, .* anonymised, \d+ contacts? purged/);
    const runs = page.getByRole("table", { name: "Recent retention runs" });
    await runs.waitFor();
    assert.equal(await runs.locator("tbody tr").count(), (await server.api("GET", "/api/v1/retention/runs")).body.data.length);
    await b.shot("retention-run");
  });
});
