// Unit tests of the API door's error handling that forms rely on: server
// complaints about inputs are found by field, and what is left is for the
// form's problem box.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, fieldErrors, formProblems } from "../../src/api";

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

test("a refused form's problem is split between its fields and the box", () => {
  const refused = (errors: { path: string; message: string }[]) => new ApiError({ title: "Invalid", status: 422, detail: "d", errors });
  // Every message at a field: nothing left for the box.
  assert.deepEqual(formProblems(refused([{ path: "l2", message: "must be positive" }]), ["l2", "event"]), { fields: { l2: "must be positive" }, rest: null });
  // The others stay in the box, without the ones shown at fields.
  const mixed = formProblems(refused([{ path: "l2", message: "must be positive" }, { path: "rule", message: "bad" }]), ["l2"]);
  assert.deepEqual(mixed.fields, { l2: "must be positive" });
  assert.ok(mixed.rest instanceof ApiError);
  assert.deepEqual((mixed.rest as ApiError).problem.errors, [{ path: "rule", message: "bad" }]);
  // None at a field: the box has the problem, its errors gone when it had none.
  const none = formProblems(new ApiError({ title: "Conflict", status: 409, detail: "taken" }), ["l2"]);
  assert.deepEqual(none.fields, {});
  assert.equal((none.rest as ApiError).problem.detail, "taken");
  assert.equal((none.rest as ApiError).problem.errors, undefined);
  // Not an API error (the network, say): all for the box.
  const boom = new Error("boom");
  assert.deepEqual(formProblems(boom, ["l2"]), { fields: {}, rest: boom });
});
