// Browser tests of Settings → Consent texts against the real `kairos`
// binary: the owner creates a text (a wording of spaces only is refused and
// the 422 shows under the text field; a taken key under the key field), edits
// it into version 2 with the note that given consents keep their version,
// and finds both versions, verbatim, in the history, as the API holds them,
// each said to be by the owner's name; a marketer and an analyst read the
// library, its history, the forms using a text and the retired texts (by the
// API key's name, never the server's "user:…" or "key:…") without any button
// to change them (no Edit, Retire or Reinstate). Retiring and a form following a text's new version
// are in forms.test.mjs.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const MARKETER = { email: "mia.marketer@example.test", password: "marketers read consent texts" };
const ANALYST = { email: "abe.analyst@example.test", password: "analysts read consent texts" };
const RETIRED = "old-terms";
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
    for (const [who, name, role] of [
      [MARKETER, "Mia Marketer", "marketer"],
      [ANALYST, "Abe Analyst", "analyst"],
    ]) {
      const u = await server.api("POST", "/api/v1/users", { ...who, name, role });
      assert.equal(u.status, 201, JSON.stringify(u.body));
    }
    // A retired text, for the readers to find listed apart with no way to bring it back.
    const t = await server.api("POST", "/api/v1/consent-texts", { key: RETIRED, channel: "email", purpose: "marketing", text: "Old terms." });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const r = await server.api("POST", `/api/v1/consent-texts/${RETIRED}/retire`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
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
    // Who wrote each version, by name: the owner, whom the members list names.
    const owner = (await server.api("GET", "/api/v1/users")).body.find((m) => m.email === server.ownerEmail);
    for (const v of [v1, v2]) assert.match(await v.innerText(), new RegExp(` by ${owner.name}$`, "m"));
    assert.match(await row.innerText(), new RegExp(`by ${owner.name}`));
    assert.doesNotMatch(await page.locator("main").innerText(), /\b(user|key):/, "no raw actor on the page");
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

  /** Signs `who` in, opens the text KEY and the retired text, and finds no button that changes either. */
  async function readOnly(who, shot) {
    if ((await server.api("GET", `/api/v1/consent-texts/${KEY}`)).status !== 200) {
      const r = await server.api("POST", "/api/v1/consent-texts", { key: KEY, channel: "email", purpose: "marketing", language: "en", text: V1 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, who);
    await openLibrary(page);
    const row = page.getByRole("table", { name: "Consent texts", exact: true }).getByTestId(`consent-text-${KEY}`);
    await row.waitFor();
    await row.getByRole("button", { name: KEY }).click();
    const panel = page.getByTestId("consent-text-panel");
    await panel.getByTestId("consent-version-1").waitFor();
    await panel.getByTestId("consent-text-used-by").getByText("no form asks with this text.").waitFor();
    assert.equal(await page.getByRole("button", { name: "New consent text" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Edit text" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Retire", exact: true }).count(), 0);

    const retired = page.getByRole("table", { name: "Retired consent texts" }).getByTestId(`consent-text-${RETIRED}`);
    assert.match(await retired.locator("[data-field=retired]").innerText(), / by API key “demo admin”$/, "when and by whom (the API key it was retired with, by its name)");
    await retired.getByRole("button", { name: RETIRED }).click();
    await panel.getByTestId("consent-text-retired").waitFor();
    assert.match(await panel.getByTestId("consent-text-retired").innerText(), /^Retired .+ by API key “demo admin”\./);
    assert.doesNotMatch(await page.locator("main").innerText(), /\b(user|key):/, "no raw actor on the page");
    assert.equal(await page.getByRole("button", { name: "Reinstate" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Edit text" }).count(), 0);
    await b.shot(shot);
  }

  test("a marketer reads the library, a text's history and the retired texts, with no button to change them", async () => {
    await readOnly(MARKETER, "consent-texts-marketer");
  });

  test("an analyst reads the library with no Edit, Retire or Reinstate button", async () => {
    await readOnly(ANALYST, "consent-texts-analyst");
  });
});
