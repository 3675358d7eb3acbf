/**
 * Names close to a mistyped one, for problems that say what was probably meant ("did you mean SLACK_WEBHOOK?").
 */

/** Edits (insert, delete, substitute) between two strings, compared case-insensitively. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * The candidate nearest to `name` within `maxDistance` edits, or one that `name` starts or ends with (a suffix such as
 * `_URL` added to a real name); undefined when none is that close.
 */
export function nearest(name: string, candidates: readonly string[], maxDistance: number): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d <= maxDistance && (!best || d < best.d)) best = { c, d };
  }
  if (best) return best.c;
  const upper = name.toUpperCase();
  const contained = candidates.filter((c) => upper.startsWith(`${c}_`) || upper.endsWith(`_${c}`));
  return contained.sort((p, q) => q.length - p.length)[0];
}
