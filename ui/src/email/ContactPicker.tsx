// A contact picker: type a name or email, choose from the matching contacts
// (GET /api/v1/contacts?q=). Used to personalise previews and test sends and
// to filter the outbox. Keyboard: arrows move through matches, Enter picks.
import { useEffect, useId, useState } from "react";
import { api, contactName, type Contact, type Page } from "../api";
import { ProblemBox } from "../components";

export function ContactPicker({
  label,
  value,
  onChange,
}: {
  label: string;
  value: Contact | null;
  onChange: (c: Contact | null) => void;
}) {
  const id = useId();
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [matches, setMatches] = useState<Contact[]>([]);
  const [active, setActive] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    const t = window.setTimeout(() => {
      setLoading(true);
      const q = new URLSearchParams({ limit: "8" });
      if (text.trim()) q.set("q", text.trim());
      api<Page<Contact>>("GET", `/api/v1/contacts?${q}`, undefined, { signal: ctl.signal })
        .then((p) => {
          setMatches(p.data);
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
  }, [text, open]);

  const pick = (c: Contact) => {
    onChange(c);
    setText("");
    setOpen(false);
  };

  return (
    <div className="field contact-picker">
      <label htmlFor={id}>{label}</label>
      {value && (
        <div className="picked">
          <span data-testid="picked-contact">
            {contactName(value)}
            {value.email && (value.first_name || value.last_name) ? <span className="muted picked-email">{value.email}</span> : null}
          </span>
          <button type="button" className="link" onClick={() => onChange(null)} aria-label={`Clear ${label.toLowerCase()}`}>
            Clear
          </button>
        </div>
      )}
      <input
        id={id}
        type="search"
        role="combobox"
        aria-expanded={open && matches.length > 0}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={open && matches[active] ? `${id}-opt-${active}` : undefined}
        placeholder={value ? "Search for another contact" : "Search by name or email"}
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
      {open && (
        <ul className="picker-list" id={`${id}-list`} role="listbox" aria-label={`${label}: matches`} aria-busy={loading}>
          {loading && matches.length === 0 && <li className="muted">Searching…</li>}
          {!loading && matches.length === 0 && <li className="muted">No contacts match.</li>}
          {matches.map((c, i) => (
            <li
              key={c.id}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(c);
              }}
            >
              {contactName(c)} <span className="muted">{c.first_name || c.last_name ? c.email : ""}</span>
            </li>
          ))}
        </ul>
      )}
      <ProblemBox error={error} context="Contact search" />
    </div>
  );
}
