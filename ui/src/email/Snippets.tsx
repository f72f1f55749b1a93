// Email snippets, beside the templates: reusable pieces of Liquid that a
// template includes with {% include 'name' %} (or has as its layout). The
// list, and the editor that creates one, changes its body in the code
// editor (the server's problems shown on the lines at fault) and deletes it
// after a confirm that names the templates it would break. Read-only for
// roles that cannot change templates.
import { useMemo, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, ApiError, useApi } from "../api";
import { CopyButton, formatWhen, InlineConfirm, Loading, PageHeader, ProblemBox, TextField } from "../components";
import { useSession } from "../session";
import { CodeEditor, IssueList, type CodeEditorHandle } from "./CodeEditor";
import { snippetProblems, snippetUsers, type Snippet } from "./snippet";
import { TemplateSections } from "./Templates";
import type { EmailTemplate, TemplateIssue } from "./types";

const LIST = "/api/v1/email/snippets";
const HOME = "/email/templates/snippets";

const STARTER = `<p style="font-size: 12px; color: #5b6275;">
  {{ sender.postal_address }} ·
  <a href="{{ links.unsubscribe }}">Unsubscribe</a>
</p>`;

const usage = (name: string) => `{% include '${name}' %}`;
const editorPath = (name: string) => `${HOME}/${encodeURIComponent(name)}`;

export function Snippets() {
  const { can } = useSession();
  const list = useApi<{ data: Snippet[] }>(LIST);
  // The editor comes back here after a delete, saying what it deleted.
  const deleted = (useLocation().state as { deleted?: string } | null)?.deleted;
  return (
    <section>
      <PageHeader title="Email snippets">
        {can("marketing:write") && (
          <Link className="button primary" to={`${HOME}/new`}>
            New snippet
          </Link>
        )}
      </PageHeader>
      <TemplateSections />
      <p className="muted">
        Pieces of Liquid many templates share, like a footer: a template includes one with <code>{usage("name")}</code>, or uses one holding{" "}
        <code>{"{{ content }}"}</code> as its layout.
      </p>
      {deleted && (
        <p className="ok" role="status">
          Deleted {deleted}.
        </p>
      )}
      <ProblemBox error={list.error} context="Snippets" />
      {list.loading && !list.data && <Loading what="snippets" />}
      {list.data && list.data.data.length === 0 && <p className="muted">No snippets yet.</p>}
      {list.data && list.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="snippets">
            <caption className="sr-only">Email snippets</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Included with</th>
                <th scope="col" className="num hide-narrow">Lines</th>
                <th scope="col" className="hide-narrow">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((s) => (
                <tr key={s.name} data-testid={`snippet-${s.name}`}>
                  <td>
                    <Link to={editorPath(s.name)}>{s.name}</Link>
                  </td>
                  <td>
                    <code>{usage(s.name)}</code>
                  </td>
                  <td className="num hide-narrow">{s.body.split("\n").length}</td>
                  <td className="hide-narrow">{formatWhen(s.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function SnippetEditor() {
  const { name } = useParams();
  const isNew = name === undefined;
  const navigate = useNavigate();
  const { can, session } = useSession();
  const editable = can("marketing:write");
  // The API has no GET of one snippet: the list carries every body.
  const list = useApi<{ data: Snippet[] }>(LIST);
  const templates = useApi<{ data: EmailTemplate[] }>("/api/v1/email/templates");
  const saved = isNew ? undefined : list.data?.data.find((s) => s.name === name);
  const justSaved = (useLocation().state as { saved?: string } | null)?.saved === name;

  if (isNew || saved)
    return (
      <SnippetForm
        key={saved?.name ?? "new"}
        saved={saved}
        snippets={list.data?.data}
        templates={templates.data?.data}
        templatesError={templates.error}
        editable={editable}
        role={session.role}
        savedNote={justSaved}
        onSaved={(s) => (isNew ? navigate(editorPath(s.name), { replace: true, state: { saved: s.name } }) : list.reload())}
        onDeleted={(n) => navigate(HOME, { state: { deleted: n } })}
      />
    );
  return (
    <section>
      <PageHeader title={`Snippet: ${name}`}>
        <Link to={HOME}>All snippets</Link>
      </PageHeader>
      <ProblemBox error={list.error} context="Loading the snippet" />
      {list.loading && !list.data && <Loading what="the snippet" />}
      {list.data && (
        <p className="notice" role="alert">
          There is no snippet named “{name}”. <Link to={HOME}>See all snippets</Link>.
        </p>
      )}
    </section>
  );
}

function SnippetForm({
  saved,
  snippets,
  templates,
  templatesError,
  editable,
  role,
  savedNote,
  onSaved,
  onDeleted,
}: {
  saved: Snippet | undefined;
  snippets: Snippet[] | undefined;
  templates: EmailTemplate[] | undefined;
  templatesError: unknown;
  editable: boolean;
  role: string;
  savedNote: boolean;
  onSaved: (s: Snippet) => void;
  onDeleted: (name: string) => void;
}) {
  const [name, setName] = useState(saved?.name ?? "");
  const [body, setBody] = useState(saved?.body ?? STARTER);
  const [saving, setSaving] = useState(false);
  const [nameError, setNameError] = useState<string | undefined>(undefined);
  const [issues, setIssues] = useState<{ body: TemplateIssue[]; others: TemplateIssue[] }>({ body: [], others: [] });
  const [saveError, setSaveError] = useState<unknown>(null);
  const [note, setNote] = useState(savedNote);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const editor = useRef<CodeEditorHandle>(null);
  const dirty = !saved || body !== saved.body;
  const users = useMemo(() => (saved && templates && snippets ? snippetUsers(saved.name, templates, snippets) : null), [saved, templates, snippets]);

  async function save() {
    const n = saved?.name ?? name.trim();
    setNameError(undefined);
    setIssues({ body: [], others: [] });
    setSaveError(null);
    setNote(false);
    if (!n) return setNameError("A snippet needs a name.");
    // PUT creates or replaces: a new snippet must not replace one by accident.
    if (!saved && snippets?.some((s) => s.name === n)) return setNameError(`A snippet named “${n}” exists already; open it to change it.`);
    setSaving(true);
    try {
      const s = await api<Snippet>("PUT", `${LIST}/${encodeURIComponent(n)}`, { body });
      setNote(true);
      onSaved(s);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const found = snippetProblems(e.problem.errors, n);
        setNameError(found.name);
        setIssues(found);
        // The box says the save failed; the lines and the name say why.
        setSaveError(new ApiError({ ...e.problem, errors: undefined }));
      } else setSaveError(e);
    } finally {
      setSaving(false);
    }
  }

  async function remove() {
    if (!saved) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await api("DELETE", `${LIST}/${encodeURIComponent(saved.name)}`);
      onDeleted(saved.name);
    } catch (e) {
      setDeleteError(e);
      setDeleting(false);
    }
  }

  const usedBy = users ? [...users.templates.map((t) => t.name), ...users.snippets.map((s) => `snippet ${s}`)] : [];
  return (
    <section>
      <PageHeader title={saved ? `Snippet: ${saved.name}` : "New snippet"}>
        <Link to={HOME}>All snippets</Link>
      </PageHeader>
      <form
        className="template-form"
        aria-label="Snippet"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {saved ? (
          <div className="row snippet-usage">
            <span className="muted">Include it with</span> <code data-testid="snippet-usage">{usage(saved.name)}</code>
            <CopyButton value={usage(saved.name)} label={`Copy how to include ${saved.name}`} />
          </div>
        ) : (
          <TextField
            id="snippet-name"
            label="Name"
            value={name}
            onChange={(v) => {
              setName(v);
              setNameError(undefined);
            }}
            placeholder="e.g. footer (letters, digits, _ and -)"
            error={nameError}
          />
        )}
        <div className="field">
          <label htmlFor="snippet-body">Body (Liquid, HTML or MJML as the templates that include it use)</label>
          <CodeEditor
            ref={editor}
            id="snippet-body"
            value={body}
            onChange={(v) => {
              setBody(v);
              setNote(false);
            }}
            issues={issues.body}
            rows={14}
            readOnly={!editable}
            describedBy="snippet-body-hint snippet-body-issues"
          />
          <span className="small muted" id="snippet-body-hint">
            {editable ? "Tab indents; press Esc, then Tab, to move on from the editor." : `Your role (${role}) can read snippets but not change them.`}
          </span>
          <IssueList id="snippet-body-issues" issues={issues.body} onGo={(i) => i.line !== null && editor.current?.goTo(i.line, i.column ?? 1)} />
        </div>
        {issues.others.length > 0 && (
          <div className="problem" role="alert">
            <strong>Problems in what it includes</strong>
            <IssueList issues={issues.others} showPart />
          </div>
        )}
        {saved && (
          <p className="muted small" data-testid="snippet-users">
            {templatesError ? (
              "Which templates use it could not be loaded."
            ) : !users ? (
              "Looking for the templates that use it…"
            ) : usedBy.length === 0 ? (
              "No template or snippet includes it."
            ) : (
              <>
                Used by{" "}
                {users.templates.map((t, i) => (
                  <span key={t.id}>
                    {i > 0 && ", "}
                    <Link to={`/email/templates/${t.id}`}>{t.name}</Link>
                  </span>
                ))}
                {users.templates.length > 0 && users.snippets.length > 0 && ", "}
                {users.snippets.map((s) => `snippet ${s}`).join(", ")}: saving changes what they send.
              </>
            )}
          </p>
        )}
        {editable && (
          <div className="form-actions">
            <button type="submit" className="primary" disabled={saving || !dirty}>
              {saving ? "Saving…" : saved ? "Save changes" : "Create snippet"}
            </button>
            {saved && !dirty && !note && <span className="muted">No unsaved changes.</span>}
            {note && saved && (
              <span className="ok" role="status">
                Saved.
              </span>
            )}
            {/* The server refuses to delete a snippet in use (it would break what includes it), so none is offered. */}
            {saved && usedBy.length > 0 && (
              <span className="muted small push-right" data-testid="snippet-delete-blocked">
                To delete it, first remove the include from {usedBy.join(", ")}.
              </span>
            )}
            {saved && usedBy.length === 0 &&
              (confirmDelete ? (
                <span className="push-right">
                  <InlineConfirm
                    label="Confirm deletion"
                    question={`Delete “${saved.name}”?`}
                    yes={deleting ? "Deleting…" : "Yes, delete"}
                    disabled={deleting}
                    onYes={() => void remove()}
                    onNo={() => setConfirmDelete(false)}
                  />
                </span>
              ) : (
                <button type="button" className="danger push-right" onClick={() => setConfirmDelete(true)}>
                  Delete…
                </button>
              ))}
          </div>
        )}
        <ProblemBox error={saveError} context="Not saved" />
        <ProblemBox error={deleteError} context="Not deleted" />
      </form>
    </section>
  );
}
