// Settings → Members: who can sign in to this workspace, with their role,
// when they joined and whether failed sign-ins locked them out; adding a
// member (with a first password for someone new), changing a role,
// removing and unlocking. Owners alone touch the owner role; the server
// refuses the rest (the last owner, say) and its reason is shown.
import { useState, type FormEvent } from "react";
import { assignableRoles, type Role } from "../access";
import type { Person } from "../actors";
import { api, fieldErrors, useApi } from "../api";
import { formatWhen, InlineConfirm, Loading, ProblemBox, TextField } from "../components";
import { useSession } from "../session";

interface Member extends Person {
  id: string;
  role: string;
  joined_at: string;
  locked_until?: string | null;
}

export function Members() {
  const { session } = useSession();
  const list = useApi<Member[]>("/api/v1/users");
  const [problem, setProblem] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const roles = assignableRoles(session.role);

  // One member change at a time: its outcome replaces the last one's.
  async function change(what: string, call: () => Promise<unknown>) {
    setProblem(null);
    setNote(null);
    try {
      await call();
      setNote(what);
    } catch (e) {
      setProblem(e);
    }
    setConfirming(null);
    list.reload();
  }

  return (
    <>
      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <p className="muted small">
          Owners and admins manage members and keys; marketers build campaigns; analysts see reports but no individual people; compliance handles
          consent, privacy requests and the audit log.
        </p>
        <ProblemBox error={list.error} context="Members" />
        <ProblemBox error={problem} context="Not changed" />
        {note && (
          <p className="ok" role="status">
            {note}
          </p>
        )}
        {list.loading && !list.data && <Loading what="members" />}
        {list.data && (
          <div className="table-wrap">
            <table className="table" data-testid="members">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col" className="hide-narrow">Joined</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((m) => {
                  const self = m.id === session.user?.id;
                  // Someone whose role we may not take away (an owner, for an admin) is not ours to change.
                  const editable = roles.includes(m.role as Role);
                  return (
                    <tr key={m.id} data-testid={`member-${m.email}`}>
                      <td>
                        {m.name} {self && <span className="muted small">(you)</span>}
                        {m.locked_until && (
                          <span className="badge badge-failed" title={`Locked after failed sign-ins until ${formatWhen(m.locked_until)}`}>
                            locked until {formatWhen(m.locked_until)}
                          </span>
                        )}
                      </td>
                      <td>{m.email}</td>
                      <td>
                        <select
                          aria-label={`Role of ${m.email}`}
                          value={m.role}
                          disabled={!editable}
                          onChange={(e) => {
                            const role = e.target.value;
                            void change(`${m.email} is now ${role}.`, () => api("PATCH", `/api/v1/users/${m.id}`, { role }));
                          }}
                        >
                          {(editable ? roles : [m.role]).map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td className="hide-narrow">{formatWhen(m.joined_at)}</td>
                      <td className="actions-cell">
                        {m.locked_until && editable && (
                          <button type="button" onClick={() => void change(`${m.email} is unlocked.`, () => api("POST", `/api/v1/users/${m.id}/unlock`))}>
                            Unlock
                          </button>
                        )}
                        {editable && confirming !== m.id && (
                          <button type="button" className="danger" onClick={() => setConfirming(m.id)} aria-label={`Remove ${m.email}`}>
                            Remove
                          </button>
                        )}
                        {confirming === m.id && (
                          <InlineConfirm
                            label={`Confirm removing ${m.email}`}
                            question={self ? "Remove yourself?" : `Remove ${m.name}?`}
                            yes="Yes, remove"
                            onYes={() => void change(`${m.email} was removed.`, () => api("DELETE", `/api/v1/users/${m.id}`))}
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
      <AddMember
        roles={roles}
        onAdded={(m) => {
          setProblem(null);
          setNote(`${m.email} was added as ${m.role}.`);
          list.reload();
        }}
      />
    </>
  );
}

const EMPTY = { email: "", name: "", role: "marketer", password: "" };

function AddMember({ roles, onAdded }: { roles: Role[]; onAdded: (m: Member) => void }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const set = (k: keyof typeof EMPTY) => (v: string) => setForm({ ...form, [k]: v });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setErrors({});
    setProblem(null);
    // Name and password only go with them when given: someone with an account elsewhere keeps their own.
    const body: Record<string, string> = { email: form.email.trim(), role: form.role };
    if (form.name.trim()) body.name = form.name.trim();
    if (form.password) body.password = form.password;
    try {
      onAdded(await api<Member>("POST", "/api/v1/users", body));
      setForm(EMPTY);
    } catch (err) {
      const byField = fieldErrors(err, Object.keys(EMPTY));
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card" aria-labelledby="add-member-title">
      <h2 id="add-member-title">Add a member</h2>
      <p className="muted small">
        Someone new gets an account with this first password (at least 12 characters); tell them it, and they change it under Settings → Password.
        Someone who already has an account elsewhere needs only their email and role.
      </p>
      <form onSubmit={submit} aria-label="Add a member" noValidate>
        <div className="form-grid">
          <TextField id="member-email" label="Email" type="email" value={form.email} onChange={set("email")} error={errors.email} autoComplete="off" />
          <TextField id="member-name" label="Name" value={form.name} onChange={set("name")} error={errors.name} autoComplete="off" />
          <div className="field">
            <label htmlFor="member-role">Role</label>
            <select id="member-role" value={form.role} onChange={(e) => set("role")(e.target.value)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            {errors.role && <p className="field-error">{errors.role}</p>}
          </div>
          <TextField
            id="member-password"
            label="First password"
            type="password"
            value={form.password}
            onChange={set("password")}
            error={errors.password}
            autoComplete="new-password"
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? "Adding…" : "Add member"}
          </button>
        </div>
        <ProblemBox error={problem} context="Not added" />
      </form>
    </section>
  );
}
