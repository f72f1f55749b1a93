// Settings → Email delivery: how email leaves this server as the operator
// started it (capture, an SMTP relay, or nothing), read-only with how to
// change it, what keeps email from going out, and a connection test that
// reaches the relay as a send would and hangs up without sending.
import { useState } from "react";
import { Link } from "react-router";
import { api, useApi } from "../api";
import { Loading, ProblemBox } from "../components";
import { useCan } from "../session";
import { blocker, checkSummary, kindLabel, limitsLabel, relayAddress, securityLabel, type TransportCheck, type TransportView } from "./transportModel";

export function EmailDelivery() {
  const view = useApi<TransportView>("/api/v1/settings/email-transport");
  const v = view.data;
  const stop = v ? blocker(v) : null;
  return (
    <>
      <section className="card" aria-labelledby="delivery-title">
        <h2 id="delivery-title">Email delivery</h2>
        <p className="muted small">
          How email leaves this server. The server's operator sets it when starting Kairos, for every workspace at once, so it is shown here
          but not changed here: restart the server with <code>--email-transport smtp --smtp-url 'smtp://USER:PASS@host:587?tls=required'</code>{" "}
          (and <code>--smtp-ca-file</code>, <code>--smtp-domain-concurrency</code>, <code>--smtp-domain-rate</code>, <code>--public-url</code> as
          needed; see <code>docs/email.md</code>).
        </p>
        <ProblemBox error={view.error} context="Email delivery" />
        {view.loading && !v && <Loading what="the email delivery settings" />}
        {stop && (
          <div className="notice delivery-blocker" role="status" data-testid="delivery-blocker">
            <strong>{stop.title}</strong>
            <div>
              {stop.detail}
              {stop.outbox && (
                <>
                  {" "}
                  <Link to="/email/outbox">Open the outbox</Link> to see what would have been sent.
                </>
              )}
            </div>
          </div>
        )}
        {v && (
          <dl className="spec delivery-facts" aria-label="Email delivery in effect" data-testid="delivery-facts">
            <dt>Transport</dt>
            <dd data-field="kind">{kindLabel(v.kind)}</dd>
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
        )}
      </section>
      {v && <ConnectionTest />}
    </>
  );
}

/** The "Test connection" button and what the last test found. */
function ConnectionTest() {
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
  const s = result ? checkSummary(result) : null;

  return (
    <section className="card" aria-labelledby="delivery-test-title">
      <div className="label-row">
        <h2 id="delivery-test-title">Test the connection</h2>
        <button type="button" onClick={() => void run()} disabled={busy}>
          {busy ? "Testing…" : "Test connection"}
        </button>
      </div>
      <p className="muted small">Connects to the relay as a send would (encryption, login), then hangs up. No email is sent.</p>
      {busy && <Loading what="the relay's answer" />}
      <ProblemBox error={problem} context="Not tested" />
      {s && (
        <div className={s.ok ? "ok-box" : "problem"} role={s.ok ? "status" : "alert"} data-testid="delivery-check">
          <strong>{s.title}</strong>
          <ul className="check-facts">
            {s.facts.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
