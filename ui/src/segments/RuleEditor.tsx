// The rule editor: nested AND/OR groups of conditions built with pickers
// (fields with operators suited to their type, events with property filters,
// counts and windows, consent, other segments and lists). Used by the
// segment builder, the journey builder's branch nodes and the score editor's
// attribute rules; its event name and property filter pickers are the score
// editor's event rules too.
import type { ReactNode } from "react";
import { Combobox } from "../Combobox";
import type { Catalog } from "./catalog";
import { useEventCatalog } from "./EventCatalog";
import { eventOptions, pickValue, propertyOptions, propertyType, valueOptions } from "./eventCatalog";
import {
  emptyCondition,
  emptyGroup,
  OPERATORS,
  propertyOperators,
  takesNoValue,
  TIME_OPS,
  timeOpTakesDays,
  withPropertyType,
  type TimeOp,
  updateNode,
  type Condition,
  type EventCondition,
  type FieldCondition,
  type Group,
  type PropertyFilter,
  type RuleNode,
} from "./rule";

interface Props {
  value: Group;
  onChange: (g: Group) => void;
  catalog: Catalog;
  /** Problems from the server, by node id. */
  errors?: Map<string, string>;
  /** A segment that must not refer to itself. */
  selfId?: string;
  /** The kinds of condition offered (all unless given). */
  kinds?: Condition["kind"][];
  /** What the top group matches, e.g. "Contacts matching". */
  rootLabel?: string;
  /** Shown without the ways to add and remove conditions (inputs are disabled by an enclosing fieldset). */
  readOnly?: boolean;
}

const KIND_LABELS: Record<Condition["kind"], string> = {
  field: "Contact field",
  event: "Event",
  company: "Company field",
  consent: "Consent",
  segment: "In segment",
  list: "On list",
  raw: "Advanced (JSON)",
};

export function RuleEditor({ value, onChange, catalog, errors, selfId, kinds = ALL_KINDS, rootLabel = "Contacts matching", readOnly = false }: Props) {
  const change = (id: string, f: (n: RuleNode) => RuleNode | null) => onChange(updateNode(value, id, f));
  // Under an event catalogue the names come from it; else from a list on the page.
  const events = useEventCatalog();
  return (
    <div className="rule-editor">
      {kinds.includes("event") && !events && <EventNames catalog={catalog} />}
      <GroupView group={value} root change={change} catalog={catalog} errors={errors} selfId={selfId} kinds={kinds} rootLabel={rootLabel} readOnly={readOnly} depth={0} />
    </div>
  );
}

const ALL_KINDS = Object.keys(KIND_LABELS) as Condition["kind"][];

/** The event names the event name inputs suggest (once per page). */
export function EventNames({ catalog }: { catalog: Catalog }) {
  return (
    <datalist id="event-names">
      {catalog.events.map((e) => (
        <option key={e} value={e} />
      ))}
    </datalist>
  );
}

/** An event name. Under an `EventCatalogProvider` a picker of the names
 * seen with their counts; elsewhere suggested from the names of `EventNames`
 * on the page. Any name may be typed. With an `id` it is named by its own
 * <label> and can carry an error. */
export function EventNameInput({ value, onChange, id, error, placeholder = "Event name, e.g. Order Completed" }: { value: string; onChange: (v: string) => void; id?: string; error?: string; placeholder?: string }) {
  const events = useEventCatalog();
  const describedBy = error && id ? `${id}-error` : undefined;
  if (events)
    return (
      <Combobox
        id={id}
        label="Event name"
        listLabel="Events seen"
        placeholder={placeholder}
        value={value}
        onChange={onChange}
        options={eventOptions(events.catalog, events.extra)}
        loading={events.loading ? "Loading the events seen…" : null}
        invalid={error !== undefined}
        describedBy={describedBy}
        className={error ? "event-name has-error" : "event-name"}
      />
    );
  return (
    <input
      id={id}
      aria-label={id ? undefined : "Event name"}
      list="event-names"
      placeholder={placeholder}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      aria-invalid={error !== undefined ? true : undefined}
      aria-describedby={describedBy}
      className={error ? "has-error" : undefined}
    />
  );
}

interface NodeProps {
  change: (id: string, f: (n: RuleNode) => RuleNode | null) => void;
  catalog: Catalog;
  errors?: Map<string, string>;
  selfId?: string;
  kinds: Condition["kind"][];
  rootLabel: string;
  readOnly: boolean;
  depth: number;
}

function GroupView({ group, root, ...p }: NodeProps & { group: Group; root?: boolean }) {
  const add = (n: RuleNode) => p.change(group.id, (g) => ({ ...(g as Group), children: [...(g as Group).children, n] }));
  const err = p.errors?.get(group.id);
  return (
    <fieldset className={`rule-group depth-${p.depth % 3}${err ? " has-error" : ""}`} data-testid="rule-group">
      <legend className="sr-only">{root ? "Rule" : "Group of conditions"}</legend>
      <div className="rule-group-head">
        <label className="inline">
          <span>{root ? p.rootLabel : "Matching"}</span>
          <select
            aria-label="Combine conditions with"
            value={`${group.negate ? "not-" : ""}${group.combinator}`}
            onChange={(e) => {
              const v = e.target.value;
              p.change(group.id, (g) => ({ ...(g as Group), negate: v.startsWith("not-"), combinator: v.endsWith("and") ? "and" : "or" }));
            }}
          >
            <option value="and">all of (AND)</option>
            <option value="or">any of (OR)</option>
            <option value="not-or">none of</option>
            <option value="not-and">not all of</option>
          </select>
        </label>
        {!root && !p.readOnly && (
          <button type="button" className="link danger" onClick={() => p.change(group.id, () => null)}>
            Remove group
          </button>
        )}
      </div>
      {err && <p className="node-error" role="alert">{err}</p>}
      {group.children.length === 0 && <p className="muted">No conditions yet: add one below.</p>}
      <ul className="rule-children">
        {group.children.map((c) => (
          <li key={c.id}>
            {c.kind === "group" ? (
              <GroupView group={c} {...p} depth={p.depth + 1} />
            ) : (
              <ConditionView cond={c} {...p} />
            )}
          </li>
        ))}
      </ul>
      {!p.readOnly && (
        <div className="rule-add">
          <label className="inline">
            <span className="sr-only">Add a condition</span>
            <select
              aria-label="Add a condition"
              value=""
              onChange={(e) => {
                if (e.target.value) add(emptyCondition(e.target.value as Condition["kind"]));
              }}
            >
              <option value="">+ Add condition…</option>
              {p.kinds.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </select>
          </label>
          {p.depth < 4 && (
            <button type="button" onClick={() => add(emptyGroup(group.combinator === "and" ? "or" : "and"))}>
              + Add group
            </button>
          )}
        </div>
      )}
    </fieldset>
  );
}

function ConditionView({ cond, ...p }: NodeProps & { cond: Condition }) {
  const set = (patch: Partial<Condition>) => p.change(cond.id, (n) => ({ ...n, ...patch }) as RuleNode);
  const err = p.errors?.get(cond.id);
  let body: ReactNode;
  switch (cond.kind) {
    case "field":
    case "company":
      body = <FieldRow cond={cond} set={set} catalog={p.catalog} />;
      break;
    case "event":
      body = <EventRow cond={cond} set={set} readOnly={p.readOnly} />;
      break;
    case "segment":
    case "list": {
      const options = cond.kind === "segment" ? p.catalog.segments.filter((s) => s.id !== p.selfId) : p.catalog.lists;
      body = (
        <select aria-label={cond.kind === "segment" ? "Segment" : "List"} value={cond.ref} onChange={(e) => set({ ref: e.target.value })}>
          <option value="">Choose a {cond.kind}…</option>
          {options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
      );
      break;
    }
    case "consent":
      body = (
        <>
          <select aria-label="Channel" value={cond.channel} onChange={(e) => set({ channel: e.target.value })}>
            {["email", "sms", "push", "in_app", "phone"].map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <select aria-label="Purpose" value={cond.purpose} onChange={(e) => set({ purpose: e.target.value })}>
            {["marketing", "product_updates", "profiling", "third_party_sharing"].map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <select aria-label="Consent state" value={cond.state} onChange={(e) => set({ state: e.target.value })}>
            {["granted", "denied", "withdrawn", "pending_double_opt_in"].map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </>
      );
      break;
    case "raw":
      body = (
        <textarea
          aria-label="Condition as JSON"
          rows={4}
          spellCheck={false}
          value={cond.json}
          onChange={(e) => set({ json: e.target.value })}
        />
      );
      break;
  }
  return (
    <div className={`rule-cond${err ? " has-error" : ""}`} data-testid="rule-condition">
      <div className="rule-cond-row">
        <div className="cond-meta">
          <span className="cond-kind">{KIND_LABELS[cond.kind]}</span>
          <label className="inline not-toggle">
            <input type="checkbox" checked={cond.negate} onChange={(e) => set({ negate: e.target.checked })} />
            <span>not</span>
          </label>
        </div>
        <div className="cond-body">{body}</div>
        {!p.readOnly && (
          <button type="button" className="icon danger" aria-label="Remove condition" title="Remove condition" onClick={() => p.change(cond.id, () => null)}>
            ×
          </button>
        )}
      </div>
      {err && <p className="node-error" role="alert">{err}</p>}
    </div>
  );
}

function FieldRow({ cond, set, catalog }: { cond: FieldCondition; set: (p: Partial<FieldCondition>) => void; catalog: Catalog }) {
  const fields = cond.kind === "field" ? catalog.schema.contact : catalog.schema.company;
  const type = fields[cond.field] ?? "string";
  const ops = OPERATORS[type];
  return (
    <>
      <select
        aria-label="Field"
        value={cond.field}
        onChange={(e) => {
          const t = fields[e.target.value] ?? "string";
          const keep = OPERATORS[t].some(([o]) => o === cond.op);
          set({ field: e.target.value, op: keep ? cond.op : OPERATORS[t][0][0], value: "", value2: "" });
        }}
      >
        {Object.keys(fields)
          .sort()
          .map((f) => (
            <option key={f} value={f}>
              {f.replace(/_/g, " ")}
            </option>
          ))}
      </select>
      <select aria-label="Operator" value={cond.op} onChange={(e) => set({ op: e.target.value })}>
        {ops.map(([o, label]) => (
          <option key={o} value={o}>
            {label}
          </option>
        ))}
      </select>
      <ValueInputs type={type} op={cond.op} value={cond.value} value2={cond.value2} set={set} />
    </>
  );
}

function ValueInputs({
  type,
  op,
  value,
  value2,
  set,
}: {
  type: string;
  op: string;
  value: string;
  value2: string;
  set: (p: { value?: string; value2?: string }) => void;
}) {
  if (takesNoValue(op)) return null;
  if (type === "boolean")
    return (
      <select aria-label="Value" value={value} onChange={(e) => set({ value: e.target.value })}>
        <option value="">choose…</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  const days = op === "within_last_days" || op === "anniversary_within_days";
  const inputType = days || (type === "number" && op !== "in" && op !== "not_in") ? "number" : type === "date" ? "date" : "text";
  const placeholder = op === "in" || op === "not_in" ? "a, b, c" : days ? "days" : "value";
  return (
    <>
      <input aria-label="Value" type={inputType} placeholder={placeholder} value={value} onChange={(e) => set({ value: e.target.value })} />
      {op === "between" && (
        <>
          <span className="muted">and</span>
          <input aria-label="Second value" type={inputType} value={value2} onChange={(e) => set({ value2: e.target.value })} />
        </>
      )}
    </>
  );
}

function EventRow({ cond, set, readOnly }: { cond: EventCondition; set: (p: Partial<EventCondition>) => void; readOnly: boolean }) {
  const timed = cond.measure !== "count";
  const days = timeOpTakesDays(cond.timeOp);
  return (
    <div className="event-cond">
      <div className="row">
        <EventNameInput value={cond.event} onChange={(event) => set({ event })} />
        <select
          aria-label="What to test"
          value={timed ? cond.measure : cond.countOp}
          onChange={(e) => {
            const v = e.target.value;
            if (v === "first" || v === "last") set({ measure: v });
            else set({ measure: "count", countOp: v as EventCondition["countOp"] });
          }}
        >
          <option value="at_least">at least</option>
          <option value="at_most">at most</option>
          <option value="exactly">exactly</option>
          <option value="first">the first time</option>
          <option value="last">the last time</option>
        </select>
        {!timed && (
          <>
            <input aria-label="Times" type="number" min={0} className="narrow" value={cond.count} onChange={(e) => set({ count: e.target.value })} />
            <span className="muted">times</span>
            <select
              aria-label="Time window"
              value={cond.windowDays === "ever" || cond.windowDays === "between" ? cond.windowDays : "days"}
              onChange={(e) => set({ windowDays: e.target.value === "days" ? "30" : e.target.value })}
            >
              <option value="ever">ever</option>
              <option value="days">in the last…</option>
              <option value="between">between dates…</option>
            </select>
            {cond.windowDays !== "ever" && cond.windowDays !== "between" && (
              <>
                <input aria-label="Days" type="number" min={1} className="narrow" value={cond.windowDays} onChange={(e) => set({ windowDays: e.target.value })} />
                <span className="muted">days</span>
              </>
            )}
            {cond.windowDays === "between" && (
              <>
                <input aria-label="From date" type="date" value={cond.windowFrom} onChange={(e) => set({ windowFrom: e.target.value })} />
                <span className="muted">and before</span>
                <input aria-label="To date" type="date" value={cond.windowTo} onChange={(e) => set({ windowTo: e.target.value })} />
              </>
            )}
          </>
        )}
        {timed && (
          <>
            <select aria-label="When" value={cond.timeOp} onChange={(e) => set({ timeOp: e.target.value as TimeOp, timeValue: "" })}>
              {TIME_OPS.map(([o, l]) => (
                <option key={o} value={o}>
                  {l}
                </option>
              ))}
            </select>
            {days ? (
              <>
                <input aria-label="Days" type="number" min={1} className="narrow" value={cond.timeValue} onChange={(e) => set({ timeValue: e.target.value })} />
                <span className="muted">days</span>
              </>
            ) : (
              <input aria-label="Date" type="date" value={cond.timeValue} onChange={(e) => set({ timeValue: e.target.value })} />
            )}
          </>
        )}
      </div>
      <PropertyFilters where={cond.where} onChange={(where) => set({ where })} event={cond.event} readOnly={readOnly} />
    </div>
  );
}

/** An event's property filters, each a property, an operator and a value,
 * and the way to add one. Under an `EventCatalogProvider` the properties of
 * `event` seen in the data are offered with their types, the operators
 * suit the chosen property's type and its frequent values are suggested. */
export function PropertyFilters({ where, onChange, event = "", readOnly = false }: { where: PropertyFilter[]; onChange: (w: PropertyFilter[]) => void; event?: string; readOnly?: boolean }) {
  const events = useEventCatalog();
  const catalog = events?.catalog;
  const setWhere = (i: number, patch: Partial<PropertyFilter>) => onChange(where.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  const setProperty = (i: number, property: string) =>
    onChange(where.map((w, j) => (j === i ? withPropertyType(w, property, propertyType(catalog, event, property)) : w)));
  const properties = propertyOptions(catalog, event);
  return (
    <>
      {where.map((w, i) => {
        const values = valueOptions(catalog, event, w.property);
        const number = w.type === "number" && w.op !== "in" && w.op !== "not_in";
        return (
          <div className="row where" key={i} data-testid="property-filter">
            <span className="muted">where</span>
            {events ? (
              <Combobox
                label="Property"
                listLabel={`Properties of ${event.trim() || "the event"}`}
                placeholder="property, e.g. total"
                value={w.property}
                onChange={(v) => setProperty(i, v)}
                options={properties}
                loading={events.loading ? "Loading the properties seen…" : null}
                className="property"
              />
            ) : (
              <input aria-label="Property" placeholder="property, e.g. total" value={w.property} onChange={(e) => setProperty(i, e.target.value)} />
            )}
            <select aria-label="Property operator" value={w.op} onChange={(e) => setWhere(i, { op: e.target.value })}>
              {propertyOperators(w.type, w.op).map(([o, l]) => (
                <option key={o} value={o}>
                  {l}
                </option>
              ))}
            </select>
            {!takesNoValue(w.op) &&
              (w.type === "boolean" && (w.op === "equals" || w.op === "not_equals") ? (
                <select aria-label="Property value" value={w.value} onChange={(e) => setWhere(i, { value: e.target.value })}>
                  <option value="">choose…</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : (
                <Combobox
                  label="Property value"
                  listLabel={`Frequent values of ${w.property.trim() || "the property"}`}
                  placeholder={w.op === "in" || w.op === "not_in" ? "a, b, c" : w.op === "between" ? "from" : "value"}
                  value={w.value}
                  onChange={(value) => setWhere(i, { value })}
                  onPick={(o) => setWhere(i, { value: pickValue(w.op, w.value, o.value) })}
                  options={w.op === "between" ? [] : values}
                  inputMode={number ? "decimal" : undefined}
                  className="value"
                />
              ))}
            {w.op === "between" && (
              <>
                <span className="muted">and</span>
                <input aria-label="Second property value" placeholder="to" inputMode="decimal" className="narrow" value={w.value2 ?? ""} onChange={(e) => setWhere(i, { value2: e.target.value })} />
              </>
            )}
            {w.type && w.type !== "any" && w.property.trim() !== "" && (
              <span className="muted small" title="The property's type, which decides how its value is compared">
                {w.type}
              </span>
            )}
            {!readOnly && (
              <button type="button" className="icon danger" aria-label="Remove property filter" onClick={() => onChange(where.filter((_, j) => j !== i))}>
                ×
              </button>
            )}
          </div>
        );
      })}
      {!readOnly && (
        <button type="button" className="link" onClick={() => onChange([...where, { property: "", op: "equals", value: "" }])}>
          + property filter
        </button>
      )}
    </>
  );
}
