// Browser tests of Settings → Email delivery against the real `kairos`
// binary: on the demo (capture) the owner sees that email is kept in the
// outbox, follows the link there, and the test of the current delivery
// reports that nothing is sent; an analyst sees the same facts without the
// test button. Then a second server sends through a small SMTP server
// started here (Python's aiosmtpd): the page shows the server's relay, the
// test reports the server's name, unencrypted and not logged in, and once
// that SMTP server is stopped the test reports the failure. Last, the owner
// sets the workspace's own relay on the demo: the repository's SMTP
// receiver (tests/smtp_receiver.py) requiring STARTTLS with a private CA's
// certificate and a login; a test before saving names a wrong password and
// then connects, a refused relay is named field by field, the saved relay is
// shown in use (changed by the owner, named by name; through the API, by the
// key's name) without its password and stored so, an email goes through it
// (encrypted, logged in) rather than into the capture outbox, the change is
// audited, and stopping goes back to capture; at 768 px the form fits and
// the page keeps still while loading; an analyst sees the relay with every
// control disabled. A server run with --no-workspace-relays says the
// operator does not allow an own relay, shows no form, and refuses one.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos, steadyLayout, uiRoot } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "ana.delivery@example.test", password: "analysts look at settings only" };

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

const accepts = (port) =>
  new Promise((res) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });

/** A throwaway SMTP server (aiosmtpd) on a free port: `{port, stop()}`. */
async function startSmtp() {
  const port = await freePort();
  const child = spawn("python3", ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  await eventually(() => accepts(port), 15_000, `aiosmtpd on port ${port} (${err})`);
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function openDelivery(page, server) {
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings sections" }).getByRole("link", { name: "Email delivery" }).click();
  await page.getByRole("heading", { name: "Email delivery" }).waitFor();
  await page.getByTestId("delivery-facts").waitFor();
}

describe("email delivery settings on the demo (capture)", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 100 });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Ana Delivery", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-delivery-", calledApi: true });
  });

  test("the owner sees capture in effect, tests the connection and is told nothing is sent, and follows the outbox link", async () => {
    const view = (await server.api("GET", "/api/v1/settings/email-transport")).body;
    assert.equal(view.kind, "capture");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await openDelivery(page, server);

    const route = page.getByTestId("delivery-route");
    assert.match(await route.innerText(), /Email is kept in the outbox and not sent/);
    assert.equal(await route.getAttribute("data-tone"), "warn");
    const facts = page.getByTestId("delivery-facts");
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "Captured, not sent");
    assert.equal(await facts.locator("[data-field=public_url]").locator("code").innerText(), view.public_url);
    assert.equal(await facts.locator("[data-field=relay]").count(), 0, "no relay in capture mode");
    // How to change it: the flags.
    await page.getByText("--smtp-url", { exact: false }).first().waitFor();

    // Keyboard: focus the button and press Enter.
    const button = page.getByRole("button", { name: "Test current delivery" });
    await button.focus();
    await page.keyboard.press("Enter");
    const result = page.getByTestId("delivery-check");
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /The connection failed/);
    assert.match(text, /Email is captured, not sent/);
    assert.match(text, /--email-transport smtp/);
    await b.shot("delivery-capture");

    await route.getByRole("link", { name: "Open the outbox" }).click();
    await page.waitForURL(/\/email\/outbox$/);
  });

  test("an analyst sees what is in effect but no test button", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await openDelivery(page, server);
    assert.match(await page.getByTestId("delivery-route").innerText(), /not sent/);
    assert.equal(await page.getByRole("button", { name: /^Test/ }).count(), 0);
    assert.equal(await page.getByRole("main").getByRole("button").count(), 0, "no action buttons at all");
    await b.shot("delivery-analyst");
  });
});

describe("email delivery settings on a server that forbids workspace relays", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 20, extraArgs: ["--no-workspace-relays"] });
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-delivery-", calledApi: true });
  });

  test("the owner is told the operator does not allow an own relay, and the API refuses one", async () => {
    const view = (await server.api("GET", "/api/v1/settings/email-transport")).body;
    assert.equal(view.workspace_relays_allowed, false);
    const put = await server.api("PUT", "/api/v1/settings/email-transport/relay", { host: "smtp.example.com", security: "starttls" });
    assert.equal(put.status, 403, JSON.stringify(put.body));
    assert.match(put.body.detail, /--no-workspace-relays/);
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await openDelivery(page, server);
    const relay = page.getByTestId("own-relay");
    assert.match(await relay.getByTestId("relays-forbidden").innerText(), /does not let workspaces send through their own SMTP relay/);
    assert.equal(await relay.getByRole("button", { name: "Save relay" }).count(), 0);
    assert.equal(await relay.getByLabel("Host").count(), 0);
    await b.shot("delivery-relays-forbidden");
  });
});

describe("email delivery settings with an SMTP relay", { skip: skip ?? false }, () => {
  let smtp;
  let server;
  let b;

  before(async () => {
    smtp = await startSmtp();
    server = await startKairos({ contacts: 50, extraArgs: ["--email-transport", "smtp", "--smtp-url", `smtp://127.0.0.1:${smtp.port}`, "--smtp-domain-rate", "5"] });
  });
  after(async () => {
    await server?.stop();
    await smtp?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-delivery-", calledApi: true });
  });

  test("the owner sees the relay, a test connects to it, and a test after it stopped reports the failure", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await openDelivery(page, server);

    const route = page.getByTestId("delivery-route");
    assert.equal(await route.getAttribute("data-tone"), "ok", "nothing keeps email from going out");
    assert.match(await route.innerText(), new RegExp(`Email goes through the server's SMTP relay\\s+Every message is handed to 127\\.0\\.0\\.1:${smtp.port}`));
    const facts = page.getByTestId("delivery-facts");
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "SMTP relay");
    assert.equal(await facts.locator("[data-field=source]").innerText(), "The server's operator, for every workspace");
    assert.equal(await facts.locator("[data-field=relay]").innerText(), `127.0.0.1:${smtp.port}`);
    assert.match(await facts.locator("[data-field=security]").innerText(), /^None/);
    assert.match(await facts.locator("[data-field=user]").innerText(), /none/);
    assert.equal(await facts.locator("[data-field=limits]").innerText(), "8 connections at once, at most 5 messages a second, per recipient domain");

    await page.getByRole("button", { name: "Test current delivery" }).click();
    const result = page.getByTestId("delivery-check");
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /^Connected to \S+/);
    assert.match(text, /Not encrypted/);
    assert.match(text, /Not logged in/);
    assert.match(text, /Took \d+(\.\d)? m?s/);
    assert.equal(await result.getAttribute("role"), "status");
    await b.shot("delivery-smtp-ok");

    await smtp.stop();
    await page.getByRole("button", { name: "Test current delivery" }).click();
    await page.waitForFunction(() => /The connection failed/.test(document.querySelector("[data-testid=delivery-check]")?.textContent ?? ""));
    assert.equal(await result.getAttribute("role"), "alert");
    await b.shot("delivery-smtp-failed");
  });
});

/** A private CA and a certificate it signed for localhost and 127.0.0.1, made
 * with openssl in `dir`: `{cert, key, ca}` file paths. */
function privateCa(dir) {
  const p = (n) => join(dir, n);
  writeFileSync(p("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  const steps = [
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Kairos UI Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", p("ca.key"), "-out", p("ca.pem")],
    ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", p("key.pem"), "-out", p("leaf.csr")],
    ["x509", "-req", "-in", p("leaf.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "1", "-out", p("cert.pem"), "-extfile", p("ext.cnf")],
  ];
  for (const args of steps) {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  return { cert: p("cert.pem"), key: p("key.pem"), ca: p("ca.pem") };
}

/** The repository's SMTP receiver (tests/smtp_receiver.py: aiosmtpd, every
 * message parsed into a JSON line) on a free port, with `env` (STARTTLS,
 * AUTH): `{port, messages(), stop()}`. */
async function startReceiver(dir, env) {
  const port = await freePort();
  const log = join(dir, "messages.jsonl");
  const child = spawn("python3", [join(uiRoot, "..", "tests", "smtp_receiver.py"), String(port), log, join(dir, "dns.json")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  await eventually(() => out.includes("ready") || child.exitCode !== null, 15_000, "the SMTP receiver");
  if (!out.includes("ready")) throw new Error(`the SMTP receiver did not start: ${err}`);
  return {
    port,
    messages: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("a workspace's own SMTP relay (STARTTLS, login, private CA) on the demo", { skip: skip ?? false }, () => {
  const USER = "kairos";
  const PASSWORD = "relay s3cret, spaces and all";
  let dir;
  let smtp;
  let server;
  let b;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "kairos-ui-relay-"));
    const tls = privateCa(dir);
    smtp = await startReceiver(dir, { SMTP_TLS_CERT: tls.cert, SMTP_TLS_KEY: tls.key, SMTP_AUTH: `${USER}:${PASSWORD}` });
    // Capture stays the server's transport; the CA is trusted for any relay, the workspace's too.
    server = await startKairos({ contacts: 60, extraArgs: ["--smtp-ca-file", tls.ca, "--allow-private-relays"] });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Ana Delivery", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  });
  after(async () => {
    await server?.stop();
    await smtp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-relay-", maxName: 60, calledApi: true });
  });

  test("the owner tests a relay (wrong password, then right), is shown every wrong field, saves it, email goes through it, and stops using it", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await openDelivery(page, server);
    const route = page.getByTestId("delivery-route");
    assert.match(await route.innerText(), /Email is kept in the outbox and not sent/);
    const card = page.getByTestId("own-relay");
    assert.match(await card.getByTestId("relay-changed").innerText(), /Not set/);
    assert.equal(await page.getByRole("button", { name: "Stop using own relay" }).count(), 0, "nothing to stop using yet");

    const host = card.getByLabel("Host");
    const port = card.getByLabel("Port");
    const security = card.getByLabel("Security");
    const user = card.getByLabel("User (optional)");
    const password = card.getByLabel("Password");
    assert.equal(await password.getAttribute("type"), "password");
    assert.equal(await password.getAttribute("autocomplete"), "new-password");
    assert.equal(await password.getAttribute("placeholder"), null, "no stored password to keep");

    // The port's placeholder is the default of the security chosen.
    assert.equal(await security.inputValue(), "starttls");
    assert.equal(await port.getAttribute("placeholder"), "587");
    await security.selectOption({ label: "TLS from the start (port 465)" });
    assert.equal(await port.getAttribute("placeholder"), "465");
    // No encryption to another machine is warned about; to this one it is not.
    await security.selectOption({ label: "None — only for a relay on this machine" });
    assert.equal(await port.getAttribute("placeholder"), "25");
    await host.fill("smtp.example.com");
    const warning = card.getByTestId("relay-plaintext-warning");
    assert.match(await warning.innerText(), /^Without encryption, every message crosses the network to smtp\.example\.com in plain text/);
    await host.fill("localhost");
    assert.equal(await warning.count(), 0, "no warning for a relay on this machine");

    // A wrong password: the test names the refusal, and nothing is saved.
    await security.selectOption({ label: "STARTTLS (required)" });
    await port.fill(String(smtp.port));
    await user.fill(USER);
    await password.fill("not the password");
    await card.getByRole("button", { name: "Test connection" }).click();
    const check = card.getByTestId("relay-check");
    await check.waitFor();
    assert.equal(await check.getAttribute("role"), "alert");
    const refused = await check.innerText();
    assert.match(refused, /^The connection failed/);
    assert.match(refused, /535|auth|credential|login/i, refused);
    await b.shot("relay-test-refused");

    // The right one: the relay's name, encrypted, logged in, how long. Still nothing saved.
    await password.fill(PASSWORD);
    assert.equal(await check.count(), 0, "a result about other values is not left standing");
    await card.getByRole("button", { name: "Test connection" }).click();
    await check.waitFor();
    const ok = await check.innerText();
    assert.equal(await check.getAttribute("role"), "status");
    assert.match(ok, /^Connected to \S+/);
    assert.match(ok, /Encrypted \(TLS\)/);
    assert.match(ok, /Logged in/);
    assert.match(ok, /Took \d+(\.\d)? m?s/);
    assert.match(await card.innerText(), /Not saved yet\./);
    let view = (await server.api("GET", "/api/v1/settings/email-transport")).body;
    assert.equal(view.source, "server", "testing saves nothing");
    assert.equal(view.workspace_relay, null);
    await b.shot("relay-test-ok");

    // Every wrong field at once, next to its input (Enter in Host submits the form): a host
    // with a scheme, and a user without a password (none is stored yet).
    await password.fill("");
    await host.fill("smtp://x");
    await host.press("Enter");
    const hostError = card.locator("#relay-host-error");
    await hostError.waitFor();
    assert.match(await hostError.innerText(), /not a host name or IP address/);
    assert.equal(await host.getAttribute("aria-invalid"), "true");
    assert.equal(await host.getAttribute("aria-describedby"), "relay-host-error");
    assert.match(await card.locator("#relay-password-error").innerText(), /required when a user is set/);
    assert.equal(await password.getAttribute("aria-invalid"), "true");
    assert.equal(await card.getByRole("alert").count(), 0, "what the fields say is not repeated in a box");
    assert.equal((await server.api("GET", "/api/v1/settings/email-transport")).body.source, "server", "a refused relay is not stored");
    await b.shot("relay-field-errors");
    // Typing in a field clears its complaint.
    await host.fill("localhost");
    assert.equal(await hostError.count(), 0);

    // Saved: the page says the workspace's own relay is in use, and never shows the password.
    await password.fill(PASSWORD);
    await card.getByRole("button", { name: "Save relay" }).click();
    await card.getByText(`Saved: this workspace's email now goes through localhost:${smtp.port}.`).waitFor();
    assert.equal(await route.getAttribute("data-tone"), "ok");
    assert.match(await route.innerText(), new RegExp(`^Email goes through this workspace's own SMTP relay\\s+Every message from this workspace is handed to localhost:${smtp.port}`));
    const facts = page.getByTestId("delivery-facts");
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "SMTP relay");
    assert.match(await facts.locator("[data-field=source]").innerText(), /^This workspace \(its own relay\); without it: Captured, not sent$/);
    assert.equal(await facts.locator("[data-field=relay]").innerText(), `localhost:${smtp.port}`);
    assert.equal(await facts.locator("[data-field=security]").innerText(), "STARTTLS, required");
    assert.equal(await facts.locator("[data-field=user]").innerText(), USER);
    assert.equal(await facts.locator("[data-field=extra_ca]").innerText(), "Yes (--smtp-ca-file)");
    assert.equal(await password.inputValue(), "", "the password is not put back in the form");
    assert.equal(await password.getAttribute("placeholder"), "•••• stored — leave empty to keep");
    assert.equal(await card.locator("#relay-password-help").innerText(), "A password is stored: leave empty to keep it.");
    assert.equal(await port.inputValue(), String(smtp.port));
    // Who changed it, by name: the owner, whom the members list names.
    const owner = (await server.api("GET", "/api/v1/users")).body.find((m) => m.email === server.ownerEmail);
    assert.match(await card.getByTestId("relay-changed").innerText(), new RegExp(`^In use\\. Last changed .+ by ${owner.name}\\.$`));
    assert.ok(!(await page.content()).includes(PASSWORD), "the password is nowhere in the page");

    // Stored, as the API shows it: never the password.
    const stored = await server.api("GET", "/api/v1/settings/email-transport");
    view = stored.body;
    assert.equal(stored.status, 200);
    assert.equal(view.kind, "smtp");
    assert.equal(view.source, "workspace");
    assert.equal(view.server_kind, "capture");
    assert.deepEqual(view.relay, { host: "localhost", port: smtp.port, security: "starttls", user: USER });
    const w = view.workspace_relay;
    assert.deepEqual({ host: w.host, port: w.port, security: w.security, user: w.user, password_set: w.password_set, problem: w.problem }, {
      host: "localhost",
      port: smtp.port,
      security: "starttls",
      user: USER,
      password_set: true,
      problem: null,
    });
    assert.equal(w.updated_by, `user:${server.ownerEmail}`);
    assert.ok(!JSON.stringify(view).includes(PASSWORD), "the API never returns the password");

    // Tested again with the password field left empty: the stored one logs in.
    await card.getByRole("button", { name: "Test connection" }).click();
    await check.waitFor();
    assert.match(await check.innerText(), /Logged in/);
    assert.equal(await check.getAttribute("role"), "status");
    await b.shot("relay-saved");

    // An email from this workspace goes through the relay (encrypted, logged in), not into the capture outbox.
    const contact = (await server.api("GET", "/api/v1/contacts?limit=20")).body.data.find((c) => c.email);
    const sent = await server.api("POST", "/api/v1/email/send", { template: "Welcome", contact_id: contact.id, transactional: true });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.status, "sent", JSON.stringify(sent.body));
    const got = await eventually(() => smtp.messages().find((m) => m.rcpt_tos.includes(contact.email)), 15_000, "the message at the SMTP receiver");
    assert.equal(got.tls, true, "delivered over TLS");
    assert.equal(got.authenticated, true, "delivered after logging in");
    const message = (await server.api("GET", `/api/v1/email/messages/${sent.body.message_id}`)).body;
    assert.equal(message.status, "sent", "handed to the relay, not captured");
    assert.equal(message.raw, undefined, "nothing kept in the capture outbox");

    // The change is in the audit log.
    await page.goto(`${server.url}/settings/audit`);
    await page.getByLabel("Action starts with").fill("email_relay.");
    await page.getByLabel("Action starts with").press("Enter");
    await page.getByRole("cell", { name: "email_relay.set" }).first().waitFor();

    // Stopping asks first, by keyboard too; then capture is back, and so is the empty form.
    await openDelivery(page, server);
    const stop = card.getByRole("button", { name: "Stop using own relay" });
    await stop.click();
    const confirm = card.getByRole("group", { name: "Stop using the own relay" });
    assert.match(await confirm.innerText(), new RegExp(`Stop using localhost:${smtp.port}\\? Email goes as the server's transport says \\(captured, not sent\\)`));
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    assert.equal(await focused(), "Keep it", "the safe answer has the focus");
    await page.keyboard.press("Enter");
    assert.equal(await confirm.count(), 0);
    assert.equal(await focused(), "Stop using own relay", "the focus is back on the button");
    assert.equal((await server.api("GET", "/api/v1/settings/email-transport")).body.source, "workspace", "kept");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Shift+Tab");
    assert.equal(await focused(), "Stop using it");
    await page.keyboard.press("Enter");
    await card.getByText(/^Stopped: email goes as the server's transport says again \(captured, not sent\)\.$/).waitFor();
    assert.match(await route.innerText(), /Email is kept in the outbox and not sent/);
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "Captured, not sent");
    assert.equal(await facts.locator("[data-field=relay]").count(), 0);
    assert.match(await card.getByTestId("relay-changed").innerText(), /Not set/);
    assert.equal(await host.inputValue(), "");
    assert.equal(await password.getAttribute("placeholder"), null);
    assert.equal(await page.getByRole("button", { name: "Stop using own relay" }).count(), 0);
    view = (await server.api("GET", "/api/v1/settings/email-transport")).body;
    assert.deepEqual([view.kind, view.source, view.workspace_relay], ["capture", "server", null]);
    const audit = (await server.api("GET", "/api/v1/audit?action=email_relay.")).body.data.map((e) => e.action);
    assert.deepEqual(audit.slice(0, 2), ["email_relay.removed", "email_relay.set"]);
    await b.shot("relay-removed");
  });

  test("at tablet width (768 px) the relay form fits and the page keeps still while it loads", async (t) => {
    const put = await server.api("PUT", "/api/v1/settings/email-transport/relay", { host: "localhost", port: smtp.port, security: "starttls", user: USER, password: PASSWORD });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    b = await openBrowser({ width: 768, height: 1024 });
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/settings/email-delivery`);
    await page.getByTestId("own-relay").waitFor();
    await steadyLayout(b, "the email delivery page", { t });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(wide <= 0, `the page scrolls sideways by ${wide} px`);
    for (const label of ["Host", "Port", "Security", "User (optional)", "Password"]) {
      const box = await page.getByTestId("own-relay").getByLabel(label).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 768, `${label} is within the window: ${JSON.stringify(box)}`);
    }
    assert.match(await page.getByTestId("relay-changed").innerText(), / by API key “demo admin”\.$/, "changed through the API: the key is named");
    await b.shot("relay-768");
  });

  test("an analyst sees the workspace's relay but nothing to type into or press", async () => {
    const view = (await server.api("GET", "/api/v1/settings/email-transport")).body;
    assert.equal(view.source, "workspace", "the previous test left the relay set");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await openDelivery(page, server);
    assert.match(await page.getByTestId("delivery-route").innerText(), /own SMTP relay/);
    const card = page.getByTestId("own-relay");
    assert.equal(await card.getByLabel("Host").inputValue(), "localhost", "the settings are shown");
    assert.equal(await card.getByLabel("User (optional)").inputValue(), USER);
    assert.equal(await card.getByLabel("Password").inputValue(), "");
    assert.equal(await card.getByLabel("Password").getAttribute("placeholder"), "•••• stored");
    assert.equal(await card.locator("input:enabled, select:enabled, textarea:enabled, button:enabled").count(), 0, "no control can be used");
    assert.equal(await page.getByRole("main").getByRole("button").count(), 0, "no buttons at all");
    await card.getByText("Your role can see the relay but not change it").waitFor();
    await b.shot("relay-analyst");
  });
});
