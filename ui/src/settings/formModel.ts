// Pure logic of the subscription-form editor and the retention policy: a
// form definition read into input state and written back as the API's JSON,
// and the retention policy likewise. Kept apart from the pages so it is unit
// tested. Half-typed numbers go out as typed, so the server names the field.

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

/** The editor's inputs: numbers kept as typed text. */
export interface FormInputs {
  name: string;
  purposes: string[];
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
 * an empty list means none. The wording goes as typed: it is shown verbatim. */
export function bodyOf(f: FormInputs): Record<string, unknown> {
  return {
    name: f.name,
    purposes: PURPOSES.filter((p) => f.purposes.includes(p)),
    wording: f.wording,
    wording_version: f.wording_version,
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
