// Wire shapes of the email API (/api/v1/email/*) as the UI uses them, and
// the reading of a template problem's path ("body:2:4") into part, line and
// column so the editor can put each error next to the line at fault.

export type TemplateFormat = "mjml" | "html";

export interface EmailTemplate {
  id: string;
  name: string;
  subject: string;
  body: string;
  format: TemplateFormat;
  text: string | null;
  layout: string | null;
  created_at: number;
  updated_at: number;
}

/** POST …/preview: the rendered message, or why this contact would be skipped. */
export type Preview = { subject: string; html: string; text: string; skipped?: undefined } | { skipped: string };

/** What became of a send (POST …/test-send, POST /email/send). */
export interface SendOutcome {
  outcome: "sent" | "refused" | "skipped" | "delayed" | "bounced" | "repeat";
  message_id?: string;
  status?: string;
  reason?: string;
  until?: number;
}

export interface EmailTotals {
  messages: number;
  sent: number;
  bounced: number;
  complained: number;
  refused: number;
  skipped: number;
  failed: number;
  unique_opens: number;
  opens: number;
  machine_opens: number;
  unique_clicks: number;
  clicks: number;
}

export interface TemplateReport {
  template: string;
  totals: EmailTotals;
  links: { url: string; clicks: number; machine_clicks: number }[];
}

export interface EmailMessage {
  id: string;
  contact_id: string | null;
  template_id: string | null;
  sender_id: string | null;
  source: string;
  intent_key: string | null;
  to_email: string | null;
  subject: string | null;
  kind: string;
  status: string;
  detail: string | null;
  opens: number;
  machine_opens: number;
  clicks: number;
  first_opened_at: number | null;
  first_clicked_at: number | null;
  created_at: number;
  sent_at: number | null;
}

export interface Sender {
  id: string;
  name: string | null;
  email: string;
  reply_to: string | null;
  default: boolean;
  dkim: { domain: string; selector: string; algorithm: string; dns_name: string; dns_type: string; dns_value: string };
  created_at: number;
}

/** One problem of a template, placed: `part` is "subject", "body", "text", a snippet… */
export interface TemplateIssue {
  part: string;
  line: number | null;
  column: number | null;
  message: string;
}

/** Read the API's `errors[]` of a template problem: paths `part:line:column`. */
export function templateIssues(errors: { path: string; message: string }[] | undefined): TemplateIssue[] {
  return (errors ?? []).map((e) => {
    const m = /^(.*):(\d+):(\d+)$/.exec(e.path);
    if (m) return { part: m[1], line: Number(m[2]), column: Number(m[3]), message: e.message };
    return { part: e.path, line: null, column: null, message: e.message };
  });
}

/** Where a line and column (1-based) fall in `text`, as a character offset. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const end = text.indexOf("\n", offset);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(offset + Math.max(column - 1, 0), lineEnd);
}
