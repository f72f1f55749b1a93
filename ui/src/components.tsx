// Small building blocks every page uses: the loading indicator (alone, or
// over blank rows or lines that keep the room of what loads), the box
// that shows an API problem where the action happened, page headers, form
// fields with their server errors, a copy button, an inline "are you sure?",
// the button that loads a list's older pages, a row of tabs, a sortable
// column header, and the page shown to a role that may not see a page.
import { useEffect, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { ApiError } from "./api";

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

/** The loading indicator over `rows` blank table rows, under a table's
 * head while its rows load: the room a page of them takes, so that what is
 * below the table (its pager) stays where it will be. Blank rows are not in
 * the table itself, which holds only what arrived. */
export function SkeletonRows({ rows, what }: { rows: number; what: string }) {
  return (
    <div className="skeleton skeleton-rows">
      <Loading what={what} />
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton-row" aria-hidden="true" />
      ))}
    </div>
  );
}

/** The loading indicator over `lines` blank lines of a `ul.plain` list
 * (`className` the list's own, for the same line height): the room of the
 * items expected, so that what is below the list stays where it will be. */
export function SkeletonLines({ lines, what, className = "plain" }: { lines: number; what: string; className?: string }) {
  return (
    <div className="skeleton">
      <Loading what={what} />
      <ul className={className} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <li key={i} className="skeleton-line">
            {"\u00a0"}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** An API problem: its title, its detail, and the inputs it names. */
export function ProblemBox({ error, context }: { error: unknown; context?: string }) {
  if (!error) return null;
  const p =
    error instanceof ApiError
      ? error.problem
      : { title: "Something went wrong", detail: String((error as Error)?.message ?? error), errors: undefined };
  return (
    <div className="problem" role="alert">
      <strong>{context ? `${context}: ` : ""}{p.title}</strong>
      {p.detail && p.detail !== p.title && <div className="problem-detail">{p.detail}</div>}
      {p.errors && p.errors.length > 1 && (
        <ul>
          {p.errors.map((e, i) => (
            <li key={i}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A column header that sorts its table, after the WAI-ARIA sortable table:
 * a button in the header, aria-sort on the sorted column only, and an arrow
 * screen readers skip (they announce aria-sort instead). */
export function SortHeader({
  label,
  sorted,
  onSort,
  className,
  title,
}: {
  label: ReactNode;
  sorted: "ascending" | "descending" | undefined;
  onSort: () => void;
  className?: string;
  title?: string;
}) {
  return (
    <th scope="col" className={className} aria-sort={sorted}>
      <button type="button" className="sort" onClick={onSort} title={title}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : ""}
        </span>
      </button>
    </th>
  );
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      <div className="page-actions">{children}</div>
    </header>
  );
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

export function formatWhen(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return "—";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

/** A labelled input with the server's complaint about it underneath, else its `help` if any. */
export function TextField({
  id,
  label,
  value,
  onChange,
  error,
  help,
  type = "text",
  placeholder,
  autoComplete,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  help?: ReactNode;
  type?: string;
  placeholder?: string;
  autoComplete?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        placeholder={placeholder}
        autoComplete={autoComplete}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error !== undefined}
        aria-describedby={error ? `${id}-error` : help !== undefined ? `${id}-help` : undefined}
        className={error ? "has-error" : undefined}
      />
      <FieldError id={id} error={error} help={help} />
    </div>
  );
}

/** The server's complaint under the input `id`, else its `help` if any;
 * the input names whichever is shown in aria-describedby (`${id}-error`, `${id}-help`). */
export function FieldError({ id, error, help }: { id: string; error?: string; help?: ReactNode }) {
  if (error)
    return (
      <p className="field-error" id={`${id}-error`}>
        {error}
      </p>
    );
  if (help === undefined) return null;
  return (
    <p className="muted small" id={`${id}-help`}>
      {help}
    </p>
  );
}

/** Copies `value` to the clipboard, saying whether that worked (it cannot on plain-HTTP pages). */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  useEffect(() => {
    if (!copied) return;
    const t = window.setTimeout(() => setCopied(null), 2500);
    return () => window.clearTimeout(t);
  }, [copied]);
  return (
    <>
      <button
        type="button"
        onClick={() =>
          (navigator.clipboard?.writeText(value) ?? Promise.reject(new Error("no clipboard"))).then(
            () => setCopied("yes"),
            () => setCopied("no"),
          )
        }
        aria-label={label}
      >
        Copy
      </button>
      <span role="status" className="small muted">
        {copied === "yes" ? "Copied" : copied === "no" ? "Select and copy by hand" : ""}
      </span>
    </>
  );
}

/** An inline "are you sure?" beside the action it guards: the question, the
 * confirming button and the way back. */
export function InlineConfirm({
  label,
  question,
  yes,
  yesClass = "danger",
  disabled,
  onYes,
  no = "Cancel",
  onNo,
}: {
  label: string;
  question: ReactNode;
  yes: string;
  yesClass?: string;
  disabled?: boolean;
  onYes: () => void;
  no?: string;
  onNo: () => void;
}) {
  return (
    <span className="confirm" role="group" aria-label={label}>
      {question}
      <button type="button" className={yesClass} disabled={disabled} onClick={onYes}>
        {yes}
      </button>
      <button type="button" onClick={onNo}>
        {no}
      </button>
    </span>
  );
}

/** The button under a list read with usePaged, while there is more, and why the last page did not come. */
export function LoadMore({
  feed,
  label,
  context,
  className,
}: {
  feed: { hasMore: boolean; busy: boolean; error: unknown; loadMore: () => void };
  label: string;
  context: string;
  className?: string;
}) {
  return (
    <>
      <ProblemBox error={feed.error} context={context} />
      {feed.hasMore && (
        <button type="button" className={className} onClick={feed.loadMore} disabled={feed.busy}>
          {feed.busy ? "Loading…" : label}
        </button>
      )}
    </>
  );
}

/** What a page shows instead of itself to a role that may not use it. */
export function RoleRefusal({ message }: { message: string }) {
  return (
    <section>
      <h1>Not available to your role</h1>
      <p className="notice" role="alert">
        {message}
      </p>
      <p>
        An owner or admin of the workspace can give you another role. <Link to="/">Back to the dashboard</Link>.
      </p>
    </section>
  );
}

/** A row of tabs (the ARIA tabs pattern): the chosen one in the Tab order, arrow keys move
 * between them; each tab `${idPrefix}-${key}` controls the panel `${idPrefix}-panel`. */
export function TabList<K extends string>({
  label,
  idPrefix,
  tabs,
  selected,
  onSelect,
  className = "tabs",
}: {
  label: string;
  idPrefix: string;
  tabs: readonly { key: K; label: string }[];
  selected: K;
  onSelect: (key: K) => void;
  className?: string;
}) {
  return (
    <div role="tablist" aria-label={label} className={className}>
      {tabs.map((t, i) => (
        <button
          key={t.key}
          type="button"
          role="tab"
          id={`${idPrefix}-${t.key}`}
          aria-controls={`${idPrefix}-panel`}
          aria-selected={selected === t.key}
          tabIndex={selected === t.key ? 0 : -1}
          onClick={() => onSelect(t.key)}
          onKeyDown={(e) => {
            const dir = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
            if (!dir) return;
            const next = tabs[(i + dir + tabs.length) % tabs.length].key;
            onSelect(next);
            document.getElementById(`${idPrefix}-${next}`)?.focus();
          }}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
