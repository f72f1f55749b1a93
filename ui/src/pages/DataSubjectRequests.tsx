// The contact page's data-subject requests, for roles with privacy:rights:
// export everything held about the person (a ZIP of JSON and CSV files, or
// the JSON alone) and erase them after typing their email, and the page that
// says what an erasure did.
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, download, type Contact } from "../api";
import { PageHeader, ProblemBox, TextField } from "../components";
import { confirmsErasure, erasurePhrase, exportFilename } from "../privacy";

/** POST /api/v1/contacts/{id}/erase (kairos-store Erasure). */
export interface Erasure {
  contact_id: string;
  suppressed: string[];
  merges_removed: number;
  journey_rows_removed: number;
}

export function DataSubjectRequests({ contact, onErased }: { contact: Contact; onErased: (e: Erasure) => void }) {
  const base = `/api/v1/contacts/${encodeURIComponent(contact.id)}`;
  const [exporting, setExporting] = useState<"zip" | "json" | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const [erasing, setErasing] = useState(false);
  const [eraseError, setEraseError] = useState<unknown>(null);
  const phrase = erasurePhrase(contact);
  const confirmed = confirmsErasure(typed, contact);

  async function exportAs(format: "zip" | "json") {
    setExporting(format);
    setExportError(null);
    try {
      await download(`${base}/export?format=${format}`, exportFilename(contact.id, format));
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(null);
    }
  }

  async function erase(ev: FormEvent) {
    ev.preventDefault();
    if (!confirmed) return;
    setErasing(true);
    setEraseError(null);
    try {
      onErased(await api<Erasure>("POST", `${base}/erase`));
    } catch (e) {
      setEraseError(e);
      setErasing(false);
    }
  }

  return (
    <section className="card" aria-labelledby="dsr-title" data-testid="data-subject-requests">
      <h2 id="dsr-title">Data-subject requests</h2>
      <h3>Access and portability</h3>
      <p className="muted">
        Everything Kairos holds about this person: profile, companies, identities, events, consent with its history, segments, lists and merges. Each
        export is recorded in the audit log.
      </p>
      <div className="actions">
        <button type="button" onClick={() => exportAs("zip")} disabled={exporting !== null}>
          {exporting === "zip" ? "Preparing…" : "Export everything (ZIP)"}
        </button>
        <button type="button" className="link" onClick={() => exportAs("json")} disabled={exporting !== null}>
          {exporting === "json" ? "Preparing…" : "Download as JSON"}
        </button>
      </div>
      <ProblemBox error={exportError} context="Export" />

      <h3>Erasure</h3>
      <p>
        Erasing removes this person from Kairos everywhere (profile, events, consent, memberships, journeys); only their email and phone are kept, as
        salted hashes on the suppression list, so a later import cannot bring them back. It cannot be undone.
      </p>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Erase this person…
        </button>
      ) : (
        <form className="confirm-erase" aria-label="Confirm erasure" onSubmit={erase}>
          <TextField
            id="erase-confirm"
            label={`Type ${phrase === "ERASE" ? "ERASE" : "their email"} to confirm`}
            placeholder={phrase}
            value={typed}
            onChange={setTyped}
            autoComplete="off"
            // Only once enough is typed: a complaint at every keystroke would be noise.
            error={typed.trim().length >= phrase.length && !confirmed ? `That is not ${phrase}.` : undefined}
          />
          <div className="actions">
            <button type="submit" className="danger solid" disabled={!confirmed || erasing}>
              {erasing ? "Erasing…" : "Erase permanently"}
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                setTyped("");
                setEraseError(null);
              }}
              disabled={erasing}
            >
              Cancel
            </button>
          </div>
          <ProblemBox error={eraseError} context="Erasure refused" />
        </form>
      )}
    </section>
  );
}

/** What the contact page shows once its contact is erased. */
export function ErasureDone({ erasure }: { erasure: Erasure }) {
  return (
    <section>
      <PageHeader title="Contact erased">
        <Link to="/contacts">All contacts</Link>
      </PageHeader>
      <div className="card" role="status" data-testid="erasure-result">
        <p>
          Contact <code>{erasure.contact_id}</code> and everything held about them is gone. The erasure is recorded in the audit log.
        </p>
        <dl className="props">
          <div>
            <dt>suppressed (as salted hashes)</dt>
            <dd>{erasure.suppressed.length ? erasure.suppressed.join(", ") : "nothing: no email or phone was known"}</dd>
          </div>
          <div>
            <dt>journey rows removed</dt>
            <dd>{erasure.journey_rows_removed}</dd>
          </div>
          <div>
            <dt>merge records removed</dt>
            <dd>{erasure.merges_removed}</dd>
          </div>
        </dl>
        <p>
          <Link to="/contacts">Back to contacts</Link>
        </p>
      </div>
    </section>
  );
}
