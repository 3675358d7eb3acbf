import type { Cursor, Gap, Order } from '../model/state.js';
import type { Page, SyncTask } from '../model/task.js';

/** Tasks can show up in the list after newer ones; each scan re-reads this far below the newest time read. */
export const OVERLAP_MS = 5 * 60_000;
/** A CreateTime further ahead of our clock than this is not trusted to move the watermark. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Unread stretches kept per instance; beyond this the oldest two are merged (their overlap is read again). */
export const MAX_GAPS = 4;
/**
 * While older stretches wait unread, the overlap below the newest time read is read again this many pages deep at
 * most. On a dense list (10 tasks a second fill 60 pages in 5 minutes) re-reading all of it would take a slow run's
 * whole budget, every run, and the backlog would never shrink; a task that shows up late sits near the top anyway.
 */
export const OVERLAP_PAGES_BEHIND = 2;

export type StopReason = 'reached-window' | 'end-of-list' | 'max-pages' | 'budget' | 'repeated-page' | 'overlap-capped';

export interface ScanInput {
  /** Absent on the first run. */
  cursor?: Cursor;
  now: number;
  lookbackMs: number;
  /** On the first run, how far below the look-back unfinished syncs are looked for (to watch; never announced). */
  discoveryMs: number;
  pageSize: number;
  /** Pages per instance per run. */
  maxPages: number;
  /** The top pass reads on down to this time (below its window) when watched syncs are re-read by reading back. */
  sweepTo?: number;
  fetchPage(pageNo: number): Promise<Page<SyncTask>>;
  /** False once fetching must stop to leave time for delivery. */
  hasTime(): boolean;
}

/** Tasks as read, a page at a time, each task once per run. */
export interface ScanBatch {
  tasks: SyncTask[];
  /** The bottom of the stretch this pass reads: a task created earlier is outside it (already read, or before the window). */
  lo: number;
  /** Only unfinished syncs are wanted from this pass. */
  watchOnly: boolean;
}

export interface ScanResult {
  /** The cursor's reading parts for the next run. */
  cursor: Pick<Cursor, 'top' | 'gaps' | 'order' | 'pageSize' | 'rate' | 'total' | 'readAt'>;
  pagesRead: number;
  tasksRead: number;
  /** True when nothing within the window is left unread (stretches only watched syncs are wanted from do not count). */
  complete: boolean;
  stoppedBecause: StopReason;
  dropped: string[];
  /** CreateTimes not trusted (ahead of the clock, or given in seconds), and pages that repeated the one before. */
  anomalies: { futureTimes: number; secondsTimes: number; repeatedPages: number };
  /** How far down the top pass read: watched syncs created since were re-read with it. */
  coveredTo?: number;
}

type Observed = Order | 'flat';

/** The order of one page by CreateTime; 'flat' when it has fewer than two distinct times. */
export function pageOrder(items: readonly SyncTask[]): Observed {
  let up = false;
  let down = false;
  for (let i = 1; i < items.length; i++) {
    const d = items[i]!.createTime - items[i - 1]!.createTime;
    if (d > 0) up = true;
    if (d < 0) down = true;
  }
  if (up && down) return 'unknown';
  if (down) return 'desc';
  if (up) return 'asc';
  return 'flat';
}

const lastPageOf = (total: number, size: number) => Math.max(1, Math.ceil(total / Math.max(1, size)));
const minTime = (items: readonly SyncTask[]) =>
  items.reduce((m, t) => Math.min(m, t.createTime), Number.POSITIVE_INFINITY);
const maxTime = (items: readonly SyncTask[]) =>
  items.reduce((m, t) => Math.max(m, t.createTime), Number.NEGATIVE_INFINITY);
const sameIds = (a: readonly SyncTask[], b: readonly SyncTask[] | undefined) =>
  b !== undefined && a.length > 0 && a.length === b.length && a.every((t, i) => t.taskId === b[i]!.taskId);

/**
 * Reads an instance's sync tasks, yielding them a page at a time. First the top: from the newest page down to a
 * little below the newest time the last run read (newest-first lists forward from page 1, oldest-first lists back from
 * the last page, any other order every page). Then the stretches earlier runs left unread, newest first, each found
 * from the position it was left at and confirmed by the pages' contents. A pass is complete only when a page reaches
 * below its bound or the list ends (a short or empty page): never because TotalCount or a page count says so. A page
 * that repeats the previous one ends the pass incomplete. Whatever the time or page budget leaves unread is kept as a
 * gap for the next run, so a backlog is worked down rather than read again from the top.
 */
export async function* scanTasks(input: ScanInput): AsyncGenerator<ScanBatch, ScanResult> {
  const prev = input.cursor;
  const seen = new Set<string>();
  const dropped: string[] = [];
  const anomalies = { futureTimes: 0, secondsTimes: 0, repeatedPages: 0 };
  let size = prev?.pageSize ?? input.pageSize;
  let total: number | undefined;
  let pages = 0;
  let tasksRead = 0;
  let observed: Observed = 'flat';
  let stop: StopReason | undefined;
  let top = prev?.top;
  // The top pass's trusted times, as count and range: keeping the tasks themselves would hold a whole burst in memory.
  const trusted = { count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  /** The oldest CreateTime the top pass read. */
  let lowest = Number.POSITIVE_INFINITY;
  // Below the newest time read, down to where a task could still show up late: OVERLAP_MS under it, or less once the
  // last full read of the overlap is older than a late task could be.
  const settledBy = prev?.readAt !== undefined ? prev.readAt - OVERLAP_MS - CLOCK_SKEW_MS : Number.NEGATIVE_INFINITY;
  const bound =
    prev?.top !== undefined
      ? Math.max(prev.top - OVERLAP_MS, Math.min(prev.top, settledBy))
      : input.now - input.lookbackMs;
  const stopAt = Math.min(bound, input.sweepTo ?? bound);

  /** How many items each page held as the service sent it (parsing may have dropped a malformed one). */
  const sent = new WeakMap<SyncTask[], number>();
  const full = (items: SyncTask[]) => (sent.get(items) ?? items.length) >= size;
  /** Page `n`, or why no more may be read in this run. */
  const fetch = async (n: number): Promise<SyncTask[] | StopReason> => {
    if (pages >= input.maxPages) return 'max-pages';
    if (!input.hasTime()) return 'budget';
    const page = await input.fetchPage(n);
    pages += 1;
    total = page.totalCount;
    // A service that caps PageSize below what was asked reports the size it used; page arithmetic must follow it.
    if (page.pageSize > 0 && page.pageSize < size) size = page.pageSize;
    dropped.push(...page.dropped);
    const o = pageOrder(page.items);
    if (o === 'unknown' || (o !== 'flat' && observed !== 'flat' && o !== observed)) observed = 'unknown';
    else if (o !== 'flat' && observed === 'flat') observed = o;
    sent.set(page.items, page.received ?? page.items.length);
    return page.items;
  };
  /** The tasks of a page not yielded before in this run, noting which times cannot be trusted. */
  const fresh = (items: SyncTask[], topPass: boolean): SyncTask[] => {
    const out = items.filter((t) => !seen.has(t.taskId));
    for (const t of out) {
      seen.add(t.taskId);
      tasksRead += 1;
      if (t.timeInSeconds) anomalies.secondsTimes += 1;
      else if (t.createTime > input.now + CLOCK_SKEW_MS) anomalies.futureTimes += 1;
      else if (topPass) {
        trusted.count += 1;
        trusted.min = Math.min(trusted.min, t.createTime);
        trusted.max = Math.max(trusted.max, t.createTime);
      }
    }
    return out;
  };
  const order = (): Observed => observed;

  // --- The top pass --------------------------------------------------------------------------------------------
  const hinted = prev?.order === 'asc' && prev.total !== undefined;
  let k = hinted ? lastPageOf(prev.total!, size) : 1;
  let first = await fetch(k);
  if (typeof first === 'string') return result(first, prev?.gaps ?? [], false);
  if (hinted && order() !== 'asc' && order() !== 'flat') {
    // The list is no longer oldest-first: start again from the top.
    k = 1;
    const again = await fetch(1);
    if (typeof again === 'string') return result(again, prev?.gaps ?? [], false);
    first = again;
  }
  const direction: Order = order() === 'flat' ? (prev?.order ?? 'desc') : (order() as Order);
  let topDone: StopReason | undefined;
  // Not when the top pass is to read further down to re-check watched syncs: they must be reached.
  const behind = (prev?.gaps.length ?? 0) > 0 && stopAt === bound;
  /** Pages of the top pass holding nothing newer than the last run read. */
  let overlapPages = 0;
  /** Tasks above the next page the top pass would read: where a gap it leaves starts. */
  let nextDepth = 0;
  let last: SyncTask[] | undefined;
  // Stretches below the top pass that later passes read: earlier runs' gaps, and on a first run the stretch below
  // the look-back where only unfinished syncs are wanted.
  const below: Gap[] = prev ? prev.gaps : [{ hi: bound, lo: bound - input.discoveryMs, watchOnly: true }];
  /**
   * The top pass's tasks, each judged against the stretch it lies in: its own window, or a gap below it that the page
   * reaches into (a task yielded once is not yielded again, so the pass over that gap would not judge it).
   */
  const judgedWhereTheyBelong = function* (tasks: SyncTask[]): Generator<ScanBatch> {
    const by = new Map<Gap | undefined, SyncTask[]>();
    for (const t of tasks) {
      const g = t.createTime < bound ? below.find((x) => x.lo <= t.createTime && t.createTime <= x.hi) : undefined;
      const group = by.get(g);
      if (group) group.push(t);
      else by.set(g, [t]);
    }
    for (const [g, ts] of by) yield { tasks: ts, lo: g ? g.lo : bound, watchOnly: g?.watchOnly ?? false };
  };
  /**
   * Yields a page of the top pass and says whether the pass is done with it: it reached below its bound (in a list
   * whose order holds), or the list ended (a short or empty page, when reading newest-first or in no order).
   */
  const takeTop = function* (items: SyncTask[]): Generator<ScanBatch, StopReason | undefined> {
    if (sameIds(items, last)) {
      anomalies.repeatedPages += 1;
      return 'repeated-page';
    }
    last = items;
    yield* judgedWhereTheyBelong(fresh(items, true));
    if (items.length > 0) lowest = Math.min(lowest, minTime(items));
    if (direction !== 'unknown' && order() !== 'unknown' && items.length > 0 && minTime(items) < stopAt)
      return 'reached-window';
    if (direction !== 'asc' && !full(items)) return 'end-of-list';
    if (
      behind &&
      direction !== 'unknown' &&
      prev?.top !== undefined &&
      items.length > 0 &&
      maxTime(items) <= prev.top &&
      ++overlapPages >= OVERLAP_PAGES_BEHIND
    )
      return 'overlap-capped';
    return undefined;
  };

  if (direction === 'asc') {
    // Oldest first: the newest tasks are on the last page, which TotalCount only suggests. Go on while pages are full.
    let n = Math.max(k, lastPageOf(total ?? 0, size));
    let items: SyncTask[] | StopReason = n === k ? first : await fetch(n);
    while (typeof items !== 'string' && full(items)) {
      const more = await fetch(n + 1);
      if (typeof more === 'string' || more.length === 0) break;
      n += 1;
      items = more;
    }
    if (typeof items !== 'string' && items.length === 0 && n > 1) {
      // TotalCount said more than there is: the last page with anything is further back.
      while (n > 1 && typeof items !== 'string' && items.length === 0) items = await fetch(--n);
    }
    // Walk back towards older pages; the first page is the oldest there is.
    for (;;) {
      if (typeof items === 'string') {
        topDone = items;
        break;
      }
      const done = yield* takeTop([...items].reverse());
      // Counted before the next page is asked for: if it cannot be read, a gap left here starts above it, not below.
      nextDepth = Math.max(0, (total ?? 0) - (n - 1) * size);
      if (done) {
        topDone = done;
        break;
      }
      if (n <= 1) {
        topDone = 'end-of-list';
        break;
      }
      items = await fetch(--n);
    }
  } else {
    let items: SyncTask[] | StopReason = first;
    for (;;) {
      if (typeof items === 'string') {
        topDone = items;
        break;
      }
      const done = yield* takeTop(items);
      nextDepth = k * size;
      if (done) {
        topDone = done;
        break;
      }
      items = await fetch(++k);
    }
  }
  const topComplete =
    topDone === 'end-of-list' || topDone === 'overlap-capped' || (topDone === 'reached-window' && lowest < bound);
  const topPages = pages;
  if (trusted.count > 0) top = Math.max(top ?? trusted.max, trusted.max);

  // --- Gaps left unread ------------------------------------------------------------------------------------------
  const gaps: Gap[] = [];
  // A list in no order cannot be resumed: its next read starts from the top again.
  if (!topComplete && lowest !== Number.POSITIVE_INFINITY && direction !== 'unknown') {
    gaps.push({ hi: lowest, lo: bound, depth: nextDepth, ...(total !== undefined ? { total } : {}) });
  }
  // A top pass that reached the end of the list has read all of it: nothing below is left to read.
  const waiting: Gap[] = topDone === 'end-of-list' ? [] : [...(prev?.gaps ?? [])];
  if (!prev && topDone !== 'end-of-list')
    waiting.push({
      hi: bound,
      lo: bound - input.discoveryMs,
      watchOnly: true,
      ...(topComplete ? { depth: Math.max(0, nextDepth - size) } : {}),
      ...(total !== undefined ? { total } : {}),
    });
  stop = topDone;
  for (const gap of waiting.sort((a, b) => b.hi - a.hi)) {
    if (direction === 'unknown' || stop === 'budget' || stop === 'max-pages') {
      gaps.push(gap);
      continue;
    }
    const left = yield* readGap(gap);
    if (left) gaps.push(left);
  }
  // A one-page read is not worth a write; a capped one did not read the overlap whole.
  return result(
    stop ?? 'reached-window',
    mergeGaps(gaps),
    topComplete,
    topComplete && topDone !== 'overlap-capped' && topPages > 1,
  );

  /** Reads one gap from where it was left; returns what is still unread of it. */
  async function* readGap(gap: Gap): AsyncGenerator<ScanBatch, Gap | undefined> {
    const t = total ?? 0;
    const grown = gap.total !== undefined ? Math.max(0, t - gap.total) : 0;
    const depth =
      gap.depth !== undefined
        ? gap.depth + grown
        : Math.round(((prev?.rate ?? 0) * Math.max(0, (top ?? gap.hi) - gap.hi)) / 3_600_000);
    // Positions counted from the newest task; one page shallower than the guess, so the first page read overlaps.
    const deeper = direction === 'asc' ? -1 : 1;
    // Newest first, a guess past the end of the list (a depth estimated from a rate measured in a burst) starts from
    // the last page and steps back from there: an empty page there would end the stretch unread.
    const pageAt = (d: number) =>
      direction === 'asc' ? lastPageOf(t - d, size) : Math.min(Math.floor(d / size) + 1, lastPageOf(t, size));
    let p = Math.max(1, pageAt(Math.max(0, depth - size)));
    let stepsBack = 0;
    let positioned = false;
    let hi = gap.hi;
    for (;;) {
      const items = await fetch(p);
      if (typeof items === 'string') {
        stop = items;
        return { ...gap, hi, depth: direction === 'asc' ? t - p * size : (p - 1) * size, total: t };
      }
      if (items.length === 0) return undefined;
      // Tasks between the first page read and the gap's top could sit on the page before: step back until the page
      // overlaps the top; from there on the pages follow one another.
      if (
        !positioned &&
        maxTime(items) < gap.hi &&
        stepsBack < 50 &&
        (direction === 'asc' ? p < lastPageOf(t, size) : p > 1)
      ) {
        p -= deeper;
        stepsBack += 1;
        continue;
      }
      positioned = true;
      const out = fresh(items, false);
      if (out.length > 0) yield { tasks: out, lo: gap.lo, watchOnly: gap.watchOnly ?? false };
      hi = Math.min(hi, minTime(items));
      const ended = direction === 'asc' ? p <= 1 : !full(items);
      if (minTime(items) < gap.lo || ended) return undefined;
      p += deeper;
    }
  }

  function result(stoppedBecause: StopReason, gaps: Gap[], topComplete: boolean, overlapReadWhole = false): ScanResult {
    const readAt = overlapReadWhole ? input.now : prev?.readAt;
    const span = trusted.count > 1 ? trusted.max - trusted.min : 0;
    const measured = span > 0 ? ((trusted.count - 1) * 3_600_000) / span : undefined;
    const rate = measured === undefined ? prev?.rate : prev?.rate === undefined ? measured : (prev.rate + measured) / 2;
    return {
      cursor: {
        ...(top !== undefined ? { top } : {}),
        gaps,
        order: observed === 'flat' ? (prev?.order ?? 'desc') : (observed as Order),
        ...(size !== input.pageSize ? { pageSize: size } : {}),
        ...(rate !== undefined ? { rate: Math.round(rate * 10) / 10 } : {}),
        ...(total !== undefined ? { total } : prev?.total !== undefined ? { total: prev.total } : {}),
        ...(readAt !== undefined ? { readAt } : {}),
      },
      pagesRead: pages,
      tasksRead,
      complete: topComplete && !gaps.some((g) => !g.watchOnly),
      stoppedBecause,
      dropped,
      anomalies,
      ...(lowest !== Number.POSITIVE_INFINITY ? { coveredTo: lowest } : {}),
    };
  }
}

/** Gaps newest first, at most MAX_GAPS: the two oldest merge into one that spans both. */
function mergeGaps(gaps: Gap[]): Gap[] {
  const out = [...gaps].sort((a, b) => b.hi - a.hi);
  while (out.filter((g) => !g.watchOnly).length > MAX_GAPS) {
    const live = out.filter((g) => !g.watchOnly);
    const a = live[live.length - 2]!;
    const b = live[live.length - 1]!;
    out.splice(out.indexOf(b), 1);
    out[out.indexOf(a)] = {
      hi: a.hi,
      lo: Math.min(a.lo, b.lo),
      ...(a.depth !== undefined ? { depth: a.depth } : {}),
      ...(a.total !== undefined ? { total: a.total } : {}),
    };
  }
  return out;
}
