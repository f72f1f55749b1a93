// A text input with suggestions to pick from (an ARIA combobox with a list
// box): typing filters the suggestions and any text may still be typed;
// a click on the input or ↓ opens the list, ↑/↓ move, Enter picks, Escape
// closes. Each suggestion shows a note beside it (an event's count, a
// property's type). The builders' event, property and value pickers.
import { useEffect, useId, useState } from "react";
import { filterOptions, type PickOption } from "./segments/eventCatalog";

interface Props {
  value: string;
  onChange: (v: string) => void;
  options: readonly PickOption[];
  /** What a pick puts in the input (default: the option's value). */
  onPick?: (o: PickOption) => void;
  /** The name of the list of suggestions, e.g. "Events seen". */
  listLabel: string;
  id?: string;
  label?: string;
  placeholder?: string;
  className?: string;
  inputMode?: "text" | "decimal";
  /** Shown in the list while the suggestions load. */
  loading?: string | null;
  invalid?: boolean;
  describedBy?: string;
}

export function Combobox({ value, onChange, options, onPick, listLabel, id, label, placeholder, className, inputMode, loading, invalid, describedBy }: Props) {
  const listId = useId();
  const [open, setOpen] = useState(false);
  // Until the person types, the whole list shows; then what matches the text.
  const [typed, setTyped] = useState(false);
  const [active, setActive] = useState(-1);
  const shown = typed ? filterOptions(options, value) : options.slice(0, 100);
  const expanded = open && (shown.length > 0 || Boolean(loading));
  const optionId = (i: number) => `${listId}-o${i}`;

  useEffect(() => {
    if (expanded && active >= 0) document.getElementById(optionId(active))?.scrollIntoView({ block: "nearest" });
  }, [active, expanded]);

  const show = () => {
    setOpen(true);
    setTyped(false);
    setActive(-1);
  };
  const pick = (o: PickOption) => {
    if (onPick) onPick(o);
    else onChange(o.value);
    setOpen(false);
    setActive(-1);
  };

  return (
    <span className={`combo${className ? ` ${className}` : ""}`}>
      <input
        id={id}
        aria-label={id ? undefined : label}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={describedBy}
        autoComplete="off"
        inputMode={inputMode}
        placeholder={placeholder}
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          setOpen(true);
          setTyped(true);
          setActive(-1);
        }}
        onClick={() => (open ? setOpen(false) : show())}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            if (!open) show();
            else setActive((a) => Math.min(a + 1, shown.length - 1));
          } else if (e.key === "ArrowUp") {
            if (!open) return;
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === "Enter") {
            if (expanded && active >= 0 && shown[active]) {
              e.preventDefault();
              pick(shown[active]);
            }
          } else if (e.key === "Escape") {
            if (expanded) {
              e.preventDefault();
              e.stopPropagation();
              setOpen(false);
            }
          }
        }}
      />
      <ul id={listId} role="listbox" aria-label={listLabel} className="combo-list" hidden={!expanded}>
        {expanded && loading && (
          <li className="combo-note muted" aria-disabled="true">
            {loading}
          </li>
        )}
        {expanded &&
          shown.map((o, i) => (
            <li
              key={o.value}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              // Keep the focus in the input; the click picks.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(o)}
              onMouseMove={() => i !== active && setActive(i)}
            >
              <span className="combo-value">{o.value}</span>
              {o.detail && <span className="combo-detail">{o.detail}</span>}
            </li>
          ))}
      </ul>
    </span>
  );
}
