// Browser tests of Settings → Forms and Settings → Retention, against the
// real `kairos` binary with demo data: the owner signs in with the form,
// creates a subscription form with its own wording (an empty wording is
// refused on its field first) that adds to a static list, finds it listed,
// opens its hosted page from the link and sees the wording verbatim, edits it
// (a bad reminder count refused on its field), then deletes it after a
// confirm; creates a consent text, a form asking with it that shows the
// library's words read-only, revises the text (told first that the form will
// follow) and finds the form on version 2, is refused retiring the text while
// the form uses it, unlinks the form (keeping the words), retires the text and
// no longer finds it offered; sets a retention policy that the API then
// holds, runs it now and sees the report and the run.
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
    await form.getByLabel("Write the wording here").check();
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

  test("a form asks with a library text, follows its new version, and keeps it from retirement until unlinked", async () => {
    const KEY = "library-newsletter";
    const V1 = "Email me the Acme newsletter, once a month.";
    const V2 = "Email me the Acme newsletter and event invitations, twice a month.";
    const NAME = "Library newsletter";
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const settingsNav = page.getByRole("navigation", { name: "Settings sections" });
    await page.getByRole("link", { name: "Settings" }).click();

    // A text in the library, made through the page.
    await settingsNav.getByRole("link", { name: "Consent texts" }).click();
    await page.getByRole("button", { name: "New consent text" }).click();
    const newText = page.getByRole("form", { name: "New consent text" });
    await newText.getByLabel("Key").fill(KEY);
    await newText.getByLabel(/^Text/).fill(V1);
    await newText.getByRole("button", { name: "Create consent text" }).click();
    await newText.waitFor({ state: "detached" });

    // A new form asks with a library text by default once there is one; the words show read-only.
    await settingsNav.getByRole("link", { name: "Forms", exact: true }).click();
    await page.getByRole("button", { name: "New form" }).click();
    const form = page.getByRole("form", { name: "New form" });
    assert.equal(await form.getByLabel("Use a text from the library").isChecked(), true);
    await form.getByLabel("Form name").fill(NAME);
    const picker = form.getByLabel("Library text");
    const offered = await picker.locator("option").allInnerTexts();
    assert.ok(offered.some((o) => o.startsWith(`${KEY} · Marketing · en`) && o.includes("Email me the Acme newsletter")), `offered: ${offered}`);
    // No text chosen, then one whose purpose the form does not ask for: each refusal shows at its control.
    await form.getByRole("button", { name: "Create form" }).click();
    await form.locator("#form-consent_text-error").waitFor();
    assert.equal(await picker.getAttribute("aria-invalid"), "true");
    await picker.selectOption(KEY);
    await form.getByLabel("Marketing").uncheck();
    await form.getByLabel("Profiling").check();
    await form.getByRole("button", { name: "Create form" }).click();
    const purposesError = form.locator("#form-purposes-error");
    await purposesError.waitFor();
    assert.match(await purposesError.innerText(), new RegExp(`consent text "${KEY}" asks for marketing`));
    await b.shot("forms-library-purpose-refused");
    await form.getByLabel("Marketing").check();
    await form.getByLabel("Profiling").uncheck();
    const wording = form.getByLabel(/^Wording \(from the library/);
    assert.equal(await wording.inputValue(), V1);
    assert.equal(await wording.getAttribute("readonly"), "");
    assert.equal(await form.getByLabel("Wording version").inputValue(), `${KEY}@v1`);
    assert.equal(await form.getByRole("link", { name: `open ${KEY} in Consent texts` }).getAttribute("href"), `/settings/consent-texts?key=${KEY}`);
    await b.shot("forms-library-text");
    await form.getByRole("button", { name: "Create form" }).click();
    await form.waitFor({ state: "detached" });

    const created = await eventually(async () => (await server.api("GET", "/api/v1/forms")).body.data.find((f) => f.name === NAME), 10_000, "the form");
    assert.equal(created.definition.consent_text, KEY);
    assert.equal(created.definition.wording, V1);
    assert.equal(created.definition.wording_version, `${KEY}@v1`);
    const row = page.getByTestId(`form-${created.id}`);
    await eventually(async () => new RegExp(`library\\s+${KEY}@v1`).test(await row.locator("[data-field=wording]").innerText()), 10_000, "the row to name the text");
    await b.shot("forms-list-library");

    // The row's link opens the text, which names the form using it; a new version says first that the form will follow.
    await row.getByRole("link", { name: `${KEY}@v1` }).click();
    const panel = page.getByTestId("consent-text-panel");
    await panel.getByTestId("consent-text-used-by").getByRole("link", { name: NAME }).waitFor();
    await panel.getByRole("button", { name: "Edit text" }).click();
    const edit = panel.getByRole("form", { name: "Edit consent text" });
    assert.match(await edit.getByTestId("consent-text-edit-reach").innerText(), new RegExp(`The form "${NAME}" asks with this text: it will show the new words`));
    await edit.getByLabel("New text").fill(V2);
    await b.shot("consent-texts-revise-used");
    await edit.getByRole("button", { name: "Save as version 2" }).click();
    await panel.getByText("Saved as version 2; the form using it shows the new words.").waitFor();
    const followed = (await server.api("GET", `/api/v1/forms/${created.id}`)).body.definition;
    assert.equal(followed.wording, V2);
    assert.equal(followed.wording_version, `${KEY}@v2`);
    const hosted = await fetch(`${server.url}/f/${created.id}`).then((r) => r.text());
    assert.ok(hosted.includes(V2), "the hosted page shows version 2");

    // Retiring it is refused while the form asks with it, and the refusal names the form.
    await panel.getByRole("button", { name: "Retire", exact: true }).click();
    await panel.getByRole("group", { name: `Confirm retiring ${KEY}` }).getByRole("button", { name: "Yes, retire" }).click();
    const refusal = panel.getByRole("alert");
    await refusal.waitFor();
    assert.match(await refusal.innerText(), new RegExp(`Not retired[\\s\\S]*the form "${NAME}": give it another text first`));
    await b.shot("consent-texts-retire-refused");

    // The form's link opens its editor, showing version 2 from the library; written here, the words stay.
    await panel.getByTestId("consent-text-used-by").getByRole("link", { name: NAME }).click();
    const editor = page.getByRole("form", { name: `Edit form ${NAME}` });
    assert.equal(await editor.getByLabel(/^Wording \(from the library/).inputValue(), V2);
    assert.equal(await editor.getByLabel("Wording version").inputValue(), `${KEY}@v2`);
    await editor.getByLabel("Write the wording here").check();
    assert.equal(await editor.getByLabel(/^Wording \(shown/).inputValue(), V2);
    await editor.getByRole("button", { name: "Save form" }).click();
    await editor.waitFor({ state: "detached" });
    const unlinked = (await server.api("GET", `/api/v1/forms/${created.id}`)).body.definition;
    assert.equal(unlinked.consent_text, null);
    assert.equal(unlinked.wording, V2);
    assert.equal(unlinked.wording_version, `${KEY}@v2`);
    // The list is read again after the save.
    await eventually(async () => new RegExp(`own\\s+${KEY}@v2`).test(await row.locator("[data-field=wording]").innerText()), 10_000, "the row to say own words");

    // Now the text retires: marked so, listed apart, its editing closed.
    await settingsNav.getByRole("link", { name: "Consent texts" }).click();
    await page.getByRole("table", { name: "Consent texts", exact: true }).getByRole("button", { name: KEY }).click();
    await panel.getByTestId("consent-text-used-by").getByText("no form asks with this text.").waitFor();
    await panel.getByRole("button", { name: "Retire", exact: true }).click();
    await panel.getByRole("button", { name: "Yes, retire" }).click();
    await panel.getByTestId("consent-text-retired").waitFor();
    assert.match(await panel.getByTestId("consent-text-retired").innerText(), /^Retired .* by /);
    assert.match(await panel.getByRole("heading", { level: 2 }).innerText(), /retired/);
    assert.equal(await panel.getByRole("button", { name: "Edit text" }).isDisabled(), true);
    await page.getByRole("table", { name: "Retired consent texts" }).getByTestId(`consent-text-${KEY}`).waitFor();
    assert.equal(await page.getByRole("table", { name: "Consent texts", exact: true }).getByTestId(`consent-text-${KEY}`).count(), 0);
    const held = (await server.api("GET", `/api/v1/consent-texts/${KEY}`)).body;
    assert.ok(held.retired_at, JSON.stringify(held));
    await b.shot("consent-texts-retired");

    // A retired text is not offered to a form.
    await settingsNav.getByRole("link", { name: "Forms", exact: true }).click();
    await row.getByRole("button", { name: `Edit ${NAME}` }).click();
    await editor.getByLabel("Use a text from the library").check();
    const keys = await editor.getByLabel("Library text").locator("option").evaluateAll((os) => os.map((o) => o.value));
    assert.ok(!keys.includes(KEY), `offered: ${keys}`);
    await b.shot("forms-retired-not-offered");
    await editor.getByRole("button", { name: "Cancel" }).click();

    // Reinstated, it is offered again.
    await settingsNav.getByRole("link", { name: "Consent texts" }).click();
    await page.getByRole("table", { name: "Retired consent texts" }).getByRole("button", { name: KEY }).click();
    await panel.getByRole("button", { name: "Reinstate" }).click();
    await page.getByRole("table", { name: "Consent texts", exact: true }).getByTestId(`consent-text-${KEY}`).waitFor();
    assert.equal((await server.api("GET", `/api/v1/consent-texts/${KEY}`)).body.retired_at, null);
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
