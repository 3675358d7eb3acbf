/** JSON with object keys sorted: equal for equal data however it was built or parsed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * A copy of `s` that keeps nothing else alive, shared with every equal value kept. V8's JSON.parse returns a string of
 * 13 characters or more as a view into the text it parsed, so an id kept from one task of a page keeps the whole
 * page in memory (in a burst: every page read). A property key is internalized: V8 stores one flat copy of it in its
 * string table (dropped when nothing uses it), so the key read back is free of the page, and the region, instance,
 * namespace, cause and status that thousands of tasks repeat are kept once, not once per task (a copy made by
 * concatenation would be free of the page but kept once per task).
 */
export const detach = (s: string): string => Object.keys({ [s]: 0 })[0]!;
