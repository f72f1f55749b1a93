// Settings → Forms: the workspace's subscription forms (what each asks
// consent for and with which words, its list, double opt-in) with the hosted
// page's address, and the editor of one form (opened from the address,
// `?form=ID` or `?form=new`, so other pages can link to it), the server's
// problems shown on the field they name. The wording is what people consent
// to: either a text of the consent library, shown read-only with its version
// and followed to each new version, or the form's own, edited and shown
// verbatim.
import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, useApi } from "../api";
import { CopyButton, FieldError, Loading, ProblemBox, TextField } from "../components";
import type { StaticList } from "../api";
import { useCan } from "../session";
import { purposeLabel, type ConsentText } from "./consentTextModel";
import {
  bodyOf,
  chooseText,
  formEditorProblems,
  inputsOf,
  NAME_FIELDS,
  newFormInputs,
  offeredTexts,
  previewOf,
  PURPOSES,
  switchToOwn,
  type FormInputs,
  type FormView,
} from "./formModel";

const FIELD_LABELS: Record<string, string> = { first_name: "First name", last_name: "Last name" };

/** Where a library text is shown and revised. */
const textHref = (key: string) => `/settings/consent-texts?key=${encodeURIComponent(key)}`;

/** The library as the editor needs it: the texts once loaded, and why they did not load. */
interface Library {
  texts: ConsentText[] | undefined;
  error: unknown;
}

export function Forms() {
  const can = useCan();
  const forms = useApi<{ data: FormView[] }>("/api/v1/forms");
  const lists = useApi<{ data: StaticList[] }>("/api/v1/lists");
  // Only the editor chooses among the library's texts; the list names them from each definition.
  const library = useApi<{ data: ConsentText[] }>(can("consent:write") && can("marketing:read") ? "/api/v1/consent-texts" : null);
  const [params, setParams] = useSearchParams();
  const open = params.get("form");
  const openEditor = (id: string | null) => {
    // Fresh texts for the choice: one may have been added or retired since the page loaded.
    if (id !== null) library.reload();
    setParams(id === null ? {} : { form: id }, { replace: id === null });
  };
  // null: no editor open; "new": a new form; otherwise the form being edited.
  const editing: FormView | "new" | null =
    open === null || !can("consent:write") ? null : open === "new" ? "new" : (forms.data?.data.find((f) => f.id === open) ?? null);
  const missing = open !== null && open !== "new" && forms.data !== undefined && !forms.data.data.some((f) => f.id === open);
  const [problem, setProblem] = useState<unknown>(null);
  const listName = (id: string | null | undefined) => (id ? lists.data?.data.find((l) => l.id === id)?.name ?? id : "—");

  const remove = async (f: FormView) => {
    if (!window.confirm(`Delete the form "${f.name}"? Its page stops working; confirmation links already mailed still work.`)) return;
    setProblem(null);
    try {
      await api("DELETE", `/api/v1/forms/${f.id}`);
      if (open === f.id) openEditor(null);
      forms.reload();
    } catch (e) {
      setProblem(e);
    }
  };

  return (
    <section className="card" aria-labelledby="forms-title">
      <div className="label-row">
        <h2 id="forms-title">Subscription forms</h2>
        {editing === null && can("consent:write") && (
          <button type="button" onClick={() => openEditor("new")}>
            New form
          </button>
        )}
      </div>
      <p className="muted small">
        Each form has a hosted page where people subscribe; double opt-in forms grant consent only once the emailed link is confirmed.
      </p>
      {editing !== null && (
        <FormEditor
          key={editing === "new" ? "new" : editing.id}
          form={editing === "new" ? null : editing}
          lists={lists.data?.data ?? []}
          library={{ texts: library.data?.data, error: library.error }}
          onCancel={() => openEditor(null)}
          onSaved={() => {
            openEditor(null);
            forms.reload();
          }}
        />
      )}
      {missing && (
        <p className="notice" role="status">
          The form this address names is not in the list: it may have been deleted.
        </p>
      )}
      <ProblemBox error={forms.error} context="Forms" />
      <ProblemBox error={problem} context="Form not deleted" />
      {forms.loading && !forms.data && <Loading what="forms" />}
      {forms.data && forms.data.data.length === 0 && <p className="muted">No forms yet.</p>}
      {forms.data && forms.data.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Double opt-in</th>
              <th scope="col">List</th>
              <th scope="col">Purposes</th>
              <th scope="col">Wording</th>
              <th scope="col">Hosted page</th>
              {can("consent:write") && <th scope="col"><span className="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {forms.data.data.map((f) => {
              const url = new URL(f.url, window.location.origin).toString();
              return (
                <tr key={f.id} data-testid={`form-${f.id}`} className={f.id === open ? "selected" : undefined}>
                  <td>{f.name}</td>
                  <td>{f.definition.double_opt_in ? "yes" : "no"}</td>
                  <td>{listName(f.definition.list_id)}</td>
                  <td>{f.definition.purposes.map(purposeLabel).join(", ")}</td>
                  <td data-field="wording">
                    {f.definition.consent_text ? (
                      <>
                        <span className="badge badge-library">library</span>{" "}
                        <Link to={textHref(f.definition.consent_text)}>
                          {f.definition.wording_version}
                        </Link>
                      </>
                    ) : (
                      <>
                        <span className="badge">own</span> <code>{f.definition.wording_version}</code>
                      </>
                    )}
                  </td>
                  <td className="copy-cell">
                    <a href={url} target="_blank" rel="noopener noreferrer" data-testid="form-url" className="form-url" title={url}>
                      {f.url}
                    </a>{" "}
                    <CopyButton value={url} label={`Copy the address of ${f.name}`} />
                  </td>
                  {can("consent:write") && (
                    <td className="actions-cell">
                      <button type="button" onClick={() => openEditor(f.id)} aria-label={`Edit ${f.name}`}>
                        Edit
                      </button>
                      <button type="button" className="danger" onClick={() => void remove(f)} aria-label={`Delete ${f.name}`}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FormEditor({
  form,
  lists,
  library,
  onCancel,
  onSaved,
}: {
  form: FormView | null;
  lists: StaticList[];
  library: Library;
  onCancel: () => void;
  onSaved: () => void;
}) {
  const offered = offeredTexts(library.texts ?? []);
  const [f, setF] = useState<FormInputs>(() => (form ? inputsOf(form.definition) : newFormInputs(offered)));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof FormInputs>(k: K, v: FormInputs[K]) => setF((x) => ({ ...x, [k]: v }));
  const toggle = (k: "purposes" | "fields", v: string, on: boolean) => set(k, on ? [...f[k], v] : f[k].filter((x) => x !== v));
  // A new form opened before the library came asks with a library text once it comes,
  // unless the person already chose where the words come from or wrote some.
  const sourceChosen = useRef(form !== null);
  const chooseSource = (next: FormInputs) => {
    sourceChosen.current = true;
    setF(next);
  };
  useEffect(() => {
    if (sourceChosen.current || library.texts === undefined) return;
    sourceChosen.current = true;
    setF((x) => (x.wording.trim() === "" ? { ...x, wording_source: newFormInputs(offered).wording_source } : x));
  }, [library.texts]);
  // Looked up among all texts, so a form's text shows even if the library no longer offers it.
  const chosen = library.texts?.find((t) => t.key === f.consent_text);
  // The words the form will show: the chosen text's current version, or, while the library
  // is not at hand, the words the server gave the form from its text.
  const libraryWords = chosen
    ? { key: chosen.key, text: chosen.text, version: chosen.wording_version ?? `${chosen.key}@v${chosen.version}` }
    : form?.definition.consent_text && form.definition.consent_text === f.consent_text
      ? { key: f.consent_text, text: form.definition.wording, version: form.definition.wording_version }
      : null;
  const fromLibrary = f.wording_source === "library";
  const noneOffered = library.texts !== undefined && offered.length === 0;

  const save = async () => {
    setSaving(true);
    setErrors({});
    setProblem(null);
    try {
      // A PATCH naming every key the editor shows leaves the rest (template, sender) as they are.
      if (form) await api("PATCH", `/api/v1/forms/${form.id}`, bodyOf(f));
      else await api("POST", "/api/v1/forms", bodyOf(f));
      onSaved();
    } catch (e) {
      const p = formEditorProblems(e);
      setErrors(p.fields);
      setProblem(p.rest);
      setSaving(false);
    }
  };

  const errorOf = (id: string, k: string) => <FieldError id={id} error={errors[k]} />;
  const invalid = (id: string, k: string) => ({ "aria-invalid": errors[k] !== undefined, "aria-describedby": errors[k] ? `${id}-error` : undefined });

  return (
    <form
      aria-label={form ? `Edit form ${form.name}` : "New form"}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="form-grid two">
        <TextField id="form-name" label="Form name" value={f.name} onChange={(v) => set("name", v)} error={errors.name} />
        <fieldset className="field wording-source">
          <legend>Consent wording</legend>
          <label className="inline">
            <input type="radio" name="form-wording-source" checked={fromLibrary} onChange={() => chooseSource({ ...f, wording_source: "library" })} />
            <span>Use a text from the library</span>
          </label>
          <label className="inline">
            <input type="radio" name="form-wording-source" checked={!fromLibrary} onChange={() => chooseSource(switchToOwn(f, chosen))} />
            <span>Write the wording here</span>
          </label>
        </fieldset>
      </div>
      {fromLibrary ? (
        <div className="form-library" data-testid="form-library">
          <div className="form-grid two">
            <div className="field">
              <label htmlFor="form-consent_text">Library text</label>
              <select
                id="form-consent_text"
                value={f.consent_text}
                onChange={(e) => setF((x) => chooseText(x, library.texts?.find((t) => t.key === e.target.value)))}
                aria-invalid={errors.consent_text !== undefined}
                aria-describedby={errors.consent_text ? "form-consent_text-error" : noneOffered ? "form-consent_text-help" : undefined}
              >
                <option value="">{library.texts === undefined && !library.error ? "Loading the library…" : "Choose a text…"}</option>
                {offered.map((t) => (
                  <option key={t.key} value={t.key}>
                    {t.key} · {purposeLabel(t.purpose)} · {t.language} — “{previewOf(t.text)}”
                  </option>
                ))}
                {/* The form's text when the library no longer offers it, so the choice shows what the form holds. */}
                {f.consent_text && !offered.some((t) => t.key === f.consent_text) && <option value={f.consent_text}>{f.consent_text}</option>}
              </select>
              <FieldError
                id="form-consent_text"
                error={errors.consent_text}
                help={
                  noneOffered ? (
                    <>
                      The library has no email text in use: <Link to="/settings/consent-texts">add one in Consent texts</Link>, or write the wording here.
                    </>
                  ) : undefined
                }
              />
            </div>
            {libraryWords && (
              <div className="field">
                <label htmlFor="form-library-version">Wording version</label>
                <input id="form-library-version" readOnly value={libraryWords.version} {...invalid("form-library-version", "wording_version")} />
                {errorOf("form-library-version", "wording_version")}
              </div>
            )}
          </div>
          <ProblemBox error={library.error} context="Consent text library" />
          {libraryWords && (
            <>
              <div className="field">
                <label htmlFor="form-library-wording">Wording (from the library, shown to subscribers exactly as written)</label>
                <textarea id="form-library-wording" className="prose" rows={3} readOnly value={libraryWords.text} {...invalid("form-library-wording", "wording")} />
                {errorOf("form-library-wording", "wording")}
              </div>
              <p className="muted small">
                The words come from the library: <Link to={textHref(libraryWords.key)}>open {libraryWords.key} in Consent texts</Link> to change them. Each
                new version there is this form's at once.
              </p>
            </>
          )}
        </div>
      ) : (
        <>
          <div className="form-grid two">
            <TextField id="form-wording_version" label="Wording version" placeholder="e.g. 2026-11" value={f.wording_version} onChange={(v) => set("wording_version", v)} error={errors.wording_version} />
          </div>
          <div className="field">
            <label htmlFor="form-wording">Wording (shown to subscribers exactly as written)</label>
            <textarea
              id="form-wording"
              className={errors.wording ? "has-error prose" : "prose"}
              rows={3}
              value={f.wording}
              onChange={(e) => set("wording", e.target.value)}
              {...invalid("form-wording", "wording")}
            />
            {errorOf("form-wording", "wording")}
          </div>
        </>
      )}
      <fieldset className="field" aria-invalid={errors.purposes !== undefined} aria-describedby={errors.purposes ? "form-purposes-error" : undefined}>
        <legend>Purposes</legend>
        {PURPOSES.map((p) => (
          <label className="inline" key={p}>
            <input type="checkbox" checked={f.purposes.includes(p)} onChange={(e) => toggle("purposes", p, e.target.checked)} />
            <span>{purposeLabel(p)}</span>
          </label>
        ))}
        {errorOf("form-purposes", "purposes")}
      </fieldset>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="form-list_id">Add subscribers to list</label>
          <select
            id="form-list_id"
            value={f.list_id}
            onChange={(e) => set("list_id", e.target.value)}
            aria-invalid={errors.list_id !== undefined}
            aria-describedby={errors.list_id ? "form-list_id-error" : undefined}
          >
            <option value="">No list</option>
            {lists.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
            {/* A list no longer offered (deleted, say) still shows as what the form holds. */}
            {f.list_id && !lists.some((l) => l.id === f.list_id) && <option value={f.list_id}>{f.list_id}</option>}
          </select>
          {errorOf("form-list_id", "list_id")}
        </div>
        <TextField id="form-token_lifetime_hours" label="Link lifetime (hours)" value={f.token_lifetime_hours} onChange={(v) => set("token_lifetime_hours", v)} error={errors.token_lifetime_hours} />
        <TextField id="form-reminder_after_hours" label="Remind after (hours; empty: never)" value={f.reminder_after_hours} onChange={(v) => set("reminder_after_hours", v)} error={errors.reminder_after_hours} />
        <TextField id="form-max_reminders" label="Most reminders" value={f.max_reminders} onChange={(v) => set("max_reminders", v)} error={errors.max_reminders} />
      </div>
      <label className="inline">
        <input type="checkbox" checked={f.double_opt_in} onChange={(e) => set("double_opt_in", e.target.checked)} />
        <span>Double opt-in: consent is granted only when the subscriber confirms by email</span>
      </label>
      {errorOf("form-double_opt_in", "double_opt_in")}
      <fieldset className="field">
        <legend>Also ask for (email is always asked)</legend>
        {NAME_FIELDS.map((n) => (
          <label className="inline" key={n}>
            <input type="checkbox" checked={f.fields.includes(n)} onChange={(e) => toggle("fields", n, e.target.checked)} />
            <span>{FIELD_LABELS[n]}</span>
          </label>
        ))}
        {errorOf("form-fields", "fields")}
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : form ? "Save form" : "Create form"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ProblemBox error={problem} context={form ? "Form not saved" : "Form not created"} />
    </form>
  );
}
