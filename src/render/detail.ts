/**
 * How much a message shows. Rendering tries the richest detail first and steps down until the payload fits the
 * platform's budget; nothing is ever cut after rendering, so every line shown is whole and every item not shown is
 * counted.
 */
export interface Detail {
  /** Failure groups shown in full (cause, examples, fix, commands), most severe first. */
  full: number;
  /** Groups after those shown as one line each (count, time span, newest image); the rest are counted. */
  lines: number;
  /** Example failures listed per full group. */
  examples: number;
  /** Whether a full group explains its cause in a sentence. */
  explain: boolean;
  /** Remediation steps shown per full group. */
  fix: number;
  /** Whether full groups carry their re-run and silence commands. */
  commands: boolean;
  /** Lines per stuck, finished or recovered section, and notices shown. */
  items: number;
  /** Entries per digest list (causes, repositories, images still failing). */
  digest: number;
}

/** The levels of detail tried in order, each leaner than the last; `full` and `lines` are searched within each. */
export const RUNGS: Omit<Detail, 'full' | 'lines'>[] = [
  { examples: 5, explain: true, fix: 9, commands: true, items: 10, digest: 10 },
  { examples: 3, explain: true, fix: 9, commands: true, items: 5, digest: 5 },
  { examples: 3, explain: true, fix: 1, commands: true, items: 5, digest: 5 },
  { examples: 2, explain: false, fix: 0, commands: true, items: 3, digest: 3 },
  { examples: 1, explain: false, fix: 0, commands: false, items: 2, digest: 3 },
];

/** Groups shown in full at most: each takes two of Slack's 50 blocks, and a reader stops well before. */
export const FULL_MAX = 20;
/** Groups shown as one line each at most: beyond this a list stops being read. */
export const LINES_MAX = 30;

/** What is left when nothing else fits: the banner, the counts, the first notice without its error. */
export const MINIMAL: Detail = {
  full: 0,
  lines: 0,
  examples: 0,
  explain: false,
  fix: 0,
  commands: false,
  items: 0,
  digest: 0,
};
