// The rules of the contact page's data-subject requests that are worth
// testing on their own: what someone must type before an erasure goes
// ahead, and the file names the exports are saved as.
import type { Contact } from "./api";

/** What must be typed to confirm erasing `c`: their email, so the person
 * acting has read whom they are about to erase; "ERASE" when there is none. */
export function erasurePhrase(c: Pick<Contact, "email">): string {
  return c.email?.trim() || "ERASE";
}

/** Whether `typed` confirms erasing `c`. Emails compare without case or
 * surrounding spaces, as people copy them; "ERASE" must be typed as shown. */
export function confirmsErasure(typed: string, c: Pick<Contact, "email">): boolean {
  const want = erasurePhrase(c);
  const got = typed.trim();
  return c.email?.trim() ? got.toLowerCase() === want.toLowerCase() : got === want;
}

/** The file an export of contact `id` is saved as. */
export function exportFilename(id: string, format: "zip" | "json"): string {
  return `contact-${id.replace(/[^A-Za-z0-9_-]+/g, "-")}.${format}`;
}
