// Unit tests of the erasure confirmation and the export file names.
import { expect, test } from "vitest";
import { confirmsErasure, erasurePhrase, exportFilename } from "../../src/privacy";

test("erasing a contact with an email needs that email, in any case", () => {
  const c = { email: "Zoe@Example.org" };
  expect(erasurePhrase(c)).toBe("Zoe@Example.org");
  expect(confirmsErasure("zoe@example.org", c)).toBeTruthy();
  expect(confirmsErasure("  Zoe@Example.org ", c)).toBeTruthy();
  expect(!confirmsErasure("zoe@example.com", c)).toBeTruthy();
  expect(!confirmsErasure("ERASE", c)).toBeTruthy();
  expect(!confirmsErasure("", c)).toBeTruthy();
});

test("erasing a contact without an email needs ERASE, in capitals", () => {
  for (const email of [null, "", "  "]) {
    const c = { email };
    expect(erasurePhrase(c)).toBe("ERASE");
    expect(confirmsErasure("ERASE", c)).toBeTruthy();
    expect(!confirmsErasure("erase", c)).toBeTruthy();
    expect(!confirmsErasure("", c)).toBeTruthy();
  }
});

test("export file names are safe whatever the id", () => {
  expect(exportFilename("c_01ABC", "zip")).toBe("contact-c_01ABC.zip");
  expect(exportFilename("../x y", "json")).toBe("contact--x-y.json");
});
