// Unit tests of predictions put to use: audit requests for a model and a
// score, audit summaries, "N of M scored", the ranked list's paths, schedule
// requests and paths, the best send hour in words; and the best-hour choices
// of the campaign schedule and the journey delay, read and written back.
import { expect, test } from "vitest";
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
  expect(modelAuditBody(f)).toStrictEqual({ sensitive_attribute: "locale" });
  expect(modelAuditBody({ ...f, threshold: "0.3" })).toStrictEqual({ sensitive_attribute: "locale", threshold: 0.3 });
  expect(modelAuditBody({ ...f, threshold: " x " }), "the server names what is wrong").toStrictEqual({ sensitive_attribute: "locale", threshold: "x" });
});

test("a score audit sends the outcome, and a threshold as a number or a name", () => {
  const f = { ...emptyAuditForm(), attribute: "country" };
  expect(scoreAuditBody(f)).toStrictEqual({ sensitive_attribute: "country", outcome_event: "Order Completed", outcome_days: 30 });
  expect(scoreAuditBody({ ...f, threshold: "Warm", outcomeDays: "" })).toStrictEqual({ sensitive_attribute: "country", outcome_event: "Order Completed", threshold: "Warm" });
  expect(scoreAuditBody({ ...f, threshold: "40" }).threshold).toBe(40);
  expect(scoreAuditBody({ ...f, outcomeEvent: "  Signed Up " }).outcome_event).toBe("Signed Up");
});

test("an audit's request in a few words", () => {
  expect(auditSummary({ sensitive_attribute: "locale", threshold: null, outcome_event: null, outcome_days: null })).toBe("by locale");
  expect(auditSummary({ sensitive_attribute: "country", threshold: "Warm", outcome_event: "Order Completed", outcome_days: null })).toBe("by country, threshold Warm, Order Completed within 30 days");
  expect(auditSummary({ sensitive_attribute: "country", threshold: 0.25 })).toBe("by country, threshold 0.25");
});

test("how many contacts are scored, and the ranked list's pages", () => {
  expect(scoredText({ scored_contacts: 1180, contacts: 1200 })).toBe("1,180 of 1,200 contacts scored");
  expect(scoredText({ scored_contacts: 1, contacts: 1 })).toBe("1 of 1 contact scored");
  expect(scoresPath(20)).toBe("/api/v1/models/conversion/scores?limit=20");
  expect(scoresPath(20, "0.94_01a2")).toBe("/api/v1/models/conversion/scores?limit=20&cursor=0.94_01a2");
});

test("schedules: the request, the form's check of the days, the encoded path", () => {
  expect(scheduleBody("7", { event: "Order Completed", horizon_days: 30 })).toStrictEqual({ every_days: 7, request: { event: "Order Completed", horizon_days: 30 } });
  expect(everyDaysError("7")).toBe(undefined);
  expect(everyDaysError("1.5")).toBe("Enter a whole number of days.");
  expect(everyDaysError("")).toBe("Enter a whole number of days.");
  expect(schedulePath("Order Completed")).toBe("/api/v1/models/conversion/schedules/Order%20Completed");
  expect(schedulePath("a/b")).toBe("/api/v1/models/conversion/schedules/a%2Fb");
});

test("the best hour in words, and where it comes from", () => {
  expect(formatHour(8)).toBe("08:00");
  expect(formatHour(20)).toBe("20:00");
  expect(sendTimeText({ hour: 20, share: 0.3, personal_weight: 0.8, timezone: "Europe/Berlin" })).toBe("20:00 (Europe/Berlin) — mostly from their own opens");
  expect(sendTimeText({ hour: 9, share: 0.1, personal_weight: 0.1, timezone: "UTC" })).toBe("09:00 (UTC) — from the workspace's pattern");
});

test("a campaign at each recipient's best hour is sent as send_time optimised and read back", () => {
  const best = definitionOf({ ...EMPTY_FORM, timing: "best", localTime: "09:00" });
  expect(best.send_time).toBe("optimised");
  expect(best.local_time, "exclusive with a local time").toBe(undefined);
  expect(formOf("x", { send_time: "optimised" }).timing).toBe("best");
  expect(formOf("x", { local_time: "09:30" }).timing).toBe("local");
  expect(formOf("x", {}).timing).toBe("start");
  expect(definitionOf({ ...EMPTY_FORM, timing: "local", localTime: "09:30" }).local_time).toBe("09:30");
  expect(definitionOf(EMPTY_FORM).send_time).toBe(undefined);
  expect(fieldOf("definition.send_time")).toBe("timing");
});

test("a journey delay until the best hour, read back", () => {
  expect(delayConfig("best")).toStrictEqual({ until: { best_hour: true } });
  expect(delayMode({ until: { best_hour: true } })).toBe("best");
  expect(delayMode({ until: { weekdays: ["mon"], at: "09:00" } })).toBe("until");
  expect(delayMode({ duration: { days: 1 } })).toBe("for");
  expect(delayMode(delayConfig("until"))).toBe("until");
});
