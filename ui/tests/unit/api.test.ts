// Unit tests of the API door's error handling that forms rely on: server
// complaints about inputs are found by field, and what is left is for the
// form's problem box; and the reading of Server-Sent Events blocks.
import { expect, test } from "vitest";
import { ApiError, fieldErrors, formProblems, sseEvents } from "../../src/api";

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
  expect(fieldErrors(e, ["email", "password"])).toStrictEqual({ password: "must be at least 12 characters" });
  expect(fieldErrors(e, ["email"])).toStrictEqual({});
  expect(fieldErrors(new Error("boom"), ["email"])).toStrictEqual({});
});

test("a refused form's problem is split between its fields and the box", () => {
  const refused = (errors: { path: string; message: string }[]) => new ApiError({ title: "Invalid", status: 422, detail: "d", errors });
  // Every message at a field: nothing left for the box.
  expect(formProblems(refused([{ path: "l2", message: "must be positive" }]), ["l2", "event"])).toStrictEqual({ fields: { l2: "must be positive" }, rest: null });
  // The others stay in the box, without the ones shown at fields.
  const mixed = formProblems(refused([{ path: "l2", message: "must be positive" }, { path: "rule", message: "bad" }]), ["l2"]);
  expect(mixed.fields).toStrictEqual({ l2: "must be positive" });
  expect(mixed.rest instanceof ApiError).toBeTruthy();
  expect((mixed.rest as ApiError).problem.errors).toStrictEqual([{ path: "rule", message: "bad" }]);
  // The detail (the server's list of every message) tells only the others: no message is shown twice.
  const told = formProblems(
    new ApiError({ title: "Invalid", status: 422, detail: "l2: must be positive; rule: bad", errors: [{ path: "l2", message: "must be positive" }, { path: "rule", message: "bad" }] }),
    ["l2"],
  );
  expect((told.rest as ApiError).problem.detail).toBe("rule: bad");
  // None at a field: the box has the problem, its errors gone when it had none.
  const none = formProblems(new ApiError({ title: "Conflict", status: 409, detail: "taken" }), ["l2"]);
  expect(none.fields).toStrictEqual({});
  expect((none.rest as ApiError).problem.detail).toBe("taken");
  expect((none.rest as ApiError).problem.errors).toBe(undefined);
  // Not an API error (the network, say): all for the box.
  const boom = new Error("boom");
  expect(formProblems(boom, ["l2"])).toStrictEqual({ fields: {}, rest: boom });
});

test("server-sent events are read block by block, keep-alive comments ignored, the unfinished rest kept", () => {
  expect(sseEvents("event: activity\ndata: {}\n\n:\n\nevent: activ")).toStrictEqual({ names: ["activity"], rest: "event: activ" });
  expect(sseEvents("event: activ" + "ity\ndata: {}\n\n")).toStrictEqual({ names: ["activity"], rest: "" });
  expect(sseEvents("data: x\r\n\r\nevent: a\r\n\r\nevent: b\n")).toStrictEqual({ names: ["message", "a"], rest: "event: b\n" });
  expect(sseEvents("")).toStrictEqual({ names: [], rest: "" });
});
