// Unit tests of the conversion model's pure logic: the train form written as
// the API's request, the form's own checks, sensitive attribute candidates,
// figures formatted for people, coefficients by size with the weak flag,
// dropped features' reasons, calibration points, contribution bars, and
// version ids in the server's sentences written as version numbers.
import { expect, test } from "vitest";
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
  expect(trainBody(emptyTrainForm())).toStrictEqual({ event: "Order Completed", horizon_days: 30 });
  expect(trainBody({ event: " Order Completed ", horizonDays: "14", sensitiveAttribute: "country", allowSensitive: true, threshold: "0.5", l2: "2" })).toStrictEqual({ event: "Order Completed", horizon_days: 14, sensitive_attribute: "country", allow_sensitive: true, fairness_threshold: 0.5, l2: 2 });
  // Allowing a sensitive attribute means nothing without one.
  expect(trainBody({ ...emptyTrainForm(), allowSensitive: true })).toStrictEqual({ event: "Order Completed", horizon_days: 30 });
  expect(trainBody({ ...emptyTrainForm(), sensitiveAttribute: "plan" })).toStrictEqual({ event: "Order Completed", horizon_days: 30, sensitive_attribute: "plan" });
  // Out-of-range numbers go to the server, which says why at the field.
  expect(trainBody({ ...emptyTrainForm(), horizonDays: "0" }).horizon_days).toBe(0);
});

test("the form refuses what the server could only call an unreadable body", () => {
  expect(trainFormErrors(emptyTrainForm())).toStrictEqual({});
  expect(Object.keys(trainFormErrors({ ...emptyTrainForm(), horizonDays: "" }))).toStrictEqual(["horizon_days"]);
  expect(Object.keys(trainFormErrors({ ...emptyTrainForm(), horizonDays: "2.5" }))).toStrictEqual(["horizon_days"]);
  expect(Object.keys(trainFormErrors({ ...emptyTrainForm(), threshold: "high", l2: "x" }))).toStrictEqual(["fairness_threshold", "l2"]);
  expect(trainFormErrors({ ...emptyTrainForm(), horizonDays: "0" }), "the range is the server's to check").toStrictEqual({});
});

test("sensitive attribute candidates are grouping fields, not identifiers or numbers", () => {
  const schema = {
    contact: { ...STANDARD_CONTACT_FIELDS, plan: "string", newsletter: "boolean", lifetime_value: "number", interests: "list", stage: "string" } as const,
    company: {},
  };
  expect(sensitiveCandidates({ ...schema, contact: { ...schema.contact } })).toStrictEqual(["country", "locale", "timezone", "newsletter", "plan", "stage"]);
});

test("figures are formatted for people", () => {
  expect(formatPercent(0.13636)).toBe("13.6%");
  expect(formatPercent(0.8, 0)).toBe("80%");
  expect(formatPercent(null)).toBe("—");
  expect(formatMetric(0.7496661)).toBe("0.750");
  expect(formatMetric(undefined)).toBe("—");
  expect(formatLift(1.6056)).toBe("1.61×");
  expect(formatSigned(0.8227)).toBe("+0.82");
  expect(formatSigned(-0.2607)).toBe("−0.26");
  expect(formatSigned(-0.001)).toBe("0.00");
  expect(formatValue(3.2188758)).toBe("3.22");
  expect(formatValue(1200)).toBe("1,200");
  expect(formatValue(null)).toBe("missing");
});

test("coefficients are sorted by the size of their effect and weak ones flagged", () => {
  const cols = [
    { name: "a", coefficient: 0.2, standard_error: 0.3 },
    { name: "b", coefficient: -0.9, standard_error: 0.1 },
    { name: "c", coefficient: 0.5, standard_error: 0.25 },
    { name: "d", coefficient: -0.2, standard_error: 0.05 },
  ];
  expect(byEffect(cols).map((c) => c.name)).toStrictEqual(["b", "c", "a", "d"]);
  expect(cols.map((c) => c.name), "the input is left as it was").toStrictEqual(["a", "b", "c", "d"]);
  expect(isWeak(cols[0])).toBe(true);
  expect(isWeak(cols[1])).toBe(false);
  expect(isWeak(cols[2]), "exactly 2 standard errors is still weak").toBe(true);
  expect(isWeak(cols[3])).toBe(false);
});

test("dropped features say why in words", () => {
  expect(dropReason({ kind: "constant", value: 0 })).toBe("the same value (0) for everyone in the training data");
  expect(dropReason({ kind: "sensitive" })).toMatch(/sensitive attribute/);
  expect(dropReason({ kind: "rare_category", min_count: 5 })).toBe("rare category (min count 5)");
});

test("calibration points leave out empty bins and follow the prediction", () => {
  const bin = (mean_predicted: number, observed_rate: number, count: number) => ({ lower: 0, upper: 1, mean_predicted, observed_rate, count });
  expect(calibrationPoints([bin(0.5, 0.6, 10), bin(0.1, 0.2, 5), bin(0.3, 0, 0)])).toStrictEqual({ x: [0.1, 0.5], y: [0.2, 0.6] });
});

test("contributions become bars relative to the largest, with their direction", () => {
  const bars = contributionBars([
    { feature: "Page Viewed", value: 3, contribution: 1.6 },
    { feature: "Order Completed", value: 2, contribution: -0.8 },
  ]);
  expect(bars.map((b) => [b.width, b.up])).toStrictEqual([[1, true], [0.5, false]]);
  expect(contributionBars([])).toStrictEqual([]);
});

test("version ids in the server's sentences are written as version numbers", () => {
  const a = "01a2282b-24fa-7423-b193-2c1fc33587d0";
  const b = "01a2282b-3bef-7228-be20-0b4ad5733e6b";
  const numbers = versionNumbers([{ id: b }, { id: a }]);
  expect(numbers.get(a)).toBe(1);
  expect(numbers.get(b)).toBe(2);
  expect(withVersionNames(`hold-out AUC 0.7497 against 0.7490 for the current model ${a}`, numbers)).toBe("hold-out AUC 0.7497 against 0.7490 for the current model #1");
  const unknown = "01a2282b-0000-7000-8000-000000000000";
  expect(withVersionNames(`model ${unknown}`, numbers)).toBe(`model ${unknown}`);
});

test("feature values read as people count them", () => {
  expect(describeValue("Page Viewed in the last 30 days", Math.log1p(24))).toBe("24 times");
  expect(describeValue("Order Completed ever", Math.log1p(1))).toBe("once");
  expect(describeValue("Signed Up ever", 0)).toBe("never");
  expect(describeValue("plan = pro", 1)).toBe("yes");
  expect(describeValue("company.employees (missing)", 0)).toBe("no");
  expect(describeValue("days since first seen", 28.4037)).toBe("28 days");
  expect(describeValue("lifetime_value", 1159)).toBe("1,159");
  expect(describeValue("lifetime_value", null)).toBe("missing");
});

test("the promotion sentence loses the prefix its badge already says", () => {
  expect(promotionReason("not promoted: hold-out AUC 0.70 does not beat #1")).toBe("hold-out AUC 0.70 does not beat #1");
  expect(promotionReason("the first model")).toBe("the first model");
});
