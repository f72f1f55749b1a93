// Settings → Password: the signed-in person changes their own password;
// the server ends their other sessions, this one stays.
import { useState, type FormEvent } from "react";
import { api, fieldErrors } from "../api";
import { ProblemBox, TextField } from "../components";
import { useSession } from "../session";

export function Password() {
  const { session } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [saving, setSaving] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setProblem(null);
    setDone(false);
    if (next !== repeat) return setErrors({ repeat: "does not match the new password" });
    setSaving(true);
    try {
      await api("POST", "/api/v1/auth/password", { current_password: current, new_password: next });
      setDone(true);
      setCurrent("");
      setNext("");
      setRepeat("");
    } catch (err) {
      const byField = fieldErrors(err, ["current_password", "new_password"]);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card narrow-card" aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      <p className="muted small">
        Signed in as {session.user?.email}. At least 12 characters; a few unrelated words make a strong one. Your other sessions end when it changes.
      </p>
      <form onSubmit={submit} aria-label="Change your password" noValidate>
        {/* Lets password managers file the new password under the right account. */}
        <input type="email" autoComplete="username" value={session.user?.email ?? ""} readOnly hidden />
        <TextField id="pw-current" label="Current password" type="password" value={current} onChange={setCurrent} error={errors.current_password} autoComplete="current-password" />
        <TextField id="pw-new" label="New password" type="password" value={next} onChange={setNext} error={errors.new_password} autoComplete="new-password" />
        <TextField id="pw-repeat" label="New password again" type="password" value={repeat} onChange={setRepeat} error={errors.repeat} autoComplete="new-password" />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? "Changing…" : "Change password"}
          </button>
          {done && (
            <span className="ok" role="status">
              Password changed.
            </span>
          )}
        </div>
        <ProblemBox error={problem} context="Not changed" />
      </form>
    </section>
  );
}
