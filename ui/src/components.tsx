// Small building blocks every page uses: the loading indicator, the box
// that shows an API problem where the action happened, and page headers.
import type { ReactNode } from "react";
import { ApiError } from "./api";

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
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
