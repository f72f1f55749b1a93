// The email template editor: name, subject, format, body and optional plain
// text, checked by the server as the marketer types (problems shown next to
// the line at fault), saved and deleted; a live preview of the text as typed
// (saved or not) for a chosen contact at desktop and mobile widths, from the
// same check call, with a test send; and the template's report.
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, useApi, type Contact, type Page } from "../api";
import { useCan } from "../session";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox } from "../components";
import { BarChart } from "../Chart";
import { CodeEditor, IssueList, type CodeEditorHandle } from "./CodeEditor";
import { ContactPicker } from "./ContactPicker";
import { templateIssues, type EmailTemplate, type Preview, type SendOutcome, type TemplateFormat, type TemplateIssue, type TemplateReport } from "./types";
import { countOf } from "../plural";

interface Draft {
  name: string;
  subject: string;
  format: TemplateFormat;
  body: string;
  text: string;
}

const STARTER: Draft = {
  name: "",
  subject: "Hello {{ contact.first_name | default: \"there\" }}",
  format: "mjml",
  body: `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi {{ contact.first_name | default: "there" }},</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`,
  text: "",
};

function draftOf(t: EmailTemplate): Draft {
  return { name: t.name, subject: t.subject, format: t.format, body: t.body, text: t.text ?? "" };
}

function payload(d: Draft) {
  return { name: d.name.trim(), subject: d.subject, format: d.format, body: d.body, text: d.text === "" ? null : d.text };
}

type Check = { state: "idle" | "checking" | "ok" } | { state: "problems"; issues: TemplateIssue[] } | { state: "error"; error: unknown };

/** The live preview: the last preview the check returned and the contact it is for. */
interface Live {
  preview: Preview | null;
  contactId: string | null;
}

/** Check the draft a moment after the marketer stops typing; with a preview
 * contact, the same call renders the text as typed for them. A failed check
 * keeps the last good preview, so the marketer still sees their email. */
function useTemplateCheck(draft: Draft, enabled: boolean, contactId: string | null) {
  const [check, setCheck] = useState<Check>({ state: "idle" });
  const [live, setLive] = useState<Live>({ preview: null, contactId: null });
  const { subject, body, format, text } = draft;
  useEffect(() => {
    // Checking is part of editing: roles that only read templates are not asked to.
    if (!enabled) return;
    const ctl = new AbortController();
    const t = window.setTimeout(() => {
      setCheck({ state: "checking" });
      const req = { subject, body, format, text: text === "" ? null : text, ...(contactId ? { contact_id: contactId } : {}) };
      api<{ ok: boolean; preview?: Preview }>("POST", "/api/v1/email/templates/check", req, { signal: ctl.signal })
        .then((r) => {
          setCheck({ state: "ok" });
          if (r.preview) setLive({ preview: r.preview, contactId });
        })
        .catch((e) => {
          if ((e as Error).name === "AbortError") return;
          if (e instanceof ApiError && e.status === 422) setCheck({ state: "problems", issues: templateIssues(e.problem.errors) });
          else setCheck({ state: "error", error: e });
        });
    }, 450);
    return () => {
      window.clearTimeout(t);
      ctl.abort();
    };
  }, [subject, body, format, text, enabled, contactId]);
  // A preview made for another contact is not shown for this one.
  const preview = contactId && live.contactId === contactId ? live.preview : null;
  return { check, setCheck, preview };
}

type Tab = "content" | "preview" | "report";

export function TemplateEditor() {
  const { id } = useParams();
  const isNew = id === undefined;
  const navigate = useNavigate();
  const loaded = useApi<EmailTemplate>(isNew ? null : `/api/v1/email/templates/${id}`);
  const can = useCan();
  const canSeePeople = can("people:read");
  const canEdit = can("marketing:write");
  // The live preview renders the unsaved text through the check, which is for editors.
  const livePreview = canEdit && canSeePeople;
  const [saved, setSaved] = useState<EmailTemplate | null>(null);
  const [draft, setDraft] = useState<Draft | null>(isNew ? STARTER : null);
  const [tab, setTab] = useState<Tab>("content");
  // No one is previewed for until the preview is first opened: until then the check only checks.
  const [previewOpened, setPreviewOpened] = useState(false);
  const first = useFirstContact(canSeePeople && previewOpened);
  const [picked, setPicked] = useState<Contact | null>(null);
  const contact = picked ?? first;
  const { check, setCheck, preview } = useTemplateCheck(draft ?? STARTER, canEdit && draft !== null, livePreview && previewOpened ? contact?.id ?? null : null);
  useEffect(() => {
    if (tab === "preview") setPreviewOpened(true);
  }, [tab]);

  useEffect(() => {
    if (loaded.data) {
      setSaved(loaded.data);
      setDraft(draftOf(loaded.data));
    }
  }, [loaded.data]);

  if (!isNew && !draft) {
    return (
      <section>
        <PageHeader title="Email template" />
        <ProblemBox error={loaded.error} context="Loading the template" />
        {loaded.loading && <Loading what="the template" />}
      </section>
    );
  }
  if (!draft) return null;

  // The preview is personalised for a chosen contact, so it needs a role that sees people.
  const tabs: { key: Tab; label: string }[] = [
    { key: "content", label: "Content" },
    ...(canSeePeople ? [{ key: "preview" as const, label: "Preview and test send" }] : []),
    { key: "report", label: "Report" },
  ];
  // A new template has no report yet, but its text as typed can be previewed.
  const opens = (k: Tab) => !isNew || k === "content" || (k === "preview" && livePreview);
  return (
    <section>
      <PageHeader title={isNew ? "New email template" : saved?.name ?? "Email template"}>
        <Link to="/email/templates">All templates</Link>
      </PageHeader>
      <div role="tablist" aria-label="Template" className="tabs">
        {tabs.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-controls={`panel-${t.key}`}
            aria-selected={tab === t.key}
            tabIndex={tab === t.key ? 0 : -1}
            disabled={!opens(t.key)}
            title={!opens(t.key) ? "Save the template first" : undefined}
            onClick={() => setTab(t.key)}
            onKeyDown={(e) => {
              const dir = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!dir) return;
              const open = tabs.filter((x) => opens(x.key));
              const at = open.findIndex((x) => x.key === t.key);
              const next = open[(at + dir + open.length) % open.length].key;
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="panel-content" aria-labelledby="tab-content" hidden={tab !== "content"}>
        <ContentPanel
          draft={draft}
          setDraft={setDraft}
          check={check}
          setCheck={setCheck}
          saved={saved}
          onSaved={(t) => {
            setSaved(t);
            setDraft(draftOf(t));
            if (isNew) navigate(`/email/templates/${t.id}`, { replace: true });
          }}
          onDeleted={() => navigate("/email/templates")}
        />
      </div>
      {tab === "preview" && (saved || livePreview) && (
        <div role="tabpanel" id="panel-preview" aria-labelledby="tab-preview">
          <PreviewPanel
            template={saved}
            name={draft.name.trim() || "the new template"}
            contact={contact}
            onPick={setPicked}
            live={livePreview ? { preview, check } : null}
          />
        </div>
      )}
      {saved && tab === "report" && (
        <div role="tabpanel" id="panel-report" aria-labelledby="tab-report">
          <ReportPanel template={saved} />
        </div>
      )}
    </section>
  );
}

function ContentPanel({
  draft,
  setDraft,
  check,
  setCheck,
  saved,
  onSaved,
  onDeleted,
}: {
  draft: Draft;
  setDraft: (d: Draft) => void;
  check: Check;
  setCheck: (c: Check) => void;
  saved: EmailTemplate | null;
  onSaved: (t: EmailTemplate) => void;
  onDeleted: () => void;
}) {
  const canEdit = useCan()("marketing:write");
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const editor = useRef<CodeEditorHandle>(null);
  const dirty = !saved || JSON.stringify(draftOf(saved)) !== JSON.stringify(draft);

  const issues = check.state === "problems" ? check.issues : [];
  const of = (part: string) => issues.filter((i) => i.part === part);
  const others = issues.filter((i) => !["subject", "body", "text", "format"].includes(i.part));
  const set = (patch: Partial<Draft>) => {
    setSavedNote(null);
    setDraft({ ...draft, ...patch });
  };

  const save = async () => {
    setNameError(null);
    setSaveError(null);
    setSavedNote(null);
    if (!draft.name.trim()) {
      setNameError("A template needs a name.");
      return;
    }
    setSaving(true);
    try {
      const t = saved
        ? await api<EmailTemplate>("PUT", `/api/v1/email/templates/${saved.id}`, payload(draft))
        : await api<EmailTemplate>("POST", "/api/v1/email/templates", payload(draft));
      onSaved(t);
      setSavedNote(`Saved at ${formatWhen(t.updated_at)}.`);
    } catch (e) {
      if (e instanceof ApiError) {
        const byField = e.problem.errors ?? [];
        const name = byField.find((x) => x.path === "name");
        if (name) setNameError(name.message);
        else if (e.status === 409) setNameError(e.problem.detail);
        else if (e.status === 422 && byField.length > 0) setCheck({ state: "problems", issues: templateIssues(byField) });
        else setSaveError(e);
        if (name || e.status === 409 || (e.status === 422 && byField.length > 0)) setSaveError(new ApiError({ ...e.problem, errors: undefined }));
      } else setSaveError(e);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!saved) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await api("DELETE", `/api/v1/email/templates/${saved.id}`);
      onDeleted();
    } catch (e) {
      setDeleteError(e);
      setDeleting(false);
    }
  };

  return (
    <form
      className="template-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="template-head">
        <div className="field grow">
          <label htmlFor="tpl-name">Name</label>
          <input
            id="tpl-name"
            value={draft.name}
            onChange={(e) => set({ name: e.target.value })}
            readOnly={!canEdit}
            aria-invalid={nameError !== null}
            aria-describedby={nameError ? "tpl-name-error" : undefined}
            className={nameError ? "has-error" : undefined}
            placeholder="e.g. Welcome"
          />
          {nameError && <p className="field-error" id="tpl-name-error">{nameError}</p>}
        </div>
        <div className="field">
          <label htmlFor="tpl-format">Format</label>
          <select id="tpl-format" disabled={!canEdit} value={draft.format} onChange={(e) => set({ format: e.target.value as TemplateFormat })}>
            <option value="mjml">MJML (responsive, compiled to HTML)</option>
            <option value="html">HTML</option>
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="tpl-subject">Subject</label>
        <input
          id="tpl-subject"
          value={draft.subject}
          onChange={(e) => set({ subject: e.target.value })}
          readOnly={!canEdit}
          className={of("subject").length ? "has-error" : undefined}
          aria-invalid={of("subject").length > 0}
          aria-describedby="tpl-subject-issues"
        />
        <IssueList id="tpl-subject-issues" issues={of("subject")} />
      </div>
      <div className="field">
        <div className="label-row">
          <label htmlFor="tpl-body">Body ({draft.format === "mjml" ? "MJML" : "HTML"} with Liquid)</label>
          <CheckStatus check={check} />
        </div>
        <CodeEditor ref={editor} id="tpl-body" value={draft.body} onChange={(v) => set({ body: v })} issues={of("body")} readOnly={!canEdit} describedBy="tpl-body-hint tpl-body-issues" />
        <span className="small muted" id="tpl-body-hint">
          {canEdit ? "Tab indents; press Esc, then Tab, to move on from the editor." : "Read only: your role can read templates but not change them."}
        </span>
        <IssueList id="tpl-body-issues" issues={of("body")} onGo={(i) => i.line !== null && editor.current?.goTo(i.line, i.column ?? 1)} />
        {check.state === "error" && <ProblemBox error={check.error} context="Checking the template" />}
      </div>
      <details className="field" open={draft.text !== "" || of("text").length > 0}>
        <summary>Plain-text part (optional; derived from the HTML when empty)</summary>
        <label htmlFor="tpl-text" className="sr-only">Plain-text part</label>
        <textarea id="tpl-text" rows={6} value={draft.text} readOnly={!canEdit} onChange={(e) => set({ text: e.target.value })} className={of("text").length ? "has-error" : undefined} aria-describedby="tpl-text-issues" />
        <IssueList id="tpl-text-issues" issues={of("text")} />
      </details>
      {others.length > 0 && (
        <div className="problem" role="alert">
          <strong>Other problems</strong>
          <IssueList issues={others} showPart />
        </div>
      )}
      <p className="muted small">
        Variables: <code>contact.first_name</code>, <code>contact.custom.FIELD</code>, <code>company.name</code>, <code>event.properties.X</code>,{" "}
        <code>segments</code>, <code>links.unsubscribe</code>, <code>sender.postal_address</code>. A value printed without <code>default</code> and
        not inside an <code>if</code> must exist, or the contact is skipped. Shared pieces: <code>{"{% include 'name' %}"}</code> includes one of the{" "}
        <Link to="/email/templates/snippets">snippets</Link>.
      </p>
      <div className="form-actions">
        {canEdit ? (
          <button type="submit" className="primary" disabled={saving || (!dirty && saved !== null)}>
            {saving ? "Saving…" : saved ? "Save changes" : "Create template"}
          </button>
        ) : (
          <span className="muted small">Your role can read templates but not change them.</span>
        )}
        {saved && !dirty && <span className="muted">No unsaved changes.</span>}
        {savedNote && <span className="ok" role="status">{savedNote}</span>}
        {saved && !confirmDelete && canEdit && (
          <button type="button" className="danger push-right" onClick={() => setConfirmDelete(true)}>
            Delete…
          </button>
        )}
        {saved && confirmDelete && (
          <span className="confirm push-right" role="group" aria-label="Confirm deletion">
            Delete “{saved.name}”? Journeys that send it will fail.
            <button type="button" className="danger" onClick={() => void remove()} disabled={deleting}>
              {deleting ? "Deleting…" : "Yes, delete"}
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
      <ProblemBox error={saveError} context="Not saved" />
      <ProblemBox error={deleteError} context="Not deleted" />
    </form>
  );
}

function CheckStatus({ check }: { check: Check }) {
  const text =
    check.state === "checking"
      ? "Checking…"
      : check.state === "ok"
        ? "✓ No problems found"
        : check.state === "problems"
          ? countOf(check.issues.length, "problem")
          : check.state === "error"
            ? "Could not check"
            : "";
  return (
    <span className={`check-status check-${check.state}`} role="status" aria-live="polite" data-testid="check-status">
      {text}
    </span>
  );
}

/** A contact with a first name to preview for, until the marketer picks one (loaded when `wanted`). */
function useFirstContact(wanted: boolean): Contact | null {
  const page = useApi<Page<Contact>>(wanted ? "/api/v1/contacts?limit=20" : null);
  return useMemo(() => page.data?.data.find((c) => c.first_name && c.email) ?? page.data?.data[0] ?? null, [page.data]);
}

/** The preview of the text as typed (`live`, for editors), else of the saved template. */
function PreviewPanel({
  template,
  name,
  contact,
  onPick,
  live,
}: {
  template: EmailTemplate | null;
  name: string;
  contact: Contact | null;
  onPick: (c: Contact | null) => void;
  live: { preview: Preview | null; check: Check } | null;
}) {
  const [width, setWidth] = useState<"desktop" | "mobile">("desktop");
  const stored = useSavedPreview(live ? null : template, contact);
  const preview = live ? live.preview : stored.preview;
  // Waiting for the first preview counts as loading too (the check is debounced).
  const loading = live
    ? live.check.state === "checking" || (contact !== null && !live.preview && live.check.state !== "problems" && live.check.state !== "error")
    : stored.loading;
  const error = live ? (live.check.state === "error" ? live.check.error : null) : stored.error;
  const broken = live?.check.state === "problems";

  return (
    <div className="preview-layout">
      <div className="preview-controls card">
        <ContactPicker label="Preview for contact" value={contact} onChange={onPick} />
        <fieldset className="width-toggle">
          <legend>Width</legend>
          <button type="button" aria-pressed={width === "desktop"} onClick={() => setWidth("desktop")}>
            Desktop (640 px)
          </button>
          <button type="button" aria-pressed={width === "mobile"} onClick={() => setWidth("mobile")}>
            Mobile (375 px)
          </button>
        </fieldset>
        <p className="muted small">{live ? "Shows the text as you type it, saved or not." : "Shows the saved template."}</p>
        <hr />
        {template ? <TestSend template={template} contact={contact} /> : <p className="muted small">Save the template to send a test.</p>}
      </div>
      <div className="preview-main" aria-busy={loading}>
        <div className="preview-state" aria-live="polite">
          {broken && (
            <p className="notice small" data-testid="preview-stale">
              The text has problems (see Content){preview ? ", so this is the last preview that worked." : "; fix them to see a preview."}
            </p>
          )}
        </div>
        <ProblemBox error={error} context="Preview" />
        {loading && !preview && !broken && <Loading what="the preview" />}
        {preview && preview.skipped !== undefined && (
          <div className="skipped" role="alert">
            <strong>This contact would be skipped, not emailed.</strong>
            <div>{preview.skipped}</div>
          </div>
        )}
        {preview && preview.skipped === undefined && (
          <div className={broken ? "stale" : undefined}>
            <div className="preview-subject">
              <span className="muted">Subject</span> <strong data-testid="preview-subject">{preview.subject}</strong>
            </div>
            <div className={`device device-${width}`}>
              <iframe
                title={`Preview of ${name} for ${contact ? contact.email ?? contact.id : "a contact"}`}
                sandbox=""
                srcDoc={preview.html}
                style={{ width: width === "desktop" ? 640 : 375 }}
              />
            </div>
            <h2>Plain-text part</h2>
            <pre className="text-part" data-testid="preview-text">{preview.text}</pre>
          </div>
        )}
      </div>
    </div>
  );
}

/** The saved template's preview for `contact` (for roles that read templates but do not edit them). */
function useSavedPreview(template: EmailTemplate | null, contact: Contact | null) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = template?.id;
  const updated = template?.updated_at;
  useEffect(() => {
    if (!contact || !id) return;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api<Preview>("POST", `/api/v1/email/templates/${id}/preview`, { contact_id: contact.id }, { signal: ctl.signal })
      .then((p) => {
        setPreview(p);
        setLoading(false);
      })
      .catch((e) => {
        if ((e as Error).name === "AbortError") return;
        setError(e);
        setPreview(null);
        setLoading(false);
      });
    return () => ctl.abort();
  }, [contact, id, updated]);
  return { preview, loading, error };
}

function TestSend({ template, contact }: { template: EmailTemplate; contact: Contact | null }) {
  const [to, setTo] = useState("");
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<SendOutcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const toError = error instanceof ApiError ? error.problem.errors?.find((e) => e.path === "to")?.message : undefined;

  const send = async () => {
    if (!contact) return;
    setSending(true);
    setError(null);
    setOutcome(null);
    try {
      setOutcome(await api<SendOutcome>("POST", `/api/v1/email/templates/${template.id}/test-send`, { to: to.trim(), contact_id: contact.id }));
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <h2>Test send</h2>
      <div className="field">
        <label htmlFor="test-to">Send a test to</label>
        <input
          id="test-to"
          type="email"
          required
          placeholder="you@example.com"
          value={to}
          onChange={(e) => setTo(e.target.value)}
          className={toError ? "has-error" : undefined}
          aria-invalid={toError !== undefined}
        />
        {toError && <p className="field-error">{toError}</p>}
      </div>
      <p className="muted small">Personalised for the contact above, sent to this address instead of theirs, as a transactional message marked as a test.</p>
      <button type="submit" disabled={!contact || sending || !to.trim()}>
        {sending ? "Sending…" : "Send test"}
      </button>
      {outcome && <Outcome outcome={outcome} />}
      {!toError && <ProblemBox error={error} context="Test not sent" />}
    </form>
  );
}

function Outcome({ outcome }: { outcome: SendOutcome }) {
  const link = outcome.message_id ? (
    <Link to={`/email/outbox/${outcome.message_id}`}>View it in the outbox</Link>
  ) : null;
  const good = outcome.outcome === "sent" || outcome.outcome === "repeat";
  return (
    <div className={good ? "outcome ok-box" : "outcome skipped"} role="status" data-testid="send-outcome">
      {outcome.outcome === "sent" && <strong>Sent ({outcome.status}).</strong>}
      {outcome.outcome === "repeat" && <strong>Already handled ({outcome.status}).</strong>}
      {outcome.outcome === "refused" && <strong>Refused by the sending rules: {outcome.reason}</strong>}
      {outcome.outcome === "skipped" && <strong>Skipped: {outcome.reason}</strong>}
      {outcome.outcome === "bounced" && <strong>Bounced: {outcome.reason}</strong>}
      {outcome.outcome === "delayed" && <strong>Held until {formatWhen(outcome.until)} (quiet hours).</strong>}{" "}
      {link}
    </div>
  );
}

const TOTALS: [keyof TemplateReport["totals"], string][] = [
  ["sent", "Sent"],
  ["unique_opens", "Unique opens"],
  ["unique_clicks", "Unique clicks"],
  ["bounced", "Bounced"],
  ["complained", "Complaints"],
  ["refused", "Refused"],
  ["skipped", "Skipped"],
  ["failed", "Failed"],
];

function ReportPanel({ template }: { template: EmailTemplate }) {
  const report = useApi<TemplateReport>(`/api/v1/email/templates/${template.id}/report`);
  const labels = useMemo(() => TOTALS.map(([, l]) => l), []);
  const values = useMemo(() => TOTALS.map(([k]) => report.data?.totals[k] ?? 0), [report.data]);
  const linkLabels = useMemo(() => report.data?.links.map((_, i) => `Link ${i + 1}`) ?? [], [report.data]);
  const linkValues = useMemo(() => report.data?.links.map((l) => l.clicks) ?? [], [report.data]);
  if (report.error) return <ProblemBox error={report.error} context="Report" />;
  if (!report.data) return <Loading what="the report" />;
  const t = report.data.totals;
  return (
    <div>
      <div className="card">
        <h2>Messages from this template</h2>
        <BarChart labels={labels} values={values} label="Messages by outcome" />
        <table className="table compact report-totals">
          <tbody>
            <tr>
              <th scope="row">Messages prepared</th>
              <td className="num">{formatNumber(t.messages)}</td>
              <th scope="row">Opens (total)</th>
              <td className="num">{formatNumber(t.opens)}</td>
            </tr>
            <tr>
              <th scope="row">Machine opens (privacy proxies, scanners)</th>
              <td className="num">{formatNumber(t.machine_opens)}</td>
              <th scope="row">Clicks (total)</th>
              <td className="num">{formatNumber(t.clicks)}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <div className="card">
        <h2>Clicks per link</h2>
        {report.data.links.length === 0 && <p className="muted">No clicks yet.</p>}
        {report.data.links.length > 0 && (
          <>
            <BarChart labels={linkLabels} values={linkValues} label="Clicks per link" height={180} />
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Link</th>
                  <th scope="col">URL</th>
                  <th scope="col" className="num">Clicks</th>
                  <th scope="col" className="num">By machines</th>
                </tr>
              </thead>
              <tbody>
                {report.data.links.map((l, i) => (
                  <tr key={l.url}>
                    <td>Link {i + 1}</td>
                    <td className="url-cell">{l.url}</td>
                    <td className="num">{formatNumber(l.clicks)}</td>
                    <td className="num">{formatNumber(l.machine_clicks)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </div>
  );
}
