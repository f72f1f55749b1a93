// Settings → Forms: the workspace's subscription forms (what each asks
// consent for, its list, double opt-in) with the hosted page's address, and
// the editor of one form, the server's problems shown on the field they name.
// The wording is what people consent to, so it is edited and shown verbatim.
import { useState } from "react";
import { api, ApiError, useApi } from "../api";
import { CopyButton, Loading, ProblemBox, TextField } from "../components";
import type { StaticList } from "../api";
import { useCan } from "../session";
import { bodyOf, EMPTY_FORM, FORM_FIELDS, inputOfPath, inputsOf, NAME_FIELDS, PURPOSES, type FormInputs, type FormView } from "./formModel";

const PURPOSE_LABELS: Record<string, string> = {
  marketing: "Marketing",
  product_updates: "Product updates",
  profiling: "Profiling",
  third_party_sharing: "Third-party sharing",
};
const FIELD_LABELS: Record<string, string> = { first_name: "First name", last_name: "Last name" };

export function Forms() {
  const can = useCan();
  const forms = useApi<{ data: FormView[] }>("/api/v1/forms");
  const lists = useApi<{ data: StaticList[] }>("/api/v1/lists");
  // null: no editor open; "new": a new form; otherwise the form being edited.
  const [editing, setEditing] = useState<FormView | "new" | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const listName = (id: string | null | undefined) => (id ? lists.data?.data.find((l) => l.id === id)?.name ?? id : "—");

  const remove = async (f: FormView) => {
    if (!window.confirm(`Delete the form "${f.name}"? Its page stops working; confirmation links already mailed still work.`)) return;
    setProblem(null);
    try {
      await api("DELETE", `/api/v1/forms/${f.id}`);
      if (editing !== "new" && editing?.id === f.id) setEditing(null);
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
          <button type="button" onClick={() => setEditing("new")}>
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
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            forms.reload();
          }}
        />
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
              <th scope="col">Hosted page</th>
              {can("consent:write") && <th scope="col"><span className="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {forms.data.data.map((f) => {
              const url = new URL(f.url, window.location.origin).toString();
              return (
                <tr key={f.id} data-testid={`form-${f.id}`}>
                  <td>{f.name}</td>
                  <td>{f.definition.double_opt_in ? "yes" : "no"}</td>
                  <td>{listName(f.definition.list_id)}</td>
                  <td>{f.definition.purposes.map((p) => PURPOSE_LABELS[p] ?? p).join(", ")}</td>
                  <td className="copy-cell">
                    <a href={url} target="_blank" rel="noopener noreferrer" data-testid="form-url">
                      {f.url}
                    </a>{" "}
                    <CopyButton value={url} label={`Copy the address of ${f.name}`} />
                  </td>
                  {can("consent:write") && (
                    <td className="actions-cell">
                      <button type="button" onClick={() => setEditing(f)} aria-label={`Edit ${f.name}`}>
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

function FormEditor({ form, lists, onCancel, onSaved }: { form: FormView | null; lists: StaticList[]; onCancel: () => void; onSaved: () => void }) {
  const [f, setF] = useState<FormInputs>(form ? inputsOf(form.definition) : EMPTY_FORM);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof FormInputs>(k: K, v: FormInputs[K]) => setF((x) => ({ ...x, [k]: v }));
  const toggle = (k: "purposes" | "fields", v: string, on: boolean) => set(k, on ? [...f[k], v] : f[k].filter((x) => x !== v));

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
      // `purposes[1]` and `fields[0]` belong to their group of checkboxes.
      const byField: Record<string, string> = {};
      if (e instanceof ApiError)
        for (const x of e.problem.errors ?? []) {
          const k = inputOfPath(x.path);
          if ((FORM_FIELDS as readonly string[]).includes(k) && !(k in byField)) byField[k] = x.path === k ? x.message : `${x.path}: ${x.message}`;
        }
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(e);
      setSaving(false);
    }
  };

  const errorOf = (id: string, k: string) =>
    errors[k] && (
      <p className="field-error" id={`${id}-error`}>
        {errors[k]}
      </p>
    );

  return (
    <form
      aria-label={form ? `Edit form ${form.name}` : "New form"}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="form-grid">
        <TextField id="form-name" label="Form name" value={f.name} onChange={(v) => set("name", v)} error={errors.name} />
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
          aria-invalid={errors.wording !== undefined}
          aria-describedby={errors.wording ? "form-wording-error" : undefined}
        />
        {errorOf("form-wording", "wording")}
      </div>
      <fieldset className="field" aria-invalid={errors.purposes !== undefined} aria-describedby={errors.purposes ? "form-purposes-error" : undefined}>
        <legend>Purposes</legend>
        {PURPOSES.map((p) => (
          <label className="inline" key={p}>
            <input type="checkbox" checked={f.purposes.includes(p)} onChange={(e) => toggle("purposes", p, e.target.checked)} />
            <span>{PURPOSE_LABELS[p]}</span>
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
