// Browser tests of Settings → Consent texts against the real `kairos`
// binary: the owner creates a text (a wording of spaces only is refused and
// the 422 shows under the text field; a taken key under the key field), edits
// it into version 2 with the note that given consents keep their version,
// and finds both versions, verbatim, in the history, as the API holds them;
// a marketer reads the library and its history without any button to change it.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const MARKETER = { email: "mia.marketer@example.test", password: "marketers read consent texts" };
const KEY = "newsletter-email-en";
// Markup and a line break: the wording is kept and shown as typed, never as HTML.
const V1 = "Email me the <b>Acme</b> newsletter.\nI can unsubscribe at any time.";
const V2 = "Email me the Acme newsletter & offers, about once a week.\nI can unsubscribe at any time.";

async function openLibrary(page) {
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings sections" }).getByRole("link", { name: "Consent texts" }).click();
  await page.getByRole("heading", { name: "Consent texts" }).waitFor();
}

describe("consent texts", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 50 });
    const u = await server.api("POST", "/api/v1/users", { ...MARKETER, name: "Mia Marketer", role: "marketer" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-consent-texts-", calledApi: true });
  });

  test("the owner creates a text, is refused on the field, edits it into version 2 and sees both versions", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await openLibrary(page);
    await page.getByRole("button", { name: "New consent text" }).click();
    const form = page.getByRole("form", { name: "New consent text" });
    await form.getByLabel("Key").fill(KEY);
    await form.getByLabel("Channel").selectOption("email");
    await form.getByLabel("Purpose").selectOption("marketing");
    await form.getByLabel("Language").fill("en");
    // A wording of spaces only: the server's 422 shows under the text field.
    await form.getByLabel(/^Text/).fill("   ");
    await form.getByRole("button", { name: "Create consent text" }).click();
    const textError = form.locator("#consent-text-text-error");
    await textError.waitFor();
    assert.ok((await textError.innerText()).length > 0);
    assert.equal(await form.getByLabel(/^Text/).getAttribute("aria-invalid"), "true");
    await b.shot("consent-texts-refused");

    await form.getByLabel(/^Text/).fill(V1);
    await form.getByRole("button", { name: "Create consent text" }).click();
    await form.waitFor({ state: "detached" });
    const created = (await server.api("GET", `/api/v1/consent-texts/${KEY}`)).body;
    assert.equal(created.version, 1);
    assert.equal(created.text, V1);
    assert.equal(created.channel, "email");
    assert.equal(created.purpose, "marketing");

    const row = page.getByTestId(`consent-text-${KEY}`);
    assert.equal(await row.locator("[data-field=version]").innerText(), "1");
    const panel = page.getByTestId("consent-text-panel");
    assert.equal(await panel.getByTestId("consent-text-current").innerText(), V1);

    // Edit: a new version, with the note that given consents keep theirs.
    await panel.getByRole("button", { name: "Edit text" }).click();
    const edit = panel.getByRole("form", { name: "Edit consent text" });
    assert.match(await edit.locator("#consent-text-edit-note").innerText(), /keep referring to the version they were given under/);
    await edit.getByLabel("New text").fill(V2);
    await edit.getByRole("button", { name: "Save as version 2" }).click();
    await panel.getByText("Saved as version 2.").waitFor();
    await eventually(async () => (await row.locator("[data-field=version]").innerText()) === "2", 10_000, "the list to show version 2");

    const history = panel.getByRole("list", { name: `Versions of ${KEY}` });
    const v2 = history.getByTestId("consent-version-2");
    const v1 = history.getByTestId("consent-version-1");
    assert.equal(await v2.locator("blockquote").innerText(), V2);
    assert.equal(await v1.locator("blockquote").innerText(), V1);
    assert.match(await v2.innerText(), /current/);
    assert.doesNotMatch(await v1.innerText(), /current/);
    const order = await history.locator("li").evaluateAll((els) => els.map((e) => e.dataset.testid));
    assert.deepEqual(order, ["consent-version-2", "consent-version-1"], "newest first");
    await b.shot("consent-texts-history");

    const held = (await server.api("GET", `/api/v1/consent-texts/${KEY}`)).body;
    assert.equal(held.version, 2);
    assert.deepEqual(
      held.versions.map((v) => [v.version, v.text]),
      [
        [2, V2],
        [1, V1],
      ],
    );

    // The same key again: refused, said under the key field.
    await page.getByRole("button", { name: "New consent text" }).click();
    const again = page.getByRole("form", { name: "New consent text" });
    await again.getByLabel("Key").fill(KEY);
    await again.getByLabel(/^Text/).fill("Another wording.");
    await again.getByRole("button", { name: "Create consent text" }).click();
    await again.locator("#consent-text-key-error").getByText(/this key exists/).waitFor();
    assert.equal(await again.getByLabel("Key").getAttribute("aria-invalid"), "true");
  });

  test("a marketer reads the library and a text's history, with no button to change them", async () => {
    if ((await server.api("GET", `/api/v1/consent-texts/${KEY}`)).status !== 200) {
      const r = await server.api("POST", "/api/v1/consent-texts", { key: KEY, channel: "email", purpose: "marketing", language: "en", text: V1 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, MARKETER);
    await openLibrary(page);
    const row = page.getByTestId(`consent-text-${KEY}`);
    await row.waitFor();
    await row.getByRole("button", { name: KEY }).click();
    const panel = page.getByTestId("consent-text-panel");
    await panel.getByTestId("consent-version-1").waitFor();
    assert.equal(await page.getByRole("button", { name: "New consent text" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Edit text" }).count(), 0);
    await b.shot("consent-texts-marketer");
  });
});
