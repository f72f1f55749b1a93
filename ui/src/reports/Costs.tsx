// Marketing costs, which turn credited value into ROI: the list of what
// each source cost, and for roles that change marketing (analysts only
// read) entering, replacing and removing one. The cost form is also what
// the attribution table opens beside a source.
import { useState, type FormEvent } from "react";
import { api, formProblems, useApi } from "../api";
import { FieldError, formatWhen, InlineConfirm, Loading, ProblemBox } from "../components";
import { useCan } from "../session";
import { costBody, costFormOf, COST_FIELDS, formatMoney, periodLabel, type AttributionReport, type Cost, type CostForm } from "./attributionReport";

/** The sources a cost may be for, as the report names them, to pick from. */
export interface SourceOption {
  source: string;
  name: string;
}

export function Costs() {
  const can = useCan();
  const costs = useApi<{ data: Cost[] }>("/api/v1/reports/costs");
  // The last 30 days' report: the sources' names, and the ones to offer when entering a cost.
  const report = useApi<AttributionReport>("/api/v1/reports/attribution");
  const [editing, setEditing] = useState<{ form: CostForm; fixed: boolean } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const writable = can("marketing:write");
  const options: SourceOption[] = report.data?.sources.map((s) => ({ source: s.source, name: s.name })) ?? [];
  // The cost's own name from the API (any source, even one with no recent
  // activity), else the report's.
  const nameOf = (source: string) => {
    const named = costs.data?.data.find((c) => c.source === source)?.name;
    return (named && named !== source ? named : undefined) ?? options.find((o) => o.source === source)?.name;
  };

  const remove = async (source: string) => {
    setBusy(true);
    setProblem(null);
    try {
      await api("DELETE", `/api/v1/reports/costs?source=${encodeURIComponent(source)}`);
      setRemoving(null);
      setNote(`The cost of ${nameOf(source) ?? source} was removed.`);
      costs.reload();
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card costs" aria-labelledby="costs-title">
      <div className="label-row">
        <h2 id="costs-title">Costs</h2>
        {writable && !editing && (
          <button
            type="button"
            onClick={() => {
              setNote(null);
              setEditing({ form: { source: "", amount: "", perMessage: "", currency: report.data?.currency ?? "", note: "" }, fixed: false });
            }}
          >
            Enter a cost
          </button>
        )}
      </div>
      <p className="muted small">
        What each source cost: an amount for the source as a whole (ad spend, say) and a price per message it sends in a report's period. A source's ROI is its credited value against its cost.
        {!writable && " Your role can read costs; changing them needs a role that edits marketing."}
      </p>
      <p className="ok" role="status">
        {note}
      </p>
      {editing && (
        <CostEditor
          idPrefix="cost"
          initial={editing.form}
          fixedSource={editing.fixed}
          sources={options}
          onCancel={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            setNote(`The cost of ${nameOf(c.source) ?? c.source} was saved.`);
            costs.reload();
          }}
        />
      )}
      <ProblemBox error={costs.error} context="Costs" />
      <ProblemBox error={problem} context="Not removed" />
      {costs.loading && !costs.data && <Loading what="costs" />}
      {costs.data && costs.data.data.length === 0 && <p className="muted">No cost entered yet.</p>}
      {costs.data && costs.data.data.length > 0 && (
        <div className="table-wrap">
          <table className="table compact" data-testid="costs-table">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col" className="num">Per message</th>
                <th scope="col" className="hide-narrow">Spent over</th>
                <th scope="col" className="hide-narrow">Note</th>
                <th scope="col" className="hide-narrow">Updated</th>
                {writable && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {costs.data.data.map((c) => (
                <tr key={c.source} data-testid={`cost-${c.source}`}>
                  <td>
                    {nameOf(c.source) ?? c.source}
                    {nameOf(c.source) && <div className="source-key">{c.source}</div>}
                  </td>
                  <td className="num">{formatMoney(c.amount, c.currency, { cents: c.amount < 100 })}</td>
                  <td className="num">{c.per_message ? formatMoney(c.per_message, c.currency, { cents: true }) : "—"}</td>
                  <td className="hide-narrow nowrap">{periodLabel(c)}</td>
                  <td className="hide-narrow">{c.note ?? ""}</td>
                  <td className="hide-narrow nowrap">{formatWhen(c.updated_at)}</td>
                  {writable && (
                    <td className="actions-cell">
                      {removing === c.source ? (
                        <InlineConfirm
                          label={`Confirm removing the cost of ${nameOf(c.source) ?? c.source}`}
                          question="Remove this cost?"
                          yes="Remove"
                          disabled={busy}
                          onYes={() => remove(c.source)}
                          onNo={() => setRemoving(null)}
                        />
                      ) : (
                        <>
                          <button
                            type="button"
                            aria-label={`Change the cost of ${nameOf(c.source) ?? c.source}`}
                            onClick={() => {
                              setNote(null);
                              setEditing({ form: costFormOf(c), fixed: true });
                            }}
                          >
                            Change
                          </button>
                          <button type="button" className="danger" aria-label={`Remove the cost of ${nameOf(c.source) ?? c.source}`} onClick={() => setRemoving(c.source)}>
                            Remove
                          </button>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Enter or replace one source's cost; the server's problems on the fields they name. */
export function CostEditor({
  idPrefix,
  initial,
  fixedSource,
  sources,
  sourceName,
  onSaved,
  onCancel,
}: {
  idPrefix: string;
  initial: CostForm;
  /** The source is given (the table's row, an existing cost): shown, not typed. */
  fixedSource: boolean;
  sources: SourceOption[];
  sourceName?: string;
  onSaved: (c: Cost) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = (f: string) => `${idPrefix}-${f}`;
  const set = (k: keyof CostForm) => (v: string) => setForm({ ...form, [k]: v });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const made = costBody(form);
    if ("fields" in made) {
      setErrors(made.fields);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      onSaved(await api<Cost>("PUT", "/api/v1/reports/costs", made.body));
    } catch (err) {
      const { fields, rest } = formProblems(err, COST_FIELDS);
      setErrors(fields);
      setProblem(rest);
    } finally {
      setBusy(false);
    }
  };

  const input = (f: keyof CostForm, field: string, label: string, extra: Record<string, unknown> = {}, help?: string) => (
    <div className="field">
      <label htmlFor={id(field)}>{label}</label>
      <input
        id={id(field)}
        value={form[f] ?? ""}
        onChange={(e) => set(f)(e.target.value)}
        aria-invalid={errors[field] !== undefined}
        aria-describedby={errors[field] ? `${id(field)}-error` : help ? `${id(field)}-help` : undefined}
        className={errors[field] ? "has-error" : undefined}
        {...extra}
      />
      <FieldError id={id(field)} error={errors[field]} help={help} />
    </div>
  );

  return (
    <form className="cost-editor" onSubmit={save} aria-label={fixedSource ? `Cost of ${sourceName ?? form.source}` : "New cost"}>
      {fixedSource ? (
        <p className="cost-source">
          Cost of <strong>{sourceName ?? form.source}</strong> {sourceName && <span className="source-key">{form.source}</span>}
        </p>
      ) : (
        <>
          {input("source", "source", "Source", { list: id("sources"), placeholder: "utm:google/cpc/black-friday", autoFocus: true, spellCheck: false }, "A source of the report, or a key: campaign:ID, journey:ID or utm:SOURCE/MEDIUM/NAME.")}
          <datalist id={id("sources")}>
            {sources.map((s) => (
              <option key={s.source} value={s.source}>
                {s.name}
              </option>
            ))}
          </datalist>
        </>
      )}
      <div className="form-grid">
        {input("amount", "amount", "Amount", { inputMode: "decimal", autoFocus: fixedSource }, "Spent on the source as a whole.")}
        {input("perMessage", "per_message", "Per message", { inputMode: "decimal" }, "Charged for each message it sends in a report's period.")}
        {input("currency", "currency", "Currency", { maxLength: 3, placeholder: "USD", autoCapitalize: "characters", spellCheck: false }, "ISO 4217 code, like USD or EUR.")}
        {input("since", "since", "Spent from (optional)", { type: "date" }, "With the last day: a report charges only the share of the amount in its own period.")}
        {input("until", "until", "Last day (optional)", { type: "date" }, "Without a period the whole amount is charged to every report.")}
        {input("note", "note", "Note (optional)")}
      </div>
      <ProblemBox error={problem} context="Cost not saved" />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : "Save cost"}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
