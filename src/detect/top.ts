import type { Cursor, Gap, Order } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import {
  CLOCK_SKEW_MS,
  lastPageOf,
  maxTime,
  minTime,
  OVERLAP_MS,
  OVERLAP_PAGES_BEHIND,
  type ScanBatch,
  type StopReason,
} from './list.js';
import type { PageReader, ReadOnce } from './pages.js';
import { newestPage } from './newest.js';
import { sameIds } from './seek.js';

/** What the top pass knows before it reads. */
export interface TopPlan {
  /** The last run's cursor; absent on the first run. */
  prev?: Cursor;
  /** Tasks created before this were read by an earlier run, or lie before the window. */
  bound: number;
  /** Where the pass stops: the bound, or lower when watched syncs are re-read by reading back. */
  stopAt: number;
  /** Stretches below the bound that later passes read; a page of the top pass may reach into them. */
  below: readonly Gap[];
}

/** What the top pass read. */
export interface TopOutcome {
  stop: StopReason;
  /** Nothing above its bound is left unread. */
  complete: boolean;
  /** The order it read the list in. */
  direction: Order;
  /** The oldest CreateTime it read (+Infinity when it read no task). */
  lowest: number;
  /** Tasks above the next page it would have read: where a stretch it leaves unread starts. */
  nextDepth: number;
  /** Pages read by the end of the pass. */
  pages: number;
}

/** The top pass as it goes, handed to each of its steps. */
interface TopPass {
  readonly plan: TopPlan;
  readonly direction: Order;
  /** Older stretches wait unread: the overlap is read again only OVERLAP_PAGES_BEHIND pages deep. */
  readonly behind: boolean;
  lowest: number;
  /** Pages read holding nothing newer than the last run read. */
  overlapPages: number;
  /** The page before, to tell one served twice. */
  last?: readonly SyncTask[];
}

/** Where a walk over the list ended, and how many tasks stood above the page after its last. */
interface Walked {
  stop: StopReason;
  nextDepth: number;
}

/**
 * Where the top pass stops reading: a little below the newest time the last run read (OVERLAP_MS under it, or less
 * once the last full read of the overlap is older than a task could show up late), or the look-back on a first run;
 * lower (`stopAt`) when the run re-reads watched syncs by reading back to `sweepTo`. Pure.
 */
export function topBounds(
  prev: Cursor | undefined,
  o: { now: number; lookbackMs: number; sweepTo?: number },
): { bound: number; stopAt: number } {
  const settledBy = prev?.readAt !== undefined ? prev.readAt - OVERLAP_MS - CLOCK_SKEW_MS : Number.NEGATIVE_INFINITY;
  const bound =
    prev?.top !== undefined ? Math.max(prev.top - OVERLAP_MS, Math.min(prev.top, settledBy)) : o.now - o.lookbackMs;
  return { bound, stopAt: Math.min(bound, o.sweepTo ?? bound) };
}

/**
 * Reads the top of an instance's task list, from the newest page down to the plan's `stopAt`: newest-first lists
 * forward from page 1, oldest-first lists back from the last page, any other order every page. Yields each page's
 * tasks not read before in this run, each with the stretch it lies in. Done when a page reaches below `stopAt` (in a
 * list whose order holds) or the list ends (a short or empty page): never because TotalCount says so. A page that
 * repeats the one before ends it incomplete. Returns what it read, or why not even its first page could be read.
 */
export async function* readTop(
  reader: PageReader,
  seen: ReadOnce,
  plan: TopPlan,
): AsyncGenerator<ScanBatch, TopOutcome | StopReason> {
  const start = await firstPage(reader, plan.prev);
  if (typeof start === 'string') return start;
  const direction: Order = reader.order === 'flat' ? (plan.prev?.order ?? 'desc') : reader.order;
  const pass: TopPass = {
    plan,
    direction,
    // Not when the pass is to read further down to re-check watched syncs: they must be reached.
    behind: (plan.prev?.gaps.length ?? 0) > 0 && plan.stopAt === plan.bound,
    lowest: Number.POSITIVE_INFINITY,
    overlapPages: 0,
  };
  const { stop, nextDepth } =
    direction === 'asc'
      ? yield* readOldestFirst(pass, reader, seen, start)
      : yield* readNewestFirst(pass, reader, seen, start);
  const complete =
    stop === 'end-of-list' || stop === 'overlap-capped' || (stop === 'reached-window' && pass.lowest < plan.bound);
  return { stop, complete, direction, lowest: pass.lowest, nextDepth, pages: reader.pages };
}

/**
 * The first page of the top: page 1, or the last page of a list the last run read oldest first (then page 1 after
 * all, when that page shows the list is no longer oldest first).
 */
async function firstPage(
  reader: PageReader,
  prev: Cursor | undefined,
): Promise<{ k: number; items: SyncTask[] } | StopReason> {
  const hinted = prev?.order === 'asc' && prev.total !== undefined;
  const k = hinted ? lastPageOf(prev.total!, reader.size) : 1;
  const first = await reader.read(k);
  if (typeof first === 'string') return first;
  if (!hinted || reader.order === 'asc' || reader.order === 'flat') return { k, items: first };
  const again = await reader.read(1);
  return typeof again === 'string' ? again : { k: 1, items: again };
}

async function* readNewestFirst(
  pass: TopPass,
  reader: PageReader,
  seen: ReadOnce,
  start: { k: number; items: SyncTask[] },
): AsyncGenerator<ScanBatch, Walked> {
  let k = start.k;
  let items: SyncTask[] | StopReason = start.items;
  let nextDepth = 0;
  for (;;) {
    if (typeof items === 'string') return { stop: items, nextDepth };
    const done = yield* takeTop(pass, reader, seen, items);
    nextDepth = k * reader.size;
    if (done) return { stop: done, nextDepth };
    items = await reader.read(++k);
  }
}

async function* readOldestFirst(
  pass: TopPass,
  reader: PageReader,
  seen: ReadOnce,
  start: { k: number; items: SyncTask[] },
): AsyncGenerator<ScanBatch, Walked> {
  const newest = await newestPage(reader, start);
  let n = newest.n;
  let items: SyncTask[] | StopReason = newest.items;
  let nextDepth = 0;
  // Walk back towards older pages; the first page is the oldest there is.
  for (;;) {
    if (typeof items === 'string') return { stop: items, nextDepth };
    const done = yield* takeTop(pass, reader, seen, [...items].reverse());
    // Counted before the next page is asked for: if it cannot be read, a gap left here starts above it, not below.
    nextDepth = Math.max(0, (reader.count ?? 0) - (n - 1) * reader.size);
    // Where the newest page could not be confirmed, what it holds is read and the pass ends there, unfinished.
    const stop = done ?? (n === newest.n ? newest.stop : undefined);
    if (stop) return { stop, nextDepth };
    if (n <= 1) return { stop: 'end-of-list', nextDepth };
    n -= 1;
    items = n === newest.n - 1 && newest.below ? newest.below : await reader.read(n);
  }
}

/**
 * Yields a page of the top pass and says whether the pass is done with it: it reached below its bound (in a list
 * whose order holds), or the list ended (a short or empty page, when reading newest-first or in no order).
 */
function* takeTop(
  pass: TopPass,
  reader: PageReader,
  seen: ReadOnce,
  items: SyncTask[],
): Generator<ScanBatch, StopReason | undefined> {
  if (sameIds(items, pass.last)) {
    seen.anomalies.repeatedPages += 1;
    return 'repeated-page';
  }
  pass.last = items;
  yield* placed(pass.plan, seen.take(items, true));
  if (items.length > 0) pass.lowest = Math.min(pass.lowest, minTime(items));
  const ordered = pass.direction !== 'unknown' && reader.order !== 'unknown';
  if (ordered && items.length > 0 && minTime(items) < pass.plan.stopAt) return 'reached-window';
  if (pass.direction !== 'asc' && !reader.full(items)) return 'end-of-list';
  return overlapCapped(pass, items) ? 'overlap-capped' : undefined;
}

/** While behind, whether this page is the last of the overlap the pass reads again (it counts the pages). */
function overlapCapped(pass: TopPass, items: readonly SyncTask[]): boolean {
  const prevTop = pass.plan.prev?.top;
  if (!pass.behind || pass.direction === 'unknown' || prevTop === undefined) return false;
  if (items.length === 0 || maxTime(items) > prevTop) return false;
  pass.overlapPages += 1;
  return pass.overlapPages >= OVERLAP_PAGES_BEHIND;
}

/**
 * The top pass's tasks, each with the stretch it lies in: its own window, or a stretch below it that the page reaches
 * into (a task yielded once is not yielded again, so the pass over that stretch would not judge it).
 */
function* placed(plan: TopPlan, tasks: readonly SyncTask[]): Generator<ScanBatch> {
  const by = new Map<Gap | undefined, SyncTask[]>();
  for (const t of tasks) {
    const g =
      t.createTime < plan.bound ? plan.below.find((x) => x.lo <= t.createTime && t.createTime <= x.hi) : undefined;
    const group = by.get(g);
    if (group) group.push(t);
    else by.set(g, [t]);
  }
  for (const [g, ts] of by) yield { tasks: ts, lo: g ? g.lo : plan.bound, watchOnly: g?.watchOnly ?? false };
}
