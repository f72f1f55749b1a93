// Settings: the section tabs (each shown only to roles that may use it),
// and the email section: sender identities with the DKIM record each needs
// in DNS (and a form to add one), and the postal address marketing email
// must carry.
import { Suspense, useState } from "react";
import { NavLink, Outlet } from "react-router";
import { allowedItems, SETTINGS_NAV } from "../access";
import { api, ApiError, fieldErrors, useApi } from "../api";
import { CopyButton, Loading, PageHeader, ProblemBox } from "../components";
import type { Sender } from "../email/types";
import { useCan, useSession } from "../session";

export function Settings() {
  const { session } = useSession();
  return (
    <section>
      <PageHeader title="Settings" />
      <nav className="tabs section-tabs" aria-label="Settings sections">
        {allowedItems(session, SETTINGS_NAV).map((i) => (
          <NavLink key={i.to} to={i.to} end>
            {i.label}
          </NavLink>
        ))}
      </nav>
      {/* Each section loads on first use; the tabs above stay put meanwhile. */}
      <Suspense fallback={<Loading what="the section" />}>
        <Outlet />
      </Suspense>
    </section>
  );
}

export function EmailSettings() {
  return (
    <>
      <nav className="settings-nav" aria-label="Email settings">
        <a href="#senders">Senders</a> · <a href="#postal-address">Postal address</a>
      </nav>
      <Senders />
      <PostalAddress />
    </>
  );
}

function Senders() {
  const can = useCan();
  const list = useApi<{ data: Sender[] }>("/api/v1/email/senders");
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  return (
    <section className="card" id="senders" aria-labelledby="senders-title">
      <div className="label-row">
        <h2 id="senders-title">Senders</h2>
        {!adding && can("settings:write") && (
          <button type="button" onClick={() => setAdding(true)}>
            Add a sender
          </button>
        )}
      </div>
      <p className="muted small">
        The From addresses email goes out as. Publish each sender's DKIM record in its domain's DNS so receivers can verify the signature.
      </p>
      {adding && (
        <NewSender
          onCancel={() => setAdding(false)}
          onCreated={(s) => {
            setAdding(false);
            setCreated(s.id);
            list.reload();
          }}
        />
      )}
      <ProblemBox error={list.error} context="Senders" />
      {list.loading && !list.data && <Loading what="senders" />}
      {list.data && list.data.data.length === 0 && <p className="muted">No senders yet: email cannot be sent until there is one.</p>}
      {list.data?.data.map((s) => (
        <SenderCard key={s.id} sender={s} fresh={s.id === created} />
      ))}
    </section>
  );
}

function SenderCard({ sender, fresh }: { sender: Sender; fresh: boolean }) {
  const d = sender.dkim;
  return (
    <article className={fresh ? "sender fresh" : "sender"} aria-label={`Sender ${sender.email}`} data-testid={`sender-${sender.email}`}>
      <h3>
        {sender.name ? `${sender.name} <${sender.email}>` : sender.email} {sender.default && <span className="badge badge-active">default</span>}
        {fresh && <span className="badge badge-new">new</span>}
      </h3>
      <p className="muted small">
        Replies go to {sender.reply_to ?? sender.email} · DKIM {d.algorithm === "ed25519" ? "Ed25519" : "RSA 2048"}, selector <code>{d.selector}</code>
      </p>
      {fresh && <p className="notice small">Publish this record now: until it is in DNS, receivers cannot verify mail from {d.domain}.</p>}
      <table className="table compact dns-record">
        <caption className="sr-only">DNS record to publish for {sender.email}</caption>
        <tbody>
          <DnsRow label="Name" value={d.dns_name} />
          <DnsRow label="Type" value={d.dns_type} />
          <DnsRow label="Value" value={d.dns_value} />
        </tbody>
      </table>
    </article>
  );
}

function DnsRow({ label, value }: { label: string; value: string }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>
        <code className="dns-value" data-field={label}>{value}</code>
      </td>
      <td className="copy-cell">
        <CopyButton value={value} label={`Copy ${label.toLowerCase()}`} />
      </td>
    </tr>
  );
}

interface SenderForm {
  email: string;
  name: string;
  reply_to: string;
  dkim_selector: string;
  dkim_algorithm: "ed25519" | "rsa2048";
  default: boolean;
}

const FIELDS: { key: keyof SenderForm; label: string; hint?: string; type?: string }[] = [
  { key: "email", label: "From address", type: "email", hint: "e.g. news@example.com" },
  { key: "name", label: "Display name", hint: "e.g. Example News" },
  { key: "reply_to", label: "Reply-to address (optional)", type: "email" },
  { key: "dkim_selector", label: "DKIM selector", hint: "a DNS label, e.g. k2026" },
];

function NewSender({ onCancel, onCreated }: { onCancel: () => void; onCreated: (s: Sender) => void }) {
  const [form, setForm] = useState<SenderForm>({ email: "", name: "", reply_to: "", dkim_selector: "kairos", dkim_algorithm: "ed25519", default: false });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  const submit = async () => {
    setSaving(true);
    setErrors({});
    setProblem(null);
    const body: Record<string, unknown> = { email: form.email.trim(), dkim_algorithm: form.dkim_algorithm, default: form.default };
    if (form.name.trim()) body.name = form.name.trim();
    if (form.reply_to.trim()) body.reply_to = form.reply_to.trim();
    if (form.dkim_selector.trim()) body.dkim_selector = form.dkim_selector.trim();
    try {
      onCreated(await api<Sender>("POST", "/api/v1/email/senders", body));
    } catch (e) {
      const byField = fieldErrors(e, Object.keys(form));
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(e);
      setSaving(false);
    }
  };

  return (
    <form
      className="new-sender"
      aria-label="New sender"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="form-grid">
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`sender-${f.key}`}>{f.label}</label>
            <input
              id={`sender-${f.key}`}
              type={f.type ?? "text"}
              placeholder={f.hint}
              value={String(form[f.key])}
              onChange={(e) => setForm({ ...form, [f.key]: e.target.value })}
              aria-invalid={errors[f.key] !== undefined}
              aria-describedby={errors[f.key] ? `sender-${f.key}-error` : undefined}
              className={errors[f.key] ? "has-error" : undefined}
            />
            {errors[f.key] && (
              <p className="field-error" id={`sender-${f.key}-error`}>
                {errors[f.key]}
              </p>
            )}
          </div>
        ))}
        <div className="field">
          <label htmlFor="sender-dkim_algorithm">DKIM key</label>
          <select
            id="sender-dkim_algorithm"
            value={form.dkim_algorithm}
            onChange={(e) => setForm({ ...form, dkim_algorithm: e.target.value as SenderForm["dkim_algorithm"] })}
          >
            <option value="ed25519">Ed25519 (short record)</option>
            <option value="rsa2048">RSA 2048 (verified everywhere)</option>
          </select>
          {errors.dkim_algorithm && <p className="field-error">{errors.dkim_algorithm}</p>}
        </div>
      </div>
      <label className="inline">
        <input type="checkbox" checked={form.default} onChange={(e) => setForm({ ...form, default: e.target.checked })} />
        <span>Send as this sender unless a journey or send names another</span>
      </label>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Creating… (generating a key)" : "Create sender"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ProblemBox error={problem} context="Sender not created" />
    </form>
  );
}

interface SettingsDoc {
  postal_address?: string | null;
  [k: string]: unknown;
}

function PostalAddress() {
  const can = useCan();
  const settings = useApi<SettingsDoc>("/api/v1/settings");
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const value = text ?? settings.data?.postal_address ?? "";

  const save = async () => {
    if (!settings.data) return;
    setSaving(true);
    setError(null);
    setProblem(null);
    setNote(null);
    try {
      const next = await api<SettingsDoc>("PATCH", "/api/v1/settings", { postal_address: value.trim() === "" ? null : value });
      setText(next.postal_address ?? "");
      setNote("Saved.");
      settings.reload();
    } catch (e) {
      const f = e instanceof ApiError ? e.problem.errors?.find((x) => x.path === "postal_address") : undefined;
      if (f) setError(f.message);
      else setProblem(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="card" id="postal-address" aria-labelledby="postal-title">
      <h2 id="postal-title">Postal address</h2>
      <p className="muted small">Marketing email carries the sender's postal address in its footer (CAN-SPAM); it is refused until one is set.</p>
      <ProblemBox error={settings.error} context="Settings" />
      {settings.loading && !settings.data && <Loading what="settings" />}
      {settings.data && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div className="field">
            <label htmlFor="postal-address-input">Postal address</label>
            <textarea
              id="postal-address-input"
              className={error ? "has-error prose" : "prose"}
              rows={3}
              value={value}
              onChange={(e) => {
                setText(e.target.value);
                setNote(null);
              }}
              aria-invalid={error !== null}
              aria-describedby={error ? "postal-address-error" : undefined}
              readOnly={!can("settings:write")}
            />
            {error && (
              <p className="field-error" id="postal-address-error">
                {error}
              </p>
            )}
          </div>
          <div className="form-actions">
            <button type="submit" className="primary" disabled={saving || !can("settings:write")} title={can("settings:write") ? undefined : "Your role cannot change settings"}>
              {saving ? "Saving…" : "Save address"}
            </button>
            {note && <span className="ok" role="status">{note}</span>}
          </div>
          <ProblemBox error={problem} context="Not saved" />
        </form>
      )}
    </section>
  );
}
