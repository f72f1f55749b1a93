// Settings → Consent texts: the workspace's library of the wordings people
// agree to (one per key, for a channel, purpose and language), with a form to
// add one, the editor that saves a changed wording as a new version (earlier
// versions stay as they were, so what a contact agreed to stays provable;
// the forms asking with the text show the new one at once, which it says
// before saving), each text's version history and the forms using it, and
// retiring a text no form uses (listed apart, reinstated at will). Who wrote
// each version and who retired a text are named as people know them (a
// member's name, an API key's). Every role that reads marketing sees it
// all; only roles with settings:write get the buttons.
import { Fragment, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useActorLabel, type Who } from "../actors";
import { api, useApi } from "../api";
import { FieldError, formatWhen, InlineConfirm, Loading, ProblemBox, TextField } from "../components";
import { countOf } from "../plural";
import { useCan } from "../session";
import {
  CHANNELS,
  channelLabel,
  createBodyOf,
  CREATE_FIELDS,
  EMPTY_TEXT,
  isNewWording,
  placeProblems,
  PURPOSES,
  purposeLabel,
  revisionReach,
  splitRetired,
  type ConsentText,
  type ConsentTextDetail,
  type ConsentTextInputs,
  type FormUsingText,
} from "./consentTextModel";

/** Where a form is opened in the forms page. */
const formHref = (id: string) => `/settings/forms?form=${encodeURIComponent(id)}`;

/** The forms asking with a text, each a link to its editor (its name only
 * for a role that may not see forms); `none` when there are none. */
function UsedBy({ forms, none }: { forms: readonly FormUsingText[] | undefined; none: string }) {
  const can = useCan();
  if (!forms || forms.length === 0) return <span className="muted">{none}</span>;
  return (
    <>
      {forms.map((f, i) => (
        <Fragment key={f.id}>
          {i > 0 && ", "}
          {can("consent:read") ? <Link to={formHref(f.id)}>{f.name}</Link> : f.name}
        </Fragment>
      ))}
    </>
  );
}

/** When and by whom a text was retired. */
function retiredWhen(t: Pick<ConsentText, "retired_at" | "retired_by">, who: Who): string {
  return `Retired ${formatWhen(t.retired_at)}${t.retired_by ? ` by ${who(t.retired_by)}` : ""}`;
}

export function ConsentTexts() {
  const can = useCan();
  const list = useApi<{ data: ConsentText[] }>("/api/v1/consent-texts");
  // The texts wait for the members' names, so that no email turns into a name under the reader's eyes.
  const names = useActorLabel();
  const [params, setParams] = useSearchParams();
  const open = params.get("key");
  const [adding, setAdding] = useState(false);
  const select = (key: string | null) => setParams(key ? { key } : {});
  const { active, retired } = splitRetired(list.data?.data ?? []);

  return (
    <>
      <section className="card" aria-labelledby="consent-texts-title">
        <div className="label-row">
          <h2 id="consent-texts-title">Consent texts</h2>
          {!adding && can("settings:write") && (
            <button type="button" onClick={() => setAdding(true)}>
              New consent text
            </button>
          )}
        </div>
        <p className="muted small">
          The exact wordings people agree to, one per key for a channel, purpose and language. Changing a wording saves a new version; consents
          already given keep referring to the version they were given under.
        </p>
        {adding && (
          <NewConsentText
            onCancel={() => setAdding(false)}
            onCreated={(t) => {
              setAdding(false);
              list.reload();
              select(t.key);
            }}
          />
        )}
        <ProblemBox error={list.error} context="Consent texts" />
        {((list.loading && !list.data) || names.loading) && <Loading what="consent texts" />}
        {list.data && !names.loading && (
          <>
            {active.length === 0 && retired.length === 0 && <p className="muted">No consent texts yet.</p>}
            {active.length > 0 && <TextTable label="Consent texts" texts={active} open={open} onSelect={select} who={names.label} />}
            {retired.length > 0 && (
              <>
                <h3 id="consent-texts-retired-title">Retired</h3>
                <p className="muted small">Offered to no form and gaining no version; every version stays readable, and a text can be reinstated.</p>
                <TextTable label="Retired consent texts" texts={retired} open={open} onSelect={select} who={names.label} retired />
              </>
            )}
          </>
        )}
      </section>
      {open && !names.loading && <ConsentTextPanel key={open} textKey={open} who={names.label} onChanged={list.reload} onClose={() => select(null)} />}
    </>
  );
}

/** A table of texts, each key a button that opens it; the retired ones say when they were retired. */
function TextTable({
  label,
  texts,
  open,
  onSelect,
  who,
  retired = false,
}: {
  label: string;
  texts: ConsentText[];
  open: string | null;
  onSelect: (key: string | null) => void;
  who: Who;
  retired?: boolean;
}) {
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Channel</th>
          <th scope="col">Purpose</th>
          <th scope="col">Language</th>
          <th scope="col">Version</th>
          <th scope="col">{retired ? "Retired" : "Used by"}</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {texts.map((t) => (
          <tr key={t.key} data-testid={`consent-text-${t.key}`} className={t.key === open ? "selected" : undefined}>
            <td>
              <button type="button" className="link" aria-pressed={t.key === open} onClick={() => onSelect(t.key === open ? null : t.key)}>
                {t.key}
              </button>
            </td>
            <td>{channelLabel(t.channel)}</td>
            <td>{purposeLabel(t.purpose)}</td>
            <td>{t.language}</td>
            <td data-field="version">{t.version}</td>
            <td data-field={retired ? "retired" : "used-by"}>
              {retired ? (
                <>
                  {formatWhen(t.retired_at)}
                  {t.retired_by && <span className="muted small"> by {who(t.retired_by)}</span>}
                </>
              ) : (
                <UsedBy forms={t.used_by} none="no form" />
              )}
            </td>
            <td>
              {formatWhen(t.created_at)}
              {t.created_by && <span className="muted small"> by {who(t.created_by)}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewConsentText({ onCancel, onCreated }: { onCancel: () => void; onCreated: (t: ConsentText) => void }) {
  const [form, setForm] = useState<ConsentTextInputs>(EMPTY_TEXT);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const set = (k: keyof ConsentTextInputs) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async () => {
    setSaving(true);
    setErrors({});
    setProblem(null);
    try {
      onCreated(await api<ConsentText>("POST", "/api/v1/consent-texts", createBodyOf(form)));
    } catch (e) {
      const p = placeProblems(e, CREATE_FIELDS);
      setErrors(p.fields);
      setProblem(p.rest);
      setSaving(false);
    }
  };

  return (
    <form
      className="new-consent-text"
      aria-label="New consent text"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="form-grid">
        <TextField id="consent-text-key" label="Key" placeholder="e.g. newsletter-email-en" value={form.key} onChange={set("key")} error={errors.key} />
        <div className="field">
          <label htmlFor="consent-text-channel">Channel</label>
          <select
            id="consent-text-channel"
            value={form.channel}
            onChange={(e) => set("channel")(e.target.value)}
            aria-invalid={errors.channel !== undefined}
            aria-describedby={errors.channel ? "consent-text-channel-error" : undefined}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {channelLabel(c)}
              </option>
            ))}
          </select>
          <FieldError id="consent-text-channel" error={errors.channel} />
        </div>
        <div className="field">
          <label htmlFor="consent-text-purpose">Purpose</label>
          <select
            id="consent-text-purpose"
            value={form.purpose}
            onChange={(e) => set("purpose")(e.target.value)}
            aria-invalid={errors.purpose !== undefined}
            aria-describedby={errors.purpose ? "consent-text-purpose-error" : undefined}
          >
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {purposeLabel(p)}
              </option>
            ))}
          </select>
          <FieldError id="consent-text-purpose" error={errors.purpose} />
        </div>
        <TextField id="consent-text-language" label="Language" placeholder="e.g. en, de, pt-BR" value={form.language} onChange={set("language")} error={errors.language} />
      </div>
      <WordingField id="consent-text-text" label="Text (shown to people exactly as written)" value={form.text} onChange={set("text")} error={errors.text} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Creating…" : "Create consent text"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ProblemBox error={problem} context="Consent text not created" />
    </form>
  );
}

function WordingField({ id, label, value, onChange, error }: { id: string; label: string; value: string; onChange: (v: string) => void; error?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={4}
        className={error ? "has-error prose" : "prose"}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error !== undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <FieldError id={id} error={error} />
    </div>
  );
}

/** One text: its current wording, the forms using it, the editor of a new
 * version, retiring or reinstating it, and every version. */
function ConsentTextPanel({ textKey, who, onChanged, onClose }: { textKey: string; who: Who; onChanged: () => void; onClose: () => void }) {
  const can = useCan();
  const detail = useApi<ConsentTextDetail>(`/api/v1/consent-texts/${encodeURIComponent(textKey)}`);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [confirmRetire, setConfirmRetire] = useState(false);
  const [standing, setStanding] = useState<{ busy: boolean; problem: unknown; context: string }>({ busy: false, problem: null, context: "" });
  const d = detail.data;
  const retired = Boolean(d?.retired_at);
  const reach = revisionReach(d?.used_by);

  const save = async () => {
    if (draft === null) return;
    setSaving(true);
    setError(undefined);
    setProblem(null);
    setNote(null);
    try {
      const t = await api<ConsentText>("PUT", `/api/v1/consent-texts/${encodeURIComponent(textKey)}`, { text: draft });
      setDraft(null);
      setNote(
        d?.used_by?.length
          ? `Saved as version ${t.version}; ${d.used_by.length === 1 ? "the form using it shows" : "the forms using it show"} the new words.`
          : `Saved as version ${t.version}.`,
      );
      detail.reload();
      onChanged();
    } catch (e) {
      const p = placeProblems(e, ["text"]);
      setError(p.fields.text);
      setProblem(p.rest);
    } finally {
      setSaving(false);
    }
  };

  /** Retire or reinstate; a refusal (the forms still using it) shows beside the buttons as the server words it. */
  const changeStanding = async (action: "retire" | "reinstate") => {
    const context = action === "retire" ? "Not retired" : "Not reinstated";
    setStanding({ busy: true, problem: null, context });
    setNote(null);
    try {
      await api<ConsentText>("POST", `/api/v1/consent-texts/${encodeURIComponent(textKey)}/${action}`);
      setStanding({ busy: false, problem: null, context });
      setNote(action === "retire" ? "Retired: no form can ask with it now." : "Reinstated: forms can ask with it again.");
      detail.reload();
      onChanged();
    } catch (e) {
      setStanding({ busy: false, problem: e, context });
    } finally {
      setConfirmRetire(false);
    }
  };

  return (
    <section className="card consent-text-panel" aria-labelledby="consent-text-panel-title" data-testid="consent-text-panel">
      <div className="label-row">
        <h2 id="consent-text-panel-title">
          <code>{textKey}</code>
          {retired && <span className="badge badge-retired">retired</span>}
        </h2>
        <span className="row-actions">
          {d && draft === null && can("settings:write") && (
            <>
              <button
                type="button"
                disabled={retired}
                aria-describedby={retired ? "consent-text-retired-note" : undefined}
                onClick={() => {
                  setDraft(d.text);
                  setNote(null);
                  setConfirmRetire(false);
                }}
              >
                Edit text
              </button>
              {retired ? (
                <button type="button" disabled={standing.busy} onClick={() => void changeStanding("reinstate")}>
                  Reinstate
                </button>
              ) : (
                !confirmRetire && (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      setConfirmRetire(true);
                      setStanding((x) => ({ ...x, problem: null }));
                    }}
                  >
                    Retire
                  </button>
                )
              )}
            </>
          )}
          <button type="button" onClick={onClose} aria-label={`Close ${textKey}`}>
            Close
          </button>
        </span>
      </div>
      {confirmRetire && d && !retired && (
        <div className="actions">
          <InlineConfirm
            label={`Confirm retiring ${textKey}`}
            question={`Retire ${textKey}? No form can ask with it then, and it gains no version; every version stays readable.`}
            yes="Yes, retire"
            disabled={standing.busy}
            onYes={() => void changeStanding("retire")}
            onNo={() => setConfirmRetire(false)}
          />
        </div>
      )}
      <ProblemBox error={standing.problem} context={standing.context} />
      <ProblemBox error={detail.error} context="Consent text" />
      {detail.loading && !d && <Loading what="the consent text" />}
      {d && (
        <>
          <p className="muted small">
            {channelLabel(d.channel)} · {purposeLabel(d.purpose)} · {d.language} · version {d.version} · {countOf(d.versions.length, "version")} in all
          </p>
          {d.wording_version && !retired && (
            <p className="muted small">
              Consents given now name it as <code>{d.wording_version}</code>; a subscription form's wording can be taken from it.
            </p>
          )}
          {retired && (
            <p className="notice small" id="consent-text-retired-note" data-testid="consent-text-retired">
              {retiredWhen(d, who)}. A retired text is offered to no form and keeps its words: reinstate it to write a new version.
            </p>
          )}
          <p className="small" data-testid="consent-text-used-by">
            <strong>Used by:</strong> <UsedBy forms={d.used_by} none="no form asks with this text." />
          </p>
          {note && (
            <p className="ok" role="status">
              {note}
            </p>
          )}
          {draft === null ? (
            <blockquote className="consent-wording" data-testid="consent-text-current">
              {d.text}
            </blockquote>
          ) : (
            <form
              aria-label="Edit consent text"
              onSubmit={(e) => {
                e.preventDefault();
                void save();
              }}
            >
              <p className="notice small" id="consent-text-edit-note">
                Saving makes version {d.version + 1}. Version {d.version} and earlier stay as they are: consents already given keep referring to the
                version they were given under.
              </p>
              {reach && (
                <p className="notice small" id="consent-text-edit-reach" data-testid="consent-text-edit-reach">
                  {reach}
                </p>
              )}
              <WordingField id="consent-text-edit" label="New text" value={draft} onChange={setDraft} error={error} />
              <div className="form-actions">
                <button type="submit" className="primary" disabled={saving || !isNewWording(d.text, draft)}>
                  {saving ? "Saving…" : `Save as version ${d.version + 1}`}
                </button>
                <button
                  type="button"
                  onClick={() => {
                    setDraft(null);
                    setError(undefined);
                    setProblem(null);
                  }}
                >
                  Cancel
                </button>
              </div>
              <ProblemBox error={problem} context="Not saved" />
            </form>
          )}
          <h3>Version history</h3>
          <ol className="consent-versions" aria-label={`Versions of ${textKey}`}>
            {d.versions.map((v) => (
              <li key={v.version} data-testid={`consent-version-${v.version}`}>
                <div className="small">
                  <strong>Version {v.version}</strong>
                  {v.wording_version && (
                    <>
                      {" "}
                      <code className="small">{v.wording_version}</code>
                    </>
                  )}
                  {v.version === d.version && <span className="badge badge-current">current</span>}{" "}
                  <span className="muted">
                    {formatWhen(v.created_at)}
                    {v.created_by && ` by ${who(v.created_by)}`}
                  </span>
                </div>
                <blockquote className="consent-wording">{v.text}</blockquote>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
