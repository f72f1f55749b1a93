// Settings → Consent texts, the pure part: the wire shapes of
// /api/v1/consent-texts, the create form's inputs and the body it sends,
// where a refusal's messages go (the field it names; a taken key on the key
// field), the texts in use apart from the retired ones, what is said of the
// forms a new version reaches, and the labels of channels and purposes.
// Unit tested. The text is what people agree to, so it is sent and shown
// exactly as typed.
import { ApiError, formProblems } from "../api";
import { countOf } from "../plural";
import { PURPOSES } from "./formModel";

export const CHANNELS = ["email", "sms", "push", "in_app", "phone"] as const;
export { PURPOSES };

export const CHANNEL_LABELS: Record<string, string> = { email: "Email", sms: "SMS", push: "Push", in_app: "In-app", phone: "Phone" };
export const PURPOSE_LABELS: Record<string, string> = {
  marketing: "Marketing",
  product_updates: "Product updates",
  profiling: "Profiling",
  third_party_sharing: "Third-party sharing",
};

/** A channel or purpose as the page names it (unknown ones as the server sent them). */
export const channelLabel = (c: string) => CHANNEL_LABELS[c] ?? c;
export const purposeLabel = (p: string) => PURPOSE_LABELS[p] ?? p;

/** One text's current version, as GET /api/v1/consent-texts lists it. */
export interface ConsentText {
  key: string;
  channel: string;
  purpose: string;
  language: string;
  version: number;
  text: string;
  created_at: string | number;
  /** Who wrote this version: the server's actor ("user:EMAIL", "key:PREFIX (NAME)"), shown through actorLabel. */
  created_by: string | null;
  /** KEY@vN: what a consent given under this version names. */
  wording_version?: string;
  /** When it was retired (offered to no form, gaining no version); null while in use. */
  retired_at?: string | null;
  /** Who retired it, as `created_by`. */
  retired_by?: string | null;
  /** The forms asking with it: each shows its current version. */
  used_by?: FormUsingText[];
}

export interface FormUsingText {
  id: string;
  name: string;
}

export interface ConsentTextVersion {
  version: number;
  wording_version?: string;
  text: string;
  created_at: string | number;
  created_by: string | null;
}

/** GET /api/v1/consent-texts/{key}: the current version and every version, newest first. */
export interface ConsentTextDetail extends ConsentText {
  versions: ConsentTextVersion[];
}

/** The create form's inputs (also the fields a refusal may name). */
export interface ConsentTextInputs {
  key: string;
  channel: string;
  purpose: string;
  language: string;
  text: string;
}

export const CREATE_FIELDS = ["key", "channel", "purpose", "language", "text"] as const;

export const EMPTY_TEXT: ConsentTextInputs = { key: "", channel: "email", purpose: "marketing", language: "en", text: "" };

/** The POST body: key and language trimmed (identifiers), the text exactly as typed. */
export function createBodyOf(i: ConsentTextInputs): ConsentTextInputs {
  return { key: i.key.trim(), channel: i.channel, purpose: i.purpose, language: i.language.trim(), text: i.text };
}

/** A refused create or edit split for showing: messages by field (a field
 * path "/text" or "text" alike; 409, the key taken, on the key field in
 * the page's words, since the server's names the API call), and
 * what is left for the box beside the button. */
export function placeProblems(e: unknown, fields: readonly string[]): { fields: Record<string, string>; rest: unknown } {
  if (e instanceof ApiError && e.status === 409 && fields.includes("key"))
    return { fields: { key: "A consent text with this key exists: open it from the list and edit its text to make a new version." }, rest: null };
  if (e instanceof ApiError && e.problem.errors?.some((x) => x.path.startsWith("/"))) {
    const errors = e.problem.errors.map((x) => ({ ...x, path: x.path.replace(/^\//, "") }));
    return formProblems(new ApiError({ ...e.problem, errors }), fields);
  }
  return formProblems(e, fields);
}

/** The texts ordered for the list: by key. */
export function sortedTexts(list: readonly ConsentText[]): ConsentText[] {
  return [...list].sort((a, b) => a.key.localeCompare(b.key));
}

/** The texts in use and the retired ones, each by key: the page lists the retired apart. */
export function splitRetired(list: readonly ConsentText[]): { active: ConsentText[]; retired: ConsentText[] } {
  const sorted = sortedTexts(list);
  return { active: sorted.filter((t) => !t.retired_at), retired: sorted.filter((t) => Boolean(t.retired_at)) };
}

/** Said before a new version is saved when forms ask with the text: they
 * show the new words from the moment it is saved, so whoever subscribes
 * next agrees to them. Null when no form uses it. */
export function revisionReach(usedBy: readonly FormUsingText[] | undefined): string | null {
  if (!usedBy || usedBy.length === 0) return null;
  if (usedBy.length === 1) return `The form "${usedBy[0].name}" asks with this text: it will show the new words as soon as you save.`;
  return `The ${countOf(usedBy.length, "form")} asking with this text (${usedBy.map((f) => `"${f.name}"`).join(", ")}) will show the new words as soon as you save.`;
}

/** Whether an edit would make a new version: the text differs from the
 * current one, exactly (spaces count). An empty one is sent for the server
 * to refuse on the field. */
export function isNewWording(current: string, draft: string): boolean {
  return draft !== current;
}
