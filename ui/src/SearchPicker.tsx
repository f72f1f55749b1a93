// A type-ahead picker over a searchable API list: type, and the matches
// (asked for a moment after typing stops, the earlier ask cancelled) show in
// a list box to choose from; the pick shows above the input with a Clear
// button. Keyboard: arrows move through the matches, Enter picks, Escape
// closes. Used for contacts (?q= on /contacts) and companies (?q= on
// /companies).
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { ProblemBox } from "./components";

export interface SearchPickerProps<T> {
  label: string;
  value: T | null;
  onChange: (item: T | null) => void;
  /** The matches of `text` ("" for the first few of all). */
  search: (text: string, signal: AbortSignal) => Promise<T[]>;
  keyOf: (item: T) => string;
  /** One match in the list. */
  option: (item: T) => ReactNode;
  /** The pick, shown above the input. */
  picked: (item: T) => ReactNode;
  placeholder: string;
  /** The placeholder once something is picked. */
  placeholderPicked: string;
  /** Said when nothing matches, e.g. "No contacts match." */
  noMatches: string;
  /** Says what failed when the search is refused, e.g. "Contact search". */
  context: string;
  className?: string;
  pickedTestId?: string;
  /** The input's id (one is made up if not given). */
  id?: string;
  /** Describes the input (an error shown under it, say). */
  describedBy?: string;
  /** Shown under the input, inside the field (an error, say). */
  children?: ReactNode;
  /** Once something is picked, show only the pick (Clear brings the input back): for a row of filters. */
  compact?: boolean;
}

export function SearchPicker<T>({
  label,
  value,
  onChange,
  search,
  keyOf,
  option,
  picked,
  placeholder,
  placeholderPicked,
  noMatches,
  context,
  className,
  pickedTestId,
  id: givenId,
  describedBy,
  children,
  compact = false,
}: SearchPickerProps<T>) {
  const madeId = useId();
  const id = givenId ?? madeId;
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [matches, setMatches] = useState<T[]>([]);
  const [active, setActive] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  // Cleared in compact mode: the input comes back, and the focus goes to it.
  // Picked in compact mode: the input goes, and the focus goes to Clear.
  const refocus = useRef(false);
  const clear = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!refocus.current) return;
    refocus.current = false;
    if (value) clear.current?.focus();
    else input.current?.focus();
  }, [value]);

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    const t = window.setTimeout(() => {
      setLoading(true);
      search(text.trim(), ctl.signal)
        .then((found) => {
          setMatches(found);
          setActive(0);
          setError(null);
          setLoading(false);
        })
        .catch((e) => {
          if ((e as Error).name === "AbortError") return;
          setError(e);
          setLoading(false);
        });
    }, 250);
    return () => {
      window.clearTimeout(t);
      ctl.abort();
    };
    // `search` is a new function each render; what is searched for is the text.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text, open]);

  const pick = (item: T) => {
    refocus.current = compact;
    onChange(item);
    setText("");
    setOpen(false);
  };

  return (
    <div className={`field search-picker${className ? ` ${className}` : ""}`}>
      <label htmlFor={id} id={`${id}-label`}>
        {label}
      </label>
      {value && (
        <div className={compact ? "picked compact" : "picked"} role={compact ? "group" : undefined} aria-labelledby={compact ? `${id}-label` : undefined}>
          <span data-testid={pickedTestId}>{picked(value)}</span>
          <button
            ref={clear}
            type="button"
            className="link"
            onClick={() => {
              refocus.current = compact;
              onChange(null);
            }}
            aria-label={`Clear ${label.toLowerCase()}`}
          >
            Clear
          </button>
        </div>
      )}
      {!(compact && value) && (
        <input
          ref={input}
          id={id}
          type="search"
          role="combobox"
          aria-expanded={open && matches.length > 0}
          aria-controls={`${id}-list`}
          aria-autocomplete="list"
          aria-activedescendant={open && matches[active] ? `${id}-opt-${active}` : undefined}
          aria-describedby={describedBy}
          placeholder={value ? placeholderPicked : placeholder}
          value={text}
          onFocus={() => setOpen(true)}
          onBlur={() => window.setTimeout(() => setOpen(false), 150)}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") {
              e.preventDefault();
              setActive((a) => Math.min(a + 1, matches.length - 1));
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              setActive((a) => Math.max(a - 1, 0));
            } else if (e.key === "Enter" && open && matches[active]) {
              e.preventDefault();
              pick(matches[active]);
            } else if (e.key === "Escape") {
              setOpen(false);
            }
          }}
        />
      )}
      {open && !(compact && value) && (
        <ul className="picker-list" id={`${id}-list`} role="listbox" aria-label={`${label}: matches`} aria-busy={loading}>
          {loading && matches.length === 0 && <li className="muted">Searching…</li>}
          {!loading && matches.length === 0 && <li className="muted">{noMatches}</li>}
          {matches.map((item, i) => (
            <li
              key={keyOf(item)}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(item);
              }}
            >
              {option(item)}
            </li>
          ))}
        </ul>
      )}
      {children}
      <ProblemBox error={error} context={context} />
    </div>
  );
}
