// The journey builder's side panels: the trigger with entry rules and goals,
// and the settings of each kind of step, with a picker per exit saying which
// step it leads to (the keyboard's way to connect steps). Event names and
// property filters use the segment builder's pickers, fed by the event
// catalogue the builder loads.
import { useState } from "react";
import type { Edge as FlowEdge } from "@xyflow/react";
import { Link } from "react-router";
import { useApi } from "../api";
import { ProblemBox } from "../components";
import type { Catalog } from "../segments/catalog";
import { EventNameInput, PropertyFilters, RuleEditor } from "../segments/RuleEditor";
import { fromRule, toRule, whereFromJson, whereToJson, type Group, type PropertyFilter } from "../segments/rule";
import { delayConfig, delayMode, exitsOf, stepLabel, type DelayMode, type Obj, type Settings, type Step } from "./graph";

/** What the canvas sees is still missing or wrong, while editing (the server's own check comes on publish). */
function Problems({ problems }: { problems?: string[] }) {
  if (!problems || problems.length === 0) return null;
  return (
    <div className="warn-box" data-testid="panel-problems">
      <strong>To fix before publishing</strong>
      <ul>
        {problems.map((e, i) => (
          <li key={i}>{e}</li>
        ))}
      </ul>
    </div>
  );
}

function Errors({ errors }: { errors?: string[] }) {
  if (!errors || errors.length === 0) return null;
  return (
    <div className="problem" role="alert">
      <strong>The server refused this step</strong>
      <ul>
        {errors.map((e, i) => (
          <li key={i}>{e}</li>
        ))}
      </ul>
    </div>
  );
}

/** A duration `{"days", "hours", "minutes"}` as three number inputs. */
function DurationInput({ label, value, onChange }: { label: string; value: unknown; onChange: (v: Obj) => void }) {
  const d = (typeof value === "object" && value !== null ? value : {}) as Obj;
  const part = (k: string) => (d[k] === undefined ? "" : String(d[k]));
  const set = (k: string, v: string) => {
    const next: Obj = { ...d };
    if (v === "") delete next[k];
    else next[k] = Number(v);
    onChange(next);
  };
  return (
    <fieldset className="duration">
      <legend>{label}</legend>
      {["days", "hours", "minutes"].map((k) => (
        <label key={k} className="inline">
          <input type="number" min={0} className="narrow" value={part(k)} onChange={(e) => set(k, e.target.value)} aria-label={`${label}: ${k}`} />
          <span>{k}</span>
        </label>
      ))}
    </fieldset>
  );
}

function TextField({ id, label, value, onChange, list, placeholder }: { id: string; label: string; value: unknown; onChange: (v: string) => void; list?: string; placeholder?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} list={list} placeholder={placeholder} value={value === undefined || value === null ? "" : String(value)} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

/** The send step's template: one of the workspace's email templates, by name. */
function TemplatePicker({ id, value, onChange }: { id: string; value: unknown; onChange: (v: string) => void }) {
  const list = useApi<{ data: { id: string; name: string; subject: string }[] }>("/api/v1/email/templates");
  const current = value === undefined || value === null ? "" : String(value);
  const known = list.data?.data.some((t) => t.name === current) ?? true;
  const chosen = list.data?.data.find((t) => t.name === current);
  return (
    <div className="field">
      <label htmlFor={id}>Template</label>
      <select id={id} value={current} onChange={(e) => onChange(e.target.value)} disabled={!list.data && !list.error} aria-busy={list.loading}>
        <option value="">{list.loading && !list.data ? "Loading templates…" : "Choose a template…"}</option>
        {!known && current && <option value={current}>{current} (no such template)</option>}
        {list.data?.data.map((t) => (
          <option key={t.id} value={t.name}>
            {t.name}
          </option>
        ))}
      </select>
      {chosen && (
        <span className="small muted">
          Subject: {chosen.subject} · <Link to={`/email/templates/${chosen.id}`} target="_blank">edit</Link>
        </span>
      )}
      {list.data && list.data.data.length === 0 && (
        <span className="small muted">
          No templates yet: <Link to="/email/templates/new" target="_blank">create one</Link>.
        </span>
      )}
      <ProblemBox error={list.error} context="Templates" />
    </div>
  );
}

/** An event name field with its label, picked from the events seen. */
function EventField({ id, label, value, onChange }: { id: string; label: string; value: unknown; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <EventNameInput id={id} value={value === undefined || value === null ? "" : String(value)} onChange={onChange} placeholder="e.g. Signed Up" />
    </div>
  );
}

/** The property filters (`where`) of an event trigger or wait, edited as in
 * the segment builder; `onChange` gets undefined when there are none. */
function WhereFilters({ event, value, onChange, readOnly }: { event: unknown; value: unknown; onChange: (w: unknown[] | undefined) => void; readOnly: boolean }) {
  const [where, setWhere] = useState<PropertyFilter[] | null>(() => whereFromJson(value));
  if (where === null) return <p className="muted small">Its property conditions are kept as written in JSON.</p>;
  return (
    <div className="event-cond where-filters" data-testid="event-where">
      <PropertyFilters
        where={where}
        event={typeof event === "string" ? event : ""}
        readOnly={readOnly}
        onChange={(w) => {
          setWhere(w);
          onChange(w.length > 0 ? whereToJson(w) : undefined);
        }}
      />
    </div>
  );
}

/** The goal events, one picker each; rows left empty are not saved. */
function Goals({ goals, onChange, readOnly }: { goals: Obj[]; onChange: (g: Obj[]) => void; readOnly: boolean }) {
  const [rows, setRows] = useState<Obj[]>(goals);
  const update = (next: Obj[]) => {
    setRows(next);
    onChange(next.filter((g) => String(g.event ?? "").trim() !== ""));
  };
  return (
    <fieldset className="goals">
      <legend>Goal events: reaching one converts and exits</legend>
      {rows.length === 0 && <p className="muted small">No goals.</p>}
      {rows.map((g, i) => (
        <div className="row" key={i}>
          <label className="sr-only" htmlFor={`goal-${i}`}>
            Goal event {i + 1}
          </label>
          <EventNameInput id={`goal-${i}`} value={String(g.event ?? "")} onChange={(event) => update(rows.map((x, j) => (j === i ? { ...x, event } : x)))} placeholder="e.g. Order Completed" />
          {!readOnly && (
            <button type="button" className="icon danger" aria-label={`Remove goal event ${i + 1}`} onClick={() => update(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="link" onClick={() => setRows([...rows, { event: "" }])}>
          + Goal event
        </button>
      )}
    </fieldset>
  );
}

interface TriggerPanelProps {
  settings: Settings;
  onChange: (s: Settings) => void;
  catalog: Catalog;
  errors?: string[];
  /** Problems seen while editing. */
  problems?: string[];
  steps: string[];
  /** The first step, if the trigger is connected. */
  start: string;
  onStart: (step: string | null) => void;
  /** For roles that may only look: no add and remove buttons (the inputs are disabled by an enclosing fieldset). */
  readOnly?: boolean;
}

export function TriggerPanel({ settings, onChange, catalog, errors, problems, steps, start, onStart, readOnly = false }: TriggerPanelProps) {
  const t = settings.trigger;
  const setTrigger = (patch: Obj) => onChange({ ...settings, trigger: { ...t, ...patch } });
  const entry = settings.entry ?? {};
  const cooldownDays = (entry.cooldown as Obj | undefined)?.days;
  return (
    <div className="panel">
      <h2>Trigger</h2>
      <Errors errors={errors} />
      <Problems problems={problems} />
      <div className="field">
        <label htmlFor="trigger-type">Starts when</label>
        <select
          id="trigger-type"
          value={String(t.type)}
          onChange={(e) => {
            const type = e.target.value;
            onChange({
              ...settings,
              trigger:
                type === "event"
                  ? { type, event: "" }
                  : type === "segment_entered" || type === "segment_exited"
                    ? { type, segment: catalog.segments[0]?.id ?? "" }
                    : type === "form_submitted"
                      ? { type, form: "" }
                      : { type },
            });
          }}
        >
          <option value="event">a contact performs an event</option>
          <option value="segment_entered">a contact enters a segment</option>
          <option value="segment_exited">a contact leaves a segment</option>
          <option value="form_submitted">a form is submitted</option>
          <option value="api">the API puts a contact in</option>
        </select>
      </div>
      {t.type === "event" && (
        <>
          <EventField id="trigger-event" label="Event" value={t.event} onChange={(v) => setTrigger({ event: v })} />
          <WhereFilters event={t.event} value={t.where} readOnly={readOnly} onChange={(w) => onChange({ ...settings, trigger: w ? { ...t, where: w } : omit(t, "where") })} />
        </>
      )}
      {(t.type === "segment_entered" || t.type === "segment_exited") && (
        <div className="field">
          <label htmlFor="trigger-segment">Segment</label>
          <select id="trigger-segment" value={String(t.segment ?? "")} onChange={(e) => setTrigger({ segment: e.target.value })}>
            <option value="">Choose a segment…</option>
            {catalog.segments.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {t.type === "form_submitted" && <TextField id="trigger-form" label="Form id" value={t.form} onChange={(v) => setTrigger({ form: v })} />}
      <div className="field">
        <label htmlFor="entry-mode">A contact may enter</label>
        <select id="entry-mode" value={String(entry.mode ?? "once_at_a_time")} onChange={(e) => onChange({ ...settings, entry: { ...entry, mode: e.target.value } })}>
          <option value="once">once, ever</option>
          <option value="once_at_a_time">again after their previous run ended</option>
          <option value="every_time">every time the trigger fires</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="entry-cooldown">Least days between two entries</label>
        <input
          id="entry-cooldown"
          type="number"
          min={0}
          value={cooldownDays === undefined ? "" : String(cooldownDays)}
          onChange={(e) => {
            const next: Obj = { ...entry };
            if (e.target.value === "" || e.target.value === "0") delete next.cooldown;
            else next.cooldown = { days: Number(e.target.value) };
            onChange({ ...settings, entry: next });
          }}
        />
      </div>
      <Goals goals={settings.goals ?? []} readOnly={readOnly} onChange={(goals) => onChange({ ...settings, goals })} />
      <div className="field">
        <label htmlFor="trigger-start">First step</label>
        <select id="trigger-start" value={start} onChange={(e) => onStart(e.target.value || null)}>
          <option value="">(not connected)</option>
          {steps.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <label className="inline">
        <input type="checkbox" checked={settings.exit_on_unsubscribe ?? true} onChange={(e) => onChange({ ...settings, exit_on_unsubscribe: e.target.checked })} />
        <span>Exit when the contact unsubscribes from marketing email</span>
      </label>
    </div>
  );
}

interface StepPanelProps {
  step: Step;
  steps: string[];
  edges: FlowEdge[];
  onChange: (config: Obj) => void;
  onConnect: (handle: string, target: string | null) => void;
  /** Called before a branch or split path is removed, so the exits after it move up. */
  onExitRemoved: (prefix: "branch" | "path", index: number) => void;
  onRemove: () => void;
  catalog: Catalog;
  errors?: string[];
  /** Problems seen while editing. */
  problems?: string[];
  /** For roles that may only look: no "Delete step" (the inputs are disabled by an enclosing fieldset). */
  readOnly?: boolean;
}

export function StepPanel({ step, steps, edges, onChange, onConnect, onExitRemoved, onRemove, catalog, errors, problems, readOnly = false }: StepPanelProps) {
  const c = step.config;
  const set = (patch: Obj) => onChange({ ...c, ...patch });
  const fid = (k: string) => `step-${k}`;
  return (
    <div className="panel" data-testid="step-panel">
      <h2>
        {stepLabel(step.type)} <code className="small">{step.id}</code>
      </h2>
      <Errors errors={errors} />
      <Problems problems={problems} />
      {step.type === "delay" && (
        <>
          <div className="field">
            <label htmlFor={fid("delay-mode")}>Wait</label>
            <select id={fid("delay-mode")} value={delayMode(c)} onChange={(e) => onChange(delayConfig(e.target.value as DelayMode))}>
              <option value="for">for a while</option>
              <option value="until">until a weekday and time</option>
              <option value="best">until their best hour to be emailed</option>
            </select>
          </div>
          {delayMode(c) === "for" && <DurationInput label="Duration" value={c.duration} onChange={(d) => set({ duration: d })} />}
          {delayMode(c) === "until" && <UntilInput value={c.until as Obj} onChange={(u) => set({ until: u })} />}
          {delayMode(c) === "best" && <p className="muted small">Waits until the next time it is the contact's best hour to be emailed, in their time zone.</p>}
        </>
      )}
      {step.type === "wait_event" && (
        <>
          <EventField id={fid("event")} label="Event to wait for" value={c.event} onChange={(v) => set({ event: v })} />
          <WhereFilters event={c.event} value={c.where} readOnly={readOnly} onChange={(w) => onChange(w ? { ...c, where: w } : omit(c, "where"))} />
          <DurationInput label="Give up after" value={c.timeout} onChange={(d) => set({ timeout: d })} />
        </>
      )}
      {step.type === "branch" && <BranchSettings config={c} onChange={onChange} onRemoved={(i) => onExitRemoved("branch", i)} catalog={catalog} />}
      {step.type === "split" && (
        <fieldset>
          <legend>Paths and their weights</legend>
          {((c.paths as Obj[]) ?? []).map((p, i, all) => (
            <div className="row" key={i}>
              <label className="inline">
                <span>Path {i + 1}</span>
                <input
                  type="number"
                  min={1}
                  className="narrow"
                  value={String(p.weight ?? "")}
                  onChange={(e) => set({ paths: all.map((q, j) => (j === i ? { ...q, weight: Number(e.target.value) } : q)) })}
                />
              </label>
              {all.length > 2 && (
                <button
                  type="button"
                  className="link danger"
                  onClick={() => {
                    onExitRemoved("path", i);
                    set({ paths: all.filter((_, j) => j !== i) });
                  }}
                >
                  Remove
                </button>
              )}
            </div>
          ))}
          <button type="button" onClick={() => set({ paths: [...((c.paths as Obj[]) ?? []), { weight: 50 }] })}>
            + Path
          </button>
        </fieldset>
      )}
      {step.type === "send" && (
        <>
          <div className="field">
            <label htmlFor={fid("channel")}>Channel</label>
            <select id={fid("channel")} value={String(c.channel ?? "email")} onChange={(e) => set({ channel: e.target.value })}>
              {["email", "sms", "push", "in_app"].map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          </div>
          {String(c.channel ?? "email") === "email" ? (
            <TemplatePicker id={fid("template")} value={c.template} onChange={(v) => set({ template: v })} />
          ) : (
            <TextField id={fid("template")} label="Template" value={c.template} onChange={(v) => set({ template: v })} />
          )}
          <label className="inline">
            <input type="checkbox" checked={Boolean(c.transactional)} onChange={(e) => set({ transactional: e.target.checked })} />
            <span>Transactional (not marketing)</span>
          </label>
        </>
      )}
      {step.type === "update_contact" && <SetFields value={(c.set as Obj) ?? {}} onChange={(v) => set({ set: v })} catalog={catalog} />}
      {step.type === "change_score" && (
        <>
          <TextField id={fid("score")} label="Score" value={c.score} onChange={(v) => set({ score: v })} />
          <div className="field">
            <label htmlFor={fid("by")}>Points (negative to remove)</label>
            <input id={fid("by")} type="number" value={String(c.by ?? "")} onChange={(e) => set({ by: Number(e.target.value) })} />
          </div>
        </>
      )}
      {(step.type === "add_to_list" || step.type === "remove_from_list") && (
        <div className="field">
          <label htmlFor={fid("list")}>List</label>
          <select id={fid("list")} value={String(c.list ?? "")} onChange={(e) => set({ list: e.target.value })}>
            <option value="">Choose a list…</option>
            {catalog.lists.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {step.type === "webhook" && (
        <>
          <div className="field">
            <label htmlFor={fid("endpoint")}>Webhook endpoint</label>
            <select id={fid("endpoint")} value={String(c.endpoint ?? "")} onChange={(e) => set({ endpoint: e.target.value })}>
              <option value="">Choose an endpoint…</option>
              {catalog.endpoints.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.id} ({x.url})
                </option>
              ))}
            </select>
          </div>
          <JsonField label="Payload (JSON, optional)" value={c.payload} onChange={(v) => onChange(v === undefined ? omit(c, "payload") : { ...c, payload: v })} />
        </>
      )}
      {step.type === "notify" && (
        <>
          <TextField id={fid("message")} label="Message" value={c.message} onChange={(v) => set({ message: v })} />
          <TextField id={fid("email")} label="Team member's email" value={c.email} onChange={(v) => onChange(v ? { ...omit(c, "endpoint"), email: v } : omit(c, "email"))} />
        </>
      )}
      <Exits step={step} steps={steps} edges={edges} onConnect={onConnect} />
      {!readOnly && (
        <>
          <hr />
          <button type="button" className="danger" onClick={onRemove}>
            Delete step
          </button>
        </>
      )}
    </div>
  );
}

function omit(o: Obj, k: string): Obj {
  const { [k]: _drop, ...rest } = o;
  void _drop;
  return rest;
}

function Exits({ step, steps, edges, onConnect }: { step: Step; steps: string[]; edges: FlowEdge[]; onConnect: (h: string, t: string | null) => void }) {
  const exits = exitsOf(step);
  if (exits.length === 0) return null;
  return (
    <fieldset>
      <legend>Then go to</legend>
      {exits.map((x) => {
        const current = edges.find((e) => e.source === step.id && (e.sourceHandle ?? "next") === x.handle)?.target ?? "";
        return (
          <div className="field" key={x.handle}>
            <label htmlFor={`exit-${x.handle}`}>{x.label}</label>
            <select id={`exit-${x.handle}`} value={current} onChange={(e) => onConnect(x.handle, e.target.value || null)}>
              <option value="">(not connected)</option>
              {steps
                .filter((s) => s !== step.id)
                .map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
            </select>
          </div>
        );
      })}
    </fieldset>
  );
}

function UntilInput({ value, onChange }: { value: Obj; onChange: (v: Obj) => void }) {
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const chosen = (value.weekdays as string[] | undefined) ?? days;
  return (
    <fieldset>
      <legend>On</legend>
      <div className="weekdays">
        {days.map((d) => (
          <label key={d} className="inline">
            <input
              type="checkbox"
              checked={chosen.includes(d)}
              onChange={(e) => onChange({ ...value, weekdays: e.target.checked ? days.filter((x) => x === d || chosen.includes(x)) : chosen.filter((x) => x !== d) })}
            />
            <span>{d}</span>
          </label>
        ))}
      </div>
      <label className="inline">
        <span>at</span>
        <input type="time" value={String(value.at ?? "09:00")} onChange={(e) => onChange({ ...value, at: e.target.value })} />
      </label>
    </fieldset>
  );
}

function SetFields({ value, onChange, catalog }: { value: Obj; onChange: (v: Obj) => void; catalog: Catalog }) {
  const fields = Object.keys(catalog.schema.contact).filter((f) => f !== "created_at" && f !== "updated_at").sort();
  const entries = Object.entries(value);
  const typeOf = (f: string) => catalog.schema.contact[f];
  const parse = (f: string, v: string): unknown => (typeOf(f) === "number" ? Number(v) : typeOf(f) === "boolean" ? v === "true" : v);
  return (
    <fieldset>
      <legend>Set fields</legend>
      {entries.map(([k, v], i) => (
        <div className="row" key={i}>
          <select
            aria-label="Field"
            value={k}
            onChange={(e) => onChange(Object.fromEntries(entries.map(([k2, v2], j) => (j === i ? [e.target.value, v2] : [k2, v2]))))}
          >
            {fields.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
          <input aria-label={`Value of ${k}`} value={String(v ?? "")} onChange={(e) => onChange({ ...value, [k]: parse(k, e.target.value) })} />
          <button type="button" className="icon danger" aria-label={`Stop setting ${k}`} onClick={() => onChange(omit(value, k))}>
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => {
          const f = fields.find((x) => !(x in value));
          if (f) onChange({ ...value, [f]: "" });
        }}
      >
        + Field
      </button>
    </fieldset>
  );
}

function JsonField({ label, value, onChange }: { label: string; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <div className="field">
      <label htmlFor="json-field">{label}</label>
      <textarea
        id="json-field"
        rows={4}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setBad(false);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad && <p className="node-error">Not valid JSON yet.</p>}
    </div>
  );
}

function BranchSettings({ config, onChange, onRemoved, catalog }: { config: Obj; onChange: (c: Obj) => void; onRemoved: (i: number) => void; catalog: Catalog }) {
  const branches = (config.branches as Obj[]) ?? [];
  const [trees, setTrees] = useState<Group[]>(() => branches.map((b) => fromRule(b.rule)));
  const update = (next: Group[]) => {
    setTrees(next);
    onChange({ ...config, branches: next.map((g) => ({ rule: toRule(g, catalog.schema) })) });
  };
  return (
    <div>
      {trees.map((g, i) => (
        <fieldset key={g.id} className="branch">
          <legend>Branch {i + 1}</legend>
          <RuleEditor value={g} onChange={(ng) => update(trees.map((t, j) => (j === i ? ng : t)))} catalog={catalog} />
          {trees.length > 1 && (
            <button
              type="button"
              className="link danger"
              onClick={() => {
                onRemoved(i);
                update(trees.filter((_, j) => j !== i));
              }}
            >
              Remove branch {i + 1}
            </button>
          )}
        </fieldset>
      ))}
      <button type="button" onClick={() => update([...trees, fromRule({ field: "country", op: "equals", value: "" })])}>
        + Branch
      </button>
      <p className="muted small">Contacts matching no branch take "otherwise".</p>
    </div>
  );
}
