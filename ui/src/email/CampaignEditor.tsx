// A broadcast campaign: the editor of a draft (name, audience, template or
// A/B test, schedule, throttle, conversion goal; the server's problems shown
// on the field they name), launching with the audience size confirmed,
// pausing, resuming and cancelling; read-only once launched or for roles that
// cannot change campaigns; and the report, polled while it sends: the
// funnel and rates, email per day, totals, variants, clicks per link, and
// all of it as CSV.
import { Fragment, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, useApi } from "../api";
import { useCan } from "../session";
import { formatNumber, formatWhen, InlineConfirm, Loading, PageHeader, ProblemBox, StatusBadge } from "../components";
import { BarChart } from "../Chart";
import { csvName, csvSections, emailCsvSections, TOTAL_ROWS } from "../reports/emailReport";
import { CsvButton, EmailDaysChart, Funnel, HealthRates, LinkTable } from "../reports/EmailActivity";
import { useNames, type Names } from "./Campaigns";
import {
  actionsFor,
  definitionOf,
  detailWithNames,
  EMPTY_FORM,
  formOf,
  isLive,
  problemsByField,
  type Campaign,
  type CampaignAction,
  type CampaignForm,
  type CampaignReport,
  type CampaignTotals,
  type Field,
} from "./campaign";
import { countOf } from "../plural";

const POLL_MS = 1500;

export function CampaignEditor() {
  const { id } = useParams();
  const isNew = id === undefined;
  const navigate = useNavigate();
  const can = useCan();
  const [live, setLive] = useState(false);
  const loaded = useApi<Campaign>(isNew ? null : `/api/v1/email/campaigns/${id}`, { pollMs: live ? POLL_MS : undefined });
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const [form, setForm] = useState<CampaignForm | null>(isNew ? EMPTY_FORM : null);
  // Asked for once here, for the header, the editor and the report.
  const names = useNames();

  useEffect(() => {
    if (!loaded.data) return;
    setCampaign(loaded.data);
    setLive(isLive(loaded.data.status));
    // A draft being edited keeps its inputs; anything else shows what the server holds.
    setForm((f) => (f && loaded.data!.status === "draft" ? f : formOf(loaded.data!.name, loaded.data!.definition)));
  }, [loaded.data]);

  if (!form) {
    return (
      <section>
        <PageHeader title="Campaign" />
        <ProblemBox error={loaded.error} context="Loading the campaign" />
        {loaded.loading && <Loading what="the campaign" />}
      </section>
    );
  }
  const adopt = (c: Campaign) => {
    setCampaign(c);
    setLive(isLive(c.status));
    setForm(formOf(c.name, c.definition));
    if (isNew) navigate(`/email/campaigns/${c.id}`, { replace: true });
  };
  const status = campaign?.status ?? "draft";
  return (
    <section>
      <PageHeader
        title={
          <>
            {isNew ? "New campaign" : campaign?.name ?? "Campaign"} {campaign && <StatusBadge status={status} />}
          </>
        }
      >
        <Link to="/email/campaigns">All campaigns</Link>
      </PageHeader>
      {campaign?.detail && (
        <p className="muted" data-testid="campaign-detail">
          {detailWithNames(campaign.detail, campaign.definition, names.template)}
          {campaign.winner ? ` · winner: ${names.template(campaign.winner)}` : ""}
        </p>
      )}
      {campaign && status !== "draft" && can("reports:read") && <Report campaign={campaign} names={names} />}
      <Editor form={form} setForm={setForm} campaign={campaign} editable={status === "draft" && can("marketing:write")} onSaved={adopt} names={names} />
    </section>
  );
}

function Editor({
  form,
  setForm,
  campaign,
  editable,
  onSaved,
  names,
}: {
  form: CampaignForm;
  setForm: (f: CampaignForm) => void;
  campaign: Campaign | null;
  editable: boolean;
  onSaved: (c: Campaign) => void;
  names: Names;
}) {
  const can = useCan();
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ action: CampaignAction; size?: number | null } | null>(null);
  const dirty = !campaign || JSON.stringify(formOf(campaign.name, campaign.definition)) !== JSON.stringify(form);

  const set = (patch: Partial<CampaignForm>) => {
    setNote(null);
    setForm({ ...form, ...patch });
  };
  const refused = (e: unknown) => {
    if (e instanceof ApiError && e.status === 422) {
      const { fields, rest } = problemsByField(e.problem.errors);
      setErrors(fields);
      // The box still says the save failed; the field says why.
      setProblem(new ApiError({ ...e.problem, errors: rest.length ? rest : undefined }));
    } else setProblem(e);
  };
  /** Save when there is something to save; the saved campaign, or null when refused. */
  const save = async (): Promise<Campaign | null> => {
    if (campaign && !dirty) return campaign;
    setErrors({});
    setProblem(null);
    setNote(null);
    const body = { name: form.name, definition: definitionOf(form) };
    try {
      const c = campaign
        ? await api<Campaign>("PATCH", `/api/v1/email/campaigns/${campaign.id}`, body)
        : await api<Campaign>("POST", "/api/v1/email/campaigns", body);
      onSaved(c);
      setNote(`Saved at ${formatWhen(c.updated_at)}.`);
      return c;
    } catch (e) {
      refused(e);
      return null;
    }
  };
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await f();
    } finally {
      setBusy(false);
    }
  };
  /** Ask before launching or cancelling; a launch is asked with the audience's size now. */
  const ask = (action: CampaignAction) =>
    run(async () => {
      const c = action === "launch" ? await save() : campaign;
      if (!c) return;
      setConfirm({ action, size: undefined });
      if (action !== "launch") return;
      const a = c.definition.audience;
      try {
        const size = a?.segment
          ? (await api<{ count: number }>("GET", `/api/v1/segments/${a.segment}/count`)).count
          : a?.list
            ? (await api<{ count: number }>("GET", `/api/v1/lists/${a.list}`)).count
            : null;
        setConfirm({ action, size });
      } catch {
        setConfirm({ action, size: null });
      }
    });
  const act = (action: CampaignAction) =>
    run(async () => {
      if (!campaign) return;
      setConfirm(null);
      setProblem(null);
      setErrors({});
      try {
        onSaved(await api<Campaign>("POST", `/api/v1/email/campaigns/${campaign.id}/${action}`));
      } catch (e) {
        refused(e);
      }
    });

  const audienceOptions = form.audienceKind === "segment" ? (names.segments ?? []) : (names.lists ?? []);
  const templateOptions = names.templates ?? [];
  const actions = campaign && can("marketing:write") ? actionsFor(campaign.status) : [];

  return (
    <form
      className="card campaign-form"
      aria-label="Campaign"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void run(save);
      }}
    >
      {campaign && campaign.status !== "draft" && (
        <>
          <h2>Settings</h2>
          <p className="muted small">A launched campaign cannot be changed.</p>
        </>
      )}
      <fieldset disabled={!editable || busy} className="plain">
        <Input id="cmp-name" label="Name" error={errors.name}>
          <input id="cmp-name" value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. Spring sale" {...invalid("cmp-name", errors.name)} />
        </Input>
        <fieldset>
          <legend>Audience</legend>
          <div className="row">
            <label className="inline">
              <input type="radio" name="audience-kind" checked={form.audienceKind === "segment"} onChange={() => set({ audienceKind: "segment", audience: "" })} /> A segment
            </label>
            <label className="inline">
              <input type="radio" name="audience-kind" checked={form.audienceKind === "list"} onChange={() => set({ audienceKind: "list", audience: "" })} /> A static list
            </label>
          </div>
          <Input id="cmp-audience" label={form.audienceKind === "segment" ? "Segment" : "List"} error={errors.audience}>
            <select id="cmp-audience" value={form.audience} onChange={(e) => set({ audience: e.target.value })} {...invalid("cmp-audience", errors.audience)}>
              <option value="">Choose…</option>
              {audienceOptions.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name} ({formatNumber(o.count)})
                </option>
              ))}
            </select>
          </Input>
        </fieldset>
        <fieldset>
          <legend>Content</legend>
          <div className="row">
            <label className="inline">
              <input type="radio" name="mode" checked={form.mode === "single"} onChange={() => set({ mode: "single" })} /> One template
            </label>
            <label className="inline">
              <input type="radio" name="mode" checked={form.mode === "ab"} onChange={() => set({ mode: "ab" })} /> A/B test
            </label>
          </div>
          {form.mode === "single" ? (
            <Input id="cmp-template" label="Template" error={errors.template}>
              <select id="cmp-template" value={form.template} onChange={(e) => set({ template: e.target.value })} {...invalid("cmp-template", errors.template)}>
                <option value="">Choose…</option>
                {templateOptions.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
                {form.template && !templateOptions.some((t) => t.id === form.template) && <option value={form.template}>{form.template}</option>}
              </select>
            </Input>
          ) : (
            <>
              <div role="group" aria-labelledby="cmp-variants-label" className="field">
                <span id="cmp-variants-label">Variants (2 to 5 templates)</span>
                {form.variants.map((v, i) => (
                  <div className="row" key={i}>
                    <select
                      aria-label={`Variant ${String.fromCharCode(65 + i)}`}
                      value={v}
                      onChange={(e) => set({ variants: form.variants.map((x, j) => (j === i ? e.target.value : x)) })}
                      {...invalid("cmp-variants", errors.variants)}
                    >
                      <option value="">Choose…</option>
                      {templateOptions.map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.name}
                        </option>
                      ))}
                      {v && !templateOptions.some((t) => t.id === v) && <option value={v}>{v}</option>}
                    </select>
                    {form.variants.length > 2 && editable && (
                      <button type="button" className="link" onClick={() => set({ variants: form.variants.filter((_, j) => j !== i) })}>
                        Remove
                      </button>
                    )}
                  </div>
                ))}
                {form.variants.length < 5 && editable && (
                  <div>
                    <button type="button" onClick={() => set({ variants: [...form.variants, ""] })}>
                      Add a variant
                    </button>
                  </div>
                )}
                {errors.variants && <p className="field-error" id="cmp-variants-error">{errors.variants}</p>}
              </div>
              <div className="row top">
                <Input id="cmp-sample" label="Sample (% of the audience)" error={errors.samplePercent} narrow>
                  <input id="cmp-sample" inputMode="numeric" value={form.samplePercent} onChange={(e) => set({ samplePercent: e.target.value })} {...invalid("cmp-sample", errors.samplePercent)} />
                </Input>
                <Input id="cmp-wait" label="Wait before the winner (minutes)" error={errors.waitMinutes} narrow>
                  <input id="cmp-wait" inputMode="numeric" value={form.waitMinutes} onChange={(e) => set({ waitMinutes: e.target.value })} {...invalid("cmp-wait", errors.waitMinutes)} />
                </Input>
                <Input id="cmp-metric" label="Winner by" error={errors.metric}>
                  <select id="cmp-metric" value={form.metric} onChange={(e) => set({ metric: e.target.value as CampaignForm["metric"] })}>
                    <option value="opens">Unique opens</option>
                    <option value="clicks">Unique clicks</option>
                  </select>
                </Input>
              </div>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Schedule</legend>
          <div className="row top">
            <Input id="cmp-send-at" label="Send at (empty: on launch)" error={errors.sendAt}>
              <input id="cmp-send-at" type="datetime-local" value={form.sendAt} onChange={(e) => set({ sendAt: e.target.value })} {...invalid("cmp-send-at", errors.sendAt)} />
            </Input>
            <div className="field" role="radiogroup" aria-labelledby="cmp-timing-label" data-testid="cmp-timing">
              <span className="label" id="cmp-timing-label">
                Each recipient gets it
              </span>
              <label className="inline">
                <input type="radio" name="cmp-timing" checked={form.timing === "start"} onChange={() => set({ timing: "start", localTime: "" })} />
                <span>at the start</span>
              </label>
              <label className="inline">
                <input type="radio" name="cmp-timing" checked={form.timing === "local"} onChange={() => set({ timing: "local", localTime: form.localTime || "09:00" })} />
                <span>at a time of their day</span>
              </label>
              <label className="inline">
                <input type="radio" name="cmp-timing" checked={form.timing === "best"} onChange={() => set({ timing: "best", localTime: "" })} />
                <span>at their best hour</span>
              </label>
              <p className={errors.timing ? "field-error" : "muted small"} id="cmp-timing-help">
                {errors.timing ?? (form.timing === "best" ? "The hour each recipient usually opens email, in their zone, within a day of the start." : "In each recipient's time zone.")}
              </p>
            </div>
            {form.timing === "local" && (
              <Input id="cmp-local-time" label="Local time" error={errors.localTime}>
                <input id="cmp-local-time" type="time" value={form.localTime} onChange={(e) => set({ localTime: e.target.value })} {...invalid("cmp-local-time", errors.localTime)} />
              </Input>
            )}
            <Input id="cmp-per-minute" label="Throttle (messages per minute)" error={errors.perMinute}>
              <input id="cmp-per-minute" inputMode="numeric" placeholder="no limit" value={form.perMinute} onChange={(e) => set({ perMinute: e.target.value })} {...invalid("cmp-per-minute", errors.perMinute)} />
            </Input>
          </div>
        </fieldset>
        <fieldset>
          <legend>Conversion goal (optional)</legend>
          <div className="row top">
            <Input id="cmp-conv-event" label="Event" error={errors.conversionEvent}>
              <input id="cmp-conv-event" placeholder="e.g. Order Completed" value={form.conversionEvent} onChange={(e) => set({ conversionEvent: e.target.value })} {...invalid("cmp-conv-event", errors.conversionEvent)} />
            </Input>
            <Input id="cmp-conv-days" label="Within (days)" error={errors.conversionDays} narrow>
              <input id="cmp-conv-days" inputMode="numeric" value={form.conversionDays} onChange={(e) => set({ conversionDays: e.target.value })} {...invalid("cmp-conv-days", errors.conversionDays)} />
            </Input>
          </div>
        </fieldset>
        {errors.sender && <p className="field-error">Sender: {errors.sender}</p>}
      </fieldset>
      <ProblemBox error={problem} context="Not done" />
      {(editable || actions.length > 0) && (
        <div className="form-actions">
          {editable && (
            <button type="submit" className={campaign ? undefined : "primary"} disabled={busy || !dirty}>
              Save
            </button>
          )}
          {!confirm &&
            actions.map((a) => (
              <button
                key={a}
                type="button"
                className={a === "launch" ? "primary" : a === "cancel" ? "danger" : undefined}
                disabled={busy}
                onClick={() => void (a === "launch" || a === "cancel" ? ask(a) : act(a))}
              >
                {a === "launch" ? "Launch…" : a === "cancel" ? "Cancel campaign…" : a === "pause" ? "Pause" : "Resume"}
              </button>
            ))}
          {confirm && (
            <InlineConfirm
              label={confirm.action === "launch" ? "Confirm the launch" : "Confirm cancelling"}
              question={confirm.action === "launch" ? (
                <span data-testid="launch-size">
                  {confirm.size === undefined
                    ? "Counting the audience…"
                    : confirm.size === null
                      ? "Send to the whole audience now?"
                      : `Send to ${countOf(confirm.size, "recipient")}${form.sendAt ? ` from ${formatWhen(new Date(form.sendAt).getTime())}` : " now"}?`}
                </span>
              ) : (
                "Stop this campaign for good?"
              )}
              yes={confirm.action === "launch" ? "Yes, launch" : "Yes, cancel it"}
              yesClass={confirm.action === "launch" ? "primary" : "danger"}
              disabled={busy || (confirm.size === undefined && confirm.action === "launch")}
              onYes={() => void act(confirm.action)}
              no="No"
              onNo={() => setConfirm(null)}
            />
          )}
          {note && <span className="ok small" role="status">{note}</span>}
          {editable && dirty && campaign && <span className="muted small">Unsaved changes</span>}
        </div>
      )}
    </form>
  );
}

function invalid(id: string, error: string | undefined) {
  return {
    "aria-invalid": error !== undefined,
    "aria-describedby": error ? `${id}-error` : undefined,
    className: error ? "has-error" : undefined,
  };
}

/** A labelled control with the server's complaint about it underneath (TextField for any control). */
function Input({ id, label, error, narrow, children }: { id: string; label: string; error?: string; narrow?: boolean; children: ReactNode }) {
  return (
    <div className={narrow ? "field narrow-ish" : "field"}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

const OUTCOMES: [keyof CampaignTotals, string][] = [
  ["delivered", "Delivered"],
  ["unique_opens", "Unique opens"],
  ["unique_clicks", "Unique clicks"],
  ["bounced", "Hard bounces"],
  ["soft_bounced", "Soft bounces"],
  ["refused", "Refused"],
  ["skipped", "Skipped"],
  ["unsubscribed", "Unsubscribed"],
  ["complained", "Complaints"],
];

function Report({ campaign, names }: { campaign: Campaign; names: Names }) {
  const report = useApi<CampaignReport>(`/api/v1/email/campaigns/${campaign.id}/report`, { pollMs: isLive(campaign.status) ? POLL_MS : undefined });
  const labels = useMemo(() => OUTCOMES.map(([, l]) => l), []);
  const values = useMemo(() => OUTCOMES.map(([k]) => report.data?.totals[k] ?? 0), [report.data]);
  const box = useRef<HTMLDivElement>(null);
  const arrived = report.data !== undefined;
  // Opened from a link to the report (the Reports section's list): bring it into view once it is there.
  useEffect(() => {
    if (arrived && window.location.hash === "#report") box.current?.scrollIntoView();
  }, [arrived]);
  if (report.error && !report.data) return <ProblemBox error={report.error} context="Report" />;
  if (!report.data) return <Loading what="the report" />;
  const r = report.data;
  const winner = r.winner ? names.template(r.winner) : null;
  const csv = () =>
    csvSections([
      {
        title: "Campaign",
        header: ["id", "name", "status", "started_at", "finished_at", "recipients"],
        rows: [[campaign.id, campaign.name, r.status, iso(campaign.started_at), iso(campaign.finished_at), r.recipients.total]],
      },
      ...emailCsvSections(r),
    ]);
  return (
    <div className="campaign-report" id="report" ref={box} data-testid="campaign-report">
      <div className="label-row report-head">
        <h2>Report {isLive(r.status) && <span className="muted small">(updating while it sends)</span>}</h2>
        <CsvButton csv={csv} filename={csvName("campaign", campaign.name)} />
      </div>
      <div className="stats">
        <Stat label="Recipients" value={r.recipients.total} id="recipients-total" />
        <Stat label="Pending" value={r.recipients.pending} id="recipients-pending" />
        <Stat label="Done" value={r.recipients.done} id="recipients-done" />
        <Stat label="Awaiting the A/B winner" value={r.recipients.awaiting_winner} id="recipients-awaiting" />
      </div>
      <div className="grid-2 report-grid">
        <div className="card">
          <h2>Funnel</h2>
          <Funnel totals={r.totals} converted={r.conversions?.converted} label="Campaign funnel" />
          {r.conversions && (
            <p className="muted small">
              Converted: recipients who did {r.conversions.event} within {countOf(r.conversions.days, "day")} of their email.
            </p>
          )}
          <HealthRates totals={r.totals} />
        </div>
        <div className="card">
          <h2>Per day</h2>
          <EmailDaysChart series={r.series ?? []} label="Campaign email per day: sent, first opens, first clicks, unsubscribes" />
        </div>
      </div>
      <div className="card">
        <h2>Messages</h2>
        <BarChart labels={labels} values={values} label="Campaign messages by outcome" />
        <table className="table compact report-totals">
          <tbody>
            {/* Two totals a row, like the template report, so the table stays short. */}
            {pairs(TOTAL_ROWS).map((pair) => (
              <tr key={pair[0][0]}>
                {pair.map(([k, l]) => (
                  <Fragment key={k}>
                    <th scope="row">{l}</th>
                    <td className="num" data-testid={`total-${k}`}>
                      {formatNumber(r.totals[k])}
                    </td>
                  </Fragment>
                ))}
                {pair.length === 1 && (
                  <>
                    <th scope="row">Conversions{r.conversions ? ` (${r.conversions.event} within ${countOf(r.conversions.days, "day")})` : ""}</th>
                    <td className="num" data-testid="total-conversions">
                      {r.conversions ? formatNumber(r.conversions.converted) : <span className="muted">no goal set</span>}
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {r.variants.length > 0 && (
        <div className="card">
          <h2>A/B variants</h2>
          <p className="muted small">{winner ? `Winner: ${winner}.` : "No winner yet: the sample is still responding."}</p>
          <div className="table-wrap">
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  {r.variants.map((v) => (
                    <th scope="col" className="num" key={v.template}>
                      {names.template(v.template)} {r.winner && names.template(r.winner) === names.template(v.template) && <span className="badge badge-active">winner</span>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {TOTAL_ROWS.map(([k, l]) => (
                  <tr key={k}>
                    <th scope="row">{l}</th>
                    {r.variants.map((v) => (
                      <td className="num" key={v.template}>
                        {formatNumber(v.totals[k])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <div className="card">
        <h2>Clicks per link</h2>
        <LinkTable links={r.links} />
      </div>
    </div>
  );
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

function pairs<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += 2) out.push(xs.slice(i, i + 2));
  return out;
}

function Stat({ label, value, id }: { label: string; value: number; id: string }) {
  return (
    <div className="card stat">
      <div className="stat-value" data-testid={id}>
        {formatNumber(value)}
      </div>
      <div className="stat-label">{label}</div>
    </div>
  );
}
