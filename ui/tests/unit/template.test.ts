// Unit tests of how the template editor places the API's problems: paths
// `part:line:column` read into their parts, and line/column to a caret offset.
import { expect, test } from "vitest";
import { offsetOf, templateIssues } from "../../src/email/types";

test("problem paths are read into part, line and column", () => {
  const issues = templateIssues([
    { path: "body:2:4", message: 'contact has no field "frist_name"' },
    { path: "snippet footer:1:12", message: "unknown snippet" },
    { path: "name", message: "a template needs a name" },
  ]);
  expect(issues).toStrictEqual([
    { part: "body", line: 2, column: 4, message: 'contact has no field "frist_name"' },
    { part: "snippet footer", line: 1, column: 12, message: "unknown snippet" },
    { part: "name", line: null, column: null, message: "a template needs a name" },
  ]);
  expect(templateIssues(undefined)).toStrictEqual([]);
});

test("a line and column become the caret offset, clamped to the line", () => {
  const text = "first\nsecond line\nthird";
  expect(offsetOf(text, 1, 1)).toBe(0);
  expect(offsetOf(text, 2, 4)).toBe(9);
  expect(text.slice(offsetOf(text, 2, 4))).toBe("ond line\nthird");
  expect(offsetOf(text, 2, 99), "past the end of line 2: its end").toBe(17);
  expect(offsetOf(text, 9, 1), "past the last line: the end").toBe(text.length);
});
