// The dashboard's "Email" card: messages sent, first opens, first clicks and
// unsubscribes over the last 30 days from every source (campaigns, journeys,
// tests), with open and click rates, and the same per day as a chart.
import { useMemo } from "react";
import { useApi } from "../api";
import { formatNumber, Loading, ProblemBox } from "../components";
import { SeriesChart } from "../Chart";
import { rate, type EmailActivity } from "./feed";

const DAYS = 30;

export function EmailCard() {
  const activity = useApi<EmailActivity>(`/api/v1/workspace/email-activity?days=${DAYS}`, { pollMs: 60_000 });
  const a = activity.data;
  const days = useMemo(() => a?.per_day.map((d) => d.day) ?? [], [a]);
  const series = useMemo(
    () =>
      a
        ? [
            { label: "Sent", values: a.per_day.map((d) => d.sent), color: "#3b5bdb" },
            { label: "Opened", values: a.per_day.map((d) => d.opened), color: "#0c8599" },
            { label: "Clicked", values: a.per_day.map((d) => d.clicked), color: "#c77700" },
            { label: "Unsubscribed", values: a.per_day.map((d) => d.unsubscribed), color: "#c92a2a" },
          ]
        : [],
    [a],
  );
  const empty = a !== undefined && a.sent === 0 && a.opened === 0 && a.clicked === 0 && a.unsubscribed === 0;

  return (
    <div className="card email-card" data-testid="email-card">
      <h2>Email, last {DAYS} days</h2>
      <ProblemBox error={activity.error} context="Email activity" />
      {/* The figures and the chart keep their room while loading, so nothing below jumps. */}
      <dl className="email-totals" aria-busy={!a}>
        <Total label="Sent" value={a?.sent} />
        <Total label="Opened" value={a?.opened} note={a ? `Open rate ${rate(a.opened, a.sent)}` : undefined} />
        <Total label="Clicked" value={a?.clicked} note={a ? `Click rate ${rate(a.clicked, a.sent)}` : undefined} />
        <Total label="Unsubscribed" value={a?.unsubscribed} />
      </dl>
      <div className={empty ? "email-chart empty" : "email-chart"}>
        {!a && !activity.error && <Loading what="email activity" />}
        {empty && (
          <p className="muted" data-testid="email-empty">
            No email sent in the last {DAYS} days.
          </p>
        )}
        {a && !empty && <SeriesChart days={days} series={series} label="Email per day: sent, opened, clicked, unsubscribed" />}
      </div>
    </div>
  );
}

function Total({ label, value, note }: { label: string; value: number | undefined; note?: string }) {
  return (
    <div className="email-total">
      <dt>{label}</dt>
      <dd data-testid={`email-${label.toLowerCase()}`}>{value === undefined ? "…" : formatNumber(value)}</dd>
      <dd className="muted small" data-testid={`email-${label.toLowerCase()}-rate`}>{note ?? "\u00a0"}</dd>
    </div>
  );
}
