// Unit tests of how the template editor places the API's problems: paths
// `part:line:column` read into their parts, and line/column to a caret offset.
import assert from "node:assert/strict";
import { test } from "node:test";
import { offsetOf, templateIssues } from "../../src/email/types";

test("problem paths are read into part, line and column", () => {
  const issues = templateIssues([
    { path: "body:2:4", message: 'contact has no field "frist_name"' },
    { path: "snippet footer:1:12", message: "unknown snippet" },
    { path: "name", message: "a template needs a name" },
  ]);
  assert.deepEqual(issues, [
    { part: "body", line: 2, column: 4, message: 'contact has no field "frist_name"' },
    { part: "snippet footer", line: 1, column: 12, message: "unknown snippet" },
    { part: "name", line: null, column: null, message: "a template needs a name" },
  ]);
  assert.deepEqual(templateIssues(undefined), []);
});

test("a line and column become the caret offset, clamped to the line", () => {
  const text = "first\nsecond line\nthird";
  assert.equal(offsetOf(text, 1, 1), 0);
  assert.equal(offsetOf(text, 2, 4), 9);
  assert.equal(text.slice(offsetOf(text, 2, 4)), "ond line\nthird");
  assert.equal(offsetOf(text, 2, 99), 17, "past the end of line 2: its end");
  assert.equal(offsetOf(text, 9, 1), text.length, "past the last line: the end");
});
