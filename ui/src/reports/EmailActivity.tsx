// The pieces campaign and journey reports share: the funnel from sent to
// converted, the bounce, unsubscribe and complaint rates, email activity
// per day, clicks per link, and the button that saves a report as CSV
// built in the browser.
import { useMemo, useState } from "react";
import { saveFile } from "../api";
import { formatNumber, ProblemBox } from "../components";
import { SeriesChart, type DailySeries } from "../Chart";
import type { CampaignTotals } from "../email/campaign";
import { fillDays, formatRate, funnel, healthRates, type EmailDay, type LinkClicks } from "./emailReport";

/** Sent → delivered → opened → clicked (→ converted), each bar against what was sent. */
export function Funnel({ totals, converted, label }: { totals: CampaignTotals; converted?: number | null; label: string }) {
  const steps = funnel(totals, converted);
  return (
    <ol className="funnel" aria-label={label}>
      {steps.map((s) => (
        <li key={s.key} data-testid={`funnel-${s.key}`}>
          <span className="funnel-label">{s.label}</span>
          <span className="funnel-track" aria-hidden="true">
            <span className={`funnel-bar funnel-${s.key}`} style={{ width: `${Math.max(s.width * 100, s.count > 0 ? 0.5 : 0)}%` }} />
          </span>
          <span className="funnel-count num">{formatNumber(s.count)}</span>
          <span className="funnel-rate muted small">{s.rate === null ? (s.of ? "—" : "") : `${formatRate(s.rate)} ${s.of}`}</span>
        </li>
      ))}
    </ol>
  );
}

export function HealthRates({ totals }: { totals: CampaignTotals }) {
  return (
    <dl className="rates">
      {healthRates(totals).map((r) => (
        <div key={r.key} className="rate" data-testid={`rate-${r.key}`}>
          <dt>{r.label}</dt>
          <dd>
            <span className="rate-value">{formatRate(r.rate)}</span>
            <span className="muted small">
              {formatNumber(r.count)} · {r.explain}
            </span>
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Sends, first opens, first clicks and unsubscribes per UTC day. */
export function EmailDaysChart({ series, label }: { series: EmailDay[]; label: string }) {
  const filled = useMemo(() => fillDays(series), [series]);
  const days = useMemo(() => filled.map((d) => d.day), [filled]);
  const lines = useMemo(
    (): DailySeries[] => [
      { label: "Sent", values: filled.map((d) => d.sent), color: "#3b5bdb" },
      { label: "Opened (first)", values: filled.map((d) => d.opened), color: "#2b8a3e" },
      { label: "Clicked (first)", values: filled.map((d) => d.clicked), color: "#c77700" },
      { label: "Unsubscribed", values: filled.map((d) => d.unsubscribed), color: "#c92a2a", dash: [4, 4] },
    ],
    [filled],
  );
  if (filled.length === 0) return <p className="muted">Nothing sent yet.</p>;
  return <SeriesChart days={days} series={lines} label={label} height={220} />;
}

export function LinkTable({ links }: { links: LinkClicks[] }) {
  if (links.length === 0) return <p className="muted">No clicks yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col" className="num">Clicks</th>
            <th scope="col" className="num">By machines</th>
          </tr>
        </thead>
        <tbody>
          {links.map((l) => (
            <tr key={l.url}>
              <td className="url-cell">{l.url}</td>
              <td className="num">{formatNumber(l.clicks)}</td>
              <td className="num">{formatNumber(l.machine_clicks)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Saves what `csv()` builds as `filename`; built on click, so it holds what the page shows then. */
export function CsvButton({ csv, filename, label = "Export CSV" }: { csv: () => string; filename: string; label?: string }) {
  const [problem, setProblem] = useState<unknown>(null);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setProblem(null);
          try {
            saveFile(csv(), filename);
          } catch (e) {
            setProblem(e);
          }
        }}
      >
        {label}
      </button>
      <ProblemBox error={problem} context="CSV not saved" />
    </>
  );
}
