// Unit tests of the segment rule model: rule JSON survives a round trip
// through the builder's tree, typed values are written as the API expects,
// and server error paths find the condition they are about.
import { expect, test } from "vitest";
import { countedIn, emptyCondition, emptyGroup, fromRule, nodeForPath, toRule, type EventCondition, type FieldCondition, type PathIndex, type Schema } from "../../src/segments/rule";

const schema: Schema = {
  contact: { country: "string", plan: "string", lifetime_value: "number", newsletter: "boolean", signup_date: "date", interests: "list" },
  company: { name: "string", industry: "string" },
};

test("rules of every kind the builder has pickers for survive a round trip", () => {
  const rules = [
    { field: "country", op: "in", value: ["DE", "AT"] },
    {
      or: [
        { field: "lifetime_value", op: "gt", value: 500 },
        { event: "Order Completed", where: [{ property: "total", op: "gt", value: 100 }], count: { op: "at_least", value: 2 }, window: { last_days: 90 } },
      ],
    },
    { and: [{ event: "Signed Up" }, { event: "Page Viewed", count: { op: "at_most", value: 0 }, window: { last_days: 45 } }] },
    { and: [{ not: { company: { field: "industry", op: "equals", value: "Retail" } } }, { consent: { channel: "email", purpose: "marketing" } }] },
    { and: [{ field: "lifetime_value", op: "between", value: [10, 20] }, { field: "newsletter", op: "equals", value: true }, { field: "plan", op: "is_set" }] },
    { and: [{ field: "signup_date", op: "within_last_days", value: 30 }, { not: { or: [{ segment: "s1" }, { list: "l1" }] } }] },
  ];
  for (const r of rules) {
    const tree = fromRule(r);
    const back = toRule(tree, schema);
    // A top-level condition comes back inside an AND group of one.
    expect(back, JSON.stringify(r)).toStrictEqual("and" in r || "or" in r ? r : { and: [r] });
  }
});

test("conditions the builder has no picker for are kept as JSON, unchanged", () => {
  const r = { and: [{ event: "Signed Up", first: { op: "before", value: "2026-01-01" }, count: { op: "at_least", value: 2 } }, { email: "opened", window: { last_days: 30 } }] };
  const tree = fromRule(r);
  expect(tree.children[0].kind).toBe("raw");
  expect(tree.children[1].kind).toBe("raw");
  expect(toRule(tree, schema)).toStrictEqual(r);
});

test("first and last occurrences and windows between dates have pickers and survive a round trip", () => {
  const r = {
    and: [
      { event: "Signed Up", first: { op: "before", value: "2026-01-01" } },
      { event: "Order Completed", where: [{ property: "total", op: "gt", value: 50 }], last: { op: "more_than_days_ago", value: 90 } },
      { event: "Login", last: { op: "within_last_days", value: 14 } },
      { event: "Page Viewed", count: { op: "at_least", value: 3 }, window: { between: ["2026-01-01", "2026-02-01"] } },
    ],
  };
  const tree = fromRule(r);
  expect(tree.children.map((c) => c.kind)).toStrictEqual(["event", "event", "event", "event"]);
  const first = tree.children[0] as EventCondition;
  expect([first.measure, first.timeOp, first.timeValue]).toStrictEqual(["first", "before", "2026-01-01"]);
  expect((tree.children[3] as EventCondition).windowDays).toBe("between");
  expect(toRule(tree, schema)).toStrictEqual(r);
  // Days are numbers, dates text.
  const g = emptyGroup("and");
  g.children = [{ ...(emptyCondition("event") as EventCondition), event: "Login", measure: "last", timeOp: "within_last_days", timeValue: "7" }];
  expect(toRule(g, schema)).toStrictEqual({ and: [{ event: "Login", last: { op: "within_last_days", value: 7 } }] });
});

test("typed values are written as the API expects them", () => {
  const g = emptyGroup("and");
  const c = (field: string, op: string, value: string, value2 = ""): FieldCondition => ({ ...(emptyCondition("field") as FieldCondition), field, op, value, value2 });
  g.children = [c("lifetime_value", "gte", "42.5"), c("newsletter", "equals", "false"), c("interests", "in", "books, music"), c("signup_date", "between", "2026-01-01", "2026-02-01"), c("country", "equals", " DE ")];
  expect(toRule(g, schema)).toStrictEqual({
    and: [
      { field: "lifetime_value", op: "gte", value: 42.5 },
      { field: "newsletter", op: "equals", value: false },
      { field: "interests", op: "in", value: ["books", "music"] },
      { field: "signup_date", op: "between", value: ["2026-01-01", "2026-02-01"] },
      { field: "country", op: "equals", value: "DE" },
    ],
  });
});

test("event property values take the type they look like", () => {
  const tree = fromRule({ and: [{ event: "Order Completed", where: [{ property: "total", op: "gt", value: 50 }, { property: "gift", op: "equals", value: true }, { property: "currency", op: "equals", value: "usd" }] }] });
  expect(toRule(tree, schema)).toStrictEqual({ and: [{ event: "Order Completed", where: [{ property: "total", op: "gt", value: 50 }, { property: "gift", op: "equals", value: true }, { property: "currency", op: "equals", value: "usd" }] }] });
});

test("an error path from the server names the innermost condition it is about", () => {
  const tree = fromRule({ and: [{ field: "country", op: "equals", value: "DE" }, { or: [{ event: "X" }, { not: { field: "plan", op: "equals", value: "x" } }] }] });
  const paths: PathIndex = new Map();
  toRule(tree, schema, paths);
  const inner = tree.children[1];
  expect(inner.kind).toBe("group");
  if (inner.kind !== "group") return;
  expect(nodeForPath("rule.and[0].value", paths)).toBe(tree.children[0].id);
  expect(nodeForPath("rule.and[1].or[1].not.field", paths)).toBe(inner.children[1].id);
  expect(nodeForPath("rule.and[1].or", paths)).toBe(inner.id);
  expect(nodeForPath("rule.and[10]", paths)).toBe(tree.id);
  expect(nodeForPath("name", paths)).toBe(undefined);
});

test("the live count says how it was counted, and when it read the event history", () => {
  expect(countedIn(9.14, false)).toBe("counted in 9.1 ms");
  expect(countedIn(10218.5, true)).toBe("read from the event history in 10.2 s; further counts with these conditions come from memory");
  expect(countedIn(12.04, true)).toBe("read from the event history in 12.0 ms; further counts with these conditions come from memory");
});
