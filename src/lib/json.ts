/** JSON with object keys sorted: equal for equal data however it was built or parsed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A copy of `s` that keeps nothing else alive. V8's JSON.parse returns a string of 13 characters or more as a view
 * into the text it parsed, so an id kept from one task of a 60 KB page keeps the whole page in memory (in a burst:
 * every page read); keeping a copy lets the page go. Concatenation makes a new flat string, and slicing it back drops
 * the extra character.
 */
export const detach = (s: string): string => (` ${s}`).slice(1);
