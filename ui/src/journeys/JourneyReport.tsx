// A journey's report, the builder's second tab: its runs by status, how
// many runs reached each step against how many entered, the email it sent
// (funnel, rates, days, clicks per link), and all of it as CSV.
import { useMemo } from "react";
import { useApi, type Journey } from "../api";
import { formatNumber, Loading, ProblemBox } from "../components";
import { csvName, csvSections, emailCsvSections, formatRate } from "../reports/emailReport";
import { CsvButton, EmailDaysChart, Funnel, HealthRates, LinkTable } from "../reports/EmailActivity";
import { runsByStatus, stepFunnel, type JourneyReportStats } from "./report";

export function JourneyReport({ journey }: { journey: Journey }) {
  // While contacts move through it the counts change: refresh now and then.
  const stats = useApi<JourneyReportStats>(`/api/v1/journeys/${journey.id}/stats`, { pollMs: journey.status === "active" ? 10_000 : undefined });
  const steps = useMemo(() => stepFunnel(journey.definition, stats.data?.nodes ?? []), [journey.definition, stats.data]);
  const runs = useMemo(() => runsByStatus(stats.data?.runs ?? {}), [stats.data]);
  if (stats.error && !stats.data) return <ProblemBox error={stats.error} context="Report" />;
  if (!stats.data) return <Loading what="the report" />;
  const email = stats.data.email;
  const csv = () =>
    csvSections([
      { title: "Journey", header: ["id", "name", "status", "version"], rows: [[journey.id, journey.name, journey.status, journey.version]] },
      { title: "Runs by status", header: ["status", "runs"], rows: [...runs.rows.map((r) => [r.status, r.count]), ["total", runs.total]] },
      {
        title: "Steps",
        header: ["step", "type", "reached", "share_of_entered", "here_now"],
        rows: [["(entered)", "", steps.entered, steps.entered ? 1 : null, ""], ...steps.rows.map((s) => [s.id, s.type ?? "removed", s.reached, s.share === null ? null : Math.round(s.share * 10_000) / 10_000, s.now])],
      },
      ...(email ? emailCsvSections(email) : []),
    ]);
  return (
    <div className="journey-report" data-testid="journey-report">
      <div className="label-row report-head">
        <h2>Report</h2>
        <CsvButton csv={csv} filename={csvName("journey", journey.name)} />
      </div>
      {stats.error && <ProblemBox error={stats.error} context="Not refreshed" />}
      <div className="grid-2 report-grid">
        <div className="card">
          <h2>Runs by status</h2>
          <table className="table compact runs-table" data-testid="runs-table">
            <tbody>
              {runs.rows.map((r) => (
                <tr key={r.status}>
                  <th scope="row">
                    <span className={`badge badge-${r.status}`}>{r.status}</span> <span className="muted small">{r.label}</span>
                  </th>
                  <td className="num" data-testid={`runs-${r.status}`}>
                    {formatNumber(r.count)}
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All runs</th>
                <td className="num" data-testid="runs-total">
                  {formatNumber(runs.total)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
        <div className="card">
          <h2>Steps</h2>
          <p className="muted small">Runs that reached each step, in the order contacts meet them, against the {formatNumber(steps.entered)} that entered.</p>
          {steps.rows.length === 0 ? (
            <p className="muted">The journey has no steps yet.</p>
          ) : (
            <ol className="funnel step-funnel" aria-label="Runs reaching each step">
              {steps.rows.map((s) => (
                <li key={s.id} data-testid={`step-${s.id}`} className={s.inVersion ? undefined : "removed"}>
                  <span className="funnel-label">
                    <code>{s.id}</code> <span className="muted small">{s.label}</span>
                  </span>
                  <span className="funnel-track" aria-hidden="true">
                    <span className="funnel-bar" style={{ width: `${Math.min(100, (s.share ?? 0) * 100)}%` }} />
                  </span>
                  <span className="funnel-count num">{formatNumber(s.reached)}</span>
                  <span className="funnel-rate muted small">
                    {s.share === null ? "—" : formatRate(s.share)}
                    {s.now > 0 && ` · ${formatNumber(s.now)} here now`}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
      {email && (
        <>
          <div className="grid-2 report-grid">
            <div className="card">
              <h2>Email</h2>
              <Funnel totals={email.totals} label="The journey's email funnel" />
              <HealthRates totals={email.totals} />
            </div>
            <div className="card">
              <h2>Email per day</h2>
              <EmailDaysChart series={email.series} label="The journey's email per day: sent, first opens, first clicks, unsubscribes" />
            </div>
          </div>
          <div className="card">
            <h2>Clicks per link</h2>
            <LinkTable links={email.links} />
          </div>
        </>
      )}
    </div>
  );
}
