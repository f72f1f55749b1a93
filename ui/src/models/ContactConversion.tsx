// A contact's chance of converting, for the contact page: the current
// conversion model's probability with its event and horizon, and the
// features that move it most as bars (green raises it, red lowers it),
// each labelled with the contact's value. Quiet when no model is promoted.
// Above it, the contact's best hour to be emailed and where it comes from.
import { Link } from "react-router";
import { useApi } from "../api";
import { Loading, ProblemBox } from "../components";
import { useCan } from "../session";
import { sendTimeText, type SendTime } from "./predict";
import { contributionBars, formatPercent, describeValue, formatSigned, type ContactConversion as Conversion } from "./model";
import { countOf } from "../plural";

export function ContactConversion({ base }: { base: string }) {
  const conversion = useApi<Conversion>(`${base}/conversion?top=5`);
  const models = useCan()("reports:read");
  const none = conversion.error?.status === 409;
  const c = conversion.data;
  return (
    <div className="card" data-testid="contact-conversion">
      <h2>Conversion</h2>
      <BestSendTime base={base} />
      {conversion.loading && !c && <Loading what="the conversion prediction" />}
      {none && (
        <p className="muted" data-testid="no-model">
          No model yet: once a conversion model is trained and promoted{models ? <> (see <Link to="/models">Models</Link>)</> : ""}, this contact's chance of
          converting shows here.
        </p>
      )}
      {!none && <ProblemBox error={conversion.error} context="Conversion" />}
      {c && (
        <>
          <p className="conversion-headline">
            <span className="conversion-probability" data-testid="conversion-probability">
              {formatPercent(c.probability)}
            </span>{" "}
            <span>
              chance of <strong>{c.event}</strong> within {countOf(c.horizon_days, "day")}
              {models && (
                <>
                  {" "}
                  <Link className="small" to={`/models/${c.model_id}`}>
                    (the model)
                  </Link>
                </>
              )}
            </span>
          </p>
          {c.explanation.contributions.length > 0 && (
            <>
              <h3>What moves it most</h3>
              <ul className="contributions" aria-label="Top contributions to the prediction" data-testid="contributions">
                {contributionBars(c.explanation.contributions).map((b) => (
                  <li key={b.feature} className={b.up ? "up" : "down"}>
                    <span className="contribution-label">
                      {b.feature}: <span className="muted">{describeValue(b.feature, b.value)}</span>
                    </span>
                    <span className="contribution-track" aria-hidden="true">
                      <span className="contribution-bar" style={{ width: `${(b.width * 50).toFixed(1)}%` }} />
                    </span>
                    <span className={`contribution-value num ${b.up ? "delta-up" : "delta-down"}`}>
                      {formatSigned(b.contribution)}
                      <span className="sr-only">{b.up ? " raises the chance" : " lowers the chance"}</span>
                    </span>
                  </li>
                ))}
              </ul>
              <p className="muted small">Change in the log-odds of converting from each feature, against an average contact; green raises the chance, red lowers it.</p>
            </>
          )}
        </>
      )}
    </div>
  );
}

/** "Best time to email: 20:00 (Europe/Berlin) — mostly from their own opens". */
function BestSendTime({ base }: { base: string }) {
  const t = useApi<SendTime>(`${base}/send-time`);
  if (t.error) return <ProblemBox error={t.error} context="Best time to email" />;
  if (!t.data) return null;
  return (
    <p className="send-time" data-testid="send-time" title={`${Math.round(t.data.share * 100)}% of the opens counted fall in this hour`}>
      Best time to email: <strong>{sendTimeText(t.data)}</strong>
    </p>
  );
}
