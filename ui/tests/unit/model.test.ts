// Unit tests of the conversion model's pure logic: the train form written as
// the API's request, the form's own checks, sensitive attribute candidates,
// figures formatted for people, coefficients by size with the weak flag,
// dropped features' reasons, calibration points, contribution bars, and
// version ids in the server's sentences written as version numbers.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  byEffect,
  calibrationPoints,
  contributionBars,
  describeValue,
  dropReason,
  emptyTrainForm,
  formatLift,
  formatMetric,
  formatPercent,
  formatSigned,
  formatValue,
  promotionReason,
  isWeak,
  sensitiveCandidates,
  trainBody,
  trainFormErrors,
  versionNumbers,
  withVersionNames,
} from "../../src/models/model";
import { STANDARD_CONTACT_FIELDS } from "../../src/segments/rule";

test("the train form is written as the API's request, optional parts only when given", () => {
  assert.deepEqual(trainBody(emptyTrainForm()), { event: "Order Completed", horizon_days: 30 });
  assert.deepEqual(
    trainBody({ event: " Order Completed ", horizonDays: "14", sensitiveAttribute: "country", allowSensitive: true, threshold: "0.5", l2: "2" }),
    { event: "Order Completed", horizon_days: 14, sensitive_attribute: "country", allow_sensitive: true, fairness_threshold: 0.5, l2: 2 },
  );
  // Allowing a sensitive attribute means nothing without one.
  assert.deepEqual(trainBody({ ...emptyTrainForm(), allowSensitive: true }), { event: "Order Completed", horizon_days: 30 });
  assert.deepEqual(trainBody({ ...emptyTrainForm(), sensitiveAttribute: "plan" }), { event: "Order Completed", horizon_days: 30, sensitive_attribute: "plan" });
  // Out-of-range numbers go to the server, which says why at the field.
  assert.equal(trainBody({ ...emptyTrainForm(), horizonDays: "0" }).horizon_days, 0);
});

test("the form refuses what the server could only call an unreadable body", () => {
  assert.deepEqual(trainFormErrors(emptyTrainForm()), {});
  assert.deepEqual(Object.keys(trainFormErrors({ ...emptyTrainForm(), horizonDays: "" })), ["horizon_days"]);
  assert.deepEqual(Object.keys(trainFormErrors({ ...emptyTrainForm(), horizonDays: "2.5" })), ["horizon_days"]);
  assert.deepEqual(Object.keys(trainFormErrors({ ...emptyTrainForm(), threshold: "high", l2: "x" })), ["fairness_threshold", "l2"]);
  assert.deepEqual(trainFormErrors({ ...emptyTrainForm(), horizonDays: "0" }), {}, "the range is the server's to check");
});

test("sensitive attribute candidates are grouping fields, not identifiers or numbers", () => {
  const schema = {
    contact: { ...STANDARD_CONTACT_FIELDS, plan: "string", newsletter: "boolean", lifetime_value: "number", interests: "list", stage: "string" } as const,
    company: {},
  };
  assert.deepEqual(sensitiveCandidates({ ...schema, contact: { ...schema.contact } }), ["country", "locale", "timezone", "newsletter", "plan", "stage"]);
});

test("figures are formatted for people", () => {
  assert.equal(formatPercent(0.13636), "13.6%");
  assert.equal(formatPercent(0.8, 0), "80%");
  assert.equal(formatPercent(null), "—");
  assert.equal(formatMetric(0.7496661), "0.750");
  assert.equal(formatMetric(undefined), "—");
  assert.equal(formatLift(1.6056), "1.61×");
  assert.equal(formatSigned(0.8227), "+0.82");
  assert.equal(formatSigned(-0.2607), "−0.26");
  assert.equal(formatSigned(-0.001), "0.00");
  assert.equal(formatValue(3.2188758), "3.22");
  assert.equal(formatValue(1200), "1,200");
  assert.equal(formatValue(null), "missing");
});

test("coefficients are sorted by the size of their effect and weak ones flagged", () => {
  const cols = [
    { name: "a", coefficient: 0.2, standard_error: 0.3 },
    { name: "b", coefficient: -0.9, standard_error: 0.1 },
    { name: "c", coefficient: 0.5, standard_error: 0.25 },
    { name: "d", coefficient: -0.2, standard_error: 0.05 },
  ];
  assert.deepEqual(byEffect(cols).map((c) => c.name), ["b", "c", "a", "d"]);
  assert.deepEqual(cols.map((c) => c.name), ["a", "b", "c", "d"], "the input is left as it was");
  assert.equal(isWeak(cols[0]), true);
  assert.equal(isWeak(cols[1]), false);
  assert.equal(isWeak(cols[2]), true, "exactly 2 standard errors is still weak");
  assert.equal(isWeak(cols[3]), false);
});

test("dropped features say why in words", () => {
  assert.equal(dropReason({ kind: "constant", value: 0 }), "the same value (0) for everyone in the training data");
  assert.match(dropReason({ kind: "sensitive" }), /sensitive attribute/);
  assert.equal(dropReason({ kind: "rare_category", min_count: 5 }), "rare category (min count 5)");
});

test("calibration points leave out empty bins and follow the prediction", () => {
  const bin = (mean_predicted: number, observed_rate: number, count: number) => ({ lower: 0, upper: 1, mean_predicted, observed_rate, count });
  assert.deepEqual(calibrationPoints([bin(0.5, 0.6, 10), bin(0.1, 0.2, 5), bin(0.3, 0, 0)]), { x: [0.1, 0.5], y: [0.2, 0.6] });
});

test("contributions become bars relative to the largest, with their direction", () => {
  const bars = contributionBars([
    { feature: "Page Viewed", value: 3, contribution: 1.6 },
    { feature: "Order Completed", value: 2, contribution: -0.8 },
  ]);
  assert.deepEqual(bars.map((b) => [b.width, b.up]), [[1, true], [0.5, false]]);
  assert.deepEqual(contributionBars([]), []);
});

test("version ids in the server's sentences are written as version numbers", () => {
  const a = "01a2282b-24fa-7423-b193-2c1fc33587d0";
  const b = "01a2282b-3bef-7228-be20-0b4ad5733e6b";
  const numbers = versionNumbers([{ id: b }, { id: a }]);
  assert.equal(numbers.get(a), 1);
  assert.equal(numbers.get(b), 2);
  assert.equal(withVersionNames(`hold-out AUC 0.7497 against 0.7490 for the current model ${a}`, numbers), "hold-out AUC 0.7497 against 0.7490 for the current model #1");
  const unknown = "01a2282b-0000-7000-8000-000000000000";
  assert.equal(withVersionNames(`model ${unknown}`, numbers), `model ${unknown}`);
});

test("feature values read as people count them", () => {
  assert.equal(describeValue("Page Viewed in the last 30 days", Math.log1p(24)), "24 times");
  assert.equal(describeValue("Order Completed ever", Math.log1p(1)), "once");
  assert.equal(describeValue("Signed Up ever", 0), "never");
  assert.equal(describeValue("plan = pro", 1), "yes");
  assert.equal(describeValue("company.employees (missing)", 0), "no");
  assert.equal(describeValue("days since first seen", 28.4037), "28 days");
  assert.equal(describeValue("lifetime_value", 1159), "1,159");
  assert.equal(describeValue("lifetime_value", null), "missing");
});

test("the promotion sentence loses the prefix its badge already says", () => {
  assert.equal(promotionReason("not promoted: hold-out AUC 0.70 does not beat #1"), "hold-out AUC 0.70 does not beat #1");
  assert.equal(promotionReason("the first model"), "the first model");
});
