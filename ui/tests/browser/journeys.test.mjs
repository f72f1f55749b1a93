// Browser tests of the journey canvas against the real `kairos demo` binary:
// three demo contacts sent through a journey with a branch by the tracking
// API show as live counts on every edge, each equal to the API's
// `stats.edges` (the entry on the trigger's edge), and refresh as a fourth
// arrives; steps tell runs still there ("here now") from runs that finished
// there; after a second version is published from the canvas, version 1
// opens read-only from the version picker, marked as a past version, the
// current one shows its live counts, and the draft (with its unsaved
// changes) is one click away; a journey built with the keyboard shows its
// problems on the steps while it is edited (one line a step, which keeps its
// height, all of them in its tooltip), each gone once fixed, and saved too
// early the server's refusal of its missing start is marked on the trigger;
// and what only the server can tell (an unknown endpoint) is marked the
// same way.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const SIGNUP = "Edge Count Signup";

/** The canvas edge id (and its label's test id) of an edge as the stats name it. */
function edgeIdOf(e) {
  if (e.from === null) return "__trigger:start";
  const handle =
    e.label === "" || e.label === "event"
      ? "next"
      : e.label === "timeout"
        ? "timeout_next"
        : e.label === "otherwise"
          ? "otherwise"
          : e.label.replace(/^(branch|path) (\d+)$/, "$1:$2");
  return `${e.from}:${handle}`;
}

/** What the canvas should say on that edge: its exit (branches and paths counted from 1) and its count. */
function expectedLabel(e) {
  if (e.from === null) return `${e.count.toLocaleString("en-US")} entered`;
  const n = `${e.count.toLocaleString("en-US")} ${e.count === 1 ? "contact" : "contacts"}`;
  const exit = e.label.replace(/^(branch|path) (\d+)$/, (_, k, i) => `${k} ${Number(i) + 1}`);
  return e.label === "" ? n : `${exit === "event" ? "event came" : exit === "timeout" ? "timed out" : exit} · ${n}`;
}

describe("the journey canvas: live edge counts, versions, problems while editing", { skip: skip ?? false }, () => {
  let server;
  let b;
  let journeyId;

  before(async () => {
    server = await startKairos({ contacts: 300 });
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-journeys-", maxName: 60, calledApi: true });
  });

  const contactsOf = async (country, n) => {
    const r = await server.api("GET", `/api/v1/contacts?country=${country}&limit=${n}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.length, n, `the demo has ${n} contacts in ${country}`);
    return r.body.data;
  };

  test("three contacts through a branch: every edge's label equals the API's edge count, refreshed; finished runs are not here now", async () => {
    // German contacts wait a day; the others get points and finish at the exit.
    const created = await server.api("POST", "/api/v1/journeys", {
      name: "Edge counts",
      definition: {
        trigger: { type: "event", event: SIGNUP },
        entry: { mode: "once" },
        start: "country",
        nodes: {
          country: { type: "branch", branches: [{ rule: { field: "country", op: "equals", value: "DE" }, next: "hold" }], otherwise: "points" },
          hold: { type: "delay", duration: { days: 1 }, next: "done" },
          points: { type: "change_score", score: "engagement", by: 2, next: "done" },
          done: { type: "exit" },
        },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    journeyId = created.body.id;
    const published = await server.api("POST", `/api/v1/journeys/${journeyId}/publish`);
    assert.equal(published.status, 200, JSON.stringify(published.body));

    const [de1, de2] = await contactsOf("DE", 2);
    const [fr1, fr2] = await contactsOf("FR", 2);
    for (const c of [de1, de2, fr1]) await server.track({ userId: c.external_id, event: SIGNUP });
    const stats = async () => (await server.api("GET", `/api/v1/journeys/${journeyId}/stats`)).body;
    const settled = async (entered) => {
      const s = await stats();
      const entry = s.edges.find((e) => e.from === null)?.count ?? 0;
      const done = (s.runs.completed ?? 0) + (s.runs.delayed ?? 0);
      return entry === entered && done === entered ? s : null;
    };
    let s = await eventually(() => settled(3), 20_000, "three runs through the journey");
    assert.deepEqual(
      s.edges.map((e) => [e.from, e.label, e.to, e.count]).sort(),
      [
        [null, "", "country", 3],
        ["country", "branch 0", "hold", 2],
        ["country", "otherwise", "points", 1],
        ["points", "", "done", 1],
      ].sort(),
      "the API counts the edges taken",
    );

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/journeys/${journeyId}`);
    await page.getByTestId("node-country").waitFor();
    const label = (id) => page.getByTestId(`edge-label-${id}`).innerText().catch(() => "");
    const labelsMatch = async (edges) => {
      for (const e of edges) if ((await label(edgeIdOf(e))) !== expectedLabel(e)) return false;
      return true;
    };
    await eventually(() => labelsMatch(s.edges), 15_000, "every edge labelled with the API's count");
    assert.equal(await label("__trigger:start"), "3 entered");
    assert.equal(await label("country:branch:0"), "branch 1 · 2 contacts");
    assert.equal(await label("country:otherwise"), "otherwise · 1 contact");
    assert.equal(await label("points:next"), "1 contact");
    // An edge of the published graph no one has taken yet says so.
    assert.equal(await label("hold:next"), "0 contacts");
    assert.equal(await page.locator("[data-testid^='edge-label-']").count(), 5, "every edge has a label");

    // The German contacts wait at the delay; the others finished at the exit, and are not "here now" there.
    assert.equal(await page.getByTestId("stats-hold").innerText(), "2 here now · 2 reached");
    assert.equal(await page.getByTestId("stats-done").innerText(), "1 finished here · 1 reached");
    assert.equal(await page.getByTestId("stats-country").innerText(), "0 here now · 3 reached");
    await b.shot("journey-edge-counts");

    // A fourth contact: the labels follow with the node counts.
    await server.track({ userId: fr2.external_id, event: SIGNUP });
    s = await eventually(() => settled(4), 20_000, "the fourth run");
    await eventually(() => labelsMatch(s.edges), 15_000, "the labels refreshed");
    assert.equal(await label("country:otherwise"), "otherwise · 2 contacts");
    await eventually(async () => (await page.getByTestId("stats-done").innerText()) === "2 finished here · 2 reached", 10_000, "the exit's count refreshed");
    await b.shot("journey-edge-counts-refreshed");
  });

  test("after version 2 is published from the canvas, version 1 opens read-only as a past version; the draft is a click away", async () => {
    assert.ok(journeyId, "the first test made the journey");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/journeys/${journeyId}`);

    // Version 2: the delay made two days long in the side panel, published.
    await page.getByTestId("node-hold").click();
    const panel = page.getByTestId("step-panel");
    await panel.getByLabel("Duration: days").fill("2");
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByText("Published as version 2.").waitFor();
    const versions = (await server.api("GET", `/api/v1/journeys/${journeyId}/versions`)).body.data;
    assert.deepEqual(versions.map((v) => v.version), [1, 2]);
    assert.deepEqual(versions[1].definition.nodes.hold.duration, { days: 2 });

    // The picker lists both with their publish dates.
    const picker = page.getByLabel("Showing");
    await eventually(async () => (await picker.locator("option").count()) === 3, 10_000, "the draft and two versions in the picker");
    const options = await picker.locator("option").allInnerTexts();
    assert.equal(options[0], "The draft (editable)");
    assert.match(options[1], /^Version 2 \(current\), published \d{1,2} \w{3,4} \d{4}, \d\d:\d\d$/);
    assert.match(options[2], /^Version 1, published \d{1,2} \w{3,4} \d{4}, \d\d:\d\d$/);

    // An unsaved change to the draft, kept while versions are looked at.
    await page.getByLabel("Name", { exact: true }).fill("Edge counts (renamed)");

    await picker.selectOption("1");
    await eventually(async () => new URL(page.url()).searchParams.get("version") === "1", 5000, "?version=1 in the address");
    const banner = page.getByTestId("version-banner");
    await banner.waitFor();
    assert.match(await banner.innerText(), /Version 1, published .*: a past version, read-only\. The journey runs version 2 now\./);
    const past = page.getByTestId("version-canvas");
    // React Flow draws a node hidden until it is measured: its text shows a moment after it is attached.
    await eventually(async () => /wait 1 days/.test(await past.getByTestId("node-hold").innerText()), 5000, "version 1's delay");
    assert.equal(await past.locator("[data-testid^='stats-']").count(), 0, "a past version shows no live counts");
    assert.equal(await past.locator(".react-flow__node.draggable").count(), 0, "nothing can be moved");
    for (const name of ["Save draft", "Publish", "Tidy up"]) assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} on a past version`);
    assert.equal(await page.getByRole("complementary", { name: "Steps you can add" }).count(), 0, "no palette");
    // A step's settings can be read, not changed.
    await past.getByTestId("node-hold").click();
    const readOnly = page.getByTestId("step-panel");
    assert.equal(await readOnly.getByLabel("Duration: days").inputValue(), "1");
    assert.ok(await readOnly.getByLabel("Duration: days").isDisabled());
    assert.equal(await readOnly.getByRole("button", { name: "Delete step" }).count(), 0);
    await b.shot("journey-version-1");

    // The current version shows its live counts.
    await picker.selectOption("2");
    await eventually(async () => /the version running now, read-only/.test(await banner.innerText()), 5000, "the current version's banner");
    const current = page.getByTestId("version-canvas");
    await eventually(async () => /wait 2 days/.test(await current.getByTestId("node-hold").innerText()), 5000, "version 2's delay");
    await eventually(async () => (await current.getByTestId("edge-label-__trigger:start").innerText().catch(() => "")) === "4 entered", 10_000, "the entry count on the current version");
    await b.shot("journey-version-2");

    // Back to the draft, its unsaved change still there, editable again.
    await page.getByRole("button", { name: "Back to the draft" }).click();
    await eventually(async () => !new URL(page.url()).searchParams.has("version"), 5000, "the draft's address");
    await page.getByTestId("journey-canvas").waitFor();
    assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Edge counts (renamed)");
    assert.equal(await page.getByRole("button", { name: "Save draft" }).count(), 1);
    assert.equal(await page.getByTestId("version-banner").count(), 0);

    // Every version is also a link in the side panel (shown when no step is selected).
    const pane = page.getByTestId("journey-canvas").locator(".react-flow__pane");
    const paneBox = await pane.boundingBox();
    await pane.click({ position: { x: paneBox.width - 15, y: 15 } });
    await page.getByRole("list", { name: "Published versions" }).getByRole("link", { name: "Version 1" }).click();
    await banner.waitFor();
    assert.match(await banner.innerText(), /a past version/);
    await page.getByRole("button", { name: "Back to the draft" }).click();
    await page.getByTestId("journey-canvas").waitFor();
  });

  test("a journey built with the keyboard shows its problems on the steps while it is edited, each gone once fixed", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/journeys/new`);
    await page.getByTestId("node-trigger").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Checked while editing");
    const count = page.getByTestId("problem-count");
    // A trigger alone: it leads nowhere.
    await eventually(async () => /^\s*1 problem to fix before publishing/.test(await count.innerText().catch(() => "")), 5000, "one problem");
    assert.match(await page.getByTestId("node-trigger").innerText(), /add a first step/);

    // A send step added from the palette with the keyboard: not connected, no template.
    await page.locator('[data-step-type="send"]').focus();
    await page.keyboard.press("Enter");
    const send = page.getByTestId("node-send_1");
    await send.waitFor();
    await eventually(async () => /choose a template[\s\S]*leads nowhere/.test(await send.innerText()), 5000, "the send step's problems");
    // On the step, one line: how many, and the first; all of them in its tooltip.
    const flags = send.getByTestId("node-flags");
    assert.match(await flags.innerText(), /^2 to fix\s+choose a template/);
    assert.equal(await flags.getAttribute("title"), "To fix before publishing:\n• choose a template\n• leads nowhere: connect it to the next step");
    const twoProblemsHigh = (await send.boundingBox()).height;
    assert.match(await page.getByTestId("node-trigger").innerText(), /connect the trigger to the first step/);
    assert.match(await page.getByTestId("panel-problems").innerText(), /To fix before publishing[\s\S]*choose a template[\s\S]*leads nowhere: connect it to the next step/);
    assert.equal(await count.innerText().then((t) => t.trim()), "3 problems to fix before publishing: see the steps marked on the canvas.");
    assert.match(await send.getAttribute("class"), /\bincomplete\b/, "the step is marked");
    assert.match(await page.getByTestId("node-trigger").getAttribute("class"), /\bincomplete\b/, "the trigger is marked");
    await b.shot("journey-problems");

    // An exit, and everything joined with the side panels' pickers.
    await page.locator('[data-step-type="exit"]').focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("node-exit_1").waitFor();
    await page.getByTestId("node-send_1").click();
    const panel = page.getByTestId("step-panel");
    await panel.getByLabel("Template").selectOption("Welcome");
    // One problem fewer, and the step no shorter: its height does not follow how much is wrong with it.
    await eventually(async () => /^1 to fix/.test(await flags.innerText().catch(() => "")), 5000, "one problem left on the send step");
    assert.equal((await send.boundingBox()).height, twoProblemsHigh, "the step keeps its height");
    await panel.getByLabel("next", { exact: true }).selectOption("exit_1");
    await eventually(async () => !/choose a template|leads nowhere/.test(await send.innerText()), 5000, "the send step's problems gone");

    // Saved before the trigger leads anywhere: the server's refusal ("start"
    // is required, said of the whole definition) is marked on the trigger,
    // like a step's on its step, and said to screen readers.
    const trigger = page.getByTestId("node-trigger");
    await page.getByRole("button", { name: "Save draft" }).click();
    await eventually(async () => /\binvalid\b/.test(await trigger.getAttribute("class")), 5000, "the trigger marked refused");
    assert.match(await trigger.getByTestId("node-flags").innerText(), /^1 refused\s+1 to fix\s+"start" is required/);
    assert.match(await trigger.getByTestId("node-flags").getAttribute("title"), /^Refused by the server:\n• "start" is required\nTo fix before publishing:\n• connect the trigger to the first step$/);
    assert.deepEqual(await trigger.getByRole("alert", { name: "Refused by the server" }).locator("li").allInnerTexts(), ['"start" is required']);
    assert.match(page.url(), /\/journeys\/new$/, "not saved");
    await b.shot("journey-refused-start");

    await trigger.click();
    await page.getByLabel("First step").selectOption("send_1");
    await eventually(async () => (await count.count()) === 0, 5000, "no problems left");
    assert.equal(await page.locator(".flow-node.incomplete").count(), 0, "no step marked");

    // The server agrees: the journey saves, the trigger's mark gone, and publishes.
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.waitForURL(/\/journeys\/[0-9a-f-]{36}$/);
    assert.equal(await page.locator(".flow-node.invalid").count(), 0, "no step or trigger marked refused");
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByText("Published as version 1.").waitFor();
    const id = page.url().split("/").pop();
    const j = (await server.api("GET", `/api/v1/journeys/${id}`)).body;
    assert.equal(j.status, "active");
    assert.deepEqual(j.definition.nodes.send_1, { type: "send", channel: "email", template: "Welcome", next: "exit_1" });

    // An unreachable step, drawn the moment it appears after the pause in typing.
    await page.locator('[data-step-type="delay"]').focus();
    await page.keyboard.press("Enter");
    const delay = page.getByTestId("node-delay_1");
    await eventually(async () => /unreachable: no path from the trigger leads here/.test(await delay.innerText()), 5000, "the new step unreachable");
    await b.shot("journey-problem-unreachable");
  });

  test("what only the server knows (an endpoint that does not exist) is marked on the step while editing, and goes once it exists", async () => {
    const endpoint = `crm-${Date.now()}`;
    const created = await server.api("POST", "/api/v1/journeys", {
      name: "Server-checked",
      definition: {
        trigger: { type: "event", event: SIGNUP },
        start: "alert",
        nodes: { alert: { type: "webhook", endpoint, next: "done" }, done: { type: "exit" } },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/journeys/${created.body.id}`);
    const alert = page.getByTestId("node-alert");
    await eventually(async () => (await alert.innerText().catch(() => "")).includes(`unknown webhook endpoint "${endpoint}"`), 8000, "the server's problem on the step");
    assert.match(await page.getByTestId("problem-count").innerText(), /1 problem to fix before publishing/);
    await b.shot("journey-problem-from-server");

    const made = await server.api("POST", "/api/v1/webhook-endpoints", { id: endpoint, url: "https://93.184.215.14/kairos" }); // a public address: endpoints are resolved and checked when made, never called here
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await page.reload();
    await page.getByTestId("node-alert").waitFor();
    await eventually(async () => (await page.getByTestId("problem-count").count()) === 0, 8000, "no problem once the endpoint exists");
    assert.doesNotMatch(await page.getByTestId("node-alert").innerText(), /unknown webhook endpoint/);
  });
});
