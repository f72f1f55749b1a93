// Unit tests of the API door's error handling that forms rely on: server
// complaints about inputs are found by field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, fieldErrors } from "../../src/api";

test("field errors are picked out by the fields a form has, first message per field", () => {
  const e = new ApiError({
    title: "Invalid",
    status: 422,
    detail: "",
    errors: [
      { path: "password", message: "must be at least 12 characters" },
      { path: "password", message: "second complaint" },
      { path: "other", message: "not a field of this form" },
    ],
  });
  assert.deepEqual(fieldErrors(e, ["email", "password"]), { password: "must be at least 12 characters" });
  assert.deepEqual(fieldErrors(e, ["email"]), {});
  assert.deepEqual(fieldErrors(new Error("boom"), ["email"]), {});
});
