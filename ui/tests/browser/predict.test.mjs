// Browser tests of predictions put to use, against the real `kairos` binary
// with demo data (a promoted conversion model of orders, everyone scored, the
// "engagement" score): the owner sees the top leads and loads more, schedules
// retraining and sees its first run, audits the model by another attribute
// and the score at its Warm threshold and sees each report, and sees a
// contact's best hour; then sends a campaign at each recipient's best hour and
// makes a journey wait until their best hour, both saved as the API reads
// them back.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

describe("predictions in use", { skip: skip ?? false }, () => {
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
    await closeAndCheck(done, server, t.name, { calledApi: true });
  });

  test("the owner sees the top leads, schedules retraining, audits the model and the score, and sees a contact's best hour", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("link", { name: "Models" }).first().click();
    const leads = page.getByTestId("top-leads");
    await leads.getByTestId("lead").first().waitFor();
    assert.match(await leads.getByTestId("scored").innerText(), /Order Completed.*200 of 200 contacts scored/);
    assert.equal(await leads.getByTestId("lead").count(), 20);
    await leads.getByRole("button", { name: "Load more" }).click();
    await eventually(async () => (await leads.getByTestId("lead").count()) === 40, 10_000, "the second page of leads");
    const top = (await server.api("GET", "/api/v1/models/conversion/scores?limit=1")).body.data[0];
    assert.match(await leads.getByTestId("lead").first().innerText(), new RegExp(`${(top.probability * 100).toFixed(1)}%`));
    await b.shot("predict-top-leads");

    // Retrain every 14 days with the train form's settings: the first run is now.
    const schedules = page.getByTestId("schedules");
    await schedules.getByLabel(/every/).fill("14");
    await schedules.getByRole("button", { name: "Schedule" }).click();
    await eventually(async () => /trained #2/.test(await schedules.getByTestId("schedule").innerText().catch(() => "")), 20_000, "the first scheduled run");
    assert.match(await schedules.getByTestId("schedule").innerText(), /Order Completed[\s\S]*14 days/);
    const saved = (await server.api("GET", "/api/v1/models/conversion/schedules")).body.data;
    assert.equal(saved[0].every_days, 14);
    assert.deepEqual(saved[0].request, { event: "Order Completed", horizon_days: 30 });
    await schedules.scrollIntoViewIfNeeded();
    await b.shot("predict-schedule");

    // The current version, audited by locale: the report shows with the stored audits.
    await page.locator(".current-row a").first().click();
    const audits = page.getByTestId("audits-model");
    await audits.getByLabel("Attribute", { exact: true }).selectOption("locale");
    await audits.getByRole("button", { name: "Run audit" }).click();
    const audit = audits.getByTestId("audit").first();
    await audit.getByTestId("fairness-groups").waitFor();
    assert.match(await audit.locator("summary").innerText(), /by locale/);
    assert.match(await audit.getByTestId("fairness-groups").innerText(), /de-de/);
    const modelId = page.url().split("/").pop();
    const stored = (await server.api("GET", `/api/v1/fairness-audits?subject=conversion:${modelId}`)).body.data;
    assert.equal(stored[0].request.sensitive_attribute, "locale");
    await audit.scrollIntoViewIfNeeded();
    await b.shot("predict-model-audit");

    // The engagement score, audited by country at Warm; a missing outcome is refused at its field first.
    await page.goto(server.url + "/scores/engagement");
    const fairness = page.getByTestId("score-fairness");
    await fairness.getByLabel("Attribute", { exact: true }).selectOption("country");
    await fairness.getByLabel("Outcome event").fill("");
    await fairness.getByRole("button", { name: "Run audit" }).click();
    await fairness.locator(".field-error").filter({ hasText: /conversion/ }).waitFor();
    await fairness.getByLabel("Outcome event").fill("Order Completed");
    await fairness.getByLabel("Threshold", { exact: true }).fill("Warm");
    await fairness.getByRole("button", { name: "Run audit" }).click();
    const scoreAudit = fairness.getByTestId("audit").first();
    await scoreAudit.getByTestId("fairness-groups").waitFor();
    assert.match(await scoreAudit.locator("summary").innerText(), /by country, threshold Warm, Order Completed within 30 days/);
    assert.match(await scoreAudit.getByTestId("fairness-report").innerText(), /score is at least 40 \(Warm\)/);
    await fairness.scrollIntoViewIfNeeded();
    await b.shot("predict-score-audit");

    // A contact's best hour to be emailed.
    await page.goto(server.url + `/contacts/${top.contact_id}`);
    const st = (await server.api("GET", `/api/v1/contacts/${top.contact_id}/send-time`)).body;
    const sendTime = page.getByTestId("send-time");
    await sendTime.waitFor();
    assert.match(await sendTime.innerText(), new RegExp(`Best time to email: ${String(st.hour).padStart(2, "0")}:00 \\(${st.timezone}\\) — (mostly from their own opens|from the workspace's pattern)`));
    await b.shot("predict-contact-send-time");
  });

  test("the owner sends a campaign at each recipient's best hour and delays a journey until their best hour", async () => {
    const list = (await server.api("POST", "/api/v1/lists", { name: "Best hour list" })).body;
    const campaign = await server.api("POST", "/api/v1/email/campaigns", { name: "Best hour", definition: { audience: { list: list.id }, template: "Welcome" } });
    assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
    const journey = await server.api("POST", "/api/v1/journeys", {
      name: "Best hour journey",
      definition: {
        trigger: { type: "event", event: "Order Completed" },
        start: "delay_1",
        nodes: { delay_1: { type: "delay", duration: { hours: 2 }, next: "exit_1" }, exit_1: { type: "exit" } },
      },
    });
    assert.equal(journey.status, 201, JSON.stringify(journey.body));

    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(server.url + `/email/campaigns/${campaign.body.id}`);
    await page.getByRole("radio", { name: "at their best hour" }).check();
    await b.shot("predict-campaign-best-hour");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await eventually(async () => (await server.api("GET", `/api/v1/email/campaigns/${campaign.body.id}`)).body.definition.send_time === "optimised", 10_000, "the campaign saved");
    await page.reload();
    assert.equal(await page.getByRole("radio", { name: "at their best hour" }).isChecked(), true, "read back");

    await page.goto(server.url + `/journeys/${journey.body.id}`);
    await page.getByTestId("node-delay_1").click();
    await page.getByLabel("Wait").selectOption("best");
    await page.getByRole("button", { name: "Save draft" }).click();
    await eventually(
      async () => JSON.stringify((await server.api("GET", `/api/v1/journeys/${journey.body.id}`)).body.definition.nodes.delay_1) === JSON.stringify({ next: "exit_1", type: "delay", until: { best_hour: true } }),
      10_000,
      "the delay saved",
    );
    await page.reload();
    await page.getByTestId("node-delay_1").click();
    assert.equal(await page.getByLabel("Wait").inputValue(), "best", "read back");
    assert.match(await page.getByTestId("node-delay_1").innerText(), /until their best hour/);
    await b.shot("predict-journey-best-hour");
  });
});
