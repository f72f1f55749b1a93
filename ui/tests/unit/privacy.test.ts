// Unit tests of the erasure confirmation and the export file names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { confirmsErasure, erasurePhrase, exportFilename } from "../../src/privacy";

test("erasing a contact with an email needs that email, in any case", () => {
  const c = { email: "Zoe@Example.org" };
  assert.equal(erasurePhrase(c), "Zoe@Example.org");
  assert.ok(confirmsErasure("zoe@example.org", c));
  assert.ok(confirmsErasure("  Zoe@Example.org ", c));
  assert.ok(!confirmsErasure("zoe@example.com", c));
  assert.ok(!confirmsErasure("ERASE", c));
  assert.ok(!confirmsErasure("", c));
});

test("erasing a contact without an email needs ERASE, in capitals", () => {
  for (const email of [null, "", "  "]) {
    const c = { email };
    assert.equal(erasurePhrase(c), "ERASE");
    assert.ok(confirmsErasure("ERASE", c));
    assert.ok(!confirmsErasure("erase", c));
    assert.ok(!confirmsErasure("", c));
  }
});

test("export file names are safe whatever the id", () => {
  assert.equal(exportFilename("c_01ABC", "zip"), "contact-c_01ABC.zip");
  assert.equal(exportFilename("../x y", "json"), "contact--x-y.json");
});
