// Browser tests of Settings → Email delivery against the real `kairos`
// binary: on the demo (capture) the owner sees that email is kept in the
// outbox, follows the link there, and the connection test reports that
// nothing is sent; an analyst sees the same facts without the test button.
// Then a second server sends through a small SMTP server started here
// (Python's aiosmtpd): the page shows the relay, the test reports the
// server's name, unencrypted and not logged in, and once that SMTP server
// is stopped the test reports the failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

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

    const blocker = page.getByTestId("delivery-blocker");
    assert.match(await blocker.innerText(), /Email is kept in the outbox and not sent/);
    const facts = page.getByTestId("delivery-facts");
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "Captured, not sent");
    assert.equal(await facts.locator("[data-field=public_url]").locator("code").innerText(), view.public_url);
    assert.equal(await facts.locator("[data-field=relay]").count(), 0, "no relay in capture mode");
    // How to change it: the flags.
    await page.getByText("--smtp-url", { exact: false }).first().waitFor();

    // Keyboard: focus the button and press Enter.
    const button = page.getByRole("button", { name: "Test connection" });
    await button.focus();
    await page.keyboard.press("Enter");
    const result = page.getByTestId("delivery-check");
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /The connection failed/);
    assert.match(text, /Email is captured, not sent/);
    assert.match(text, /--email-transport smtp/);
    await b.shot("delivery-capture");

    await blocker.getByRole("link", { name: "Open the outbox" }).click();
    await page.waitForURL(/\/email\/outbox$/);
  });

  test("an analyst sees what is in effect but no test button", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    await openDelivery(page, server);
    assert.match(await page.getByTestId("delivery-blocker").innerText(), /not sent/);
    assert.equal(await page.getByRole("button", { name: "Test connection" }).count(), 0);
    assert.equal(await page.getByRole("main").getByRole("button").count(), 0, "no action buttons at all");
    await b.shot("delivery-analyst");
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

    assert.equal(await page.getByTestId("delivery-blocker").count(), 0, "nothing keeps email from going out");
    const facts = page.getByTestId("delivery-facts");
    assert.equal(await facts.locator("[data-field=kind]").innerText(), "SMTP relay");
    assert.equal(await facts.locator("[data-field=relay]").innerText(), `127.0.0.1:${smtp.port}`);
    assert.match(await facts.locator("[data-field=security]").innerText(), /^None/);
    assert.match(await facts.locator("[data-field=user]").innerText(), /none/);
    assert.equal(await facts.locator("[data-field=limits]").innerText(), "8 connections at once, at most 5 messages a second, per recipient domain");

    await page.getByRole("button", { name: "Test connection" }).click();
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
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.waitForFunction(() => /The connection failed/.test(document.querySelector("[data-testid=delivery-check]")?.textContent ?? ""));
    assert.equal(await result.getAttribute("role"), "alert");
    await b.shot("delivery-smtp-failed");
  });
});
