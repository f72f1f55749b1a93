// Unit tests of the event pickers' logic: the catalogue's names, properties
// and values as suggestions, the type a property's filter is written with,
// the operators each type offers, and typed values in the rule JSON.
import { expect, test } from "vitest";
import {
  eventOptions,
  filterOptions,
  pickValue,
  propertyOptions,
  propertyType,
  propertyTypeOf,
  valueOptions,
  type EventCatalog,
} from "../../src/segments/eventCatalog";
import { fromRule, isIncomplete, propertyOperators, propertyValue, toRule, whereFromJson, whereToJson, withPropertyType, type EventCondition, type PropertyFilter } from "../../src/segments/rule";

const catalog: EventCatalog = {
  days: 30,
  sampled: 2000,
  events: [
    {
      name: "Order Completed",
      count: 629,
      sampled: 1131,
      properties_left_out: false,
      properties: [
        { path: "total", seen: 1131, types: ["number"], top_values: [{ value: 480, count: 300 }, { value: 99.5, count: 120 }], more_values: true },
        { path: "currency", seen: 1131, types: ["string"], top_values: [{ value: "USD", count: 1131 }], more_values: false },
        { path: "products", seen: 1131, types: ["array"], top_values: [], more_values: false },
        { path: "shipping", seen: 40, types: ["object"], top_values: [], more_values: false },
        { path: "shipping.express", seen: 40, types: ["boolean"], top_values: [{ value: true, count: 30 }, { value: false, count: 10 }], more_values: false },
        { path: "coupon", seen: 12, types: ["string", "number"], top_values: [{ value: "SPRING", count: 8 }, { value: 10, count: 4 }], more_values: false },
      ],
    },
    { name: "Signed Up", count: 1, sampled: 1, properties_left_out: false, properties: [] },
    { name: "Rare Thing", count: null, sampled: 3, properties_left_out: false, properties: [] },
  ],
};

test("event names come most frequent first with their counts, then names known otherwise", () => {
  expect(eventOptions(catalog, ["Signed Up", "Email Opened"])).toStrictEqual([
    { value: "Order Completed", detail: "629 events in 30 days" },
    { value: "Signed Up", detail: "1 event in 30 days" },
    { value: "Rare Thing", detail: "3 events recently" },
    { value: "Email Opened" },
  ]);
  // Before the catalogue arrives (or when it failed) the other names are still offered.
  expect(eventOptions(undefined, ["Email Opened"])).toStrictEqual([{ value: "Email Opened" }]);
});

test("an event's properties are offered with their types; objects, which rules cannot compare, are left out", () => {
  expect(propertyOptions(catalog, "Order Completed").map((o) => o.value)).toStrictEqual(["total", "currency", "products", "shipping.express", "coupon"]);
  expect(propertyOptions(catalog, "Order Completed")[0]).toStrictEqual({ value: "total", detail: "number · in 1,131 events" });
  expect(propertyOptions(catalog, "Order Completed")[4].detail).toBe("string or number · in 12 events");
  expect(propertyOptions(catalog, " Order Completed ")).toHaveLength(5);
  expect(propertyOptions(catalog, "Unknown")).toStrictEqual([]);
  expect(propertyOptions(undefined, "Order Completed")).toStrictEqual([]);
});

test("a property's type: its one testable type, any when seen with several, unknown when not seen", () => {
  expect(propertyTypeOf(["number"])).toBe("number");
  expect(propertyTypeOf(["array"])).toBe("array");
  expect(propertyTypeOf(["string", "number"])).toBe("any");
  expect(propertyTypeOf(["object", "boolean"])).toBe("boolean");
  expect(propertyTypeOf(["object"])).toBeUndefined();
  expect(propertyTypeOf([])).toBeUndefined();
  expect(propertyType(catalog, "Order Completed", "total")).toBe("number");
  expect(propertyType(catalog, "Order Completed", "shipping.express")).toBe("boolean");
  expect(propertyType(catalog, "Order Completed", "nope")).toBeUndefined();
});

test("operators suit the type, as docs/segments.md lists them", () => {
  const ops = (t: Parameters<typeof propertyOperators>[0]) => propertyOperators(t).map(([o]) => o);
  expect(ops("number")).toStrictEqual(["equals", "not_equals", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_set", "not_set"]);
  expect(ops("string")).toStrictEqual(["equals", "not_equals", "contains", "not_contains", "starts_with", "in", "not_in", "is_set", "not_set"]);
  expect(ops("boolean")).toStrictEqual(["equals", "not_equals", "is_set", "not_set"]);
  expect(ops("array")).toStrictEqual(["contains", "not_contains", "in", "not_in", "is_set", "not_set"]);
  expect(ops("any")).toHaveLength(14);
  expect(ops(undefined)).toStrictEqual(ops("any"));
  // An operator a loaded rule uses stays offered.
  expect(propertyOperators("boolean", "starts_with").map(([o]) => o)).toContain("starts_with");
});

test("choosing another property keeps the operator when its type has it, else takes the type's first", () => {
  const w: PropertyFilter = { property: "", op: "gt", value: "" };
  expect(withPropertyType(w, "total", "number")).toStrictEqual({ property: "total", op: "gt", value: "", type: "number" });
  expect(withPropertyType(w, "currency", "string")).toStrictEqual({ property: "currency", op: "equals", value: "", type: "string" });
  expect(withPropertyType({ ...w, op: "equals" }, "products", "array").op).toBe("contains");
  expect(withPropertyType(w, "typed by hand", undefined)).toStrictEqual({ property: "typed by hand", op: "gt", value: "", type: undefined });
});

test("values are typed as the property: numbers as JSON numbers, text stays text even when it looks like a number", () => {
  expect(propertyValue("equals", "480", "", "number")).toBe(480);
  expect(propertyValue("equals", " 99.5 ", "", "number")).toBe(99.5);
  expect(propertyValue("equals", "123", "", "string")).toBe("123");
  expect(propertyValue("equals", "true", "", "string")).toBe("true");
  expect(propertyValue("equals", "true", "", "boolean")).toBe(true);
  expect(propertyValue("equals", "books", "", "array")).toBe("books");
  expect(propertyValue("equals", "42", "", undefined)).toBe(42);
  expect(propertyValue("equals", "false", "", "any")).toBe(false);
  expect(propertyValue("in", "480, 99, ", "", "number")).toStrictEqual([480, 99]);
  expect(propertyValue("not_in", "007, 8", "", "string")).toStrictEqual(["007", "8"]);
  expect(propertyValue("between", "10", "20.5", "number")).toStrictEqual([10, 20.5]);
  expect(propertyValue("gt", "50", "", "any")).toBe(50);
  expect(propertyValue("contains", " 42 ", "", "number")).toBe("42");
  expect(propertyValue("is_set", "x", "", "number")).toBeUndefined();
  // Not a number: sent as typed so the server names the mistake on the condition.
  expect(propertyValue("gt", "lots", "", "number")).toBe("lots");
});

test("property filters survive a round trip with their types, between and the negative operators", () => {
  const where = [
    { property: "total", op: "between", value: [100, 500] },
    { property: "order_id", op: "equals", value: "123" },
    { property: "total", op: "not_in", value: [1, 2] },
    { property: "currency", op: "not_contains", value: "us" },
    { property: "shipping.express", op: "equals", value: false },
    { property: "coupon", op: "is_set" },
  ];
  const parsed = whereFromJson(where)!;
  expect(parsed[0]).toStrictEqual({ property: "total", op: "between", value: "100", value2: "500", type: "number" });
  expect(parsed[1].type).toBe("string");
  expect(whereToJson(parsed)).toStrictEqual(where);
  const tree = fromRule({ event: "Order Completed", where });
  expect((tree.children[0] as EventCondition).where).toHaveLength(6);
  expect(toRule(tree, { contact: {}, company: {} })).toStrictEqual({ and: [{ event: "Order Completed", where }] });
});

test("frequent values are offered as text; a pick replaces the value, or joins a list", () => {
  expect(valueOptions(catalog, "Order Completed", "total")).toStrictEqual([
    { value: "480", detail: "300 times" },
    { value: "99.5", detail: "120 times" },
  ]);
  expect(valueOptions(catalog, "Order Completed", "shipping.express").map((o) => o.value)).toStrictEqual(["true", "false"]);
  expect(valueOptions(catalog, "Order Completed", "nope")).toStrictEqual([]);
  const mixed: EventCatalog = { ...catalog, events: [{ ...catalog.events[0], properties: [{ path: "size", seen: 9, types: ["string", "number"], top_values: [{ value: 10, count: 5 }, { value: "10", count: 3 }, { value: "L", count: 1 }], more_values: false }] }] };
  expect(valueOptions(mixed, "Order Completed", "size")).toStrictEqual([
    { value: "10", detail: "8 times" },
    { value: "L", detail: "1 time" },
  ]);
  expect(pickValue("equals", "12", "480")).toBe("480");
  expect(pickValue("in", "", "480")).toBe("480");
  expect(pickValue("in", "99, ", "480")).toBe("99, 480");
  expect(pickValue("not_in", "480", "480")).toBe("480");
});

test("typing filters the suggestions, those starting with the text first", () => {
  const options = eventOptions(catalog, ["Email Opened", "Order Refunded"]);
  expect(filterOptions(options, "order").map((o) => o.value)).toStrictEqual(["Order Completed", "Order Refunded"]);
  expect(filterOptions(options, "ed").map((o) => o.value)).toStrictEqual(["Order Completed", "Signed Up", "Email Opened", "Order Refunded"]);
  expect(filterOptions(options, "  ")).toHaveLength(5);
  expect(filterOptions(options, "", 2)).toHaveLength(2);
  expect(filterOptions(options, "zzz")).toStrictEqual([]);
});

test("the live count waits while an event, property or value is still to be chosen", () => {
  const tree = fromRule({ and: [{ field: "country", op: "equals", value: "" }, { event: "Order Completed", where: [{ property: "total", op: "is_set" }] }] });
  expect(isIncomplete(tree)).toBe(false);
  const ev = tree.children[1] as EventCondition;
  const variant = (patch: Partial<EventCondition>) => ({ ...tree, children: [tree.children[0], { ...ev, ...patch }] });
  expect(isIncomplete(variant({ event: " " }))).toBe(true);
  expect(isIncomplete(variant({ where: [{ property: "", op: "is_set", value: "" }] }))).toBe(true);
  expect(isIncomplete(variant({ where: [{ property: "total", op: "gt", value: "" }] }))).toBe(true);
  expect(isIncomplete(variant({ where: [{ property: "total", op: "gt", value: "5" }] }))).toBe(false);
  expect(isIncomplete(fromRule({ or: [{ segment: "" }] }))).toBe(true);
  expect(isIncomplete(variant({ measure: "first", timeValue: "" }))).toBe(true);
  expect(isIncomplete(variant({ windowDays: "between", windowFrom: "2026-01-01", windowTo: "" }))).toBe(true);
});
