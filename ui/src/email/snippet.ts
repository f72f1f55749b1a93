// Email snippets as the UI handles them: the wire shape of
// /api/v1/email/snippets, which templates and snippets use a snippet (the
// server lets one be deleted while in use, so the page warns), and where
// each problem of a refused save belongs. Pure, so it is unit tested.
import { templateIssues, type EmailTemplate, type TemplateIssue } from "./types";

/** GET /api/v1/email/snippets (one item); PUT …/{name} answers without `updated_at`. */
export interface Snippet {
  name: string;
  body: string;
  updated_at?: number;
}

/** The snippets `text` includes, as the server reads `{% include 'x' %}` and `{% render "x" %}` (with or without `-`). */
export function includedSnippets(text: string | null | undefined): string[] {
  const out: string[] = [];
  for (const m of (text ?? "").matchAll(/\{%-?\s*(?:include|render)\s+['"]([^'"]+)['"]/g)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/** The templates and other snippets that would break without snippet `name`. */
export function snippetUsers(
  name: string,
  templates: readonly Pick<EmailTemplate, "id" | "name" | "subject" | "body" | "text" | "layout">[],
  snippets: readonly Snippet[],
): { templates: { id: string; name: string }[]; snippets: string[] } {
  return {
    templates: templates
      .filter((t) => t.layout === name || [t.subject, t.body, t.text].some((part) => includedSnippets(part).includes(name)))
      .map((t) => ({ id: t.id, name: t.name })),
    snippets: snippets.filter((s) => s.name !== name && includedSnippets(s.body).includes(name)).map((s) => s.name),
  };
}

/** A refused save's `errors`, sorted: the name's message, the body's
 * problems (the snippet's own "snippet NAME:line:col" paths and "body"),
 * and any other (a snippet it includes, say) to list apart. */
export function snippetProblems(errors: { path: string; message: string }[] | undefined, name: string) {
  const issues = templateIssues((errors ?? []).filter((e) => e.path !== "name"));
  const body: TemplateIssue[] = [];
  const others: TemplateIssue[] = [];
  for (const i of issues) (i.part === `snippet ${name}` || i.part === "body" ? body : others).push(i);
  return { name: errors?.find((e) => e.path === "name")?.message, body, others };
}
