// Settings → API keys: the workspace's keys with their scope, who made
// them (a member by name, a key by its name, or the command line), when
// they expire or were revoked; making one (its secret is shown once, to
// copy) and revoking one, which stops it at once.
import { useState, type FormEvent } from "react";
import { assignableRoles, endOfDay } from "../access";
import { useActorLabel } from "../actors";
import { api, fieldErrors, useApi } from "../api";
import { CopyButton, formatWhen, InlineConfirm, Loading, ProblemBox, StatusBadge, TextField } from "../components";
import { useSession } from "../session";

interface ApiKey {
  id: string;
  name: string;
  scope: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
  expires_at: string | null;
  /** The server's actor ("user:EMAIL", "key:PREFIX (NAME)"); null for a key made on the command line. */
  created_by: string | null;
  secret?: string;
}

const SCOPE_HELP: Record<string, string> = {
  write: "write: sends events only (/v1/track)",
  admin: "admin: everything but the owner role",
  marketer: "marketer",
  analyst: "analyst: reports, no people",
  compliance: "compliance: consent, privacy, audit",
};

function keyStatus(k: ApiKey): string {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && new Date(k.expires_at).getTime() <= Date.now()) return "expired";
  return "active";
}

export function Keys() {
  const { session } = useSession();
  const list = useApi<ApiKey[]>("/api/v1/keys");
  // The list waits for the members' names, so that no email turns into a name under the reader's eyes.
  const names = useActorLabel();
  const [fresh, setFresh] = useState<ApiKey | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  // A write key only tracks, so anyone here may make one; role keys follow the role rules.
  const scopes = ["write", ...assignableRoles(session.role).filter((r) => r !== "owner")];

  async function revoke(k: ApiKey) {
    setProblem(null);
    try {
      await api("DELETE", `/api/v1/keys/${k.id}`);
      if (fresh?.id === k.id) setFresh(null);
    } catch (e) {
      setProblem(e);
    }
    setConfirming(null);
    list.reload();
  }

  return (
    <>
      <NewKey
        scopes={scopes}
        onCreated={(k) => {
          setFresh(k);
          list.reload();
        }}
      />
      {fresh?.secret && (
        <div className="ok-box secret-box" role="status" data-testid="new-key-secret">
          <strong>Key “{fresh.name}” created. Copy its secret now: it is not shown again.</strong>
          <div className="secret-row">
            <code className="secret">{fresh.secret}</code>
            <CopyButton value={fresh.secret} label="Copy the secret" />
          </div>
          <button type="button" className="link" onClick={() => setFresh(null)}>
            I have copied it
          </button>
        </div>
      )}
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        <ProblemBox error={list.error} context="Keys" />
        <ProblemBox error={problem} context="Not revoked" />
        {((list.loading && !list.data) || names.loading) && <Loading what="keys" />}
        {list.data && !names.loading && list.data.length === 0 && <p className="muted">No keys yet.</p>}
        {list.data && !names.loading && list.data.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Prefix</th>
                  <th scope="col" className="hide-narrow">Made by</th>
                  <th scope="col" className="hide-narrow">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((k) => {
                  const status = keyStatus(k);
                  return (
                    <tr key={k.id} data-testid={`key-${k.name}`}>
                      <td>{k.name}</td>
                      <td>{k.scope}</td>
                      <td>
                        <code>{k.prefix}</code>
                      </td>
                      <td className="hide-narrow small" data-field="made-by">
                        {k.created_by ? names.label(k.created_by) : "the command line"}
                      </td>
                      <td className="hide-narrow">{formatWhen(k.created_at)}</td>
                      <td>{k.expires_at ? formatWhen(k.expires_at) : "never"}</td>
                      <td>
                        <StatusBadge status={status} />
                        {k.revoked_at && <div className="small muted">{formatWhen(k.revoked_at)}</div>}
                      </td>
                      <td className="actions-cell">
                        {!k.revoked_at && confirming !== k.id && (
                          <button type="button" className="danger" onClick={() => setConfirming(k.id)} aria-label={`Revoke ${k.name}`}>
                            Revoke
                          </button>
                        )}
                        {confirming === k.id && (
                          <InlineConfirm
                            label={`Confirm revoking ${k.name}`}
                            question="Stop it now?"
                            yes="Yes, revoke"
                            onYes={() => void revoke(k)}
                            onNo={() => setConfirming(null)}
                          />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function NewKey({ scopes, onCreated }: { scopes: string[]; onCreated: (k: ApiKey) => void }) {
  const [name, setName] = useState("");
  const [scope, setScope] = useState("marketer");
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setErrors({});
    setProblem(null);
    const body: Record<string, string> = { name: name.trim(), scope };
    const at = endOfDay(expires);
    if (at) body.expires_at = at;
    try {
      onCreated(await api<ApiKey>("POST", "/api/v1/keys", body));
      setName("");
      setExpires("");
    } catch (err) {
      const byField = fieldErrors(err, ["name", "scope", "expires_at"]);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Create an API key</h2>
      <p className="muted small">A key acts with the role its scope names. Give each integration its own key, so one can be revoked alone.</p>
      <form onSubmit={submit} aria-label="Create an API key" noValidate>
        <div className="form-grid">
          <TextField id="key-name" label="Name" value={name} onChange={setName} error={errors.name} placeholder="e.g. CRM sync" autoComplete="off" />
          <div className="field">
            <label htmlFor="key-scope">Scope</label>
            <select id="key-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
              {scopes.map((s) => (
                <option key={s} value={s}>
                  {SCOPE_HELP[s] ?? s}
                </option>
              ))}
            </select>
            {errors.scope && <p className="field-error">{errors.scope}</p>}
          </div>
          <TextField id="key-expires" label="Expires on (optional)" type="date" value={expires} onChange={setExpires} error={errors.expires_at} />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? "Creating…" : "Create key"}
          </button>
        </div>
        <ProblemBox error={problem} context="Key not created" />
      </form>
    </section>
  );
}
