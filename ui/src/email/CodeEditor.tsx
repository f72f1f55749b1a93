// The editor of Liquid code (a template's body, a snippet): a monospace
// <textarea> with line numbers, the lines the server found problems on
// marked in the gutter and behind the text, a way to move the caret to a
// given line and column, and the list of those problems to show under it.
import { forwardRef, useImperativeHandle, useRef, useState } from "react";
import { offsetOf, type TemplateIssue } from "./types";

export interface CodeEditorHandle {
  goTo: (line: number, column: number) => void;
}

interface Props {
  id: string;
  value: string;
  onChange: (v: string) => void;
  issues: TemplateIssue[];
  rows?: number;
  describedBy?: string;
  /** For roles that may read but not change it: still focusable, selectable and scrollable. */
  readOnly?: boolean;
}

export const CodeEditor = forwardRef<CodeEditorHandle, Props>(function CodeEditor(
  { id, value, onChange, issues, rows = 22, describedBy, readOnly },
  ref,
) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  useImperativeHandle(ref, () => ({
    goTo(line, column) {
      const el = area.current;
      if (!el) return;
      const at = offsetOf(value, line, column);
      el.focus();
      el.setSelectionRange(at, at);
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 18;
      el.scrollTop = Math.max(0, (line - 3) * lineHeight);
    },
  }));
  const lines = value.split("\n").length;
  const bad = new Map<number, string>();
  for (const i of issues) if (i.line !== null) bad.set(i.line, [bad.get(i.line), i.message].filter(Boolean).join("; "));
  const numbers = [];
  for (let n = 1; n <= Math.max(lines, rows); n++) numbers.push(n);

  return (
    <div className="code-editor">
      <div className="code-gutter" aria-hidden="true">
        <div style={{ transform: `translateY(${-scroll.top}px)` }}>
          {numbers.map((n) => (
            <div key={n} className={bad.has(n) ? "gutter-line bad" : "gutter-line"} title={bad.get(n)}>
              {n <= lines ? n : ""}
            </div>
          ))}
        </div>
      </div>
      <div className="code-area">
        <div className="code-marks" aria-hidden="true" style={{ transform: `translateY(${-scroll.top}px)` }}>
          {numbers.map((n) => (
            <div key={n} className={bad.has(n) ? "mark-line bad" : "mark-line"} data-line={bad.has(n) ? n : undefined} />
          ))}
        </div>
        <textarea
          id={id}
          ref={area}
          rows={rows}
          wrap="off"
          spellCheck={false}
          value={value}
          readOnly={readOnly}
          aria-invalid={bad.size > 0}
          aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => setScroll({ top: e.currentTarget.scrollTop, left: e.currentTarget.scrollLeft })}
          onKeyDown={(e) => {
            // Tab indents (two spaces); Escape then Tab leaves the editor.
            if (e.key === "Tab" && !readOnly && !e.shiftKey && !e.defaultPrevented && area.current?.dataset.escaped !== "1") {
              e.preventDefault();
              const el = e.currentTarget;
              const { selectionStart: s, selectionEnd: t } = el;
              const next = value.slice(0, s) + "  " + value.slice(t);
              onChange(next);
              window.requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
            }
            if (area.current) area.current.dataset.escaped = e.key === "Escape" ? "1" : "0";
          }}
        />
      </div>
    </div>
  );
});

/** The problems of one part, each placed by line and column; `onGo` moves the caret to one. */
export function IssueList({ id, issues, onGo, showPart }: { id?: string; issues: TemplateIssue[]; onGo?: (i: TemplateIssue) => void; showPart?: boolean }) {
  if (issues.length === 0) return <div id={id} />;
  return (
    <ul className="issues" id={id} aria-label="Problems">
      {issues.map((i, k) => {
        const where = i.line !== null ? `Line ${i.line}, column ${i.column}` : "";
        const label = [showPart ? i.part : "", where].filter(Boolean).join(", ");
        return (
          <li key={k} className="issue">
            {onGo && i.line !== null ? (
              <button type="button" className="link issue-where" onClick={() => onGo(i)} title="Go to this line">
                {label}
              </button>
            ) : (
              label && <span className="issue-where">{label}</span>
            )}
            {label && ": "}
            <span className="issue-message">{i.message}</span>
          </li>
        );
      })}
    </ul>
  );
}
