// Unit tests of the snippets page's logic: which snippets a text includes
// (as the server reads includes), who uses a snippet, and where each
// problem of a refused save is shown.
import { expect, test } from "vitest";
import { includedSnippets, snippetProblems, snippetUsers } from "../../src/email/snippet";

test("includes are read with either quote, with or without whitespace control, render too, each once", () => {
  const text = `{% include 'footer' %}<p>{%- include "header" -%}</p>{%render 'footer'%}{% if x %}{% endif %}{{ include }}`;
  expect(includedSnippets(text)).toStrictEqual(["footer", "header"]);
  expect(includedSnippets(null)).toStrictEqual([]);
  expect(includedSnippets("{% comment %}include 'no'{% endcomment %}")).toStrictEqual([]);
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
  expect(snippetUsers("footer", templates, snippets)).toStrictEqual({
    templates: [
      { id: "1", name: "T1" },
      { id: "3", name: "T3" },
      { id: "4", name: "T4" },
    ],
    snippets: ["legal"],
  });
  expect(snippetUsers("legal", templates, snippets)).toStrictEqual({ templates: [], snippets: [] });
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
  expect(p.name).toBe("a snippet name is 1 to 100 letters");
  expect(p.body).toStrictEqual([
    { part: "snippet footer", line: 2, column: 7, message: 'unknown variable "foo"' },
    { part: "body", line: null, column: null, message: "is required" },
  ]);
  expect(p.others).toStrictEqual([{ part: "snippet header", line: 1, column: 1, message: "broken" }]);
  expect(snippetProblems(undefined, "x")).toStrictEqual({ name: undefined, body: [], others: [] });
});
