// Pure logic of the subscription-form editor and the retention policy: a
// form definition read into input state and written back as the API's JSON
// (its wording either the form's own or a library consent text's, named by
// key), where the server's problems go, and the retention policy likewise.
// Kept apart from the pages so it is unit tested. Half-typed numbers go out
// as typed, so the server names the field.
import { ApiError, formProblems } from "../api";

export const PURPOSES = ["marketing", "product_updates", "profiling", "third_party_sharing"] as const;
export const NAME_FIELDS = ["first_name", "last_name"] as const;

/** A form as GET /api/v1/forms answers. */
export interface FormView {
  id: string;
  name: string;
  url: string;
  definition: FormDefinition;
  created_at: number;
  updated_at: number;
}

export interface FormDefinition {
  name: string;
  channel?: string;
  purposes: string[];
  /** The key of the library text the form asks with; its current version gives the wording. */
  consent_text?: string | null;
  wording: string;
  wording_version: string;
  list_id?: string | null;
  double_opt_in: boolean;
  confirmation_template?: string | null;
  sender?: string | null;
  token_lifetime_hours: number;
  reminder_after_hours: number | null;
  max_reminders: number;
  fields: string[];
}

/** Where a form's wording comes from: a text of the consent library, or the form itself. */
export type WordingSource = "library" | "own";

/** The editor's inputs: numbers kept as typed text. `wording` and
 * `wording_version` are the form's own words, kept while a library text is
 * chosen so switching back loses nothing. */
export interface FormInputs {
  name: string;
  purposes: string[];
  wording_source: WordingSource;
  consent_text: string;
  wording: string;
  wording_version: string;
  list_id: string;
  double_opt_in: boolean;
  token_lifetime_hours: string;
  reminder_after_hours: string;
  max_reminders: string;
  fields: string[];
}

/** The fields the server may name in a 422, each shown beside its input. */
export const FORM_FIELDS = [
  "name",
  "purposes",
  "consent_text",
  "wording",
  "wording_version",
  "list_id",
  "double_opt_in",
  "token_lifetime_hours",
  "reminder_after_hours",
  "max_reminders",
  "fields",
] as const;

// The server's defaults, so a new form shows what it will get.
export const EMPTY_FORM: FormInputs = {
  name: "",
  purposes: ["marketing"],
  wording_source: "own",
  consent_text: "",
  wording: "",
  wording_version: "",
  list_id: "",
  double_opt_in: true,
  token_lifetime_hours: "168",
  reminder_after_hours: "48",
  max_reminders: "1",
  fields: [],
};

export function inputsOf(d: FormDefinition): FormInputs {
  return {
    name: d.name,
    purposes: [...d.purposes],
    wording_source: d.consent_text ? "library" : "own",
    consent_text: d.consent_text ?? "",
    // A linked form's words: the server keeps them as the form's own when it is unlinked.
    wording: d.wording,
    wording_version: d.wording_version,
    list_id: d.list_id ?? "",
    double_opt_in: d.double_opt_in,
    token_lifetime_hours: String(d.token_lifetime_hours),
    reminder_after_hours: d.reminder_after_hours === null ? "" : String(d.reminder_after_hours),
    max_reminders: String(d.max_reminders),
    fields: [...d.fields],
  };
}

/** A number input as the API wants it: a number when it is one, else the text, for the server to refuse by name. */
function numberOr(text: string): number | string {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

/** The JSON body of a create or a full PATCH. Empty reminder hours mean no reminders (null);
 * an empty list means none. The wording goes as typed: it is shown verbatim.
 * A library text goes by key without wording (the server gives the text's
 * and refuses any other); the form's own wording goes with `consent_text`
 * null, which unlinks a form that had a text. An unchosen text goes as ""
 * for the server to refuse on its field. */
export function bodyOf(f: FormInputs): Record<string, unknown> {
  const wording = f.wording_source === "library" ? { consent_text: f.consent_text } : { consent_text: null, wording: f.wording, wording_version: f.wording_version };
  return {
    name: f.name,
    purposes: PURPOSES.filter((p) => f.purposes.includes(p)),
    ...wording,
    list_id: f.list_id === "" ? null : f.list_id,
    double_opt_in: f.double_opt_in,
    token_lifetime_hours: numberOr(f.token_lifetime_hours),
    reminder_after_hours: f.reminder_after_hours.trim() === "" ? null : numberOr(f.reminder_after_hours),
    max_reminders: numberOr(f.max_reminders),
    fields: NAME_FIELDS.filter((n) => f.fields.includes(n)),
  };
}

/** The input a problem path belongs to: `purposes[1]` to `purposes`, `fields[0]` to `fields`. */
export function inputOfPath(path: string): string {
  return path.replace(/\[\d+\]$/, "");
}

/** A refused save split for showing: each message on the input its path
 * belongs to (an item's path said in the message, `purposes[1]: …`, since
 * the group shows one message), the rest for the box. */
export function formEditorProblems(e: unknown): { fields: Record<string, string>; rest: unknown } {
  if (!(e instanceof ApiError) || !e.problem.errors) return formProblems(e, FORM_FIELDS);
  const errors = e.problem.errors.map((x) => {
    const k = inputOfPath(x.path);
    return k === x.path ? x : { path: k, message: `${x.path}: ${x.message}` };
  });
  return formProblems(new ApiError({ ...e.problem, errors }), FORM_FIELDS);
}

/** The library text the form should ask with: an email text (forms ask for
 * email consent only), not retired. */
export interface LibraryText {
  key: string;
  channel: string;
  purpose: string;
  text: string;
  wording_version?: string;
  retired_at?: string | null;
}

/** The texts a form may ask with, by key: email texts not retired. */
export function offeredTexts<T extends LibraryText>(texts: readonly T[]): T[] {
  return texts.filter((t) => t.channel === "email" && !t.retired_at).sort((a, b) => a.key.localeCompare(b.key));
}

/** A new form's inputs: asking with a library text when the library has one to offer
 * (the person picks which), else with words of its own. */
export function newFormInputs(offered: readonly LibraryText[]): FormInputs {
  return { ...EMPTY_FORM, wording_source: offered.length > 0 ? "library" : "own" };
}

/** `text` chosen: its purpose joins the form's, since the server refuses a
 * text whose purpose the form does not ask for. */
export function chooseText(f: FormInputs, text: LibraryText | undefined): FormInputs {
  if (!text) return { ...f, consent_text: "" };
  return { ...f, consent_text: text.key, purposes: f.purposes.includes(text.purpose) ? f.purposes : [...f.purposes, text.purpose] };
}

/** Switching to words of the form's own: with none written yet, they start
 * as the chosen text's words and version, to adapt rather than retype. */
export function switchToOwn(f: FormInputs, text: LibraryText | undefined): FormInputs {
  const blank = f.wording.trim() === "" && f.wording_version.trim() === "";
  if (!blank || !text) return { ...f, wording_source: "own" };
  return { ...f, wording_source: "own", wording: text.text, wording_version: text.wording_version ?? "" };
}

/** The start of a wording on one line, for a list of choices: spaces collapsed, cut at `max` characters. */
export function previewOf(text: string, max = 60): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

/** GET/PUT /api/v1/retention. */
export interface RetentionPolicy {
  events_max_age_days: number | null;
  events_action: "delete" | "anonymise";
  inactive_contacts_days: number | null;
}

export interface RetentionReport {
  events_deleted: number;
  events_anonymised: number;
  contacts_purged: number;
  ran_at: number;
}

export interface RetentionInputs {
  events_max_age_days: string;
  events_action: "delete" | "anonymise";
  inactive_contacts_days: string;
}

export function retentionInputsOf(p: Partial<RetentionPolicy>): RetentionInputs {
  return {
    events_max_age_days: p.events_max_age_days == null ? "" : String(p.events_max_age_days),
    events_action: p.events_action ?? "delete",
    inactive_contacts_days: p.inactive_contacts_days == null ? "" : String(p.inactive_contacts_days),
  };
}

/** The PUT body: an empty number means keep for ever (null). */
export function retentionBodyOf(r: RetentionInputs): Record<string, unknown> {
  const days = (t: string) => (t.trim() === "" ? null : numberOr(t));
  return { events_max_age_days: days(r.events_max_age_days), events_action: r.events_action, inactive_contacts_days: days(r.inactive_contacts_days) };
}
