// The dashboard's "Conversions" card: the last 30 days' conversions (the
// attribution report's default conversion event, Order Completed) with their
// value and the share marketing is credited with under last touch, and the
// same per day as a chart — read from the attribution report itself, so the
// card and the Reports page can never disagree.
import { useMemo } from "react";
import { Link } from "react-router";
import { useApi } from "../api";
import { formatNumber, Loading, ProblemBox } from "../components";
import { SeriesChart } from "../Chart";
import { formatMoney, formatShare, type AttributionReport } from "../reports/attributionReport";

/** The report's defaults: the last 30 days, last touch, Order Completed. */
const REPORT = "/api/v1/reports/attribution";

export function ConversionsCard() {
  const report = useApi<AttributionReport>(REPORT, { pollMs: 60_000 });
  const r = report.data;
  const days = useMemo(() => r?.series.map((d) => d.day) ?? [], [r]);
  const series = useMemo(
    () =>
      r
        ? [
            { label: "Conversions", values: r.series.map((d) => d.conversions), color: "#2b8a3e" },
            {
              label: "Value",
              values: r.series.map((d) => d.value),
              color: "#5f3dc4",
              axis: "right" as const,
              format: (n: number) => formatMoney(n, r.currency),
            },
          ]
        : [],
    [r],
  );
  const empty = r !== undefined && r.totals.conversions === 0;

  return (
    <div className="card email-card conversions-card" data-testid="conversions-card">
      <h2>
        Conversions, last 30 days <Link className="small" to="/reports">Attribution report</Link>
      </h2>
      <ProblemBox error={report.error} context="Conversions" />
      <dl className="email-totals" aria-busy={!r}>
        <Total id="conversions" label={r ? `${r.event}` : "Conversions"} value={r && formatNumber(r.totals.conversions)} note={r ? `${formatNumber(r.totals.contacts)} people` : undefined} />
        <Total id="value" label="Value" value={r && formatMoney(r.totals.value, r.currency)} />
        <Total
          id="attributed"
          label="Credited to marketing"
          value={r && formatMoney(r.totals.attributed_value, r.currency)}
          note={r ? `${formatShare(r.totals.attributed_value, r.totals.value)} of the value, last touch` : undefined}
        />
        <Total id="cost" label="Marketing cost" value={r && formatMoney(r.totals.cost, r.currency)} />
      </dl>
      <div className={empty ? "email-chart empty" : "email-chart"}>
        {!r && !report.error && <Loading what="conversions" />}
        {empty && (
          <p className="muted" data-testid="conversions-empty">
            No {r.event} events in the last 30 days.
          </p>
        )}
        {r && !empty && <SeriesChart days={days} series={series} label="Conversions and their value per day" />}
      </div>
    </div>
  );
}

function Total({ id, label, value, note }: { id: string; label: string; value: string | undefined; note?: string }) {
  return (
    <div className="email-total">
      <dt>{label}</dt>
      <dd data-testid={`conversions-${id}`}>{value ?? "…"}</dd>
      <dd className="muted small">{note ?? "\u00a0"}</dd>
    </div>
  );
}
