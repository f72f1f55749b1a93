// Browser tests of the email pages against the real `kairos demo` binary
// (capture transport, a demo sender, a "Welcome" MJML template and a
// journey that sends it): the template editor shows an unknown variable on
// its line as the marketer types and saves the fix; the preview for a demo
// contact shows their first name (or why they would be skipped) and follows
// the text as typed, unsaved, keeping the last good preview while the text
// has problems; a new template is previewed before it is saved; a test send
// appears in the outbox with its rendered HTML (filling the pane at desktop
// width, a phone's width centred at mobile); a new sender's DNS record
// equals the API's; the postal address is saved; the journey send step picks
// templates by name. No console errors; only documented API endpoints.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

describe("the email pages", { skip: skip ?? false }, () => {
  let server;
  let b;
  let welcome;
  let person;

  before(async () => {
    server = await startKairos({ contacts: 300 });
    welcome = (await server.api("GET", "/api/v1/email/templates")).body.data.find((t) => t.name === "Welcome");
    assert.ok(welcome, "the demo seeds a Welcome template");
    const contacts = (await server.api("GET", "/api/v1/contacts?limit=50")).body.data;
    person = contacts.find((c) => c.first_name && c.email);
    assert.ok(person, "a demo contact with a first name and an email");
  });
  after(async () => {
    await server?.stop();
  });

  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-email-", maxName: 60, calledApi: true });
  });

  /** Pick `c` in the contact picker labelled `label` by typing their email. */
  async function pickContact(page, label, c) {
    const input = page.getByRole("combobox", { name: label });
    await input.fill(c.email);
    const option = page.getByRole("option", { name: new RegExp(c.email.replace(/[.+]/g, "\\$&")) });
    await option.waitFor();
    await input.press("Enter");
    await eventually(async () => (await page.getByTestId("picked-contact").innerText()).includes(c.email), 5000, "the picked contact");
  }

  test("an unknown variable is shown on its line as the marketer types; the fix is saved", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Email templates" }).click();
    const rows = page.locator("table tbody tr");
    const listed = (await server.api("GET", "/api/v1/email/templates")).body.data;
    // Eventually: until the templates page replaces the dashboard, its tables' rows are the dashboard's.
    const names = JSON.stringify(listed.map((t) => t.name));
    await eventually(async () => JSON.stringify(await rows.locator("td:first-child").allInnerTexts()) === names, 10_000, "the list to show the API's templates");
    await b.shot("templates");
    await page.getByRole("link", { name: "Welcome", exact: true }).click();
    const body = page.getByLabel(/^Body/);
    await eventually(async () => (await body.inputValue()) === welcome.body, 10_000, "the saved body in the editor");
    await eventually(async () => /No problems/.test(await page.getByTestId("check-status").innerText()), 10_000, "the first check");

    // A typo on line 5: the server's check names it with line and column, and the line is marked.
    const lines = welcome.body.split("\n");
    const at = lines.findIndex((l) => l.includes("contact.first_name"));
    assert.ok(at >= 0);
    const typo = welcome.body.replace('{{ contact.first_name | default: "friend" }}', "{{ contact.frist_name }}");
    await body.fill(typo);
    const issue = page.locator("#tpl-body-issues .issue");
    await issue.first().waitFor();
    const checked = await server.api("POST", "/api/v1/email/templates/check", { subject: welcome.subject, body: typo, format: "mjml" });
    assert.equal(checked.status, 422);
    const [, line, column] = checked.body.errors[0].path.split(":");
    assert.equal(Number(line), at + 1, "the server names the line of the typo");
    const shown = await issue.first().innerText();
    assert.ok(shown.includes(`Line ${line}, column ${column}`), `the issue says where: ${shown}`);
    assert.ok(shown.includes(checked.body.errors[0].message), "the issue gives the server's message");
    assert.match(shown, /frist_name/);
    assert.equal(await page.locator(".gutter-line.bad").innerText(), line, "the gutter marks that line");
    assert.equal(await page.locator(`.mark-line.bad[data-line="${line}"]`).count(), 1, "the line is marked behind the text");
    await b.shot("template-error-inline");

    // Saving with the problem is refused, and nothing changes on the server.
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText(/Not saved/).waitFor();
    assert.equal((await server.api("GET", `/api/v1/email/templates/${welcome.id}`)).body.body, welcome.body);

    // Going to the line puts the caret there.
    await page.locator("#tpl-body-issues .issue-where").first().click();
    const caret = await body.evaluate((el) => el.selectionStart);
    assert.equal(caret, typo.split("\n").slice(0, Number(line) - 1).join("\n").length + 1 + Number(column) - 1, "the caret is at the line and column");

    // The fix, plus a new line, checks clean and is saved.
    const fixed = welcome.body.replace("Here are three things to try this week.", "Here are three things to try this week (and a fourth).");
    await body.fill(fixed);
    await eventually(async () => /No problems/.test(await page.getByTestId("check-status").innerText()), 10_000, "a clean check");
    assert.equal(await page.locator(".gutter-line.bad").count(), 0, "no line marked any more");
    await page.getByLabel("Subject").fill("Welcome aboard, {{ contact.first_name | default: 'friend' }}");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText(/^Saved at/).waitFor();
    const saved = (await server.api("GET", `/api/v1/email/templates/${welcome.id}`)).body;
    assert.equal(saved.body, fixed);
    assert.equal(saved.subject, "Welcome aboard, {{ contact.first_name | default: 'friend' }}");
    assert.equal(saved.format, "mjml");
    await b.shot("template-saved");
  });

  test("a new HTML template is created, previewed (a contact lacking a value is skipped, saying why) and deleted", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + "/email/templates/new");
    await page.getByLabel("Name").fill("Call us (UI test)");
    await page.getByLabel("Format").selectOption("html");
    await page.getByLabel("Subject").fill("We tried to call");
    await page.getByLabel(/^Body/).fill("<p>Hi {{ contact.first_name | default: 'there' }}, we will call {{ contact.phone }}.</p>");
    await eventually(async () => /No problems/.test(await page.getByTestId("check-status").innerText()), 10_000, "a clean check");
    await page.getByRole("button", { name: "Create template" }).click();
    await page.waitForURL(/\/email\/templates\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();
    const created = (await server.api("GET", `/api/v1/email/templates/${id}`)).body;
    assert.equal(created.name, "Call us (UI test)");
    assert.equal(created.format, "html");

    await page.getByRole("tab", { name: "Preview and test send" }).click();
    await pickContact(page, "Preview for contact", person);
    const skipped = page.locator(".skipped");
    await skipped.waitFor();
    const api = (await server.api("POST", `/api/v1/email/templates/${id}/preview`, { contact_id: person.id })).body;
    assert.ok(api.skipped, "the API skips a contact without a phone");
    assert.ok((await skipped.innerText()).includes(api.skipped), "the reason is shown");
    await b.shot("template-preview-skipped");

    await page.getByRole("tab", { name: "Content" }).click();
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByRole("heading", { name: "Email templates" }).waitFor();
    assert.equal((await server.api("GET", `/api/v1/email/templates/${id}`)).status, 404);
  });

  test("the preview for a demo contact shows their first name; a test send appears in the outbox, rendered", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + `/email/templates/${welcome.id}`);
    await page.getByRole("tab", { name: "Preview and test send" }).click();
    await pickContact(page, "Preview for contact", person);
    const frame = page.frameLocator("iframe[title^='Preview of']");
    await eventually(async () => ((await frame.locator("body").innerText().catch(() => "")) || "").includes(`Welcome, ${person.first_name}!`), 10_000, "the first name in the preview");
    assert.match(await page.getByTestId("preview-subject").innerText(), new RegExp(person.first_name));
    assert.match(await page.getByTestId("preview-text").innerText(), new RegExp(person.first_name), "the plain-text part too");
    assert.equal(await page.locator("iframe[title^='Preview of']").getAttribute("sandbox"), "", "the preview runs sandboxed");
    const desktop = (await page.locator("iframe[title^='Preview of']").boundingBox()).width;
    assert.ok(desktop >= 600, `desktop width ${desktop}`);
    await b.shot("template-preview-desktop");
    await page.getByRole("button", { name: /Mobile/ }).click();
    await eventually(async () => (await page.locator("iframe[title^='Preview of']").boundingBox()).width === 375, 5000, "the mobile width");
    await b.shot("template-preview-mobile");

    // Test send → outcome → the message in the outbox, with its HTML rendered.
    await page.getByLabel("Send a test to").fill("qa@kairos-demo.example");
    await page.getByRole("button", { name: "Send test" }).click();
    const outcome = page.getByTestId("send-outcome");
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /Sent \(captured\)/);
    await outcome.getByRole("link", { name: "View it in the outbox" }).click();
    await page.waitForURL(/\/email\/outbox\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();
    const msg = (await server.api("GET", `/api/v1/email/messages/${id}`)).body;
    assert.equal(msg.to_email, "qa@kairos-demo.example");
    assert.equal(msg.status, "captured");
    assert.equal(msg.source, "test");
    const html = page.frameLocator("iframe[title='HTML part of the message']");
    await eventually(async () => ((await html.locator("body").innerText().catch(() => "")) || "").includes(`Welcome, ${person.first_name}!`), 10_000, "the rendered HTML part");
    const headerRow = (name) => page.locator(".headers-table tr", { has: page.locator("th", { hasText: new RegExp(`^${name}$`) }) }).locator("td");
    assert.match(await headerRow("To").innerText(), /<qa@kairos-demo\.example>$|^qa@kairos-demo\.example$/);
    assert.equal(await headerRow("Subject").innerText(), msg.subject, "the decoded Subject header equals the API's subject");
    assert.match(await headerRow("From").innerText(), /hello@kairos-demo\.example/);
    assert.match(await headerRow("DKIM-Signature").innerText(), /d=kairos-demo\.example/);
    assert.match(await page.locator(".text-part").innerText(), new RegExp(person.first_name));
    // At desktop width the message fills the pane (inside its padding), as a mail client's reading pane would.
    const viewer = page.locator("iframe[title='HTML part of the message']");
    const pane = await page.locator(".device").evaluate((el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return { left: r.left + parseFloat(s.paddingLeft), width: el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) };
    });
    const desktopBox = await viewer.boundingBox();
    assert.ok(pane.width > 640, `the pane is wider than 640 px at 1366 px: ${pane.width}`);
    assert.ok(Math.abs(desktopBox.width - pane.width) <= 1 && Math.abs(desktopBox.x - pane.left) <= 1, `the desktop view fills the pane: ${JSON.stringify({ desktopBox, pane })}`);
    await b.shot("outbox-message");
    // At mobile width it is a phone's width, centred in the pane.
    await page.getByRole("group", { name: "Width" }).getByRole("button", { name: "Mobile" }).click();
    await eventually(async () => (await viewer.boundingBox()).width === 375, 5000, "the mobile width");
    const mobileBox = await viewer.boundingBox();
    assert.ok(Math.abs(mobileBox.x + mobileBox.width / 2 - (pane.left + pane.width / 2)) <= 1, `the mobile view is centred: ${JSON.stringify({ mobileBox, pane })}`);
    await b.shot("outbox-message-mobile");
    await page.getByRole("group", { name: "Width" }).getByRole("button", { name: "Desktop" }).click();
    await eventually(async () => Math.abs((await viewer.boundingBox()).width - pane.width) <= 1, 5000, "the desktop width again");
    assert.equal((await server.api("GET", `/api/v1/email/messages/${id}`)).body.opens, 0, "looking at it in the outbox is not an open");
    assert.ok(!(await page.locator("iframe[title='HTML part of the message']").getAttribute("srcdoc")).includes("/t/o/"), "no open pixel in the viewer");

    // 25 more test sends push it to the second page of the outbox.
    for (let i = 0; i < 25; i++) {
      const r = await server.api("POST", `/api/v1/email/templates/${welcome.id}/test-send`, { to: `page${i}@kairos-demo.example`, contact_id: person.id });
      assert.equal(r.body?.outcome, "sent", `test send ${i}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await page.getByRole("link", { name: "Outbox" }).first().click();
    const rows = page.locator("table tbody tr");
    const first = (await server.api("GET", "/api/v1/email/messages?limit=25")).body;
    await eventually(async () => (await rows.count()) === 25 && (await rows.first().innerText()).includes(first.data[0].to_email), 10_000, "the newest page");
    assert.ok(!first.data.some((m) => m.id === id), "our message is older than the first page");
    assert.match(await rows.first().innerText(), /captured/);
    await b.shot("outbox");
    await page.getByRole("button", { name: "Older →" }).click();
    const second = (await server.api("GET", `/api/v1/email/messages?limit=25&cursor=${encodeURIComponent(first.next_cursor)}`)).body;
    await eventually(async () => (await page.getByText("Page 2").count()) === 1 && (await rows.count()) === second.data.length, 10_000, "page 2");
    assert.ok(second.data.some((m) => m.id === id), "our message is on page 2");
    assert.match(await rows.first().innerText(), new RegExp(second.data[0].to_email.replace(/\./g, "\\.")));
    await page.getByRole("button", { name: "← Newer" }).click();
    await page.getByText("Page 1").waitFor();
    await pickContact(page, "Only messages to contact", person);
    await eventually(async () => new URL(page.url()).searchParams.get("contact_id") === person.id, 5000, "the filter in the URL");
    const theirs = (await server.api("GET", `/api/v1/email/messages?limit=25&contact_id=${person.id}`)).body.data;
    assert.ok(theirs.length > 0 && theirs.every((m) => m.contact_id === person.id));
    await eventually(async () => (await rows.count()) === theirs.length && (await rows.first().innerText()).includes(theirs[0].to_email), 10_000, "only the contact's messages");
    await b.shot("outbox-filtered");
  });

  test("the report shows the API's totals; the journey's send step picks the template by name", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + `/email/templates/${welcome.id}`);
    await page.getByRole("tab", { name: "Report" }).click();
    await page.locator(".chart canvas").first().waitFor();
    const report = (await server.api("GET", `/api/v1/email/templates/${welcome.id}/report`)).body;
    const chart = await page.locator(".chart").first().getAttribute("aria-label");
    assert.ok(chart.includes(`Sent: ${report.totals.sent}`), `the chart gives the API's sent count: ${chart}`);
    const prepared = page.locator(".report-totals tr", { has: page.locator("th", { hasText: "Messages prepared" }) }).locator("td").first();
    assert.equal(await prepared.innerText(), report.totals.messages.toLocaleString("en-US"));
    await b.shot("template-report");

    const journey = (await server.api("GET", "/api/v1/journeys")).body.data.find((j) => j.name === "Welcome series");
    assert.ok(journey);
    const [node] = Object.entries(journey.definition.nodes).find(([, n]) => n.type === "send");
    await page.goto(server.url + `/journeys/${journey.id}`);
    await page.getByTestId(`node-${node}`).click();
    const picker = page.getByLabel("Template", { exact: true });
    await eventually(async () => (await picker.inputValue()) === "Welcome", 10_000, "the step's template chosen");
    const options = await picker.locator("option").allInnerTexts();
    const names = (await server.api("GET", "/api/v1/email/templates")).body.data.map((t) => t.name);
    for (const n of names) assert.ok(options.includes(n), `${n} is offered`);
    await b.shot("journey-send-template");
  });

  test("the preview follows the text as typed, unsaved; while the text has problems the last good preview stays, with a note", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const current = (await server.api("GET", `/api/v1/email/templates/${welcome.id}`)).body;
    await page.goto(server.url + `/email/templates/${welcome.id}`);
    const body = page.getByLabel(/^Body/);
    await eventually(async () => (await body.inputValue()) === current.body, 10_000, "the saved body in the editor");
    await page.getByRole("tab", { name: "Preview and test send" }).click();
    await pickContact(page, "Preview for contact", person);
    const frame = page.frameLocator("iframe[title^='Preview of']");
    const shown = async () => (await frame.locator("body").innerText().catch(() => "")) || "";
    await eventually(async () => (await shown()).includes(person.first_name), 10_000, "the preview for the contact");
    assert.equal(await page.getByText(/save to see your changes/).count(), 0, "no notice asking to save first");

    // Typed, not saved: the preview shows the new words for this contact.
    await page.getByRole("tab", { name: "Content" }).click();
    const typed = current.body.replace(/<mj-text>/, "<mj-text>Typed live for {{ contact.first_name }}. ");
    assert.notEqual(typed, current.body);
    await body.fill(typed);
    await page.getByRole("tab", { name: "Preview and test send" }).click();
    await eventually(async () => (await shown()).includes(`Typed live for ${person.first_name}.`), 10_000, "the typed text in the preview");
    assert.equal(await page.getByTestId("preview-stale").count(), 0);
    assert.equal((await server.api("GET", `/api/v1/email/templates/${welcome.id}`)).body.body, current.body, "nothing was saved");
    await b.shot("template-preview-live");

    // A broken tag: the last good preview stays, marked as such.
    await page.getByRole("tab", { name: "Content" }).click();
    await body.fill(typed.replace("Typed live", "{% if %}Typed live"));
    await page.locator("#tpl-body-issues .issue").first().waitFor();
    await page.getByRole("tab", { name: "Preview and test send" }).click();
    await page.getByTestId("preview-stale").waitFor();
    assert.match(await page.getByTestId("preview-stale").innerText(), /last preview that worked/);
    assert.ok((await shown()).includes(`Typed live for ${person.first_name}.`), "the last good preview is still shown");
    await b.shot("template-preview-stale");
  });

  test("a new template is previewed before it is saved", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + "/email/templates/new");
    await page.getByLabel("Format").selectOption("html");
    await page.getByLabel("Subject").fill("Unsaved for {{ contact.first_name }}");
    await page.getByLabel(/^Body/).fill("<p>Not saved yet, {{ contact.first_name }}.</p>");
    const tab = page.getByRole("tab", { name: "Preview and test send" });
    assert.ok(await tab.isEnabled(), "the preview opens for a new template");
    assert.ok(await page.getByRole("tab", { name: "Report" }).isDisabled(), "the report waits for a saved template");
    await tab.click();
    await pickContact(page, "Preview for contact", person);
    await eventually(async () => ((await page.getByTestId("preview-subject").innerText().catch(() => "")) === `Unsaved for ${person.first_name}`), 10_000, "the subject for the contact");
    const frame = page.frameLocator("iframe[title^='Preview of']");
    await eventually(async () => ((await frame.locator("body").innerText().catch(() => "")) || "").includes(`Not saved yet, ${person.first_name}.`), 10_000, "the body");
    await page.getByText("Save the template to send a test.").waitFor();
    assert.equal(page.url(), server.url + "/email/templates/new", "still unsaved");
  });

  test("a sender is created with server errors on their field, and its DNS record equals the API's; the postal address is saved", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Settings" }).click();
    const demo = page.getByTestId("sender-hello@kairos-demo.example");
    await demo.waitFor();
    await page.getByRole("button", { name: "Add a sender" }).click();
    await page.getByLabel("From address").fill("news@ui-test.example");
    await page.getByLabel("Display name").fill("UI Test News");
    await page.getByLabel("DKIM selector").fill("not a selector!");
    await page.getByLabel("DKIM key").selectOption("ed25519");
    await page.getByRole("button", { name: "Create sender" }).click();
    const selectorError = page.locator("#sender-dkim_selector-error");
    await selectorError.waitFor();
    assert.match(await selectorError.innerText(), /not a DNS name/);
    assert.equal(await page.getByLabel("DKIM selector").getAttribute("aria-invalid"), "true");
    await b.shot("sender-error");

    await page.getByLabel("DKIM selector").fill("ui2026");
    await page.getByRole("button", { name: "Create sender" }).click();
    const card = page.getByTestId("sender-news@ui-test.example");
    await card.waitFor();
    const api = (await server.api("GET", "/api/v1/email/senders")).body.data.find((s) => s.email === "news@ui-test.example");
    assert.ok(api, "the API has the sender");
    assert.equal(api.name, "UI Test News");
    assert.equal(api.dkim.algorithm, "ed25519");
    assert.equal(await card.locator('[data-field="Name"]').innerText(), api.dkim.dns_name);
    assert.equal(api.dkim.dns_name, "ui2026._domainkey.ui-test.example");
    assert.equal(await card.locator('[data-field="Type"]').innerText(), "TXT");
    assert.equal(await card.locator('[data-field="Value"]').innerText(), api.dkim.dns_value);
    assert.match(api.dkim.dns_value, /^v=DKIM1; k=ed25519; p=/);
    await b.shot("senders");

    // The postal address: a one-line address is refused on the field, a full one saved.
    const address = page.getByRole("textbox", { name: "Postal address" });
    await eventually(async () => (await address.inputValue()).startsWith("Kairos Demo Shop"), 10_000, "the demo's address");
    await address.fill("Nowhere");
    await page.getByRole("button", { name: "Save address" }).click();
    await page.locator("#postal-address-error").waitFor();
    await address.fill("UI Test Ltd\n2 Harbour Road\nPortsmouth PO1 2AB, UK");
    await page.getByRole("button", { name: "Save address" }).click();
    await page.getByText("Saved.").waitFor();
    assert.equal((await server.api("GET", "/api/v1/settings")).body.postal_address, "UI Test Ltd\n2 Harbour Road\nPortsmouth PO1 2AB, UK");
    await b.shot("settings");
  });

  test("at tablet width the email pages fit and the preview is reached with the keyboard alone", async () => {
    b = await openBrowser({ width: 820, height: 1180 });
    const { page } = b;
    await signIn(page, server);
    const fits = async (what) =>
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what} fits 820 px without scrolling sideways`);
    await page.goto(server.url + `/email/templates/${welcome.id}`);
    await page.getByLabel(/^Body/).waitFor();
    await fits("the template editor");
    // Tabs: arrow keys move between them.
    await page.getByRole("tab", { name: "Content" }).focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.getByRole("tab", { name: "Preview and test send" }).getAttribute("aria-selected"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Preview and test send");
    // The contact picker: type, arrow down, Enter.
    // Past the preselected contact's Clear button to the search box.
    await page.getByTestId("picked-contact").waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Clear");
    await page.keyboard.press("Tab");
    const picker = page.getByRole("combobox", { name: "Preview for contact" });
    assert.ok(await picker.evaluate((el) => el === document.activeElement), "Tab reaches the contact picker");
    await page.keyboard.type(person.email);
    await page.getByRole("option").first().waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await eventually(async () => (await page.getByTestId("picked-contact").innerText()).includes(person.email), 5000, "the picked contact");
    const frame = page.frameLocator("iframe[title^='Preview of']");
    await eventually(async () => ((await frame.locator("body").innerText().catch(() => "")) || "").includes(person.first_name), 10_000, "the preview");
    await fits("the preview");
    await b.shot("template-preview-tablet");
    for (const path of ["/email/templates", "/email/outbox", "/settings"]) {
      await page.goto(server.url + path);
      await page.locator("h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      await fits(path);
    }
    await b.shot("settings-tablet");
  });

  test("a sign-up sent through the tracking API runs the welcome journey, whose email the outbox shows as sent", async () => {
    let subscriber;
    for (let cursor = null, n = 0; !subscriber && n < 10; n++) {
      const page = (await server.api("GET", `/api/v1/contacts?limit=100${cursor ? `&cursor=${cursor}` : ""}`)).body;
      subscriber = page.data.find((c) => c.custom?.newsletter === true && c.first_name && c.external_id && c.id !== person.id);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    assert.ok(subscriber, "a demo contact who subscribed to the newsletter");
    await server.track({ userId: subscriber.external_id, event: "Signed Up", properties: { plan: "pro" } });
    const sent = await eventually(async () => {
      const list = (await server.api("GET", `/api/v1/email/messages?contact_id=${subscriber.id}`)).body.data;
      return list.find((m) => m.source.startsWith("journey:"));
    }, 20_000, "the journey's email");
    assert.equal(sent.status, "captured", `the journey's email was captured: ${sent.detail}`);
    assert.equal(sent.kind, "marketing");

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + `/contacts/${subscriber.id}`);
    await page.getByRole("link", { name: "Emails to this contact" }).click();
    // The outbox, not the contact page still showing while it loads (its score history names the journey too).
    await page.getByRole("heading", { name: "Outbox" }).waitFor();
    const row = page.locator("table tbody tr", { hasText: "Journey" });
    await row.waitFor();
    assert.match(await row.innerText(), /captured/);
    await row.getByRole("link").first().click();
    await page.waitForURL(new RegExp(`/email/outbox/${sent.id}$`));
    const html = page.frameLocator("iframe[title='HTML part of the message']");
    await eventually(async () => ((await html.locator("body").innerText().catch(() => "")) || "").includes(`Welcome, ${subscriber.first_name}!`), 10_000, "the rendered HTML part");
    // Marketing email: one-click unsubscribe headers and the postal address in the footer.
    await page.locator(".headers-table th", { hasText: /^List-Unsubscribe-Post$/ }).waitFor();
    const footer = await html.locator("body").innerText();
    const address = (await server.api("GET", "/api/v1/settings")).body.postal_address;
    assert.ok(footer.includes(address.split(/[\n,]/)[0]), "the footer carries the postal address");
    // (Chromium paints a sandboxed frame only once it has been in view.)
    await page.locator("iframe[title='HTML part of the message']").scrollIntoViewIfNeeded();
    await b.shot("outbox-journey-message");
  });
});
