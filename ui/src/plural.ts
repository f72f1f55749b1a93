// Counts in words, singular for exactly one: "1 contact", "2 contacts",
// "1,204 members". One helper so no label says "1 contacts".

/** The noun for `n` things: `one` for exactly 1, else `many` (`one` + "s" unless given). */
export function plural(n: number | null | undefined, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** `n` (grouped as the rest of the UI shows numbers, "—" when unknown) and its noun. */
export function countOf(n: number | null | undefined, one: string, many = `${one}s`): string {
  const shown = n === null || n === undefined ? "—" : n.toLocaleString("en-US");
  return `${shown} ${plural(n, one, many)}`;
}
