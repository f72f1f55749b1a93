// Unit tests of predictions put to use: audit requests for a model and a
// score, audit summaries, "N of M scored", the ranked list's paths, schedule
// requests and paths, the best send hour in words; and the best-hour choices
// of the campaign schedule and the journey delay, read and written back.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  auditSummary,
  emptyAuditForm,
  everyDaysError,
  formatHour,
  modelAuditBody,
  scheduleBody,
  schedulePath,
  scoreAuditBody,
  scoredText,
  scoresPath,
  sendTimeText,
} from "../../src/models/predict";
import { definitionOf, EMPTY_FORM, fieldOf, formOf } from "../../src/email/campaign";
import { delayConfig, delayMode } from "../../src/journeys/graph";

test("a model audit sends the attribute, and the threshold only when given", () => {
  const f = { ...emptyAuditForm(), attribute: "locale" };
  assert.deepEqual(modelAuditBody(f), { sensitive_attribute: "locale" });
  assert.deepEqual(modelAuditBody({ ...f, threshold: "0.3" }), { sensitive_attribute: "locale", threshold: 0.3 });
  assert.deepEqual(modelAuditBody({ ...f, threshold: " x " }), { sensitive_attribute: "locale", threshold: "x" }, "the server names what is wrong");
});

test("a score audit sends the outcome, and a threshold as a number or a name", () => {
  const f = { ...emptyAuditForm(), attribute: "country" };
  assert.deepEqual(scoreAuditBody(f), { sensitive_attribute: "country", outcome_event: "Order Completed", outcome_days: 30 });
  assert.deepEqual(scoreAuditBody({ ...f, threshold: "Warm", outcomeDays: "" }), { sensitive_attribute: "country", outcome_event: "Order Completed", threshold: "Warm" });
  assert.equal(scoreAuditBody({ ...f, threshold: "40" }).threshold, 40);
  assert.equal(scoreAuditBody({ ...f, outcomeEvent: "  Signed Up " }).outcome_event, "Signed Up");
});

test("an audit's request in a few words", () => {
  assert.equal(auditSummary({ sensitive_attribute: "locale", threshold: null, outcome_event: null, outcome_days: null }), "by locale");
  assert.equal(
    auditSummary({ sensitive_attribute: "country", threshold: "Warm", outcome_event: "Order Completed", outcome_days: null }),
    "by country, threshold Warm, Order Completed within 30 days",
  );
  assert.equal(auditSummary({ sensitive_attribute: "country", threshold: 0.25 }), "by country, threshold 0.25");
});

test("how many contacts are scored, and the ranked list's pages", () => {
  assert.equal(scoredText({ scored_contacts: 1180, contacts: 1200 }), "1,180 of 1,200 contacts scored");
  assert.equal(scoredText({ scored_contacts: 1, contacts: 1 }), "1 of 1 contact scored");
  assert.equal(scoresPath(20), "/api/v1/models/conversion/scores?limit=20");
  assert.equal(scoresPath(20, "0.94_01a2"), "/api/v1/models/conversion/scores?limit=20&cursor=0.94_01a2");
});

test("schedules: the request, the form's check of the days, the encoded path", () => {
  assert.deepEqual(scheduleBody("7", { event: "Order Completed", horizon_days: 30 }), { every_days: 7, request: { event: "Order Completed", horizon_days: 30 } });
  assert.equal(everyDaysError("7"), undefined);
  assert.equal(everyDaysError("1.5"), "Enter a whole number of days.");
  assert.equal(everyDaysError(""), "Enter a whole number of days.");
  assert.equal(schedulePath("Order Completed"), "/api/v1/models/conversion/schedules/Order%20Completed");
  assert.equal(schedulePath("a/b"), "/api/v1/models/conversion/schedules/a%2Fb");
});

test("the best hour in words, and where it comes from", () => {
  assert.equal(formatHour(8), "08:00");
  assert.equal(formatHour(20), "20:00");
  assert.equal(sendTimeText({ hour: 20, share: 0.3, personal_weight: 0.8, timezone: "Europe/Berlin" }), "20:00 (Europe/Berlin) — mostly from their own opens");
  assert.equal(sendTimeText({ hour: 9, share: 0.1, personal_weight: 0.1, timezone: "UTC" }), "09:00 (UTC) — from the workspace's pattern");
});

test("a campaign at each recipient's best hour is sent as send_time optimised and read back", () => {
  const best = definitionOf({ ...EMPTY_FORM, timing: "best", localTime: "09:00" });
  assert.equal(best.send_time, "optimised");
  assert.equal(best.local_time, undefined, "exclusive with a local time");
  assert.equal(formOf("x", { send_time: "optimised" }).timing, "best");
  assert.equal(formOf("x", { local_time: "09:30" }).timing, "local");
  assert.equal(formOf("x", {}).timing, "start");
  assert.equal(definitionOf({ ...EMPTY_FORM, timing: "local", localTime: "09:30" }).local_time, "09:30");
  assert.equal(definitionOf(EMPTY_FORM).send_time, undefined);
  assert.equal(fieldOf("definition.send_time"), "timing");
});

test("a journey delay until the best hour, read back", () => {
  assert.deepEqual(delayConfig("best"), { until: { best_hour: true } });
  assert.equal(delayMode({ until: { best_hour: true } }), "best");
  assert.equal(delayMode({ until: { weekdays: ["mon"], at: "09:00" } }), "until");
  assert.equal(delayMode({ duration: { days: 1 } }), "for");
  assert.equal(delayMode(delayConfig("until")), "until");
});
