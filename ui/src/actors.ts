// Who made or changed something, as the settings pages say it. The server
// records the one who did it as an actor: "user:EMAIL" for someone signed
// in, "key:PREFIX (NAME)" for an API key, "cli" for the command line. The
// pages name a member by their name (the workspace's members from
// GET /api/v1/users, for the roles that may list them; the signed-in
// person always), someone who has since left by their email and that they
// are no longer a member, and a key by its name. `actorLabel` is pure and
// unit tested; `useActorLabel` gives a page the members to name.
import { can } from "./access";
import { useApi } from "./api";
import { useSession } from "./session";

/** Someone the page can name: a member of the workspace, or the signed-in person. */
export interface Person {
  email: string;
  name: string;
}

/** The people the page knows, and whether they are every member (so that
 * one not among them has left the workspace) or only some (the signed-in
 * person, for a role that may not list the members). */
export interface KnownPeople {
  people: readonly Person[];
  everyone: boolean;
}

export const NOBODY_KNOWN: KnownPeople = { people: [], everyone: false };

/** Names an actor in words: what `useActorLabel` hands a page. */
export type Who = (actor: string) => string;

/** Who an actor is, in words: a member's name, "EMAIL (no longer a member)",
 * an email the page cannot put a name to, "API key “NAME”", "the command
 * line"; anything else as the server wrote it. */
export function actorLabel(actor: string, known: KnownPeople = NOBODY_KNOWN): string {
  if (actor.startsWith("user:")) {
    const email = actor.slice("user:".length);
    const person = known.people.find((p) => p.email.toLowerCase() === email.toLowerCase());
    if (person) return person.name.trim() || person.email;
    return known.everyone ? `${email} (no longer a member)` : email;
  }
  if (actor.startsWith("key:")) {
    const key = actor.slice("key:".length);
    const named = /^(\S+) \((.+)\)$/.exec(key);
    return named ? `API key “${named[2]}”` : `API key ${key}`;
  }
  if (actor === "cli") return "the command line";
  return actor;
}

/** The members behind the actors a page shows: `label` names one (see
 * `actorLabel`); `loading` while the members are asked for, so that a page
 * can wait for the names rather than show emails that turn into names. */
export function useActorLabel(): { label: Who; loading: boolean } {
  const { session } = useSession();
  const mayList = can(session, "members");
  const members = useApi<Person[]>(mayList ? "/api/v1/users" : null);
  const me = session.user ? [session.user] : [];
  const known: KnownPeople = members.data ? { people: [...members.data, ...me], everyone: true } : { people: me, everyone: false };
  return { label: (actor) => actorLabel(actor, known), loading: mayList && members.loading && !members.data };
}
