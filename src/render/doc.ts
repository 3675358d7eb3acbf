/**
 * A message before it meets a platform: what it says, line by line, with each value marked for what it is (our words,
 * a value from the API, a moment, a link, a command). The DingTalk and Slack renderers only lay it out and escape;
 * what a message says is decided once, in layout.
 */

/** A piece of a line. A plain string is our own wording; everything from the API is an `api` piece. */
export type Inline =
  | string
  | { api: string }
  | { time: number; short?: boolean }
  | { from: number; to: number }
  | { link: string; text: Inline[] }
  | { bold: Inline[] };

/** How a line reads: a heading, a sentence, a quoted explanation, a list item, a numbered step, a command. */
export type LineKind = 'head' | 'text' | 'quote' | 'item' | 'step' | 'command' | 'note';

export interface Line {
  kind: LineKind;
  parts: Inline[];
}

/** A part of the message a reader takes in at once (a failure group, the stuck syncs); Slack puts a divider between. */
export interface Section {
  lines: Line[];
}

/** The message's tone: its colour in Slack and the mark of its banner. */
export type Tone = 'high' | 'medium' | 'low' | 'good' | 'info' | 'blind';

export interface Doc {
  /** The banner: what a phone's notification shows. Plain words and values; no markup. */
  title: Inline[];
  tone: Tone;
  sections: Section[];
  /** Said once, at the end (the RAM actions re-run commands need). */
  notes: Line[];
}

/** A line of `kind` made of `parts`. */
export const line = (kind: LineKind, ...parts: Inline[]): Line => ({ kind, parts });
/** A value from the API: each platform makes it inert (no markup, mention or link) and caps its length. */
export const api = (s: string): Inline => ({ api: s });
/** Pieces shown in bold. */
export const bold = (...parts: Inline[]): Inline => ({ bold: parts });
/** A moment, shown in the message's time zone; `short` leaves out the year and offset, for lists under a header. */
export const at = (time: number, short = false): Inline => ({ time, short });
/** A span of time: one moment when both ends fall in the same minute. */
export const span = (from: number, to: number): Inline =>
  Math.floor(from / 60_000) === Math.floor(to / 60_000) ? { time: from } : { from, to };

/** Joins runs of pieces with a separator, skipping empty runs. */
export function join(runs: Inline[][], sep: Inline): Inline[] {
  const out: Inline[] = [];
  for (const r of runs.filter((x) => x.length > 0)) {
    if (out.length > 0) out.push(sep);
    out.push(...r);
  }
  return out;
}
