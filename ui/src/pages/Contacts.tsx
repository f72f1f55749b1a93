// Contacts: search by name, email or external id (and country), a page of
// results at a time with next/previous over the API's cursors.
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { contactName, useApi, type Contact, type Page } from "../api";
import { formatWhen, Loading, PageHeader, ProblemBox } from "../components";

const PAGE_SIZE = 25;

export function Contacts() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const country = params.get("country") ?? "";
  const [text, setText] = useState(q);
  const [countryText, setCountryText] = useState(country);
  // Cursors of the pages before the current one; the last is the current page's.
  const [cursors, setCursors] = useState<string[]>([]);

  // Search as the marketer types, a moment after they stop.
  useEffect(() => {
    const t = window.setTimeout(() => {
      if (text !== q || countryText !== country) {
        const next = new URLSearchParams();
        if (text.trim()) next.set("q", text.trim());
        if (countryText.trim()) next.set("country", countryText.trim().toUpperCase());
        setParams(next, { replace: true });
        setCursors([]);
      }
    }, 300);
    return () => window.clearTimeout(t);
  }, [text, countryText, q, country, setParams]);

  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) query.set("q", q);
  if (country) query.set("country", country);
  const cursor = cursors[cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  const page = useApi<Page<Contact>>(`/api/v1/contacts?${query}`);

  return (
    <section>
      <PageHeader title="Contacts" />
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="contact-search">Search</label>
          <input
            id="contact-search"
            type="search"
            placeholder="Name, email or external id"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        <div className="field narrow">
          <label htmlFor="contact-country">Country</label>
          <input
            id="contact-country"
            placeholder="e.g. DE"
            maxLength={2}
            value={countryText}
            onChange={(e) => setCountryText(e.target.value)}
          />
        </div>
      </form>
      <ProblemBox error={page.error} context="Search" />
      <div className="table-wrap" aria-busy={page.loading}>
        <table className="table">
          <caption className="sr-only">Contacts</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Country</th>
              <th scope="col" className="hide-narrow">External id</th>
              <th scope="col" className="hide-narrow">Updated</th>
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
        {page.loading && <Loading what="contacts" />}
        {page.data && page.data.data.length === 0 && <p className="muted empty">No contacts match.</p>}
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
