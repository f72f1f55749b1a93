// Settings → Email delivery: where this workspace's email goes now (its own
// SMTP relay, or the transport the operator started the server with:
// capture, an SMTP relay, or nothing), what keeps it from going out, and a
// connection test of that route; then the form that sets the workspace's
// own relay (host, port, security, login), tests it before it is saved,
// saves it, or stops using it. The password is write-only: the page never
// has it, and says when one is stored. Roles without settings:write see it
// all with nothing to press or type into.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useActorLabel, type Who } from "../actors";
import { api, formProblems, useApi } from "../api";
import { FieldError, formatWhen, InlineConfirm, Loading, ProblemBox } from "../components";
import { useCan } from "../session";
import {
  checkSummary,
  defaultPort,
  describeRoute,
  kindLabel,
  limitsLabel,
  plainTextWarning,
  RELAY_FIELDS,
  relayAddress,
  relayBodyOf,
  relayChanged,
  relayInputsOf,
  SECURITY_CHOICES,
  securityLabel,
  type RelayInputs,
  type RelaySecurity,
  type TransportCheck,
  type TransportView,
} from "./transportModel";

const VIEW = "/api/v1/settings/email-transport";

export function EmailDelivery() {
  const view = useApi<TransportView>(VIEW);
  // The view a save or removal answered with, newer than the one loaded.
  const [fresh, setFresh] = useState<TransportView | null>(null);
  const v = fresh ?? view.data;
  // Who last changed the relay is named once the members are known: the relay's card waits for them.
  const names = useActorLabel();
  return (
    <>
      <section className="card" aria-labelledby="delivery-title">
        <h2 id="delivery-title">Email delivery</h2>
        <p className="muted small">
          Where this workspace's email leaves the server. Without an SMTP relay of its own (set below), it goes as the server's operator started
          Kairos, for every workspace at once: restart the server with{" "}
          <code>--email-transport smtp --smtp-url 'smtp://USER:PASS@host:587?tls=required'</code> (and <code>--smtp-ca-file</code>,{" "}
          <code>--smtp-domain-concurrency</code>, <code>--smtp-domain-rate</code>, <code>--public-url</code> as needed; see{" "}
          <code>docs/email.md</code>) to change that.
        </p>
        <ProblemBox error={view.error} context="Email delivery" />
        {view.loading && !v && <Loading what="the email delivery settings" />}
        {v && <Route view={v} />}
        {v && <Facts view={v} />}
        {v && <CurrentCheck />}
      </section>
      {v && !names.loading && <OwnRelay view={v} who={names.label} onChange={setFresh} />}
    </>
  );
}

/** The statement of where email goes now, with what keeps it from going out. */
function Route({ view }: { view: TransportView }) {
  const r = describeRoute(view);
  const box = r.tone === "ok" ? "ok-box" : r.tone === "problem" ? "problem" : "notice";
  return (
    <div className={`${box} delivery-route`} role="status" data-testid="delivery-route" data-tone={r.tone}>
      <strong>{r.title}</strong>
      <div>
        {r.detail}
        {r.outbox && (
          <>
            {" "}
            <Link to="/email/outbox">Open the outbox</Link> to see what would have been sent.
          </>
        )}
      </div>
    </div>
  );
}

function Facts({ view: v }: { view: TransportView }) {
  const own = v.source === "workspace";
  return (
    <dl className="spec delivery-facts" aria-label="Email delivery in effect" data-testid="delivery-facts">
      <dt>Transport</dt>
      <dd data-field="kind">{kindLabel(v.kind)}</dd>
      <dt>Set by</dt>
      <dd data-field="source">
        {own ? (
          <>
            This workspace (its own relay); without it: <span data-field="server_kind">{kindLabel(v.server_kind)}</span>
          </>
        ) : (
          "The server's operator, for every workspace"
        )}
      </dd>
      {v.relay && (
        <>
          <dt>Relay</dt>
          <dd data-field="relay">
            <code>{relayAddress(v.relay)}</code>
          </dd>
          <dt>Security</dt>
          <dd data-field="security">{securityLabel(v.relay.security)}</dd>
          <dt>User</dt>
          <dd data-field="user">{v.relay.user ?? <span className="muted">none (no login)</span>}</dd>
          <dt>Extra CA certificate</dt>
          <dd data-field="extra_ca">{v.extra_ca ? "Yes (--smtp-ca-file)" : "No: public roots only"}</dd>
        </>
      )}
      {v.kind === "smtp" && (
        <>
          <dt>Limits</dt>
          <dd data-field="limits">{limitsLabel(v)}</dd>
          <dt>Connections kept open</dt>
          <dd data-field="pool">{v.pool_size}</dd>
        </>
      )}
      <dt>Public address</dt>
      <dd data-field="public_url">
        <code>{v.public_url}</code>
        <div className="muted small">Tracking and unsubscribe links point here; use HTTPS in production.</div>
      </dd>
    </dl>
  );
}

/** A check's outcome: the server, encryption, login and time, or what failed. */
function CheckResult({ check, testId }: { check: TransportCheck; testId: string }) {
  const s = checkSummary(check);
  return (
    <div className={s.ok ? "ok-box" : "problem"} role={s.ok ? "status" : "alert"} data-testid={testId}>
      <strong>{s.title}</strong>
      <ul className="check-facts">
        {s.facts.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
    </div>
  );
}

/** "Test current delivery": connects to wherever email goes now as a send
 * would (encryption, login), then hangs up; for settings:write only. */
function CurrentCheck() {
  const can = useCan();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TransportCheck | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  if (!can("settings:write")) return null;

  const run = async () => {
    setBusy(true);
    setResult(null);
    setProblem(null);
    try {
      setResult(await api<TransportCheck>("POST", "/api/v1/settings/email-transport/check"));
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="delivery-current-check">
      <div className="form-actions">
        <button type="button" onClick={() => void run()} disabled={busy}>
          {busy ? "Testing…" : "Test current delivery"}
        </button>
        <span className="muted small">Connects to where email goes now as a send would (encryption, login), then hangs up. No email is sent.</span>
      </div>
      <div aria-live="polite">
        {busy && <Loading what="the relay's answer" />}
        <ProblemBox error={problem} context="Not tested" />
        {result && <CheckResult check={result} testId="delivery-check" />}
      </div>
    </div>
  );
}

type Busy = null | "test" | "save" | "remove";

/** The form that sets, tests and removes the workspace's own relay. */
function OwnRelay({ view, who, onChange }: { view: TransportView; who: Who; onChange: (v: TransportView) => void }) {
  const canWrite = useCan()("settings:write");
  const stored = view.workspace_relay;
  const [inputs, setInputs] = useState<RelayInputs>(() => relayInputsOf(stored));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<{ context: string; error: unknown } | null>(null);
  const [check, setCheck] = useState<TransportCheck | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [confirming, setConfirming] = useState(false);
  // The keyboard follows the question: to "Keep it" when it is asked, back to the button when it is not.
  const stopRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLSpanElement>(null);
  const asked = useRef(false);
  useEffect(() => {
    if (confirming) confirmRef.current?.querySelector<HTMLButtonElement>("button:last-of-type")?.focus();
    else if (asked.current) stopRef.current?.focus();
    asked.current = confirming;
  }, [confirming]);

  const set = (k: keyof RelayInputs) => (value: string) => {
    setInputs((i) => ({ ...i, [k]: value }));
    // What was found about the earlier values no longer applies.
    setCheck(null);
    setNote(null);
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([f]) => f !== k)));
  };

  /** Run a call of the form, with its refusal split between the fields and the box. */
  const act = async (what: Exclude<Busy, null>, context: string, call: () => Promise<void>) => {
    setBusy(what);
    setErrors({});
    setProblem(null);
    setCheck(null);
    setNote(null);
    try {
      await call();
    } catch (e) {
      const split = formProblems(e, RELAY_FIELDS);
      setErrors(split.fields);
      if (split.rest) setProblem({ context, error: split.rest });
    } finally {
      setBusy(null);
    }
  };

  const test = () =>
    act("test", "Not tested", async () => {
      setCheck(await api<TransportCheck>("POST", "/api/v1/settings/email-transport/check", relayBodyOf(inputs)));
    });
  const save = () =>
    act("save", "Relay not saved", async () => {
      const next = await api<TransportView>("PUT", "/api/v1/settings/email-transport/relay", relayBodyOf(inputs));
      onChange(next);
      setInputs(relayInputsOf(next.workspace_relay));
      setNote(next.relay ? `Saved: this workspace's email now goes through ${relayAddress(next.relay)}.` : "Saved.");
    });
  const remove = () =>
    act("remove", "Still using the own relay", async () => {
      const next = await api<TransportView>("DELETE", "/api/v1/settings/email-transport/relay");
      setConfirming(false);
      onChange(next);
      setInputs(relayInputsOf(null));
      setNote(`Stopped: email goes as the server's transport says again (${kindLabel(next.server_kind).toLowerCase()}).`);
    });

  const warning = plainTextWarning(inputs);
  const choice = SECURITY_CHOICES.find((c) => c.value === inputs.security);
  const unsaved = canWrite && relayChanged(inputs, stored);
  const serverWay = kindLabel(view.server_kind).toLowerCase();

  if (!view.workspace_relays_allowed) {
    // The operator decides; a relay saved before stays visible, unused, and removable.
    return (
      <section className="card" aria-labelledby="relay-title" data-testid="own-relay">
        <h2 id="relay-title">Use your own SMTP relay</h2>
        <p className="notice small" data-testid="relays-forbidden">
          This server's operator does not let workspaces send through their own SMTP relay: this workspace's email goes through the server's transport ({serverWay}).
        </p>
        {stored && (
          <p className="small" data-testid="relay-changed">
            A relay saved earlier ({relayAddress(stored)}) is kept but not used.
          </p>
        )}
        {stored && canWrite && (
          <div className="form-actions">
            <button type="button" className="danger" onClick={() => void remove()} disabled={busy !== null}>
              {busy === "remove" ? "Removing…" : "Remove the saved relay"}
            </button>
          </div>
        )}
        {note && (
          <p className="ok small" role="status">
            {note}
          </p>
        )}
        <ProblemBox error={problem?.error} context={problem?.context} />
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="relay-title" data-testid="own-relay">
      <h2 id="relay-title">Use your own SMTP relay</h2>
      <p className="muted small">
        Send this workspace's email through an SMTP relay of your own (your email provider's, say) instead of the server's transport (
        {serverWay}). The password is stored encrypted and never shown again. Test the connection before saving: saving does not connect.
      </p>
      {stored ? (
        <p className="small" data-testid="relay-changed">
          In use. Last changed {formatWhen(stored.updated_at)} by {who(stored.updated_by)}.
        </p>
      ) : (
        <p className="small muted" data-testid="relay-changed">
          Not set: this workspace uses the server's transport.
        </p>
      )}
      {!canWrite && <p className="notice small">Your role can see the relay but not change it: an owner or admin of the workspace can.</p>}
      <form
        aria-label="Own SMTP relay"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (canWrite && !busy) void save();
        }}
      >
        <fieldset className="plain" disabled={!canWrite}>
          <legend className="sr-only">The relay</legend>
          <div className="form-grid relay-grid">
            <Field id="relay-host" label="Host" error={errors.host} help={canWrite ? "The relay's name or IP address, without smtp://" : undefined}>
              {(a) => <input {...a} value={inputs.host} onChange={(e) => set("host")(e.target.value)} autoComplete="off" spellCheck={false} placeholder="smtp.example.com" />}
            </Field>
            <Field id="relay-port" label="Port" error={errors.port} help={canWrite ? `Empty: ${defaultPort(inputs.security)}` : undefined}>
              {(a) => (
                <input {...a} value={inputs.port} onChange={(e) => set("port")(e.target.value)} inputMode="numeric" autoComplete="off" placeholder={String(defaultPort(inputs.security))} />
              )}
            </Field>
            <Field id="relay-security" label="Security" error={errors.security} help={choice?.help}>
              {(a) => (
                <select {...a} value={inputs.security} onChange={(e) => set("security")(e.target.value as RelaySecurity)}>
                  {SECURITY_CHOICES.map((c) => (
                    <option key={c.value} value={c.value}>
                      {c.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field id="relay-user" label="User (optional)" error={errors.user} help={canWrite ? "Empty: no login" : undefined}>
              {(a) => <input {...a} value={inputs.user} onChange={(e) => set("user")(e.target.value)} autoComplete="off" spellCheck={false} />}
            </Field>
            <Field
              id="relay-password"
              label="Password"
              error={errors.password}
              help={stored?.password_set ? (canWrite ? "A password is stored: leave empty to keep it." : "A password is stored (never shown).") : canWrite ? "Needed when a user is set." : undefined}
            >
              {(a) => (
                <input
                  {...a}
                  type="password"
                  value={inputs.password}
                  onChange={(e) => set("password")(e.target.value)}
                  autoComplete="new-password"
                  placeholder={stored?.password_set ? (canWrite ? "•••• stored — leave empty to keep" : "•••• stored") : undefined}
                />
              )}
            </Field>
          </div>
          {warning && (
            <p className="warn-box" role="status" data-testid="relay-plaintext-warning">
              {warning}
            </p>
          )}
        </fieldset>
        {canWrite && (
          <div className="form-actions">
            <button type="button" onClick={() => void test()} disabled={busy !== null}>
              {busy === "test" ? "Testing…" : "Test connection"}
            </button>
            <button type="submit" className="primary" disabled={busy !== null}>
              {busy === "save" ? "Saving…" : "Save relay"}
            </button>
            {stored &&
              (confirming ? (
                <span ref={confirmRef}>
                  <InlineConfirm
                    label="Stop using the own relay"
                    question={`Stop using ${relayAddress(stored)}? Email goes as the server's transport says (${serverWay}), and the stored password is deleted.`}
                    yes={busy === "remove" ? "Stopping…" : "Stop using it"}
                    disabled={busy !== null}
                    onYes={() => void remove()}
                    no="Keep it"
                    onNo={() => setConfirming(false)}
                  />
                </span>
              ) : (
                <button ref={stopRef} type="button" className="danger" onClick={() => setConfirming(true)} disabled={busy !== null}>
                  Stop using own relay
                </button>
              ))}
            {unsaved && !note && <span className="muted small">Not saved yet.</span>}
            {note && (
              <span className="ok" role="status">
                {note}
              </span>
            )}
          </div>
        )}
        <div aria-live="polite">
          {busy === "test" && <Loading what="the relay's answer" />}
          {check && <CheckResult check={check} testId="relay-check" />}
        </div>
        <ProblemBox error={problem?.error} context={problem?.context} />
      </form>
    </section>
  );
}

/** A labelled control with the server's complaint, else its help, underneath and named by it. */
function Field({
  id,
  label,
  error,
  help,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  help?: ReactNode;
  children: (a: { id: string; "aria-invalid": boolean; "aria-describedby": string | undefined; className: string | undefined }) => ReactNode;
}) {
  const described = error ? `${id}-error` : help !== undefined ? `${id}-help` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": error !== undefined, "aria-describedby": described, className: error ? "has-error" : undefined })}
      <FieldError id={id} error={error} help={help} />
    </div>
  );
}
