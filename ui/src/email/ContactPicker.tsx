// A contact picker: type a name or email, choose from the matching contacts
// (GET /api/v1/contacts?q=). Used to personalise previews and test sends and
// to filter the outbox. Keyboard: arrows move through matches, Enter picks.
import { api, contactName, type Contact, type Page } from "../api";
import { SearchPicker } from "../SearchPicker";

export function ContactPicker({
  label,
  value,
  onChange,
}: {
  label: string;
  value: Contact | null;
  onChange: (c: Contact | null) => void;
}) {
  return (
    <SearchPicker<Contact>
      label={label}
      value={value}
      onChange={onChange}
      search={async (text, signal) => {
        const q = new URLSearchParams({ limit: "8" });
        if (text) q.set("q", text);
        return (await api<Page<Contact>>("GET", `/api/v1/contacts?${q}`, undefined, { signal })).data;
      }}
      keyOf={(c) => c.id}
      option={(c) => (
        <>
          {contactName(c)} <span className="muted">{c.first_name || c.last_name ? c.email : ""}</span>
        </>
      )}
      picked={(c) => (
        <>
          {contactName(c)}
          {c.email && (c.first_name || c.last_name) ? <span className="muted picked-email">{c.email}</span> : null}
        </>
      )}
      placeholder="Search by name or email"
      placeholderPicked="Search for another contact"
      noMatches="No contacts match."
      context="Contact search"
      className="contact-picker"
      pickedTestId="picked-contact"
    />
  );
}
