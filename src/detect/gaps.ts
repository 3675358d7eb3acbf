import type { Cursor, Gap, Order } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import { lastPageOf, maxTime, minTime, type ScanBatch, type StopReason } from './list.js';
import type { PageReader, ReadOnce } from './pages.js';
import { seek, type Probe, type Verdict } from './seek.js';
import type { TopOutcome } from './top.js';

/** How the stretches left unread are found in the list. */
export interface GapContext {
  /** The order the top pass read the list in. */
  direction: Order;
  /** The newest trusted time read so far: with the rate, where a stretch with no position lies. */
  top?: number;
  /** Tasks created per hour, as the last run measured it. */
  rate?: number;
}

/** What reading one stretch left: the part still unread, and why reading stopped inside it. */
export interface GapOutcome {
  left?: Gap;
  stop?: StopReason;
}

/**
 * The stretches unread once the top pass is done. `left`: the one the top pass left above its bound, when it did not
 * finish (not in a list in no order, which cannot be resumed: its next read starts from the top again). `waiting`:
 * those below it still to read, the earlier runs' gaps and on a first run the stretch below the look-back where only
 * unfinished syncs are wanted; none when the top pass reached the end of the list, having read all of it. Pure.
 */
export function unreadAfterTop(
  top: TopOutcome,
  o: { prev?: Cursor; bound: number; discoveryMs: number; total?: number; size: number },
): { left: Gap[]; waiting: Gap[] } {
  const total = o.total !== undefined ? { total: o.total } : {};
  const left: Gap[] =
    !top.complete && top.lowest !== Number.POSITIVE_INFINITY && top.direction !== 'unknown'
      ? [{ hi: top.lowest, lo: o.bound, depth: top.nextDepth, ...total }]
      : [];
  if (top.stop === 'end-of-list') return { left, waiting: [] };
  const waiting = [...(o.prev?.gaps ?? [])];
  if (!o.prev)
    waiting.push({
      hi: o.bound,
      lo: o.bound - o.discoveryMs,
      watchOnly: true,
      ...(top.complete ? { depth: Math.max(0, top.nextDepth - o.size) } : {}),
      ...total,
    });
  return { left, waiting };
}

/**
 * Reads the stretches left unread, newest first, each from where it was left, until the run's pages or time run out
 * (`stop` says whether they already have). In a list in no order none is read. Returns what is still unread, in the
 * order read, and why reading last stopped.
 */
export async function* readGaps(
  reader: PageReader,
  seen: ReadOnce,
  waiting: readonly Gap[],
  o: GapContext & { stop: StopReason },
): AsyncGenerator<ScanBatch, { gaps: Gap[]; stop: StopReason }> {
  const gaps: Gap[] = [];
  let stop = o.stop;
  for (const gap of [...waiting].sort((a, b) => b.hi - a.hi)) {
    if (o.direction === 'unknown' || stop === 'budget' || stop === 'max-pages') {
      gaps.push(gap);
      continue;
    }
    const r = yield* readGap(reader, seen, gap, o);
    if (r.left) gaps.push(r.left);
    if (r.stop) stop = r.stop;
  }
  return { gaps, stop };
}

/**
 * Reads one stretch from where it was left: from the page where it begins, found by reading (`placeGap`), then on
 * page by page until a page reaches below its bottom or the list ends. Yields the tasks not read before in this run,
 * to be judged in full; returns the part still unread when the pages or time run out (as it was, when they ran out
 * before its first page was found).
 */
export async function* readGap(
  reader: PageReader,
  seen: ReadOnce,
  gap: Gap,
  ctx: GapContext,
): AsyncGenerator<ScanBatch, GapOutcome> {
  const asc = ctx.direction === 'asc';
  const start = await placeGap(reader, gap, ctx);
  if (start === 'none') return {};
  if ('stop' in start) return { stop: start.stop, left: narrowed(gap, start.next, { ...ctx, reader }) };
  let { p, items } = start;
  let hi = gap.hi;
  for (;;) {
    if (items.length === 0) return {};
    const out = seen.take(items, false);
    if (out.length > 0) yield { tasks: out, lo: gap.lo, watchOnly: gap.watchOnly ?? false };
    hi = Math.min(hi, minTime(items));
    const ended = asc ? p <= 1 : !reader.full(items);
    if (minTime(items) < gap.lo || ended) return {};
    p += asc ? -1 : 1;
    const next = await reader.read(p);
    if (typeof next === 'string') {
      const t = reader.count ?? 0;
      const depth = asc ? t - p * reader.size : (p - 1) * reader.size;
      return { stop: next, left: { ...gap, hi, depth, total: t } };
    }
    items = next;
  }
}

/**
 * The page a stretch begins on, found by reading: the page that holds its top, or the first page past those wholly
 * newer than it. The first page read is where its position (or the rate) points (`startPage`); from there a galloping
 * search (`seek`) corrects a guess any number of pages off, an empty page past the end of the list included, in about
 * 2·log2 of the error reads. 'none' when the list holds nothing of the stretch (it ends above it, or begins below
 * it); why not, when the reader may read no more. The page's tasks are read again unless it was the last page read:
 * a page read before others may have shifted since.
 */
async function placeGap(
  reader: PageReader,
  gap: Gap,
  ctx: GapContext,
): Promise<Probe | 'none' | { stop: StopReason; next?: number }> {
  const asc = ctx.direction === 'asc';
  const judge = (items: readonly SyncTask[]): Verdict => {
    if (minTime(items) <= gap.hi && maxTime(items) >= gap.hi) return 'here';
    // Newer than the stretch: its top lies on a deeper page (newest first), or an earlier one (oldest first).
    const newer = minTime(items) > gap.hi;
    return newer === asc ? 'past' : 'short';
  };
  const guess = startPage(gap, { ...ctx, total: reader.count ?? 0, size: reader.size });
  // A page read empty in this run (the list ends before it) bounds the search without another read.
  const end = reader.emptyPage;
  const found = await seek(reader, judge, { guess, ...(end ? { past: { ...end, items: [] } } : {}) });
  if (found.stop) return { stop: found.stop, ...nextGuess(found.short?.p ?? 0, found.past?.p ?? Infinity) };
  const start = found.here ?? (asc ? found.short : found.past);
  if (!start || start.items.length === 0) return 'none';
  if (start.at === reader.pages) return start;
  const again = await reader.read(start.p);
  return typeof again === 'string' ? { stop: again } : { p: start.p, items: again, at: reader.pages };
}

/**
 * Where the next run looks first when this run's search stopped between the highest page known to fall short (`lo`,
 * 0 when none) and the lowest known past (`hi`): halfway between, or twice as far on while no page past is known.
 * Nothing when no page was read. Each run then halves what is left, so a stretch whose position is far off (a
 * position guessed while the service repeated its pages, say) is found within a few runs even when a run has too few
 * pages to finish the search.
 */
function nextGuess(lo: number, hi: number): { next?: number } {
  if (lo === 0 && hi === Infinity) return {};
  return { next: hi === Infinity ? lo * 2 : Math.max(1, Math.floor((lo + hi) / 2)) };
}

/**
 * The stretch as a search cut short leaves it: positioned so that the next run's first guess (`startPage`) is page
 * `next`, with the list's size as this run's pages showed it; as it was when the search learned nothing.
 */
function narrowed(gap: Gap, next: number | undefined, o: GapContext & { reader: PageReader }): Gap {
  if (next === undefined) return gap;
  const size = o.reader.size;
  const total = o.reader.count ?? 0;
  // The inverse of startPage for each order (its one-page allowance included).
  const depth = o.direction === 'asc' ? Math.max(0, total - (next - 1) * size) : next * size;
  return { ...gap, depth, total };
}

/**
 * The page a stretch is first looked for on: its depth when it was left plus the tasks added since (or, with no
 * position, the tasks the rate puts between it and the newest time read), one page shallower so that the page read
 * holds its top. Oldest first, counted back from the end of the list as the pages showed it. Only a first guess: where
 * the stretch begins is confirmed by reading, so a size the service misstates costs reads, not tasks. Pure.
 */
export function startPage(gap: Gap, o: GapContext & { total: number; size: number }): number {
  const grown = gap.total !== undefined ? Math.max(0, o.total - gap.total) : 0;
  const depth =
    gap.depth !== undefined
      ? gap.depth + grown
      : Math.round(((o.rate ?? 0) * Math.max(0, (o.top ?? gap.hi) - gap.hi)) / 3_600_000);
  const d = Math.max(0, depth - o.size);
  const page = o.direction === 'asc' ? lastPageOf(o.total - d, o.size) : Math.floor(d / o.size) + 1;
  return Math.max(1, page);
}
