// The attribution report: which campaigns, journeys and tagged visits
// earned the conversions of a period, under a model the marketer picks.
// The controls live in the address bar (a report can be linked and
// reloaded); the headline figures, the days, the sources with their cost
// and ROI (a cost entered beside a source, for roles that change
// marketing), the same period under all five models side by side, and the
// report as CSV from the server.
import { Fragment, useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { download, formProblems, useApi, type Activity } from "../api";
import { FieldError, Loading, ProblemBox, SortHeader, TabList } from "../components";
import { SeriesChart, type DailySeries } from "../Chart";
import { useCan } from "../session";
import {
  apiQuery,
  comparisonQuery,
  compareModels,
  formatCredit,
  formatMoney,
  formatRoi,
  formatShare,
  MODELS,
  nextSort,
  paramsOfQuery,
  periodOf,
  queryFromParams,
  QUERY_FIELDS,
  RANGES,
  sortFromParams,
  sortParam,
  sortSources,
  sourceLink,
  TOUCHES,
  utcToday,
  type AttributionQuery,
  type AttributionReport,
  type AttributionSource,
  type Cost,
  type Sort,
  type SortKey,
} from "./attributionReport";
import { CostEditor } from "./Costs";
import { countOf, plural } from "../plural";

/** How long typing pauses before the report follows. */
const TYPING_MS = 500;
/** Address parameters that are not report controls, kept when the controls change. */
const VIEW_PARAMS = ["view", "sort"];
const VIEWS = [
  { key: "sources", label: "Sources" },
  { key: "compare", label: "Compare models" },
] as const;

export function Attribution() {
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const applied = useMemo(() => queryFromParams(new URLSearchParams(search)), [search]);
  const [form, setForm] = useState<AttributionQuery>(applied);
  // The day the page opened: quick ranges end there, so a report does not shift at midnight.
  const [today] = useState(utcToday);
  const written = useRef(search);
  const timer = useRef<number | undefined>(undefined);
  // The address write waiting for typing to pause, so Enter can make it at once.
  const pending = useRef<(() => void) | null>(null);

  // The address changed from outside (back, forward, a link): the controls follow it.
  useEffect(() => {
    if (search === written.current) return;
    written.current = search;
    setForm(queryFromParams(new URLSearchParams(search)));
  }, [search]);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  /** Change controls; the report follows at once, or once typing pauses. */
  const update = (patch: Partial<AttributionQuery>, typed = false) => {
    const next = { ...form, ...patch };
    setForm(next);
    window.clearTimeout(timer.current);
    const write = () =>
      setParams(
        (prev) => {
          const p = paramsOfQuery(next);
          for (const k of VIEW_PARAMS) if (prev.has(k)) p.set(k, prev.get(k)!);
          written.current = p.toString();
          return p;
        },
        { replace: true },
      );
    pending.current = null;
    if (typed) {
      pending.current = write;
      timer.current = window.setTimeout(() => {
        pending.current = null;
        write();
      }, TYPING_MS);
    } else write();
  };
  const flush = () => {
    window.clearTimeout(timer.current);
    pending.current?.();
    pending.current = null;
  };
  const setView = (k: string, v: string | null) =>
    setParams(
      (prev) => {
        const p = new URLSearchParams(prev);
        if (v === null) p.delete(k);
        else p.set(k, v);
        written.current = p.toString();
        return p;
      },
      { replace: true },
    );

  const query = apiQuery(applied, today);
  const report = useApi<AttributionReport>(`/api/v1/reports/attribution?${query}`, { keep: true });
  const { fields, rest } = formProblems(report.error, QUERY_FIELDS);
  const view: (typeof VIEWS)[number]["key"] = params.get("view") === "compare" ? "compare" : "sources";
  const sort = sortFromParams(params);
  const r = report.data;
  const stale = report.loading || report.error !== undefined;
  const [csvProblem, setCsvProblem] = useState<unknown>(null);

  return (
    <div className="attribution">
      <Controls form={form} update={update} onSubmit={flush} today={today} errors={fields} />
      <div className="report-status" aria-live="polite">
        {report.loading && r && <Loading what="the report" />}
        {report.error && r && !report.loading && <span className="muted small">Showing the last report that could be made.</span>}
      </div>
      <ProblemBox error={rest} context="Report" />
      {!r && report.loading && <Loading what="the report" />}
      {r && (
        <div className={stale ? "report-body stale" : "report-body"} aria-busy={report.loading}>
          {r.warnings.length > 0 && (
            <ul className="notice warnings" aria-label="Warnings">
              {r.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <Headline report={r} />
          <div className="card">
            <h2>Per day</h2>
            <DaysChart report={r} />
          </div>
          <div className="report-views">
            <div className="view-bar">
              <TabList
                label="Report views"
                idPrefix="view"
                className="tabs view-tabs"
                tabs={VIEWS}
                selected={view}
                onSelect={(v) => setView("view", v === "compare" ? "compare" : null)}
              />
              <a
                className="button csv-link"
                href={`/api/v1/reports/attribution.csv?${query}`}
                download="attribution.csv"
                onClick={(e) => {
                  e.preventDefault();
                  setCsvProblem(null);
                  download(`/api/v1/reports/attribution.csv?${query}`, csvFilename(applied, today)).catch(setCsvProblem);
                }}
              >
                Download CSV
              </a>
            </div>
            <ProblemBox error={csvProblem} context="CSV not downloaded" />
            <div role="tabpanel" id="view-panel" aria-labelledby={`view-${view}`}>
              {view === "sources" ? (
                <SourcesTable report={r} sort={sort} onSort={(s) => setView("sort", sortParam(s))} onCostSaved={report.reload} />
              ) : (
                <CompareModels q={applied} today={today} main={r} />
              )}
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function csvFilename(q: AttributionQuery, today: string): string {
  const { since, until } = periodOf(q, today);
  return `attribution-${q.model}-${since || "start"}-${until || "now"}.csv`;
}

/** The report's controls; each shows the server's complaint about it. */
function Controls({
  form,
  update,
  onSubmit,
  today,
  errors,
}: {
  form: AttributionQuery;
  update: (patch: Partial<AttributionQuery>, typed?: boolean) => void;
  /** Enter in a typed field: apply now rather than when typing pauses. */
  onSubmit: () => void;
  today: string;
  errors: Record<string, string>;
}) {
  const activity = useApi<Activity>("/api/v1/workspace/activity?days=90");
  const period = periodOf(form, today);
  const described = (id: string, field: string, help?: boolean) => (errors[field] ? `${id}-error` : help ? `${id}-help` : undefined);
  const invalid = (field: string) => ({ "aria-invalid": errors[field] !== undefined, className: errors[field] ? "has-error" : undefined });
  return (
    <form className="card report-controls" role="search" aria-label="Report settings" onSubmit={(e) => (e.preventDefault(), onSubmit())}>
      {/* The form's default button, so Enter in a field submits it; every control applies by itself. */}
      <button type="submit" className="sr-only" tabIndex={-1} aria-hidden="true">
        Apply
      </button>
      <div className="controls-row">
        <div className="field grow">
          <label htmlFor="att-event">Conversion event</label>
          <input
            id="att-event"
            list="att-events"
            value={form.event}
            onChange={(e) => update({ event: e.target.value }, true)}
            aria-describedby={described("att-event", "event", true)}
            {...invalid("event")}
          />
          <datalist id="att-events">
            {activity.data?.top_events.map((e) => (
              <option key={e.name} value={e.name} />
            ))}
          </datalist>
          <FieldError id="att-event" error={errors.event} help={activity.error ? "The usual events could not be listed; type the event's name." : "The event that counts as a conversion."} />
        </div>
        <fieldset className="period">
          <legend>Period (UTC days)</legend>
          <div className="period-row">
            <div className="quick-ranges" role="group" aria-label="Quick ranges">
              {RANGES.map((d) => (
                <button type="button" key={d} aria-pressed={form.range === d} onClick={() => update({ range: d, since: "", until: "" })}>
                  {d} days
                </button>
              ))}
            </div>
            <div className="field">
              <label htmlFor="att-since">Since</label>
              <input
                id="att-since"
                type="date"
                value={period.since}
                max={period.until || undefined}
                onChange={(e) => update({ range: null, since: e.target.value, until: period.until })}
                aria-describedby={described("att-since", "since")}
                {...invalid("since")}
              />
            </div>
            <div className="field">
              <label htmlFor="att-until">Until</label>
              <input
                id="att-until"
                type="date"
                value={period.until}
                min={period.since || undefined}
                onChange={(e) => update({ range: null, since: period.since, until: e.target.value })}
                aria-describedby={described("att-until", "until")}
                {...invalid("until")}
              />
            </div>
          </div>
          <FieldError id="att-since" error={errors.since} />
          <FieldError id="att-until" error={errors.until} />
        </fieldset>
      </div>
      <fieldset className="models" aria-describedby={errors.model ? "att-model-error" : undefined}>
        <legend>Attribution model: how one conversion's credit is shared among what touched the contact</legend>
        <div className="model-options">
          {MODELS.map((m) => (
            <label key={m.name} className={form.model === m.name ? "model-option chosen" : "model-option"}>
              <input type="radio" name="att-model" value={m.name} checked={form.model === m.name} onChange={() => update({ model: m.name })} />
              <span>
                <strong>{m.label}</strong>
                <span className="muted small model-explain">{m.explain}</span>
              </span>
            </label>
          ))}
        </div>
        <FieldError id="att-model" error={errors.model} />
      </fieldset>
      <div className="controls-row">
        <div className="field narrow-field">
          <label htmlFor="att-half-life">Half-life (days)</label>
          <input
            id="att-half-life"
            inputMode="decimal"
            value={form.halfLife}
            disabled={form.model !== "time_decay"}
            onChange={(e) => update({ halfLife: e.target.value }, true)}
            aria-describedby={described("att-half-life", "half_life_days", true)}
            {...invalid("half_life_days")}
          />
          <FieldError id="att-half-life" error={errors.half_life_days} help="Time decay only." />
        </div>
        <div className="field narrow-field">
          <label htmlFor="att-window">Look-back window (days)</label>
          <input
            id="att-window"
            inputMode="numeric"
            value={form.window}
            onChange={(e) => update({ window: e.target.value }, true)}
            aria-describedby={described("att-window", "window_days", true)}
            {...invalid("window_days")}
          />
          <FieldError id="att-window" error={errors.window_days} help="Touches this long before count (1–90)." />
        </div>
        <div className="field">
          <label htmlFor="att-touch">An email counts when</label>
          <select id="att-touch" value={form.touch} onChange={(e) => update({ touch: e.target.value as AttributionQuery["touch"] })} aria-describedby={described("att-touch", "email_touch")} {...invalid("email_touch")}>
            {TOUCHES.map((t) => (
              <option key={t.name} value={t.name}>
                {t.label}
              </option>
            ))}
          </select>
          <FieldError id="att-touch" error={errors.email_touch} />
        </div>
        <div className="field">
          <label htmlFor="att-value">Value property (optional)</label>
          <input
            id="att-value"
            value={form.value}
            placeholder="revenue, total or value"
            spellCheck={false}
            onChange={(e) => update({ value: e.target.value }, true)}
            aria-describedby={described("att-value", "value", true)}
            {...invalid("value")}
          />
          <FieldError id="att-value" error={errors.value} help="A dotted path like order.total." />
        </div>
        <div className="field narrow-field">
          <label htmlFor="att-currency">Currency (optional)</label>
          <input
            id="att-currency"
            value={form.currency}
            maxLength={3}
            placeholder="most used"
            spellCheck={false}
            onChange={(e) => update({ currency: e.target.value }, true)}
            aria-describedby={described("att-currency", "currency", true)}
            {...invalid("currency")}
          />
          <FieldError id="att-currency" error={errors.currency} help="Others are left out." />
        </div>
      </div>
    </form>
  );
}

function Headline({ report: r }: { report: AttributionReport }) {
  const t = r.totals;
  const money = (n: number) => formatMoney(n, r.currency);
  const roi = formatRoi(t.roi);
  return (
    <>
      <div className="stats report-stats" data-testid="attribution-totals">
        <Figure label="Conversions" value={t.conversions.toLocaleString("en-US")} sub={`by ${countOf(t.contacts, "contact")}`} id="conversions" />
        <Figure label="Value" value={money(t.value)} sub={r.currency ? `in ${r.currency}` : "no currency"} id="value" />
        <Figure label="Attributed value" value={money(t.attributed_value)} sub={`${formatShare(t.attributed_value, t.value)} of value · ${formatCredit(t.attributed_conversions)} ${plural(t.attributed_conversions, "conversion")}`} id="attributed" />
        <Figure label="Unattributed value" value={money(t.unattributed_value)} sub={`${formatShare(t.unattributed_value, t.value)} · nothing touched them in the window`} id="unattributed" />
        <Figure label="Cost" value={money(t.cost)} sub="all costs entered, in the report's currency" id="cost" />
        <Figure
          label="ROI"
          value={roi ? roi.percent : "—"}
          sub={roi ? `${roi.multiple} returned: attributed value against cost` : "no cost entered"}
          id="roi"
          tone={t.roi === null ? undefined : t.roi >= 0 ? "up" : "down"}
        />
      </div>
      {(t.other_currency > 0 || t.without_value > 0) && (
        <ul className="report-notes small">
          {t.other_currency > 0 && (
            <li data-testid="note-other-currency">
              {t.other_currency.toLocaleString("en-US")} conversion(s) in another currency than {r.currency ?? "the report's"} were left out.
            </li>
          )}
          {t.without_value > 0 && (
            <li data-testid="note-without-value">
              {t.without_value.toLocaleString("en-US")} conversion(s) had no numeric value in {r.value_property.split("|").join(", ")} and count with 0.
            </li>
          )}
        </ul>
      )}
    </>
  );
}

function Figure({ label, value, sub, id, tone }: { label: string; value: string; sub: string; id: string; tone?: "up" | "down" }) {
  return (
    <div className="card stat">
      <div className={`stat-value${tone ? ` delta-${tone}` : ""}`} data-testid={`figure-${id}`}>
        {value}
      </div>
      <div className="stat-label">{label}</div>
      <div className="muted small">{sub}</div>
    </div>
  );
}

function DaysChart({ report: r }: { report: AttributionReport }) {
  const days = useMemo(() => r.series.map((d) => d.day), [r]);
  const series = useMemo((): DailySeries[] => {
    const money = (n: number) => formatMoney(n, r.currency);
    return [
      { label: "Value", values: r.series.map((d) => d.value), color: "#3b5bdb", format: money },
      { label: "Attributed value", values: r.series.map((d) => d.attributed_value), color: "#2b8a3e", format: money },
      { label: "Conversions", values: r.series.map((d) => d.conversions), color: "#c77700", axis: "right", dash: [4, 4] },
    ];
  }, [r]);
  if (days.length === 0) return <p className="muted">No days in the period.</p>;
  return <SeriesChart days={days} series={series} label="Value, attributed value and conversions per day" />;
}

const COLUMNS: { key: SortKey; label: string; num: boolean; narrow?: boolean }[] = [
  { key: "name", label: "Source", num: false },
  { key: "conversions", label: "Conversions", num: true },
  { key: "value", label: "Value", num: true },
  { key: "messages_sent", label: "Messages sent", num: true, narrow: true },
  { key: "cost", label: "Cost", num: true },
  { key: "roi", label: "ROI", num: true },
];

function SourcesTable({ report: r, sort, onSort, onCostSaved }: { report: AttributionReport; sort: Sort; onSort: (s: Sort) => void; onCostSaved: () => void }) {
  const can = useCan();
  const writable = can("marketing:write");
  const costs = useApi<{ data: Cost[] }>(writable ? "/api/v1/reports/costs" : null);
  const [editing, setEditing] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const rows = useMemo(() => sortSources(r.sources, sort), [r.sources, sort]);
  const money = (n: number | null) => formatMoney(n, r.currency);
  const options = r.sources.map((s) => ({ source: s.source, name: s.name }));
  if (r.sources.length === 0)
    return <p className="muted empty">Nothing was credited, sent or given a cost in this period: no campaign, journey or tagged visit touched a converting contact.</p>;
  return (
    <>
      <p className="ok status-line" role="status">
        {note}
      </p>
      <div className="table-wrap">
        <table className="table sources-table" data-testid="sources-table">
          <caption className="sr-only">Sources credited under {MODELS.find((m) => m.name === r.model.name)?.label}, sortable by each column</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <SortHeader
                  key={c.key}
                  label={c.label}
                  className={`${c.num ? "num" : ""}${c.narrow ? " hide-narrow" : ""}`}
                  sorted={sort.key === c.key ? (sort.dir === "asc" ? "ascending" : "descending") : undefined}
                  onSort={() => onSort(nextSort(sort, c.key))}
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <Fragment key={s.source}>
                <tr data-testid={`source-${s.source}`}>
                  <td>
                    <SourceName s={s} />
                  </td>
                  <td className="num">{formatCredit(s.conversions)}</td>
                  <td className="num">{money(s.value)}</td>
                  <td className="num hide-narrow">{s.messages_sent.toLocaleString("en-US")}</td>
                  <td className="num" data-testid="cost">
                    {s.cost === null ? "—" : money(s.cost)}
                    {writable && editing !== s.source && (
                      <button
                        type="button"
                        className="link small cost-action"
                        aria-label={`${s.cost === null ? "Add a cost for" : "Change the cost of"} ${s.name}`}
                        onClick={() => {
                          setNote(null);
                          setEditing(s.source);
                        }}
                      >
                        {s.cost === null ? "add cost" : "change"}
                      </button>
                    )}
                  </td>
                  <td className="num" data-testid="roi">
                    <Roi roi={s.roi} />
                  </td>
                </tr>
                {editing === s.source && (
                  <tr className="cost-row">
                    <td colSpan={COLUMNS.length}>
                      <CostEditor
                        idPrefix="row-cost"
                        fixedSource
                        sourceName={s.name}
                        sources={options}
                        initial={costFormFor(s, costs.data?.data, r.currency)}
                        onCancel={() => setEditing(null)}
                        onSaved={() => {
                          setEditing(null);
                          setNote(`The cost of ${s.name} was saved.`);
                          costs.reload();
                          onCostSaved();
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Unattributed</th>
              <td className="num">{formatCredit(r.totals.unattributed_conversions)}</td>
              <td className="num">{money(r.totals.unattributed_value)}</td>
              <td className="hide-narrow" />
              <td />
              <td />
            </tr>
          </tfoot>
        </table>
      </div>
    </>
  );
}

function costFormFor(s: AttributionSource, costs: Cost[] | undefined, currency: string | null) {
  const c = costs?.find((x) => x.source === s.source);
  return {
    source: s.source,
    amount: c ? String(c.amount) : "",
    perMessage: c?.per_message ? String(c.per_message) : "",
    currency: c?.currency ?? currency ?? "",
    note: c?.note ?? "",
  };
}

function SourceName({ s }: { s: Pick<AttributionSource, "source" | "name" | "channel"> }) {
  const link = sourceLink(s.source);
  return (
    <>
      {link.to ? <Link to={link.to}>{s.name}</Link> : <span className="source-name">{s.name}</span>} <span className={`badge channel-${s.channel}`}>{s.channel}</span>
      <div className="source-key">{s.source}</div>
    </>
  );
}

function Roi({ roi }: { roi: number | null }) {
  const f = formatRoi(roi);
  if (!f) return <span className="muted">—</span>;
  return (
    <>
      <span className={roi! >= 0 ? "delta-up roi" : "delta-down roi"}>{f.percent}</span>
      <div className="muted small">{f.multiple}</div>
    </>
  );
}

/** The same report under every model, each source's credited value side by side. */
function CompareModels({ q, today, main }: { q: AttributionQuery; today: string; main: AttributionReport }) {
  const current = main.model.name;
  // One request: the server reads the period once and answers every model, in MODELS order.
  const comparison = useApi<{ reports: AttributionReport[] }>(`/api/v1/reports/attribution/models?${comparisonQuery(q, today)}`, { keep: true });
  const answered = comparison.data?.reports;
  const loaded = useMemo(() => MODELS.map((m) => answered?.find((r) => r.model.name === m.name)), [answered]);
  const rows = useMemo(() => compareModels(loaded), [loaded]);
  const { loading, error } = comparison;
  const currency = loaded.find((r) => r)?.currency ?? null;
  const money = (n: number | null) => (n === null ? "…" : formatMoney(n, currency));
  return (
    <div className={loading ? "card compare-models stale" : "card compare-models"} aria-busy={loading}>
      <p className="muted small">
        Each source's credited value under each model, over the same period and window. The sources whose figure depends most on the model are on top: where the spread is large, the choice of model decides the story.
      </p>
      <div className="report-status">{loading && <Loading what="the five models" />}</div>
      <ProblemBox error={error} context="Comparison" />
      {rows.length === 0 && !loading && <p className="muted">No source was credited under any model.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="table compact compare-table" data-testid="compare-table">
            <thead>
              <tr>
                <th scope="col">Source</th>
                {MODELS.map((m) => (
                  <th scope="col" key={m.name} className={m.name === current ? "num current-model" : "num"} title={m.explain}>
                    {m.label}
                    {m.name === current && <span className="sr-only"> (the report's model)</span>}
                  </th>
                ))}
                <th scope="col" className="num">Spread</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.source} data-testid={`compare-${row.source}`}>
                  <td>
                    <SourceName s={row} />
                  </td>
                  {row.values.map((v, i) => (
                    <td key={MODELS[i].name} className={MODELS[i].name === current ? "num current-model" : "num"}>
                      {money(v)}
                    </td>
                  ))}
                  <td className="num">{formatMoney(row.spread, currency)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Attributed in total</th>
                {loaded.map((r, i) => (
                  <td key={MODELS[i].name} className={MODELS[i].name === current ? "num current-model" : "num"}>
                    {r ? formatMoney(r.totals.attributed_value, currency) : "…"}
                  </td>
                ))}
                <td />
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </div>
  );
}
