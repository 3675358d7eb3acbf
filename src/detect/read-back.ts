import type { Cursor } from '../model/state.js';
import type { Page, SyncTask } from '../model/task.js';
import { callCr, hasFetchTime } from './cr-call.js';
import { judge, type Judged, type Observation } from './judge.js';
import { lastPageOf, maxTime, minTime } from './list.js';
import { markWritten, type RecheckDeps } from './recheck.js';

/** Pages a read-back may step back to find where it stopped, when the tasks created since were fewer than guessed. */
export const BACK_STEPS = 3;

/** Where a read-back starts, and how far it may go. */
export interface BackStart {
  /** It goes on below this CreateTime. */
  from: number;
  /** Pages it plans to read. */
  pages: number;
  /**
   * It reads on past `pages` (while there is time, up to `maxPages`) until it reached this CreateTime: the rate it
   * was planned with may have put the syncs it is for higher up than they are.
   */
  until?: number;
  maxPages?: number;
  /** The page `from` is estimated to be on. */
  page: number;
  /** +1 when older tasks are on later pages (newest first), -1 when on earlier ones (oldest first). */
  dir: 1 | -1;
}

/** What a read-back read: the span of CreateTimes it covered, the watched syncs it found, and where to go on. */
export interface BackResult {
  /** The newest and oldest CreateTime read (undefined when no page was read). */
  hi?: number;
  lo?: number;
  /** Watched syncs it read. */
  found: Set<string>;
  /**
   * Where the next read-back goes on: null once it reached the end of the list (the next one starts over), undefined
   * when it read nothing (as before).
   */
  next?: Cursor['readBack'] | null;
  calls: number;
}

const HOUR = 3_600_000;

/**
 * The page a read-back starts on and the way it walks, from the list's order and the hints kept in the cursor:
 * where the last read-back stopped (moved down by the tasks created since, at the measured rate, when the list is
 * newest first), or, starting below the scan, as many pages down as the tasks created between the newest read and
 * `from`. Undefined when the order is not known (a time cannot be found by position). Pure.
 */
export function backStart(
  c: { order?: string; rate?: number; total?: number; top?: number; readBack?: Cursor['readBack'] },
  o: { from: number; pages: number; now: number; size: number; until?: number; maxPages?: number },
): BackStart | undefined {
  const dir = c.order === 'desc' ? 1 : c.order === 'asc' ? -1 : undefined;
  if (dir === undefined) return undefined;
  const tasksIn = (ms: number) => (c.rate === undefined ? 0 : Math.floor((c.rate * Math.max(0, ms)) / HOUR));
  const resumed = c.readBack !== undefined && c.readBack.below === o.from;
  // Tasks newer than `from`: where it sits counted from the newest end of the list.
  const depth = resumed ? undefined : tasksIn((c.top ?? o.from) - o.from);
  let page: number;
  if (dir === 1) page = resumed ? c.readBack!.page + Math.floor(tasksIn(o.now - c.readBack!.at) / o.size) : 1;
  else page = resumed ? c.readBack!.page : lastPageOf(c.total ?? 0, o.size);
  if (depth !== undefined) page += dir * Math.floor(depth / o.size);
  const { now: _now, size: _size, ...rest } = o;
  return { ...rest, page: Math.max(1, page), dir };
}

/**
 * Reads the task list back from `s.page` in the direction of older tasks, for re-checks: yields the watched syncs it
 * finds, judged, a page at a time. Stops after `s.pages` pages (or once past
 * `s.until`), at the end of the list, or when the time for fetching is spent. Throws what a CR call or the store
 * throws.
 */
export async function* readBack(o: Observation, s: BackStart, deps: RecheckDeps): AsyncGenerator<Judged, BackResult> {
  const r: BackResult = { found: new Set(), calls: 0 };
  const more = () =>
    r.calls < s.pages ||
    (s.until !== undefined && r.lo !== undefined && r.lo > s.until && r.calls < (s.maxPages ?? s.pages));
  let at = await firstPage(o, s, r, deps);
  while (at) {
    const { items, pageSize, received } = at.page;
    if (items.length === 0) return { ...r, next: null };
    r.hi = Math.max(r.hi ?? Number.NEGATIVE_INFINITY, maxTime(items));
    r.lo = Math.min(r.lo ?? Number.POSITIVE_INFINITY, minTime(items));
    yield* judgeWatched(o, items, r, deps);
    // A short page is the last of a newest-first list; page 1 the oldest of an oldest-first one.
    if ((s.dir === 1 && (received ?? items.length) < pageSize) || (s.dir === -1 && at.n === 1))
      return { ...r, next: null };
    r.next = { below: r.lo, page: at.n, at: o.now };
    const n = at.n + s.dir;
    at = more() && hasFetchTime(deps.budget) ? { n, page: await readPage(o, n, deps, r) } : undefined;
  }
  return r;
}

/**
 * The page a read-back starts on: `s.page`, which must hold `s.from` or newer; one wholly older means the start was
 * guessed too deep (fewer tasks were created than the rate said), so it steps back, at most BACK_STEPS pages.
 * Undefined when there is no time to read it.
 */
async function firstPage(
  o: Observation,
  s: BackStart,
  r: BackResult,
  deps: RecheckDeps,
): Promise<{ n: number; page: Page<SyncTask> } | undefined> {
  let n = s.page;
  for (let steps = 0; s.pages > 0 && hasFetchTime(deps.budget); steps++) {
    const page = await readPage(o, n, deps, r);
    const tooDeep = page.items.length === 0 || maxTime(page.items) < s.from;
    if (!tooDeep || steps >= BACK_STEPS || n - s.dir < 1 || r.calls >= s.pages) return { n, page };
    n -= s.dir;
  }
  return undefined;
}

/** Judges the watched syncs among a page's tasks (none: nothing is yielded; see `markWritten`). */
async function* judgeWatched(
  o: Observation,
  items: readonly SyncTask[],
  r: BackResult,
  deps: RecheckDeps,
): AsyncGenerator<Judged, void> {
  const watched = items.filter((t) => o.detector.watched.has(t.taskId));
  if (watched.length === 0) return;
  for (const t of watched) r.found.add(t.taskId);
  const j = await judge(o, { tasks: watched, lo: Number.NEGATIVE_INFINITY, watchOnly: false }, deps);
  markWritten(o, j.changes);
  yield j;
}

function readPage(o: Observation, pageNo: number, deps: RecheckDeps, r: BackResult): Promise<Page<SyncTask>> {
  r.calls += 1;
  return callCr(deps, `ListRepoSyncTask ${o.inst.key} read-back page ${pageNo}`, (timeoutMs) =>
    o.cr.listSyncTasks({ instanceId: o.inst.instanceId, pageNo, pageSize: deps.pageSize, timeoutMs }),
  );
}
