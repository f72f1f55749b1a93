// Settings → Sending policy: how often marketing may reach a contact on
// each channel (frequency caps), the local hours it waits through (quiet
// hours), the time zone used for contacts without one, and transparency
// (the "sent automatically" line in every email and the public page of what
// is collected, with its link once published). One form, saved as one
// document, since the server validates the settings as a whole; the postal
// address (edited under Email & address) is kept as it is. Roles that may
// only read settings see the same form, disabled.
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { api, useApi } from "../api";
import { CopyButton, FieldError, Loading, ProblemBox, TextField } from "../components";
import { useSession } from "../session";
import {
  capKey,
  CHANNELS,
  channelLabel,
  checkPolicy,
  hourLabel,
  isChanged,
  placePolicyProblems,
  policyChangesOf,
  policyInputsOf,
  quietSentence,
  standingErrors,
  timeZoneChoices,
  WINDOWS,
  withCap,
  type CapWindow,
  type Channel,
  type PolicyInputs,
  type SettingsDoc,
} from "./policyModel";

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const WINDOW_LABELS: Record<CapWindow, string> = { per_day: "per day", per_week: "per week" };

/** The input a field's message belongs to, to move there when a save is refused. */
function inputIdOf(field: string): string {
  const cap = /^caps\.(\w+)\.(per_day|per_week)$/.exec(field);
  if (cap) return `policy-cap-${cap[1]}-${cap[2]}`;
  return (
    {
      caps: `policy-cap-${CHANNELS[0]}-per_day`,
      quiet_hours: "policy-quiet-start",
      default_timezone: "policy-timezone",
      transparency: "policy-transparency",
      "transparency.organisation": "policy-organisation",
      "transparency.privacy_contact": "policy-privacy-contact",
      "transparency.statement": "policy-statement",
    }[field] ?? ""
  );
}

/** Attributes of an input whose field may carry a message (`${id}-error`) or help (`${id}-help`). */
function described(id: string, error: string | undefined, help = false) {
  return {
    "aria-invalid": error !== undefined,
    "aria-describedby": error ? `${id}-error` : help ? `${id}-help` : undefined,
    className: error ? "has-error" : undefined,
  };
}

export function SendingPolicy() {
  const { session, can } = useSession();
  const editable = can("settings:write");
  const settings = useApi<SettingsDoc>("/api/v1/settings");
  // The document as last saved here; until then, as loaded.
  const [saved, setSaved] = useState<SettingsDoc | null>(null);
  const doc = saved ?? settings.data;
  const [i, setI] = useState<PolicyInputs | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [justSaved, setJustSaved] = useState(false);
  const zones = useMemo(() => timeZoneChoices(), []);

  useEffect(() => {
    if (settings.data) setI((x) => x ?? policyInputsOf(settings.data!));
  }, [settings.data]);

  const edit = (next: PolicyInputs) => {
    if (i) setErrors((e) => standingErrors(e, i, next));
    setI(next);
    setJustSaved(false);
  };

  const refused = (fields: Record<string, string>) => {
    setErrors(fields);
    const first = Object.keys(fields)[0];
    if (first) window.requestAnimationFrame(() => document.getElementById(inputIdOf(first))?.focus());
  };

  const save = async () => {
    if (!i || !doc) return;
    setProblem(null);
    setJustSaved(false);
    const mine = checkPolicy(i);
    if (Object.keys(mine).length > 0) return refused(mine);
    setErrors({});
    setSaving(true);
    try {
      const next = await api<SettingsDoc>("PATCH", "/api/v1/settings", policyChangesOf(i));
      setSaved(next);
      setI(policyInputsOf(next));
      setJustSaved(true);
    } catch (e) {
      const placed = placePolicyProblems(e);
      refused(placed.fields);
      setProblem(placed.rest);
    } finally {
      setSaving(false);
    }
  };

  const changed = doc && i ? isChanged(doc, i) : false;
  const marked = Object.keys(errors).length;

  return (
    <>
      <ProblemBox error={settings.error} context="Sending policy" />
      {settings.loading && !i && <Loading what="the sending policy" />}
      {i && doc && (
        <form
          className="policy-form"
          aria-label="Sending policy"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {!editable && (
            <p className="notice small" data-testid="policy-read-only">
              Your role ({session.role}) can look at the sending policy but not change it; an owner or admin can.
            </p>
          )}
          <fieldset className="plain" disabled={!editable}>
            <legend className="sr-only">Caps, quiet hours and time zone</legend>
            <Caps i={i} errors={errors} onChange={edit} />
            <Quiet i={i} error={errors.quiet_hours} onChange={edit} />
            <section className="card" aria-labelledby="policy-timezone-title">
              <h2 id="policy-timezone-title">Default time zone</h2>
              <div className="field policy-field">
                <label htmlFor="policy-timezone">Time zone for contacts without one</label>
                <input
                  id="policy-timezone"
                  list="policy-timezones"
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="e.g. Europe/Berlin"
                  value={i.timezone}
                  onChange={(e) => edit({ ...i, timezone: e.target.value })}
                  {...described("policy-timezone", errors.default_timezone, true)}
                />
                <datalist id="policy-timezones">
                  {zones.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
                <FieldError
                  id="policy-timezone"
                  error={errors.default_timezone}
                  help="An IANA time zone, like Europe/Berlin or America/New_York. Quiet hours use it for contacts whose own time zone is not known. Empty: UTC."
                />
              </div>
            </section>
          </fieldset>
          <TransparencyCard
            i={i}
            errors={errors}
            onChange={edit}
            readOnly={!editable}
            published={doc.transparency?.public_page === true}
            workspace={session.workspace.id}
          />
          {editable && (
            <div className="form-actions policy-actions">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? "Saving…" : "Save sending policy"}
              </button>
              <span className={justSaved && !changed ? "ok" : "muted small"} role="status" data-testid="policy-status">
                {saving ? "" : justSaved && !changed ? "Saved." : changed ? "Unsaved changes." : ""}
              </span>
              {marked > 0 && (
                <p className="field-error" role="alert">
                  Not saved: {marked === 1 ? "correct the field marked above." : `correct the ${marked} fields marked above.`}
                </p>
              )}
            </div>
          )}
          <ProblemBox error={problem} context="Not saved" />
        </form>
      )}
    </>
  );
}

function Caps({ i, errors, onChange }: { i: PolicyInputs; errors: Record<string, string>; onChange: (i: PolicyInputs) => void }) {
  return (
    <section className="card" aria-labelledby="policy-caps-title">
      <h2 id="policy-caps-title">Frequency caps</h2>
      <p className="muted small" id="policy-caps-about">
        The most marketing messages one contact receives on each channel in a day (24 hours) and in a week (7 days); past the cap the message is not
        sent. Leave empty for no cap. Transactional messages are never capped.
      </p>
      {errors.caps && (
        <p className="field-error" id="policy-caps-error">
          {errors.caps}
        </p>
      )}
      <table className="table compact caps-table" aria-describedby="policy-caps-about">
        <caption className="sr-only">Frequency caps per channel</caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Per day</th>
            <th scope="col">Per week</th>
          </tr>
        </thead>
        <tbody>
          {CHANNELS.map((c) => (
            <tr key={c} data-testid={`cap-${c}`}>
              <th scope="row">{channelLabel(c)}</th>
              {WINDOWS.map((w) => (
                <CapCell key={w} i={i} channel={c} window={w} error={errors[capKey(c, w)]} onChange={onChange} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CapCell({
  i,
  channel,
  window,
  error,
  onChange,
}: {
  i: PolicyInputs;
  channel: Channel;
  window: CapWindow;
  error?: string;
  onChange: (i: PolicyInputs) => void;
}) {
  const id = `policy-cap-${channel}-${window}`;
  return (
    <td>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={0}
        step={1}
        aria-label={`${channelLabel(channel)} ${WINDOW_LABELS[window]}`}
        placeholder="no cap"
        value={i.caps[channel][window]}
        onChange={(e) => onChange(withCap(i, channel, window, e.target.value, e.target.validity.badInput))}
        {...described(id, error)}
      />
      <FieldError id={id} error={error} />
    </td>
  );
}

function Quiet({ i, error, onChange }: { i: PolicyInputs; error?: string; onChange: (i: PolicyInputs) => void }) {
  const hourSelect = (id: string, label: string, value: number, set: (h: number) => PolicyInputs) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={!i.quiet} onChange={(e) => onChange(set(Number(e.target.value)))} {...described("policy-quiet", error, true)}>
        {HOURS.map((h) => (
          <option key={h} value={h}>
            {hourLabel(h)}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <section className="card" aria-labelledby="policy-quiet-title">
      <h2 id="policy-quiet-title">Quiet hours</h2>
      <label className="inline">
        <input type="checkbox" checked={i.quiet} onChange={(e) => onChange({ ...i, quiet: e.target.checked })} />
        <span>Hold marketing messages during quiet hours</span>
      </label>
      <div className="row quiet-hours">
        {hourSelect("policy-quiet-start", "From", i.quiet_start, (h) => ({ ...i, quiet_start: h }))}
        {hourSelect("policy-quiet-end", "Until", i.quiet_end, (h) => ({ ...i, quiet_end: h }))}
      </div>
      <FieldError id="policy-quiet" error={error} help={<span data-testid="quiet-sentence">{quietSentence(i)}</span>} />
    </section>
  );
}

function TransparencyCard({
  i,
  errors,
  onChange,
  readOnly,
  published,
  workspace,
}: {
  i: PolicyInputs;
  errors: Record<string, string>;
  onChange: (i: PolicyInputs) => void;
  readOnly: boolean;
  published: boolean;
  workspace: string;
}) {
  const path = `/transparency/${encodeURIComponent(workspace)}`;
  const address = `${window.location.origin}${path}`;
  let pageNote: ReactNode = null;
  if (published && (!i.transparency || !i.public_page)) pageNote = "The page is taken down when you save.";
  else if (!published && i.transparency && i.public_page) pageNote = "The page is published when you save.";
  return (
    <section className="card" aria-labelledby="policy-transparency-title">
      <h2 id="policy-transparency-title">Transparency</h2>
      <p className="muted small">
        Tell people that your messages are automated, and publish what Kairos collects about them, why, and for how long: a page generated from this
        workspace's live configuration (fields, activity, purposes, retention).
      </p>
      {/* The page's link stays usable below for roles that cannot change anything here. */}
      <fieldset className="plain" disabled={readOnly}>
        <legend className="sr-only">Transparency settings</legend>
        <div className="field">
          <label className="inline">
            <input
              id="policy-transparency"
              type="checkbox"
              checked={i.transparency}
              onChange={(e) => onChange({ ...i, transparency: e.target.checked })}
              {...described("policy-transparency", errors.transparency)}
            />
            <span>Tell people who sends the messages and what is collected</span>
          </label>
          <FieldError id="policy-transparency" error={errors.transparency} />
        </div>
        {i.transparency && (
          <div className="transparency-fields">
            <div className="policy-field">
              <TextField
                id="policy-organisation"
                label="Organisation"
                value={i.organisation}
                onChange={(v) => onChange({ ...i, organisation: v })}
                error={errors["transparency.organisation"]}
                help="Who is responsible for the messages and the data (the data controller), e.g. Acme Ltd."
                autoComplete="organization"
              />
            </div>
            <div className="field">
              <label className="inline">
                <input
                  type="checkbox"
                  checked={i.disclose_automation}
                  onChange={(e) => onChange({ ...i, disclose_automation: e.target.checked })}
                  aria-describedby="policy-disclose-help"
                />
                <span>State in every email that it was sent automatically</span>
              </label>
              <p className="muted small checkbox-help" id="policy-disclose-help">
                Adds “This message was sent automatically by {i.organisation.trim() || "your organisation"}.” to every email, marketing and transactional.
              </p>
            </div>
            <div className="field">
              <label className="inline">
                <input type="checkbox" checked={i.public_page} onChange={(e) => onChange({ ...i, public_page: e.target.checked })} aria-describedby="policy-page-help" />
                <span>Publish a transparency page</span>
              </label>
              <p className="muted small checkbox-help" id="policy-page-help">
                A public page anyone can open, without signing in; link to it from your privacy policy and sign-up forms.
              </p>
            </div>
            <div className="policy-field">
              <TextField
                id="policy-privacy-contact"
                label="Privacy contact (optional)"
                value={i.privacy_contact}
                onChange={(v) => onChange({ ...i, privacy_contact: v })}
                error={errors["transparency.privacy_contact"]}
                help="An email address or web address for privacy questions and requests, e.g. privacy@acme.example."
              />
            </div>
            <div className="field policy-field">
              <label htmlFor="policy-statement">Statement (optional)</label>
              <textarea
                id="policy-statement"
                className={errors["transparency.statement"] ? "has-error prose" : "prose"}
                rows={4}
                value={i.statement}
                onChange={(e) => onChange({ ...i, statement: e.target.value })}
                aria-invalid={errors["transparency.statement"] !== undefined}
                aria-describedby={errors["transparency.statement"] ? "policy-statement-error" : "policy-statement-help"}
              />
              <FieldError
                id="policy-statement"
                error={errors["transparency.statement"]}
                help="In your own words: why you collect what you collect. Shown at the top of the page, as typed."
              />
            </div>
          </div>
        )}
      </fieldset>
      {published && (
        <p className="transparency-link" data-testid="transparency-link">
          Published at{" "}
          <a href={path} target="_blank" rel="noopener">
            {address}
            <span className="sr-only"> (opens in a new tab)</span>
          </a>{" "}
          <CopyButton value={address} label="Copy the transparency page's address" />
        </p>
      )}
      {pageNote && (
        <p className="notice small" data-testid="transparency-page-note">
          {pageNote}
        </p>
      )}
    </section>
  );
}
