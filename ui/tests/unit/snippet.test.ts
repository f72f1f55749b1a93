// Unit tests of the snippets page's logic: which snippets a text includes
// (as the server reads includes), who uses a snippet, and where each
// problem of a refused save is shown.
import assert from "node:assert/strict";
import { test } from "node:test";
import { includedSnippets, snippetProblems, snippetUsers } from "../../src/email/snippet";

test("includes are read with either quote, with or without whitespace control, render too, each once", () => {
  const text = `{% include 'footer' %}<p>{%- include "header" -%}</p>{%render 'footer'%}{% if x %}{% endif %}{{ include }}`;
  assert.deepEqual(includedSnippets(text), ["footer", "header"]);
  assert.deepEqual(includedSnippets(null), []);
  assert.deepEqual(includedSnippets("{% comment %}include 'no'{% endcomment %}"), []);
});

test("a snippet is used by templates that include it or have it as layout, and by other snippets", () => {
  const t = (id: string, body: string, extra: { subject?: string; text?: string | null; layout?: string | null } = {}) => ({
    id,
    name: `T${id}`,
    subject: extra.subject ?? "Hi",
    body,
    text: extra.text ?? null,
    layout: extra.layout ?? null,
  });
  const templates = [
    t("1", "{% include 'footer' %}"),
    t("2", "<p>none</p>"),
    t("3", "<p/>", { layout: "footer" }),
    t("4", "<p/>", { text: "Bye {% include 'footer' %}" }),
    t("5", "{% include 'footers' %}"),
  ];
  const snippets = [
    { name: "footer", body: "{% include 'footer' %}" },
    { name: "legal", body: "{% include 'footer' %}" },
  ];
  assert.deepEqual(snippetUsers("footer", templates, snippets), {
    templates: [
      { id: "1", name: "T1" },
      { id: "3", name: "T3" },
      { id: "4", name: "T4" },
    ],
    snippets: ["legal"],
  });
  assert.deepEqual(snippetUsers("legal", templates, snippets), { templates: [], snippets: [] });
});

test("a refused save's problems go to the name, the body, or the others", () => {
  const p = snippetProblems(
    [
      { path: "name", message: "a snippet name is 1 to 100 letters" },
      { path: "snippet footer:2:7", message: 'unknown variable "foo"' },
      { path: "body", message: "is required" },
      { path: "snippet header:1:1", message: "broken" },
    ],
    "footer",
  );
  assert.equal(p.name, "a snippet name is 1 to 100 letters");
  assert.deepEqual(p.body, [
    { part: "snippet footer", line: 2, column: 7, message: 'unknown variable "foo"' },
    { part: "body", line: null, column: null, message: "is required" },
  ]);
  assert.deepEqual(p.others, [{ part: "snippet header", line: 1, column: 1, message: "broken" }]);
  assert.deepEqual(snippetProblems(undefined, "x"), { name: undefined, body: [], others: [] });
});
