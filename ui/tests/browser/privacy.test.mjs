// Browser tests of data-subject rights and of hostile contact data, against
// the real `kairos` binary with demo data: the owner exports a contact as a
// ZIP and as JSON from the contact page (both hold the person's email, both
// audited); erases one after typing their email (a wrong email, or a
// lowercase "erase" for a contact without one, leaves the button disabled),
// after which the API answers 404 and the audit trail has the erasure;
// script in names, custom fields and event names sent through the tracking
// API is stored verbatim and shown as text, never run, on the contacts list,
// the contact page and the hosted preference page; a marketer does not see
// the section, compliance does.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const FIRST = `<img src=x onerror="window.__xss=1">`;
const LAST = `<script>window.__xss=2</script>`;
const CUSTOM = `<svg onload="window.__xss=3"></svg>`;
const EVENT = `<img src=y onerror="window.__xss=4">`;

describe("data-subject requests and hostile contact data", { skip: skip ?? false }, () => {
  let server;
  let b;
  let people;

  before(async () => {
    server = await startKairos({ contacts: 200 });
    people = (await server.api("GET", "/api/v1/contacts?limit=20")).body.data.filter((c) => c.email);
    assert.ok(people.length >= 2, "the demo has contacts with emails");
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

  /** The contact page of `c`, once its profile is shown. */
  async function openContact(page, c) {
    await page.goto(`${server.url}/contacts/${c.id}`);
    await page.getByRole("heading", { name: "Profile" }).waitFor();
  }

  test("the owner exports a contact as a ZIP and as JSON, both holding their email and both audited", async () => {
    b = await openBrowser();
    const { page } = b;
    const person = people[0];
    await signIn(page, server);
    await openContact(page, person);
    const dsr = page.getByRole("region", { name: "Data-subject requests" });
    await dsr.waitFor();
    await b.shot("privacy-contact-owner");

    const [zip] = await Promise.all([page.waitForEvent("download"), dsr.getByRole("button", { name: "Export everything (ZIP)" }).click()]);
    assert.equal(zip.suggestedFilename(), `contact-${person.id}.zip`);
    const file = await zip.path();
    assert.equal(readFileSync(file).subarray(0, 2).toString("latin1"), "PK", "the download is a zip archive");
    const doc = JSON.parse(execFileSync("unzip", ["-p", file, "person.json"], { encoding: "utf8" }));
    assert.equal(doc.contact.email, person.email);
    assert.match(execFileSync("unzip", ["-p", file, "profile.csv"], { encoding: "utf8" }), new RegExp(person.email.replace(/[.+]/g, "\\$&")));

    const [json] = await Promise.all([page.waitForEvent("download"), dsr.getByRole("button", { name: "Download as JSON" }).click()]);
    assert.equal(json.suggestedFilename(), `contact-${person.id}.json`);
    assert.equal(JSON.parse(readFileSync(await json.path(), "utf8")).contact.email, person.email);

    const audit = (await server.api("GET", `/api/v1/audit?action=contact.exported&who=${person.id}`)).body.data;
    assert.equal(audit.length, 2, "each export is audited");
    assert.ok(audit.every((e) => e.actor === `user:${server.ownerEmail}`), "by the owner who signed in");
  });

  test("erasing needs the contact's email typed (or ERASE without one); then the contact is gone and the erasure audited", async () => {
    b = await openBrowser();
    const { page } = b;
    const person = people[1];
    await signIn(page, server);
    await openContact(page, person);
    const dsr = page.getByRole("region", { name: "Data-subject requests" });
    await dsr.getByRole("button", { name: "Erase this person…" }).click();
    const form = page.getByRole("form", { name: "Confirm erasure" });
    const confirm = form.getByLabel("Type their email to confirm");
    const go = form.getByRole("button", { name: "Erase permanently" });
    assert.ok(await go.isDisabled(), "nothing typed: the button is disabled");
    await confirm.fill("someone.else.entirely@example.test");
    assert.ok(await go.isDisabled(), "a wrong email leaves the button disabled");
    await form.locator("#erase-confirm-error").waitFor();
    await confirm.press("Enter");
    assert.equal((await server.api("GET", `/api/v1/contacts/${person.id}`)).status, 200, "Enter with a wrong email erases nothing");
    await b.shot("privacy-erase-wrong");

    await confirm.fill(person.email.toUpperCase());
    assert.ok(await go.isEnabled(), "the email, in any case, enables the button");
    await go.click();
    const result = page.getByTestId("erasure-result");
    await result.waitFor();
    assert.match(await result.innerText(), /suppressed \(as salted hashes\)\s*email/i);
    assert.equal(await page.getByText(person.email).count(), 0, "the result does not show the erased address");
    await b.shot("privacy-erased");

    assert.equal((await server.api("GET", `/api/v1/contacts/${person.id}`)).status, 404);
    const audit = (await server.api("GET", "/api/v1/audit?action=contact.erased")).body.data;
    const entry = audit.find((e) => e.subject === person.id);
    assert.ok(entry, `the erasure is in the audit trail: ${JSON.stringify(audit)}`);
    assert.equal(entry.actor, `user:${server.ownerEmail}`);

    // Back to contacts; opening the erased contact again says it is not there.
    await result.getByRole("link", { name: "Back to contacts" }).click();
    await page.getByRole("heading", { name: "Contacts" }).waitFor();
    await page.goto(`${server.url}/contacts/${person.id}`);
    await page.getByRole("alert").getByText(/not found|no contact/i).first().waitFor();
    await b.shot("privacy-erased-not-found");

    // A contact without an email is confirmed with ERASE, in capitals.
    await server.identify({ userId: "dsr-no-email", traits: { firstName: "Noemail" } });
    const bare = await eventually(async () => (await server.api("GET", "/api/v1/contacts?external_id=dsr-no-email")).body.data[0], 10_000, "the contact without email");
    assert.equal(bare.email, null);
    await openContact(page, bare);
    await page.getByRole("button", { name: "Erase this person…" }).click();
    const typeErase = page.getByLabel("Type ERASE to confirm");
    await typeErase.fill("erase");
    assert.ok(await go.isDisabled(), "lowercase erase is not enough");
    await typeErase.fill("ERASE");
    await go.click();
    await page.getByTestId("erasure-result").waitFor();
    assert.match(await page.getByTestId("erasure-result").innerText(), /nothing: no email or phone was known/);
    assert.equal((await server.api("GET", `/api/v1/contacts/${bare.id}`)).status, 404);
  });

  test("script in contact data is stored verbatim and shown as text on the list, the contact page and the preference page", async () => {
    const email = "xss.person@example.test";
    await server.identify({ userId: "xss-person", traits: { email, firstName: FIRST, lastName: LAST, nickname: CUSTOM } });
    const stored = await eventually(async () => (await server.api("GET", `/api/v1/contacts?email=${encodeURIComponent(email)}`)).body.data[0], 10_000, "the contact");
    await server.track({ userId: "xss-person", event: EVENT, properties: { note: LAST } });
    await eventually(async () => (await server.api("GET", `/api/v1/contacts/${stored.id}/events`)).body.data.some((e) => e.name === EVENT), 10_000, "the event");
    const api = (await server.api("GET", `/api/v1/contacts/${stored.id}`)).body;
    assert.equal(api.first_name, FIRST, "the first name is stored verbatim");
    assert.equal(api.last_name, LAST, "the last name is stored verbatim");
    assert.equal(api.custom.nickname, CUSTOM, "the custom field is stored verbatim");

    b = await openBrowser();
    const { page } = b;
    const executed = () => page.evaluate(() => window.__xss);
    const injected = () => page.locator('img[src="x"], img[src="y"], svg[onload]').count();
    await signIn(page, server);

    await page.goto(`${server.url}/contacts?q=xss.person`);
    const link = page.getByRole("link", { name: `${FIRST} ${LAST}` });
    await link.waitFor();
    assert.equal(await executed(), undefined, "nothing ran on the contacts list");
    assert.equal(await injected(), 0, "no element was made from the name");
    await b.shot("privacy-xss-list");

    await link.click();
    await page.getByRole("heading", { level: 1, name: `${FIRST} ${LAST}` }).waitFor();
    await page.getByText(CUSTOM, { exact: true }).waitFor();
    await page.getByText(EVENT, { exact: true }).waitFor();
    await page.getByText(`note=${LAST}`).waitFor();
    assert.equal(await executed(), undefined, "nothing ran on the contact page");
    assert.equal(await injected(), 0, "no element was made from the contact's data");
    await b.shot("privacy-xss-contact");

    const minted = await server.api("POST", `/api/v1/contacts/${stored.id}/preference-link`);
    assert.equal(minted.status, 200);
    await page.goto(minted.body.url);
    await page.getByRole("heading", { name: "Your communication preferences" }).waitFor();
    assert.equal(await executed(), undefined, "nothing ran on the preference page");
    assert.equal(await injected(), 0, "no element was made on the preference page");
    await page.getByText(`x${"*".repeat(8)}@example.test`).waitFor(); // the masked address, not the name
    const html = await page.content();
    assert.ok(!html.includes(FIRST) && !html.includes(LAST), "the raw name is not in the preference page");
    await b.shot("privacy-xss-preferences");
  });

  test("a marketer does not see data-subject requests on the contact page; compliance does", async () => {
    const password = "a long passphrase for tests";
    for (const role of ["marketer", "compliance"]) {
      const email = `${role}.dsr@example.test`;
      const made = await server.api("POST", "/api/v1/users", { email, name: `Dee ${role}`, role, password });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }

    b = await openBrowser();
    await signIn(b.page, server, { email: "marketer.dsr@example.test", password });
    assert.equal((await b.page.getByTestId("role").textContent()).trim(), "marketer");
    await openContact(b.page, people[0]);
    await b.page.getByRole("heading", { name: "Event timeline" }).waitFor();
    assert.equal(await b.page.getByRole("region", { name: "Data-subject requests" }).count(), 0, "no section for the marketer");
    assert.equal(await b.page.getByRole("button", { name: /Export everything|Erase this person/ }).count(), 0);
    assert.ok(!b.apiCalls.some((c) => /\/(export|erase)$/.test(c)), "the UI asked for no export or erasure");
    await b.shot("privacy-marketer");
    const { consoleErrors, badResponses } = b;
    await b.browser.close();
    assert.deepEqual([...consoleErrors, ...badResponses], []);

    b = await openBrowser();
    await signIn(b.page, server, { email: "compliance.dsr@example.test", password });
    assert.equal((await b.page.getByTestId("role").textContent()).trim(), "compliance");
    await openContact(b.page, people[0]);
    const dsr = b.page.getByRole("region", { name: "Data-subject requests" });
    await dsr.getByRole("button", { name: "Export everything (ZIP)" }).waitFor();
    await dsr.getByRole("button", { name: "Erase this person…" }).waitFor();
    await b.shot("privacy-compliance");
  });
});
