// Browser tests of Settings → Sending policy against the real `kairos`
// binary: the owner opens the tab from the settings sections; client-side
// checks refuse a negative cap and quiet hours from and until the same hour
// without asking the server; an unknown time zone is refused by the server,
// its message shown under the time zone field and nothing saved; then caps,
// quiet hours 21:00 → 08:00, a time zone and transparency with a public page
// are saved, the API holds exactly those values (the postal address, edited
// on another tab, kept), a reload shows them, and the page's link opens the
// public transparency page naming the organisation. An analyst sees the
// same values in disabled inputs with a note why and no Save button, the
// link still usable. At 1366 and 768 px the tab does not move while it loads
// and fits without sideways scrolling.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, missingPrerequisite, openBrowser, signIn, startKairos, steadyLayout } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

const ANALYST = { email: "ada.policy@example.test", password: "analysts read the sending policy" };
const ORG = "Acme Ltd";
const STATEMENT = "We email you about orders and the offers you asked for.\nNothing is sold to anyone.";
const CHANNELS = { email: "Email", sms: "SMS", push: "Push", in_app: "In-app", phone: "Phone" };
// What the owner types: caps per channel ("" is no cap).
const CAPS = { email: ["2", "5"], sms: ["", "3"], push: ["", ""], in_app: ["", ""], phone: ["1", ""] };
// What the API must then hold, channels without a cap left out.
const EXPECTED_CAPS = { email: { per_day: 2, per_week: 5 }, sms: { per_day: null, per_week: 3 }, phone: { per_day: 1, per_week: null } };
const EXPECTED_TRANSPARENCY = { organisation: ORG, disclose_automation: true, public_page: true, privacy_contact: "privacy@acme.example", statement: STATEMENT };

/** The tab, opened from the settings sections. */
async function openPolicy(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const tab = page.getByRole("navigation", { name: "Settings sections" }).getByRole("link", { name: "Sending policy" });
  await tab.click();
  const form = page.getByRole("form", { name: "Sending policy" });
  await form.waitFor();
  assert.equal(await tab.getAttribute("aria-current"), "page");
  return form;
}

const capInput = (form, channel, i) => form.getByLabel(`${CHANNELS[channel]} ${i === 0 ? "per day" : "per week"}`, { exact: true });

describe("sending policy", { skip: skip ?? false }, () => {
  let server;
  let b;
  let workspace;

  before(async () => {
    server = await startKairos({ contacts: 40 });
    const u = await server.api("POST", "/api/v1/users", { ...ANALYST, name: "Ada Policy", role: "analyst" });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    workspace = (await server.api("GET", "/api/v1/auth/session")).body.workspace.id;
    assert.ok(workspace, "the admin key's workspace");
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-policy-", maxName: 60, calledApi: true });
  });

  test("the owner is refused on the fields, then saves caps, quiet hours, a time zone and a public transparency page", async () => {
    const start = (await server.api("GET", "/api/v1/settings")).body;
    assert.ok(start.postal_address, "the demo has a postal address, which the form must keep");

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const form = await openPolicy(page);
    const puts = () => b.apiCalls.filter((c) => c === "PATCH /api/v1/settings").length;
    const save = form.getByRole("button", { name: "Save sending policy" });

    // Caps as typed, the other channels emptied.
    for (const [channel, values] of Object.entries(CAPS)) for (const i of [0, 1]) await capInput(form, channel, i).fill(values[i]);

    // Refused here, before the server is asked: a negative cap, the same hour twice.
    await capInput(form, "push", 0).fill("-1");
    await form.getByLabel("Hold marketing messages during quiet hours").check();
    await form.getByLabel("From", { exact: true }).selectOption("8");
    await form.getByLabel("Until", { exact: true }).selectOption("8");
    await save.click();
    await form.locator("#policy-cap-push-per_day-error").getByText("Must be 0 or more.").waitFor();
    await form.locator("#policy-quiet-error").getByText("From and until must be different hours.").waitFor();
    assert.equal(await capInput(form, "push", 0).getAttribute("aria-invalid"), "true");
    assert.equal(await form.getByLabel("From", { exact: true }).getAttribute("aria-describedby"), "policy-quiet-error");
    await form.getByRole("alert").getByText("Not saved: correct the 2 fields marked above.").waitFor();
    // The first field refused has the focus, to correct it from the keyboard.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "policy-cap-push-per_day");
    assert.equal(puts(), 0, "nothing was sent to the server");
    await b.shot("policy-refused-here");

    await capInput(form, "push", 0).fill("");
    await form.getByLabel("From", { exact: true }).selectOption("21");
    const sentence = form.getByTestId("quiet-sentence");
    assert.match(await sentence.innerText(), /^Marketing messages wait from 21:00 until 08:00 the next day in each contact's time zone/);

    // Transparency for Acme, with a public page.
    await form.getByLabel("Tell people who sends the messages and what is collected").check();
    await form.getByLabel("Organisation", { exact: true }).fill(ORG);
    await form.getByLabel("State in every email that it was sent automatically").check();
    await form.getByLabel("Publish a transparency page").check();
    await form.getByLabel("Privacy contact (optional)").fill(EXPECTED_TRANSPARENCY.privacy_contact);
    await form.getByLabel("Statement (optional)").fill(STATEMENT);

    // A time zone the server does not know: its message under the field, nothing saved.
    const tz = form.getByLabel("Time zone for contacts without one");
    await tz.fill("Mars/Olympus");
    await save.click();
    const tzError = form.locator("#policy-timezone-error");
    await tzError.waitFor();
    assert.equal(await tzError.innerText(), '"Mars/Olympus" is not an IANA time zone like "Europe/Berlin"', "the API's message, as it said it");
    assert.equal(await tz.getAttribute("aria-invalid"), "true");
    assert.equal(await tz.getAttribute("aria-describedby"), "policy-timezone-error");
    assert.equal(puts(), 1, "the server was asked once");
    assert.equal(await form.getByText("Not saved:", { exact: false }).first().isVisible(), true);
    assert.deepEqual((await server.api("GET", "/api/v1/settings")).body, start, "nothing was saved");
    await b.shot("policy-refused-by-server");

    // Meanwhile someone changes the postal address elsewhere: saving this
    // form must not put the old one back.
    const moved = "Acme Ltd\n2 New Road\nSpringfield 12345";
    assert.equal((await server.api("PATCH", "/api/v1/settings", { postal_address: moved })).status, 200);
    await tz.fill("Europe/Berlin");
    await save.click();
    await form.getByTestId("policy-status").getByText("Saved.").waitFor();
    assert.equal(await tzError.count(), 0, "the time zone's message is gone");

    const held = (await server.api("GET", "/api/v1/settings")).body;
    assert.deepEqual(held, {
      caps: EXPECTED_CAPS,
      quiet_hours: { start_hour: 21, end_hour: 8 },
      default_timezone: "Europe/Berlin",
      postal_address: moved,
      transparency: EXPECTED_TRANSPARENCY,
    }, "the form's settings saved, the address changed meanwhile kept");

    // Saved and published: the link to the public page.
    const link = form.getByTestId("transparency-link").getByRole("link");
    assert.equal(await link.getAttribute("href"), `/transparency/${workspace}`);
    assert.equal(await link.getAttribute("target"), "_blank");
    await b.shot("policy-saved");

    // A reload shows what was saved.
    await page.reload();
    await form.waitFor();
    for (const [channel, values] of Object.entries(CAPS)) for (const i of [0, 1]) assert.equal(await capInput(form, channel, i).inputValue(), values[i], `${channel} cap ${i}`);
    assert.ok(await form.getByLabel("Hold marketing messages during quiet hours").isChecked());
    assert.equal(await form.getByLabel("From", { exact: true }).inputValue(), "21");
    assert.equal(await form.getByLabel("Until", { exact: true }).inputValue(), "8");
    assert.equal(await tz.inputValue(), "Europe/Berlin");
    assert.equal(await form.getByLabel("Organisation", { exact: true }).inputValue(), ORG);
    assert.ok(await form.getByLabel("State in every email that it was sent automatically").isChecked());
    assert.ok(await form.getByLabel("Publish a transparency page").isChecked());
    assert.equal(await form.getByLabel("Privacy contact (optional)").inputValue(), EXPECTED_TRANSPARENCY.privacy_contact);
    assert.equal(await form.getByLabel("Statement (optional)").inputValue(), STATEMENT);
    assert.equal(await form.getByTestId("policy-status").innerText(), "", "nothing unsaved");

    // The link opens the public page, which names the organisation and says its statement.
    const [pub] = await Promise.all([page.context().waitForEvent("page"), link.click()]);
    await pub.waitForLoadState();
    assert.equal(new URL(pub.url()).pathname, `/transparency/${workspace}`);
    await pub.getByRole("heading", { level: 1, name: `What ${ORG} collects about you, and why` }).waitFor();
    await pub.getByText("Nothing is sold to anyone.").waitFor();
    await pub.close();
  });

  test("an analyst sees the saved values in disabled inputs, a note why, no Save, and the public page's link", async (t) => {
    const r = await server.api("PUT", "/api/v1/settings", {
      ...(await server.api("GET", "/api/v1/settings")).body,
      caps: EXPECTED_CAPS,
      quiet_hours: { start_hour: 21, end_hour: 8 },
      default_timezone: "Europe/Berlin",
      transparency: EXPECTED_TRANSPARENCY,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server, ANALYST);
    const form = await openPolicy(page);
    await form.getByTestId("policy-read-only").getByText("Your role (analyst) can look at the sending policy but not change it").waitFor();
    assert.equal(await form.getByRole("button", { name: /Save/ }).count(), 0, "no Save button");
    assert.equal(await form.locator("input:enabled, select:enabled, textarea:enabled").count(), 0, "no input can be changed");
    for (const [channel, values] of Object.entries(CAPS)) for (const i of [0, 1]) assert.equal(await capInput(form, channel, i).inputValue(), values[i]);
    assert.ok(await form.getByLabel("Hold marketing messages during quiet hours").isChecked());
    assert.equal(await form.getByLabel("From", { exact: true }).inputValue(), "21");
    assert.equal(await form.getByLabel("Until", { exact: true }).inputValue(), "8");
    assert.equal(await form.getByLabel("Time zone for contacts without one").inputValue(), "Europe/Berlin");
    assert.equal(await form.getByLabel("Organisation", { exact: true }).inputValue(), ORG);
    assert.equal(await form.getByLabel("Statement (optional)").inputValue(), STATEMENT);
    // Typing changes nothing.
    await form.getByLabel("Organisation", { exact: true }).click({ force: true });
    await page.keyboard.type("typed by an analyst");
    assert.equal(await form.getByLabel("Organisation", { exact: true }).inputValue(), ORG);
    // Looking is allowed: the public page's link and its Copy button work.
    const link = form.getByTestId("transparency-link").getByRole("link");
    assert.equal(await link.getAttribute("href"), `/transparency/${workspace}`);
    assert.ok(await form.getByRole("button", { name: "Copy the transparency page's address" }).isEnabled());
    assert.deepEqual(b.refusals.filter((x) => x.includes("/api/v1/settings")), [], "the tab asked for nothing the analyst may not have");

    // Loaded afresh, the tab does not move while it loads.
    await page.goto(`${server.url}/settings/sending`);
    await form.waitFor();
    await page.waitForLoadState("networkidle");
    await steadyLayout(b, "the sending policy for an analyst", { t });
    await b.shot("policy-analyst");
  });

  for (const [width, height] of [
    [1366, 900],
    [768, 1024],
  ]) {
    test(`at ${width} px the tab does not move while it loads and fits the window`, async (t) => {
      b = await openBrowser({ width, height });
      const { page } = b;
      await signIn(page, server);
      await page.goto(`${server.url}/settings/sending`);
      const form = page.getByRole("form", { name: "Sending policy" });
      await form.waitFor();
      await page.waitForLoadState("networkidle");
      await steadyLayout(b, "the sending policy", { t });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling");
      // Every cap's input is in the window's width, and so is the Save button.
      for (const channel of Object.keys(CHANNELS))
        for (const i of [0, 1]) {
          const box = await capInput(form, channel, i).boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${channel} cap ${i} fits`);
        }
      const save = await form.getByRole("button", { name: "Save sending policy" }).boundingBox();
      assert.ok(save && save.x >= 0 && save.x + save.width <= width, "the Save button fits");
      await b.shot(`policy-${width}`);
    });
  }
});
