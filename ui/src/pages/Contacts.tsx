// Contacts: search by name, email or external id and filter by country,
// company, last update and custom fields (GET /api/v1/contacts), sorted by
// a column the API sorts by (its header's button), a page of results at a
// time with next/previous over the API's cursors. The filters and the order
// live in the page address, so a filtered, sorted list can be shared or
// reloaded; the server's explanation of a filter or order it refuses is
// shown once, at that filter (the order's above the table), never again in
// the problem box. While a page loads, blank rows keep its room, so the
// pager under the table does not jump.
import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, contactName, useApi, type Contact, type Page } from "../api";
import { SearchPicker } from "../SearchPicker";
import { formatWhen, PageHeader, ProblemBox, SkeletonRows, SortHeader } from "../components";
import {
  activeFilters,
  apiQuery,
  ariaSort,
  fieldChoices,
  fieldInput,
  fieldLabel,
  fieldParam,
  filterProblems,
  filtersFromParams,
  isDay,
  nextFieldFilter,
  nextSort,
  paramsOfFilters,
  withoutFilters,
  type ContactFilters,
  type FieldDefinition,
  type FieldFilter,
  type SortKey,
} from "./contactFilters";

const PAGE_SIZE = 25;
/** Typing waits this long before the list follows; picks from a list apply at once. */
const TYPING_MS = 300;

interface Company {
  id: string;
  name: string | null;
  domain: string | null;
}

const companyName = (c: Company) => c.name ?? c.domain ?? c.id;

/** The table's columns; those the API can sort by have a sort header. */
const COLUMNS: { label: string; sort?: SortKey; narrow?: boolean; title?: string }[] = [
  // A name is shown first name first, but people are looked up by family name.
  { label: "Name", sort: "last_name", title: "Sort by last name" },
  { label: "Email", sort: "email" },
  { label: "Country", sort: "country" },
  { label: "External id", narrow: true },
  { label: "Updated", sort: "updated_at", narrow: true },
];

export function Contacts() {
  const [params, setParams] = useSearchParams();
  const appliedKey = paramsOfFilters(filtersFromParams(params)).toString();
  // What the controls show; the address follows it (typing a moment later).
  const [draft, setDraft] = useState<ContactFilters>(() => filtersFromParams(params));
  // The filters last written to (or read from) the address.
  const written = useRef(appliedKey);
  const wait = useRef(0);
  // Cursors of the pages before the current one (the last is the current
  // page's), with the address they page: the server refuses a cursor made in
  // another order, so one is never sent with another list's address, not even
  // for the render before the effects below start it again at page 1.
  const [paging, setPaging] = useState({ key: appliedKey, cursors: [] as string[] });
  const cursors = paging.key === appliedKey ? paging.cursors : [];
  const setCursors = (next: string[]) => setPaging({ key: appliedKey, cursors: next });

  // The address changed from outside (back, a link): the controls show it.
  useEffect(() => {
    if (appliedKey === written.current) return;
    written.current = appliedKey;
    setDraft(filtersFromParams(new URLSearchParams(appliedKey)));
    setPaging({ key: appliedKey, cursors: [] });
  }, [appliedKey]);

  // The setter changes with every address; the effect below takes it from
  // here so that it runs on the controls' changes only. Run for a new address
  // that came from outside (the navigation's link to this page), it wrote the
  // controls' old state back over it before they showed the new one.
  const setParamsNow = useRef(setParams);
  useEffect(() => {
    setParamsNow.current = setParams;
  }, [setParams]);

  // The controls changed: the address follows, and the list starts again at its first page.
  useEffect(() => {
    const t = window.setTimeout(() => {
      const key = paramsOfFilters(draft).toString();
      if (key === written.current) return;
      written.current = key;
      setParamsNow.current(new URLSearchParams(key), { replace: true });
      setPaging({ key, cursors: [] });
    }, wait.current);
    return () => window.clearTimeout(t);
  }, [draft]);

  const change = (patch: Partial<ContactFilters>, typing = false) => {
    wait.current = typing ? TYPING_MS : 0;
    setDraft((d) => ({ ...d, ...patch }));
  };

  const applied = filtersFromParams(new URLSearchParams(appliedKey));
  const cursor = cursors[cursors.length - 1];
  const page = useApi<Page<Contact>>(`/api/v1/contacts?${apiQuery(applied, PAGE_SIZE, cursor)}`);
  const fields = useApi<FieldDefinition[]>("/api/v1/fields");
  const defs = fields.data ?? [];
  const filtering = activeFilters(applied) > 0;

  // The server's objections, each at its filter (an order it does not know
  // above the table it orders); what names neither goes in the box.
  const problems = filterProblems(page.error);

  return (
    <section>
      <PageHeader title="Contacts" />
      <form className="filters contact-filters" role="search" aria-label="Filter contacts" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="contact-search">Search</label>
          <input
            id="contact-search"
            type="search"
            placeholder="Name, email or external id"
            value={draft.q}
            onChange={(e) => change({ q: e.target.value }, true)}
            aria-describedby={problems.fields.q ? "contact-search-error" : undefined}
          />
          <FilterError id="contact-search-error" message={problems.fields.q} />
        </div>
        <div className="field narrow">
          <label htmlFor="contact-country">Country</label>
          <input
            id="contact-country"
            placeholder="e.g. DE"
            maxLength={2}
            autoCapitalize="characters"
            value={draft.country}
            onChange={(e) => change({ country: e.target.value.toUpperCase() }, true)}
            aria-describedby={problems.fields.country ? "contact-country-error" : undefined}
          />
          <FilterError id="contact-country-error" message={problems.fields.country} />
        </div>
        <CompanyFilter value={draft.company} onChange={(company) => change({ company })} error={problems.fields.company_id} />
        <div className="field since">
          <label htmlFor="contact-updated-since">Updated since</label>
          <input
            id="contact-updated-since"
            type="date"
            value={isDay(draft.updatedSince) ? draft.updatedSince : ""}
            onChange={(e) => change({ updatedSince: e.target.value })}
            aria-describedby={problems.fields.updated_since ? "contact-updated-since-error" : undefined}
          />
          <FilterError id="contact-updated-since-error" message={problems.fields.updated_since} />
        </div>
        {(filtering || activeFilters(draft) > 0) && (
          <div className="field clear">
            <button type="button" onClick={() => change(withoutFilters(draft))}>
              Clear filters
            </button>
          </div>
        )}
        <FieldFilters
          defs={defs}
          loaded={fields.data !== undefined}
          value={draft.fields}
          errors={problems.fields}
          onChange={(next, typing) => change({ fields: next }, typing)}
        />
      </form>
      <ProblemBox error={fields.error} context="Custom fields" />
      <ProblemBox error={problems.rest} context={filtering ? "Filters" : "Contacts"} />
      {problems.fields.sort && (
        <div className="sort-error">
          <FilterError id="contact-sort-error" message={problems.fields.sort} />
          <button type="button" onClick={() => change({ sort: "" })}>
            Default order
          </button>
        </div>
      )}
      <div className="table-wrap" aria-busy={page.loading}>
        <table className="table">
          <caption className="sr-only">Contacts{filtering ? " matching the filters" : ""} (the buttons in the column headers sort them)</caption>
          <thead>
            <tr>
              {COLUMNS.map(({ label, sort, narrow, title }) =>
                sort ? (
                  <SortHeader
                    key={label}
                    label={label}
                    title={title}
                    className={narrow ? "hide-narrow" : undefined}
                    sorted={ariaSort(draft.sort, sort)}
                    onSort={() => change({ sort: nextSort(draft.sort, sort) })}
                  />
                ) : (
                  <th key={label} scope="col" className={narrow ? "hide-narrow" : undefined}>
                    {label}
                  </th>
                ),
              )}
            </tr>
          </thead>
          <tbody>
            {page.data?.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/contacts/${c.id}`}>{contactName(c)}</Link>
                </td>
                <td>{c.email ?? "—"}</td>
                <td>{c.country ?? "—"}</td>
                <td className="hide-narrow">{c.external_id ?? "—"}</td>
                <td className="hide-narrow">{formatWhen(c.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page.loading && !page.data && <SkeletonRows rows={PAGE_SIZE} what="contacts" />}
        {page.data && page.data.data.length === 0 && (
          <div className="empty" role="status" data-testid="no-contacts">
            {filtering ? (
              <>
                <p className="muted">No contacts match {activeFilters(applied) === 1 ? "this filter" : "these filters"}.</p>
                <button type="button" onClick={() => change(withoutFilters(draft))}>
                  Clear filters
                </button>
              </>
            ) : (
              <p className="muted">No contacts yet.</p>
            )}
          </div>
        )}
      </div>
      <div className="pager">
        <button type="button" disabled={cursors.length === 0 || page.loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Previous
        </button>
        <span className="muted">Page {cursors.length + 1}</span>
        <button
          type="button"
          disabled={!page.data?.next_cursor || page.loading}
          onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}
        >
          Next →
        </button>
      </div>
    </section>
  );
}

function FilterError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

/** The company filter: type to search the workspace's companies by name,
 * domain or external id (GET /api/v1/companies?q=), and pick one. */
function CompanyFilter({ value, onChange, error }: { value: string; onChange: (id: string) => void; error?: string }) {
  const [chosen, setChosen] = useState<Company | null>(null);
  // A company from the address (a shared link, a reload, back): asked for by id.
  const fromAddress = useApi<Company>(value && chosen?.id !== value ? `/api/v1/companies/${encodeURIComponent(value)}` : null);
  const current: Company | null = !value
    ? null
    : chosen?.id === value
      ? chosen
      : fromAddress.data ?? { id: value, name: fromAddress.error ? `${value} (no such company)` : fromAddress.loading ? "Loading…" : value, domain: null };
  return (
    <SearchPicker<Company>
      id="contact-company"
      label="Company"
      value={current}
      onChange={(c) => {
        setChosen(c);
        onChange(c?.id ?? "");
      }}
      search={async (text, signal) => {
        const q = new URLSearchParams({ limit: "8" });
        if (text) q.set("q", text);
        return (await api<Page<Company>>("GET", `/api/v1/companies?${q}`, undefined, { signal })).data;
      }}
      keyOf={(c) => c.id}
      option={(c) => (
        <>
          {companyName(c)} {c.name && c.domain ? <span className="muted">{c.domain}</span> : null}
        </>
      )}
      picked={companyName}
      placeholder="Any company: search by name or domain"
      placeholderPicked="Search for another company"
      noMatches="No companies match."
      context="Company search"
      className="company-picker"
      pickedTestId="picked-company"
      compact
      describedBy={error ? "contact-company-error" : undefined}
    >
      <FilterError id="contact-company-error" message={error} />
    </SearchPicker>
  );
}

/** Filters on custom fields, one row each: the field, and the value it has (or, for a list, includes). */
function FieldFilters({
  defs,
  loaded,
  value,
  errors,
  onChange,
}: {
  defs: FieldDefinition[];
  /** Whether the definitions have arrived: until then a field is not called undefined. */
  loaded: boolean;
  value: FieldFilter[];
  errors: Record<string, string>;
  onChange: (next: FieldFilter[], typing: boolean) => void;
}) {
  const set = (i: number, patch: Partial<FieldFilter>, typing: boolean) => onChange(value.map((f, j) => (j === i ? { ...f, ...patch } : f)), typing);
  const next = nextFieldFilter(defs, value);
  return (
    <fieldset className="field-filters">
      <legend>Custom fields</legend>
      {value.map((f, i) => {
        const def = defs.find((d) => d.entity === "contact" && d.name === f.name);
        const choices = fieldChoices(defs, value, f.name);
        const input = fieldInput(def?.type ?? "string");
        const label = def ? fieldLabel(def) : f.name;
        const fieldId = `contact-field-${i}`;
        const valueId = `contact-field-value-${i}`;
        const errorId = `contact-field-error-${i}`;
        const error = errors[fieldParam(f.name)];
        return (
          <div className="field-filter" key={i} data-testid="field-filter">
            <label className="sr-only" htmlFor={fieldId}>
              Custom field {i + 1}
            </label>
            <select id={fieldId} value={f.name} onChange={(e) => set(i, { name: e.target.value, value: "" }, false)}>
              {!def && (
                <option value={f.name}>
                  {f.name}
                  {loaded ? " (not defined)" : ""}
                </option>
              )}
              {choices.map((d) => (
                <option key={d.name} value={d.name}>
                  {fieldLabel(d)}
                </option>
              ))}
            </select>
            <span className="muted">{def?.type === "list" ? "includes" : "is"}</span>
            <label className="sr-only" htmlFor={valueId}>
              Value of {label}
            </label>
            {input === "boolean" ? (
              <select id={valueId} value={f.value} onChange={(e) => set(i, { value: e.target.value }, false)} aria-describedby={error ? errorId : undefined}>
                <option value="">choose…</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              <input
                id={valueId}
                // A number is typed as text: what the address holds shows as it is, and the server names what is wrong with it.
                type={input === "date" ? "date" : "text"}
                inputMode={input === "number" ? "decimal" : undefined}
                value={f.value}
                placeholder={input === "number" ? "a number" : input === "text" ? "value" : undefined}
                onChange={(e) => set(i, { value: e.target.value }, input === "text" || input === "number")}
                aria-describedby={error ? errorId : undefined}
              />
            )}
            <button type="button" className="icon danger" aria-label={`Remove the filter on ${label}`} title="Remove filter" onClick={() => onChange(value.filter((_, j) => j !== i), false)}>
              ×
            </button>
            <FilterError id={errorId} message={error} />
          </div>
        );
      })}
      {/* Shown, disabled, while the definitions load: appearing later, its line would push the table down. */}
      {(next || !loaded) && (
        <button type="button" disabled={!next} onClick={() => next && onChange([...value, next], false)}>
          + Field filter
        </button>
      )}
      {defs.length > 0 && !defs.some((d) => d.entity === "contact") && <p className="small muted">No custom contact fields are defined.</p>}
    </fieldset>
  );
}
