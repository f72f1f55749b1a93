// Browser tests of signing in and of roles, against the real `kairos`
// binary with demo data: the owner signs in with the form, adds an analyst
// on the Members page (a too-short password is refused on its field),
// creates a key whose secret works and revokes it (the list names who made
// each key: the owner by name, a key by its name, the command line, never
// the server's "user:…" form), finds both in the audit
// log and its CSV export, and signs out; the analyst sees no Contacts and is
// told why at /contacts, without the UI calling anything the role may not,
// and changes their password (a short one refused on its field);
// five wrong passwords lock an account, the page says until when, and the
// owner unlocks it; a member of two workspaces (the second made with the
// CLI) switches between them and sees each one's own data and role. Every
// change goes through the session cookie, so each one that succeeds carried
// the CSRF token.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { eventually, missingPrerequisite, openBrowser, signIn, startKairos, closeAndCheck } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "ann.analyst@example.test", password: "a long analyst passphrase" };

describe("signing in and roles", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 200 });
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

  test("the owner signs in with the form, adds an analyst, makes and revokes a key, reads the audit log and signs out", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const header = page.getByRole("banner", { name: "Signed in" });
    assert.equal((await header.getByTestId("role").textContent()).trim(), "owner");
    const me = (await fetch(server.url + "/api/v1/users", { headers: { Authorization: `Bearer ${server.key}` } }).then((r) => r.json())).find(
      (u) => u.email === server.ownerEmail,
    );
    assert.equal(await header.getByTestId("signed-in-as").innerText(), me.name);
    await b.shot("auth-dashboard-owner");

    // Members: a first password that is too short is refused on its field.
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("link", { name: "Members", exact: true }).click();
    const form = page.getByRole("form", { name: "Add a member" });
    await form.getByLabel("Email").fill(ANALYST.email);
    await form.getByLabel("Name").fill("Ann Analyst");
    await form.getByLabel("Role").selectOption("analyst");
    await form.getByLabel("First password").fill("short");
    await form.getByRole("button", { name: "Add member" }).click();
    await form.locator("#member-password-error").waitFor();
    assert.match(await form.locator("#member-password-error").innerText(), /at least 12 characters/);
    await b.shot("auth-member-refused");
    await form.getByLabel("First password").fill(ANALYST.password);
    await form.getByRole("button", { name: "Add member" }).click();
    const row = page.getByTestId(`member-${ANALYST.email}`);
    await row.waitFor();
    assert.equal(await row.getByLabel(`Role of ${ANALYST.email}`).inputValue(), "analyst");
    const members = (await server.api("GET", "/api/v1/users")).body;
    assert.equal(members.find((m) => m.email === ANALYST.email)?.role, "analyst");
    await b.shot("auth-members");

    // API keys: the secret is shown once and works; revoking stops it.
    // One made through the API first, with the demo's admin key.
    const byKey = await server.api("POST", "/api/v1/keys", { name: "Made by a key", scope: "write" });
    assert.equal(byKey.status, 201, JSON.stringify(byKey.body));
    await page.getByRole("link", { name: "API keys" }).click();
    const keyForm = page.getByRole("form", { name: "Create an API key" });
    await keyForm.getByLabel("Name").fill("UI test key");
    await keyForm.getByLabel("Scope").selectOption("analyst");
    const inAMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await keyForm.getByLabel("Expires on (optional)").fill(inAMonth);
    await keyForm.getByRole("button", { name: "Create key" }).click();
    const secretBox = page.getByTestId("new-key-secret");
    await secretBox.waitFor();
    const secret = (await secretBox.locator("code").innerText()).trim();
    const asKey = () => fetch(server.url + "/api/v1/auth/session", { headers: { Authorization: `Bearer ${secret}` } });
    const viaKey = await asKey();
    assert.equal(viaKey.status, 200);
    assert.equal((await viaKey.json()).role, "analyst");
    const keyRow = page.getByTestId("key-UI test key");
    await keyRow.waitFor();
    assert.match(await keyRow.innerText(), /analyst/);
    // Who made each key, named as people know them: the owner by name, a key by its name, the demo's keys by the command line.
    const owner = members.find((m) => m.email === server.ownerEmail);
    const madeBy = (name) => page.getByTestId(`key-${name}`).locator("[data-field=made-by]").innerText();
    assert.equal(await madeBy("UI test key"), owner.name);
    assert.equal(await madeBy("Made by a key"), "API key “demo admin”");
    assert.equal(await madeBy("demo admin"), "the command line");
    assert.doesNotMatch(await page.getByTestId("keys").innerText(), /user:|key:/, "no raw actor anywhere in the list");
    const listed = (await server.api("GET", "/api/v1/keys")).body.find((k) => k.name === "UI test key");
    assert.ok(listed.expires_at.startsWith(inAMonth) || new Date(listed.expires_at) > new Date(inAMonth), "the expiry is the chosen day");
    await b.shot("auth-key-created");
    await keyRow.getByRole("button", { name: "Revoke UI test key" }).click();
    await keyRow.getByRole("button", { name: "Yes, revoke" }).click();
    await eventually(async () => /revoked/.test(await keyRow.innerText()), 5000, "the key shown revoked");
    assert.equal((await asKey()).status, 401, "the revoked key no longer works");
    await b.shot("auth-key-revoked");

    // The audit log shows both, filters by action prefix, and exports the selection.
    await page.getByRole("link", { name: "Audit log" }).click();
    const audit = page.getByTestId("audit");
    await audit.waitFor();
    for (const action of ["member.added", "key.created", "key.revoked", "user.signed_in"])
      await audit.getByText(action, { exact: true }).first().waitFor();
    await page.getByLabel("Action starts with").fill("member.");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(async () => {
      const actions = await audit.locator("tbody tr td:nth-child(3)").allInnerTexts();
      return actions.length > 0 && actions.every((a) => a.startsWith("member."));
    }, 5000, "only member entries");
    await b.shot("auth-audit");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    const csv = readFileSync(await dl.path(), "utf8");
    assert.match(csv.split("\n")[0], /^id,at,actor,action,subject,detail/);
    assert.match(csv, /member\.added/);
    assert.doesNotMatch(csv, /key\.created/, "the export has the filter applied");

    // Signing out ends the session on the server: a reload does not bring it back.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Email").waitFor();
    await page.reload();
    await page.getByLabel("Email").waitFor();
    assert.ok(b.apiCalls.includes("POST /api/v1/auth/logout"));
  });

  test("the analyst sees no contacts, is told why at /contacts, the UI asks for nothing the role may not have, and the password changes", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    assert.equal((await page.getByTestId("role").textContent()).trim(), "analyst");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Segments" }).waitFor();
    assert.equal(await nav.getByRole("link", { name: "Contacts" }).count(), 0, "no Contacts in the navigation");
    assert.equal(await nav.getByRole("link", { name: "Outbox" }).count(), 0, "no Outbox in the navigation");
    await page.getByRole("img", { name: /^Events, one point per day/ }).locator("canvas").waitFor();
    await b.shot("auth-analyst-dashboard");

    // Segments are readable, but not editable, and their members are not shown.
    await nav.getByRole("link", { name: "Segments" }).click();
    assert.equal(await page.getByRole("link", { name: "New segment" }).count(), 0);
    await page.locator("table tbody tr a").first().click();
    await page.getByTestId("saved-count").waitFor();
    await page.getByText("can look at segments but not change them").waitFor();
    assert.equal(await page.getByRole("button", { name: "Download members (CSV)" }).count(), 0);

    // Settings has no Members, keys or audit tabs for this role.
    await nav.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Senders" }).waitFor();
    for (const tab of ["Members", "API keys", "Audit log"])
      assert.equal(await page.getByRole("navigation", { name: "Settings sections" }).getByRole("link", { name: tab }).count(), 0, tab);

    await page.goto(server.url + "/contacts");
    await page.getByText("Your role (analyst) cannot view contacts.").waitFor();
    await page.goto(server.url + "/settings/members");
    await page.getByText("Your role (analyst) cannot manage members.").waitFor();
    await b.shot("auth-analyst-refused");
    // Only the page-load session checks may have been refused: nothing else the UI asked for was out of bounds.
    assert.deepEqual(b.refusals.filter((r) => !r.includes("/api/v1/auth/session")), []);
    assert.ok(!b.apiCalls.some((c) => / \/api\/v1\/contacts/.test(c)), "no contact was requested");

    // Any role changes its own password: the server's complaint shows on the field, then it works.
    await page.getByRole("link", { name: "Change password" }).click();
    const pw = page.getByRole("form", { name: "Change your password" });
    await pw.getByLabel("Current password").fill(ANALYST.password);
    await pw.getByLabel("New password", { exact: true }).fill("too short");
    await pw.getByLabel("New password again").fill("too short");
    await pw.getByRole("button", { name: "Change password" }).click();
    await pw.locator("#pw-new-error").waitFor();
    assert.match(await pw.locator("#pw-new-error").innerText(), /at least 12 characters/);
    ANALYST.password = "an even longer analyst passphrase";
    await pw.getByLabel("New password", { exact: true }).fill(ANALYST.password);
    await pw.getByLabel("New password again").fill(ANALYST.password);
    await pw.getByRole("button", { name: "Change password" }).click();
    await pw.getByText("Password changed.").waitFor();
    await b.shot("auth-password-changed");
    const r = await fetch(server.url + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(ANALYST) });
    assert.equal(r.status, 200, "the new password signs in");
  });

  test("five wrong passwords lock the account, the page says until when, and the owner unlocks it", async () => {
    const email = "locked.out@example.test";
    const password = "the right passphrase";
    assert.equal((await server.api("POST", "/api/v1/users", { email, name: "Lou Locked", role: "marketer", password })).status, 201);
    b = await openBrowser();
    const { page } = b;
    await page.goto(server.url + "/");
    const alert = page.getByRole("alert");
    for (let i = 1; i <= 5; i++) {
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(`wrong guess ${i}`);
      await page.getByRole("button", { name: "Sign in" }).click();
      if (i < 5) await eventually(async () => /Wrong email or password/.test(await alert.innerText().catch(() => "")) && (await page.getByRole("button", { name: "Sign in" }).isEnabled()), 10_000, `refusal ${i}`);
      if (i === 4) await b.shot("auth-wrong-password");
    }
    await eventually(async () => /This account is locked until \d\d:\d\d/.test(await alert.innerText().catch(() => "")), 10_000, "the locked message");
    assert.match(await alert.innerText(), /ask an owner or admin to unlock it/);
    await b.shot("auth-locked");
    // Even the right password is refused while locked.
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(async () => (await page.getByRole("button", { name: "Sign in" }).isEnabled()), 10_000, "the answer");
    assert.match(await alert.innerText(), /locked until/);

    // The owner sees the lock on the Members page and lifts it.
    await signIn(page, server);
    await page.goto(server.url + "/settings/members");
    const row = page.getByTestId(`member-${email}`);
    await row.getByText(/locked until/).waitFor();
    await b.shot("auth-member-locked");
    await row.getByRole("button", { name: "Unlock" }).click();
    await page.getByText(`${email} is unlocked.`).waitFor();
    // The list reloads after the note appears: wait for the badge to go.
    await eventually(async () => (await row.getByText(/locked until/).count()) === 0, 10_000, "the lock badge gone");
    const r = await fetch(server.url + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
    assert.equal(r.status, 200, "the right password works again");
  });

  test("a member of two workspaces switches between them and sees each one's data and role", async () => {
    const who = { email: "wanda.two@example.test", password: "one person, two workspaces" };
    assert.equal((await server.api("POST", "/api/v1/users", { ...who, name: "Wanda Two", role: "marketer" })).status, 201);
    // Another workspace, where she is an analyst, holding one contact and a segment of its own.
    server.cli(["user", "create", "--email", who.email, "--role", "analyst", "--workspace", "second-shop"]);
    const key = server.cli(["key", "create", "--scope", "admin", "--workspace", "second-shop", "--name", "switch test"]).match(/ka_\w+/)?.[0];
    assert.ok(key, "the CLI printed the second workspace's key");
    const second = async (method, path, body) => {
      const r = await fetch(server.url + path, { method, headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${await r.text()}`);
    };
    await second("POST", "/api/v1/contacts", { email: "only.here@example.test", first_name: "Sol", country: "PT" });
    await second("POST", "/api/v1/segments", { name: "Portuguese shoppers", rule: { field: "country", op: "equals", value: "PT" } });
    const demo = (await server.api("GET", "/api/v1/workspace")).body;
    const demoSegments = (await server.api("GET", "/api/v1/segments")).body.data.map((x) => x.name);
    const expected = {
      [demo.name]: { role: "marketer", contacts: demo.contacts.toLocaleString("en-US"), segment: demoSegments[0], notSegment: "Portuguese shoppers" },
      "second-shop": { role: "analyst", contacts: "1", segment: "Portuguese shoppers", notSegment: demoSegments[0] },
    };

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, who);
    const header = page.getByRole("banner", { name: "Signed in" });
    const switcher = header.getByLabel("Workspace");
    const brand = page.locator(".brand .workspace");
    /** The dashboard shows workspace `name`'s own numbers and segments, with her role there. */
    const shows = async (name) => {
      const e = expected[name];
      await eventually(async () => (await brand.innerText()).trim() === name, 10_000, `the ${name} workspace`);
      assert.equal((await header.getByTestId("role").innerText()).trim().toLowerCase(), e.role);
      await eventually(async () => (await page.getByTestId("stat-Contacts").innerText()).trim() === e.contacts, 10_000, `${name}'s contact count`);
      const segments = page.getByRole("heading", { name: "Segments" }).locator("..");
      await segments.getByRole("link", { name: e.segment }).waitFor();
      assert.equal(await segments.getByRole("link", { name: e.notSegment }).count(), 0, `no segment of the other workspace in ${name}`);
      // The analyst has no Contacts page; the marketer has.
      const contactsLink = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" });
      assert.equal(await contactsLink.count(), e.role === "analyst" ? 0 : 1);
    };

    const first = (await brand.innerText()).trim();
    assert.ok(first in expected, `signed in to one of her workspaces (${first})`);
    const other = first === demo.name ? "second-shop" : demo.name;
    await shows(first);
    assert.deepEqual(
      (await switcher.locator("option").allInnerTexts()).sort(),
      [`${demo.name} (marketer)`, "second-shop (analyst)"].sort(),
      "the switcher offers both workspaces with her role in each",
    );
    await b.shot("auth-workspace-before-switch");

    await switcher.selectOption({ label: `${other} (${expected[other].role})` });
    await shows(other);
    assert.ok(b.apiCalls.includes("POST /api/v1/auth/switch"));
    await b.shot("auth-workspace-switched");

    // The switch is the session's: a reload stays there, and switching back works.
    await page.reload();
    await shows(other);
    await switcher.selectOption({ label: `${first} (${expected[first].role})` });
    await shows(first);
  });
});
