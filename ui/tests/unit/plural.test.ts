// Unit tests of counts in words: singular for exactly one, the plural for
// zero, many, fractions and an unknown count, irregular plurals as given.
import { expect, test } from "vitest";
import { countOf, plural } from "../../src/plural";

test("exactly one is singular; zero, many, fractions and unknown are plural", () => {
  expect(countOf(1, "contact")).toBe("1 contact");
  expect(countOf(0, "contact")).toBe("0 contacts");
  expect(countOf(2, "member")).toBe("2 members");
  expect(countOf(1234567, "contact")).toBe("1,234,567 contacts");
  expect(countOf(1.5, "conversion")).toBe("1.5 conversions");
  expect(countOf(null, "contact")).toBe("— contacts");
  expect(countOf(undefined, "event")).toBe("— events");
});

test("irregular plurals are given, and the noun alone follows the same rule", () => {
  expect(countOf(1, "branch", "branches")).toBe("1 branch");
  expect(countOf(3, "branch", "branches")).toBe("3 branches");
  expect(plural(1, "contact matches", "contacts match")).toBe("contact matches");
  expect(plural(7, "contact matches", "contacts match")).toBe("contacts match");
  expect(plural(1, "day")).toBe("day");
  expect(plural(30, "day")).toBe("days");
});
