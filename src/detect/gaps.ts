import type { Cursor, Gap, Order } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import { lastPageOf, MAX_STEPS_BACK, maxTime, minTime, type ScanBatch, type StopReason } from './list.js';
import type { PageReader, ReadOnce } from './pages.js';
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
 * Reads one stretch from where it was left: from the page its position (or the rate) points to, stepping back until a
 * page overlaps its top, then on page by page until a page reaches below its bottom or the list ends. Yields the tasks
 * not read before in this run, to be judged in full; returns the part still unread when the pages or time run out.
 */
export async function* readGap(
  reader: PageReader,
  seen: ReadOnce,
  gap: Gap,
  ctx: GapContext,
): AsyncGenerator<ScanBatch, GapOutcome> {
  const asc = ctx.direction === 'asc';
  const t = reader.total ?? 0;
  const walk: GapWalk = { p: startPage(gap, { ...ctx, total: t, size: reader.size }), stepsBack: 0, positioned: false };
  let hi = gap.hi;
  for (;;) {
    const items = await reader.read(walk.p);
    if (typeof items === 'string') {
      const depth = asc ? t - walk.p * reader.size : (walk.p - 1) * reader.size;
      return { stop: items, left: { ...gap, hi, depth, total: t } };
    }
    if (items.length === 0) return {};
    if (steppedBack(walk, items, gap, { asc, lastPage: lastPageOf(t, reader.size) })) continue;
    walk.positioned = true;
    const out = seen.take(items, false);
    if (out.length > 0) yield { tasks: out, lo: gap.lo, watchOnly: gap.watchOnly ?? false };
    hi = Math.min(hi, minTime(items));
    const ended = asc ? walk.p <= 1 : !reader.full(items);
    if (minTime(items) < gap.lo || ended) return {};
    walk.p += asc ? -1 : 1;
  }
}

/** Where reading a stretch is: the page to read next, and how it found where the stretch begins. */
interface GapWalk {
  p: number;
  stepsBack: number;
  /** A page read overlapped the stretch's top: from there on the pages follow one another. */
  positioned: boolean;
}

/**
 * Tasks between the first page read and the stretch's top could sit on the page before (towards the newer end): until
 * a page overlaps the top, step back one page, at most MAX_STEPS_BACK times and not past the newest page. Says whether
 * it stepped.
 */
function steppedBack(
  walk: GapWalk,
  items: readonly SyncTask[],
  gap: Gap,
  o: { asc: boolean; lastPage: number },
): boolean {
  if (walk.positioned || maxTime(items) >= gap.hi || walk.stepsBack >= MAX_STEPS_BACK) return false;
  if (o.asc ? walk.p >= o.lastPage : walk.p <= 1) return false;
  walk.p += o.asc ? 1 : -1;
  walk.stepsBack += 1;
  return true;
}

/**
 * The page a stretch is read from: its depth when it was left plus the tasks added since (or, with no position, the
 * tasks the rate puts between it and the newest time read), one page shallower so that the first page read overlaps
 * its top. Newest first, a depth past the end of the list (a rate measured in a burst) starts from the last page and
 * steps back from there: an empty page would end the stretch unread. Pure.
 */
export function startPage(gap: Gap, o: GapContext & { total: number; size: number }): number {
  const grown = gap.total !== undefined ? Math.max(0, o.total - gap.total) : 0;
  const depth =
    gap.depth !== undefined
      ? gap.depth + grown
      : Math.round(((o.rate ?? 0) * Math.max(0, (o.top ?? gap.hi) - gap.hi)) / 3_600_000);
  const d = Math.max(0, depth - o.size);
  const page =
    o.direction === 'asc'
      ? lastPageOf(o.total - d, o.size)
      : Math.min(Math.floor(d / o.size) + 1, lastPageOf(o.total, o.size));
  return Math.max(1, page);
}
