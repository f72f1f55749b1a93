// Unit tests of how the settings pages name who made or changed something:
// a member by their name (found by email, in any case), someone no longer a
// member by their email and that they have left, an email the page cannot
// put a name to as it is, an API key by its name, the command line in words,
// and never the server's "user:" or "key:" form.
import { expect, test } from "vitest";
import { actorLabel, NOBODY_KNOWN, type KnownPeople } from "../../src/actors";

const MEMBERS: KnownPeople = {
  people: [
    { email: "ann@example.com", name: "Ann Organa" },
    { email: "no.name@example.com", name: " " },
  ],
  everyone: true,
};

test("a member is named by their name, found by their email in any case", () => {
  expect(actorLabel("user:ann@example.com", MEMBERS)).toBe("Ann Organa");
  expect(actorLabel("user:Ann@Example.com", MEMBERS)).toBe("Ann Organa");
  // A member without a name: their email.
  expect(actorLabel("user:no.name@example.com", MEMBERS)).toBe("no.name@example.com");
});

test("someone not among every member has left; without the members list an email is all the page can say", () => {
  expect(actorLabel("user:gone@example.com", MEMBERS)).toBe("gone@example.com (no longer a member)");
  // Only some people known (the signed-in one, for a role that cannot list members): nobody is said to have left.
  const me: KnownPeople = { people: [{ email: "ann@example.com", name: "Ann Organa" }], everyone: false };
  expect(actorLabel("user:ann@example.com", me)).toBe("Ann Organa");
  expect(actorLabel("user:bob@example.com", me)).toBe("bob@example.com");
  expect(actorLabel("user:bob@example.com")).toBe("bob@example.com");
  expect(actorLabel("user:bob@example.com", NOBODY_KNOWN)).toBe("bob@example.com");
});

test("an API key by its name, the command line in words, anything else as written", () => {
  expect(actorLabel("key:ka_baf6e98 (demo admin)", MEMBERS)).toBe("API key “demo admin”");
  expect(actorLabel("key:ka_baf6e98 (CRM sync (eu))")).toBe("API key “CRM sync (eu)”");
  expect(actorLabel("key:ka_baf6e98")).toBe("API key ka_baf6e98");
  expect(actorLabel("cli")).toBe("the command line");
  expect(actorLabel("system")).toBe("system");
});

test("no label shows the server's own form of an actor", () => {
  for (const actor of ["user:ann@example.com", "user:gone@example.com", "key:ka_1 (deploy)"])
    expect(actorLabel(actor, MEMBERS)).not.toMatch(/^(user|key):/);
});
