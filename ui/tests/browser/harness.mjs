// Test harness of the browser tests: starts the real `kairos` binary with
// demo data on a temporary data directory and a free port, launches
// Debian's Chromium through playwright-core, calls the REST API directly to
// check what the UI shows, measures how much a page moves while it loads
// (layout shift), and saves screenshots to ui/test-results/.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const uiRoot = resolve(here, "../..");
const repoRoot = resolve(uiRoot, "..");
export const resultsDir = join(uiRoot, "test-results");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null. Under CI a missing browser is a failure, not a skip. */
export function missingPrerequisite() {
  const bin = kairosBin();
  const dist = join(uiRoot, "dist", "index.html");
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  if (!existsSync(bin)) missing.push(`no kairos binary at ${bin} (cargo build -p kairos)`);
  if (!existsSync(dist)) missing.push(`no built UI at ${dist} (npm run build)`);
  if (missing.length === 0) return null;
  const why = missing.join("; ");
  if (process.env.CI === "true") throw new Error(`browser tests cannot run under CI: ${why}`);
  return why;
}

function kairosBin() {
  return process.env.KAIROS_BIN ?? join(repoRoot, "target", "debug", "kairos");
}

/** A running `kairos demo` with its URL, admin and write keys and the
 * owner's sign-in (`ownerEmail`, `ownerPassword`); `cli()` runs a `kairos`
 * command on its data; `stop()` ends it and removes its data. `extraArgs`
 * are more `kairos demo` flags (another email transport, say). */
export async function startKairos({ contacts = 600, extraArgs = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "kairos-ui-test-"));
  const child = spawn(
    kairosBin(),
    ["demo", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--contacts", String(contacts), "--ui-dir", join(uiRoot, "dist"), ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KAIROS_LOG: "warn" } },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const banner = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`kairos demo did not start in 120 s:\n${out}\n${err}`)), 120_000);
    child.stdout.on("data", (d) => {
      out += d;
      const url = out.match(/running at (http:\/\/\S+)/)?.[1];
      const key = out.match(/admin key:\s+(\S+)/)?.[1];
      const writeKey = out.match(/write key:\s+(\S+)/)?.[1];
      const owner = out.match(/sign in as (\S+) with password (\S+)/);
      if (url && key && writeKey && owner) {
        clearTimeout(timer);
        res({ url, key, writeKey, ownerEmail: owner[1], ownerPassword: owner[2] });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`kairos demo exited with ${code}:\n${out}\n${err}`));
    });
  });
  const server = {
    ...banner,
    async api(method, path, body) {
      const r = await fetch(banner.url + path, {
        method,
        headers: { Authorization: `Bearer ${banner.key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
    /** Run `kairos ARGS --data-dir <its data>` (what has no REST call: another
     * workspace, say), with `input` on stdin; its stdout, or a throw. */
    cli(args, input = "") {
      const r = spawnSync(kairosBin(), [...args, "--data-dir", dataDir], { input, encoding: "utf8", env: { ...process.env, KAIROS_LOG: "warn" } });
      if (r.status !== 0) throw new Error(`kairos ${args.join(" ")} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
    /** Send one event through the tracking API, as an SDK would. */
    async track(message) {
      await sendTracking(banner, "/v1/track", message);
    },
    /** Send one identify (a person's traits) through the tracking API, as an SDK would. */
    async identify(message) {
      await sendTracking(banner, "/v1/identify", message);
    },
    async stop() {
      child.removeAllListeners("exit");
      const exited = new Promise((res) => child.once("exit", res));
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  // Wait until the demo's segments are built, so counts are final.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await server.api("GET", "/api/v1/segments");
    if (s.status === 200 && s.body.data.length > 0 && s.body.data.every((x) => x.status === "active")) break;
    if (Date.now() > deadline) throw new Error(`segments not built in time: ${JSON.stringify(s.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return server;
}

async function sendTracking(banner, path, message) {
  const r = await fetch(banner.url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Basic " + Buffer.from(banner.writeKey + ":").toString("base64") },
    body: JSON.stringify(message),
  });
  if (r.status !== 200) throw new Error(`tracking refused: ${r.status} ${await r.text()}`);
}

/** The most a page may move while it loads: its layout shift (the sum of
 * every shift not caused by input) stays below this. Browsers call under
 * 0.1 good; the UI aims at half that. */
export const MAX_LAYOUT_SHIFT = 0.05;

/** Chromium with a page that records console errors and uncaught exceptions. */
export async function openBrowser({ width = 1366, height = 900 } = {}) {
  mkdirSync(resultsDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const consoleErrors = [];
  // API refusals (4xx problem documents) are outcomes the UI shows; Chromium
  // logs each as "Failed to load resource", which is no error of the app.
  // Any other failed response (5xx, a missing asset) is one.
  const refusals = [];
  const badResponses = [];
  // Every API call the page makes, to check it against the public API.
  const apiCalls = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/") || u.pathname.startsWith("/v1/")) apiCalls.push(`${r.method()} ${u.pathname}`);
  });
  // Requests still running, but not the live streams a page keeps open
  // (Server-Sent Events never finish, so Playwright's "networkidle" never
  // comes on a page that has one).
  const inFlight = new Set();
  page.on("request", (r) => {
    if (!new URL(r.url()).pathname.endsWith("/live")) inFlight.add(r);
  });
  for (const done of ["requestfinished", "requestfailed"]) page.on(done, (r) => inFlight.delete(r));
  page.on("response", (r) => {
    if (r.status() < 400) return;
    const problem = (r.headers()["content-type"] ?? "").startsWith("application/problem+json");
    if (r.status() < 500 && problem && new URL(r.url()).pathname.startsWith("/api/")) refusals.push(`${r.status()} ${r.url()}`);
    else badResponses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  // Email HTML shown in sandboxed frames (previews, the outbox) may load
  // resources from the internet (MJML's web font); on an offline test machine
  // those fail, which is no error of the app. Such failures are kept apart;
  // one from the app's own frame is an error.
  const outsideLoads = [];
  const outside = (url) => {
    try {
      return !url.startsWith("data:") && new URL(url).origin !== new URL(page.url()).origin;
    } catch {
      return false;
    }
  };
  page.on("requestfailed", (r) => {
    if (!outside(r.url())) return;
    if (r.frame() === page.mainFrame()) consoleErrors.push(`the app itself loads ${r.url()}: ${r.failure()?.errorText}`);
    else outsideLoads.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && refusals.length > 0) return;
    if (/^Failed to load resource: net::/.test(m.text()) && outside(m.location().url ?? "")) return;
    consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return {
    browser,
    page,
    consoleErrors,
    badResponses,
    refusals,
    apiCalls,
    outsideLoads,
    async shot(name) {
      await page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
    },
    /** Like waiting for "networkidle": no request (live streams aside) for half a second. */
    async settled(ms = 30_000) {
      const until = Date.now() + ms;
      let quietSince = Date.now();
      while (Date.now() - quietSince < 500) {
        if (Date.now() > until) throw new Error(`still loading after ${ms} ms: ${[...inFlight].map((r) => r.url()).join(", ")}`);
        if (inFlight.size > 0) quietSince = Date.now();
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Assert that `b`'s page moved less than MAX_LAYOUT_SHIFT since its
 * document loaded (or since the `from`-th shift, a count an earlier call
 * returned), once it has settled; report the figure as a diagnostic of test
 * context `t` if given. Call it when what `what` names has loaded (after
 * a page.goto: a navigation by click is input, and its shifts not counted).
 * Returns the number of shifts so far, to measure from there next. */
export async function steadyLayout(b, what, { from = 0, t } = {}) {
  // The browser keeps the document's layout shifts (up to 150) for an
  // observer that asks for them (buffered): read then, not recorded from
  // the start by a script put in every frame, which sandboxed frames (email
  // previews) refuse with a console error. Shifts within half a second of a
  // click or key are the user's doing (hadRecentInput): not counted.
  const all = await b.page.evaluate(async () => {
    // A shift is reported after the frame that made it: let two pass.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const observer = new PerformanceObserver(() => {});
    observer.observe({ type: "layout-shift", buffered: true });
    const entries = observer.takeRecords();
    observer.disconnect();
    const name = (n) =>
      !n ? "?" : n.dataset?.testid ? `[data-testid=${n.dataset.testid}]` : `${n.nodeName.toLowerCase()}${typeof n.className === "string" && n.className.trim() ? "." + n.className.trim().split(/\s+/).join(".") : ""}`;
    return entries
      .filter((e) => !e.hadRecentInput)
      .map((e) => ({ value: e.value, at: Math.round(e.startTime), moved: e.sources.map((s) => `${name(s.node)} ${Math.round(s.previousRect.y)}→${Math.round(s.currentRect.y)}`) }));
  });
  const shifts = all.slice(from);
  const total = shifts.reduce((a, s) => a + s.value, 0);
  const size = b.page.viewportSize();
  const moves = shifts.map((s) => `\n  ${s.value.toFixed(4)} at ${s.at} ms: ${s.moved.join(", ")}`).join("");
  // A diagnostic is one line: the shifts go on it with " | " between them.
  t?.diagnostic(`layout shift of ${what} at ${size.width} px: ${total.toFixed(4)}${moves.replace(/\n {2}/g, " | ")}`);
  assert.ok(total < MAX_LAYOUT_SHIFT, `${what} moved while loading at ${size.width} px: layout shift ${total.toFixed(3)}, at most ${MAX_LAYOUT_SHIFT}:${moves}`);
  return all.length;
}

/** The calls among `calls` ("GET /api/v1/…") that the server's OpenAPI document does not list. */
export async function unlistedCalls(server, calls) {
  const doc = await fetch(server.url + "/api/v1/openapi.json").then((r) => r.json());
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((m) => ({ method: m.toUpperCase(), re: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`) })),
  );
  return [...new Set(calls)].filter((c) => {
    const [method, path] = c.split(" ");
    return !ops.some((o) => o.method === method && o.re.test(path));
  });
}

/** End a test's browser `b`: a screenshot of its last state (the failing
 * state on failure), then the checks every UI test makes — no console
 * errors, only documented API calls, every failed request an API refusal.
 * `calledApi` also requires the page to have called the API at all. */
export async function closeAndCheck(b, server, testName, { prefix = "last-", maxName = Infinity, calledApi = false } = {}) {
  await b.shot(`${prefix}${testName.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, maxName)}`).catch(() => {});
  const { consoleErrors, badResponses, apiCalls } = b;
  await b.browser.close();
  assert.deepEqual(consoleErrors, [], "the browser console shows no errors");
  if (calledApi) assert.ok(apiCalls.length > 0, "the page called the API");
  assert.deepEqual(await unlistedCalls(server, apiCalls), [], "the UI calls only endpoints of the public, documented API");
  assert.deepEqual(badResponses, [], "every failed request was an API refusal (a 4xx problem document)");
}

/** Sign in through the sign-in page with an email and password (the demo's owner unless given). */
export async function signIn(page, server, { email = server.ownerEmail, password = server.ownerPassword } = {}) {
  await page.goto(server.url + "/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

/** Sign in through the sign-in page with an API key (the demo's admin key unless given). */
export async function signInWithKey(page, server, key = server.key) {
  await page.goto(server.url + "/");
  await page.getByRole("button", { name: "Use an API key instead" }).click();
  await page.getByLabel("Admin API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

/** Poll `f` until it returns a truthy value or `ms` pass. */
export async function eventually(f, ms = 10_000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await f();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
