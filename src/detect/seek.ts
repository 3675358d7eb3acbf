import type { SyncTask } from '../model/task.js';
import type { StopReason } from './list.js';
import type { PageReader } from './pages.js';

/** What a page read says of the page sought: that one lies further on ('short'), is this one, or lies before it. */
export type Verdict = 'short' | 'here' | 'past';

/** A page read while seeking: its number, its tasks, and the reader's page count once it was read. */
export interface Probe {
  p: number;
  items: SyncTask[];
  at: number;
}

/**
 * Where seeking ended: the highest page known to fall short and the lowest known to be past (either absent when
 * none is known), or the page judged to be the one sought; and why it stopped before knowing, when it did.
 */
export interface Sought {
  short?: Probe;
  past?: Probe;
  here?: Probe;
  stop?: StopReason;
}

/**
 * Finds by reading pages where the list turns from pages that fall short of what is sought to pages past it
 * (`judge`; an empty page, beyond the end of the list, is always past, and of pages that repeat one another's tasks,
 * as a service serving its last page again past the end gives, all but the lowest). Reads `guess` first when it
 * lies between the pages already known (`short`, `past`), then gallops: from the highest page known short upwards,
 * or with none known, down from the lowest known past, in steps of 1, 2, 4 ... pages, never past a known page; once
 * a page on each side is known, it halves the stretch between. A guess k pages off costs about 2·log2(k) + 2 reads,
 * and nothing is taken from TotalCount but the guess. Stops early at a page judged 'here', and when the reader may
 * read no more (saying why). Returns the pages that bound the turn, each with its tasks.
 */
export async function seek(
  reader: PageReader,
  judge: (items: readonly SyncTask[]) => Verdict,
  o: { guess?: number; short?: Probe; past?: Probe },
): Promise<Sought> {
  const known: Known = new Map();
  if (o.short) known.set(o.short.p, { probe: o.short, past: false });
  if (o.past) known.set(o.past.p, { probe: o.past, past: true });
  const walk = firstWalk(bracket(known), o.guess);
  for (;;) {
    const b = bracket(known);
    const ends = endsOf(b);
    if (b.hi - b.lo <= 1) return settle(ends, known, judge);
    const p = walk.mode === 'guess' ? o.guess! : nextPage(walk, b);
    const items = await reader.read(p);
    if (typeof items === 'string') return { ...ends, stop: items };
    const probe: Probe = { p, items, at: reader.pages };
    const repeated = repeats(known, probe);
    const verdict = items.length === 0 || repeated ? 'past' : judge(items);
    if (verdict === 'here') return { here: probe };
    known.set(p, { probe, past: verdict === 'past', ...(repeated ? { repeated } : {}) });
    turn(walk, verdict, b.short !== undefined);
  }
}

/** The pages read, each with whether it is past the turn, and whether another page repeated its tasks. */
type Known = Map<number, { probe: Probe; past: boolean; repeated?: boolean }>;

/**
 * The turn found, once the lowest page past it is the lowest of pages repeating one another: that page is the last
 * of a list that serves its last page again past the end, and is judged for what it holds; the page after it is past.
 */
function settle(ends: Sought, known: Known, judge: (items: readonly SyncTask[]) => Verdict): Sought {
  const past = ends.past;
  if (!past || !known.get(past.p)?.repeated) return ends;
  const verdict = judge(past.items);
  if (verdict === 'here') return { here: past };
  if (verdict === 'short') return { short: past, past: { p: past.p + 1, items: [], at: past.at } };
  return ends;
}

/** How the search goes on: reading the guess, galloping up or down by `step` pages, or halving. */
interface Walk {
  mode: 'guess' | 'up' | 'down' | 'halve';
  step: number;
}

/** Where a search starts: at the guess when it lies between the pages known, else galloping from the side known. */
function firstWalk(b: Bracket, guess: number | undefined): Walk {
  if (guess !== undefined && guess > b.lo && guess < b.hi) return { mode: 'guess', step: 1 };
  return { mode: b.short || !b.past ? 'up' : 'down', step: 1 };
}

/** The page to read next, strictly between the highest page short and the lowest past. */
function nextPage(walk: Walk, b: { lo: number; hi: number }): number {
  if (walk.mode === 'up') return Math.min(b.hi - 1, b.lo + walk.step);
  if (walk.mode === 'down') return Math.max(b.lo + 1, b.hi - walk.step);
  return Math.floor((b.lo + b.hi) / 2);
}

/** After a page: gallop on with a doubled step, or halve once the gallop has crossed the turn. */
function turn(walk: Walk, verdict: 'short' | 'past', shortKnown: boolean): void {
  if (walk.mode === 'guess') {
    // A guess past the turn with a page short of it known: gallop up from that page, the hint nearer the truth.
    walk.mode = verdict === 'short' || shortKnown ? 'up' : 'down';
    walk.step = 1;
  } else if (walk.mode !== 'halve' && (walk.mode === 'up') === (verdict === 'past')) walk.mode = 'halve';
  else walk.step *= 2;
}

/** The lowest page known past, and the highest known short below it (pages judged against the turn are set aside). */
function bracket(known: Known): Bracket {
  const pages = [...known.values()];
  const past = pages
    .filter((k) => k.past)
    .reduce<Probe | undefined>((m, k) => (m && m.p < k.probe.p ? m : k.probe), undefined);
  const hi = past?.p ?? Infinity;
  const short = pages
    .filter((k) => !k.past && k.probe.p < hi)
    .reduce<Probe | undefined>((m, k) => (m && m.p > k.probe.p ? m : k.probe), undefined);
  return { short, past, lo: short?.p ?? 0, hi };
}

/** The pages that bound the turn as far as is known, and their numbers (0 and Infinity when none is known). */
interface Bracket {
  short: Probe | undefined;
  past: Probe | undefined;
  lo: number;
  hi: number;
}

/** A bracket's pages, as a search returns them. */
const endsOf = (b: Bracket): Sought => ({
  ...(b.short ? { short: b.short } : {}),
  ...(b.past ? { past: b.past } : {}),
});

/**
 * Whether a page holds the same tasks as another page read. Both then lie at or past the last page of a list that
 * serves its last page again past the end: both count as past (and repeated), and the search goes on below them to
 * the lowest page holding those tasks, the last page (`settle`).
 */
function repeats(known: Known, probe: Probe): boolean {
  let self = false;
  for (const k of known.values()) {
    if (k.probe.p === probe.p || !sameIds(k.probe.items, probe.items)) continue;
    k.past = true;
    k.repeated = true;
    self = true;
  }
  return self;
}

/** Whether two pages hold the same tasks in the same order (two empty pages do not count). */
export const sameIds = (a: readonly SyncTask[], b: readonly SyncTask[] | undefined): boolean =>
  b !== undefined && a.length > 0 && a.length === b.length && a.every((t, i) => t.taskId === b[i]!.taskId);
