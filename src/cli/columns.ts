/**
 * Text in columns for a terminal: each cell padded to its column's width as a terminal shows it, where East Asian
 * wide and full-width characters (Chinese, Japanese, Korean, full-width forms, most emoji) take two columns and
 * combining marks and zero-width characters none (Unicode UAX #11).
 */

// Wide (W) and full-width (F) ranges of UAX #11 that text in this tool meets: CJK, Hangul, kana, full-width forms,
// emoji.
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];
// Combining marks, zero-width characters and variation selectors take no column.
const ZERO: readonly [number, number][] = [
  [0x0300, 0x036f],
  [0x200b, 0x200f],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

const within = (cp: number, ranges: readonly [number, number][]) => ranges.some(([a, b]) => cp >= a && cp <= b);
const widthOf = (cp: number): number => (within(cp, ZERO) ? 0 : within(cp, WIDE) ? 2 : 1);

/** How many terminal columns `s` takes. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += widthOf(ch.codePointAt(0)!);
  return w;
}

/** `s` cut to at most `max` columns, ending in "…" when cut. */
function fit(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  let out = '';
  for (const ch of s) {
    if (displayWidth(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/**
 * Rows as lines of aligned columns two spaces apart. Every column but the last is at most `max` columns wide (a longer
 * cell is cut with "…", so the columns after it stay aligned); the last is shown whole.
 */
export function columns(rows: readonly (readonly string[])[], max = 60): string[] {
  const cells = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : fit(cell, max))));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => displayWidth(r[c] ?? ''))));
  return cells.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c]! - displayWidth(cell))))
      .join('  ')
      .trimEnd(),
  );
}
