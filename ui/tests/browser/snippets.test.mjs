// Browser tests of the email snippets page against the real `kairos demo`
// binary: a marketer meets the server's refusal of a bad name on the name
// field and of an unknown variable on its line, creates the snippet, sees
// the template that includes it, changes it, is stopped from creating a
// second one of the same name, is told to remove it from that template
// before it can be deleted (the server refuses to delete a snippet in use),
// and deletes it after a confirm once nothing includes it; the editor fits a tablet; an analyst reads snippets but has
// nothing to change them with.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const MARKETER = { email: "sid.snippets@example.test", password: "a marketer reuses footers" };
const ANALYST = { email: "ada.snippets@example.test", password: "an analyst only reads snippets" };
const GOOD = `<p>{{ sender.postal_address }}</p>\n<p><a href="{{ links.unsubscribe }}">Unsubscribe</a></p>`;

describe("email snippets", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 100 });
    for (const [who, role] of [[MARKETER, "marketer"], [ANALYST, "analyst"]]) {
      const u = await server.api("POST", "/api/v1/users", { ...who, name: `Test ${role}`, role });
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
    await closeAndCheck(done, server, t.name, { prefix: "last-snippets-", maxName: 60, calledApi: true });
  });

  const snippets = async () => (await server.api("GET", "/api/v1/email/snippets")).body.data;

  test("a marketer fixes what the server refuses, creates a snippet, changes it and deletes it after a confirm", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, MARKETER);
    await page.getByRole("link", { name: "Email templates" }).click();
    await page.getByRole("navigation", { name: "Email template sections" }).getByRole("link", { name: "Snippets" }).click();
    await page.getByRole("heading", { name: "Email snippets" }).waitFor();
    await page.getByText("No snippets yet.").waitFor();
    await page.getByRole("link", { name: "New snippet" }).click();
    await page.getByRole("heading", { name: "New snippet" }).waitFor();

    // A name the server refuses: its message is on the name field.
    await page.getByLabel("Name", { exact: true }).fill("legal footer");
    await page.getByLabel(/^Body/).fill(GOOD);
    await page.getByRole("button", { name: "Create snippet" }).click();
    await page.locator("#snippet-name-error").waitFor();
    assert.match(await page.locator("#snippet-name-error").innerText(), /letters, digits/);
    assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
    assert.match(await page.getByRole("alert").filter({ hasText: "Not saved" }).innerText(), /invalid values/);

    // An unknown variable on line 2: shown on that line, in the gutter and the list under the editor.
    await page.getByLabel("Name", { exact: true }).fill("legal_footer");
    await page.getByLabel(/^Body/).fill("<p>Hi</p>\n<p>{{ shop.address }}</p>");
    await page.getByRole("button", { name: "Create snippet" }).click();
    const issues = page.locator("#snippet-body-issues .issue");
    await issues.first().waitFor();
    assert.match(await issues.first().innerText(), /^Line 2, column \d+: unknown variable "shop"/);
    assert.deepEqual(await page.locator(".gutter-line.bad").allInnerTexts(), ["2"], "line 2 is marked in the gutter");
    assert.equal(await page.locator("#snippet-name-error").count(), 0, "the name is fine now");
    assert.equal((await snippets()).length, 0, "nothing was saved");
    await b.shot("snippets-refused");

    // The issue moves the caret to its line.
    await issues.first().getByRole("button").click();
    const caret = await page.getByLabel(/^Body/).evaluate((el) => el.value.slice(0, el.selectionStart).split("\n").length);
    assert.equal(caret, 2);

    await page.getByLabel(/^Body/).fill(GOOD);
    await page.getByRole("button", { name: "Create snippet" }).click();
    await page.waitForURL(/\/email\/templates\/snippets\/legal_footer$/);
    await page.getByRole("heading", { name: "Snippet: legal_footer" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    assert.deepEqual(
      (await snippets()).map((s) => [s.name, s.body]),
      [["legal_footer", GOOD]],
    );
    assert.equal(await page.getByTestId("snippet-usage").innerText(), "{% include 'legal_footer' %}");
    assert.equal(await page.getByTestId("snippet-users").innerText(), "No template or snippet includes it.");

    // A template that includes it: the editor names it, and a change is saved.
    const tpl = await server.api("POST", "/api/v1/email/templates", {
      name: "Monthly news",
      subject: "News",
      format: "html",
      body: "<p>News</p>{% include 'legal_footer' %}",
    });
    assert.equal(tpl.status, 201, JSON.stringify(tpl.body));
    await page.reload();
    const users = page.getByTestId("snippet-users");
    await users.getByRole("link", { name: "Monthly news" }).waitFor();
    assert.equal(await users.getByRole("link", { name: "Monthly news" }).getAttribute("href"), `/email/templates/${tpl.body.id}`);
    const changed = GOOD.replace("Unsubscribe", "Stop these emails");
    await page.getByLabel(/^Body/).fill(changed);
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    assert.equal((await snippets())[0].body, changed);
    await eventually(async () => await page.getByRole("button", { name: "Save changes" }).isDisabled(), 5000, "nothing left to save");
    await b.shot("snippets-editor");

    // The list shows it; a second snippet of the same name is refused before anything is replaced.
    await page.getByRole("link", { name: "All snippets" }).click();
    const row = page.getByTestId("snippet-legal_footer");
    await row.waitFor();
    assert.match(await row.innerText(), /\{% include 'legal_footer' %\}/);
    await b.shot("snippets-list");
    await page.getByRole("link", { name: "New snippet" }).click();
    await page.getByLabel("Name", { exact: true }).fill("legal_footer");
    await page.getByRole("button", { name: "Create snippet" }).click();
    await page.locator("#snippet-name-error").waitFor();
    assert.match(await page.locator("#snippet-name-error").innerText(), /exists already/);
    assert.equal((await snippets())[0].body, changed, "the existing snippet is untouched");

    // In use, it cannot be deleted (the server refuses): the page says what to change first.
    await page.goto(`${server.url}/email/templates/snippets/legal_footer`);
    await page.getByTestId("snippet-delete-blocked").waitFor();
    assert.match(await page.getByTestId("snippet-delete-blocked").innerText(), /first remove the include from Monthly news/);
    assert.equal(await page.getByRole("button", { name: "Delete…" }).count(), 0);
    assert.equal((await server.api("DELETE", "/api/v1/email/snippets/legal_footer")).status, 409, "the server refuses too");

    // Once no template includes it: delete, after a confirm.
    assert.equal((await server.api("DELETE", `/api/v1/email/templates/${tpl.body.id}`)).status, 204);
    await page.reload();
    await page.getByRole("button", { name: "Delete…" }).click();
    const confirm = page.getByRole("group", { name: "Confirm deletion" });
    assert.match(await confirm.innerText(), /Delete “legal_footer”\?/);
    await b.shot("snippets-delete-confirm");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    assert.equal((await snippets()).length, 1, "cancelling keeps it");
    await page.getByRole("button", { name: "Delete…" }).click();
    await confirm.getByRole("button", { name: "Yes, delete" }).click();
    await page.waitForURL(/\/email\/templates\/snippets$/);
    await page.getByRole("status").filter({ hasText: "Deleted legal_footer." }).waitFor();
    await page.getByText("No snippets yet.").waitFor();
    assert.equal((await snippets()).length, 0);
  });

  test("the snippet editor fits a tablet and is usable from the keyboard", async () => {
    assert.equal((await server.api("PUT", "/api/v1/email/snippets/header", { body: "<h1>Kairos Shop</h1>" })).status, 200);
    b = await openBrowser({ width: 768, height: 1024 });
    const { page } = b;
    await signIn(page, server, MARKETER);
    await page.goto(`${server.url}/email/templates/snippets/header`);
    const body = page.getByLabel(/^Body/);
    await body.waitFor();
    // Tab indents inside the editor; Escape then Tab moves on to the next control.
    await body.focus();
    await page.keyboard.press("End");
    await page.keyboard.press("Tab");
    assert.equal(await body.inputValue(), "<h1>Kairos Shop</h1>  ");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    assert.notEqual(await page.evaluate(() => document.activeElement?.id), "snippet-body", "focus left the editor");
    assert.ok(await page.getByRole("button", { name: "Save changes" }).isEnabled());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at 768 px (${overflow} px over)`);
    await b.shot("snippets-tablet");
  });

  test("an analyst reads snippets but has nothing to change them with", async () => {
    assert.equal((await server.api("PUT", "/api/v1/email/snippets/signature", { body: "<p>The Kairos team</p>" })).status, 200);
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await page.goto(`${server.url}/email/templates/snippets`);
    await page.getByTestId("snippet-signature").waitFor();
    assert.equal(await page.getByRole("link", { name: "New snippet" }).count(), 0);
    await page.getByRole("link", { name: "signature" }).click();
    const body = page.getByLabel(/^Body/);
    await body.waitFor();
    assert.equal(await body.inputValue(), "<p>The Kairos team</p>");
    assert.equal(await body.getAttribute("readonly"), "", "the body is read-only");
    await page.getByText("Your role (analyst) can read snippets but not change them.").waitFor();
    assert.equal(await page.getByRole("button", { name: /Save|Create|Delete/ }).count(), 0);
    await b.shot("snippets-analyst");
    await page.goto(`${server.url}/email/templates/snippets/new`);
    await page.getByText("Your role (analyst) cannot create email snippets.").waitFor();
    assert.ok(!b.apiCalls.some((c) => /^(PUT|DELETE) /.test(c)), "the UI asked for no change");
  });
});
