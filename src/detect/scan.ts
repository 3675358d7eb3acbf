import type { Order } from '../model/checkpoint.js';
import type { Page, SyncTask } from '../model/task.js';

export type StopReason = 'reached-window' | 'last-page' | 'max-pages' | 'budget';

export interface ScanInput {
  /** Tasks created before this are not needed: they were settled in earlier runs. */
  lowerBound: number;
  /** What the previous run observed, to go straight to the newest page. */
  orderHint?: Order;
  lastTotal?: number;
  /** Newest CreateTime the previous run read; with lastTotal, tells whether the list grew by more than was seen. */
  lastWatermark?: number;
  pageSize: number;
  maxPages: number;
  fetchPage(pageNo: number): Promise<Page<SyncTask>>;
  /** False once fetching must stop to leave time for delivery. */
  hasTime(): boolean;
}

export interface ScanResult {
  /** Every task read, once each (pages can overlap when the list shifts between calls). */
  tasks: SyncTask[];
  pagesRead: number;
  order: Order;
  totalCount: number;
  /** True when every task created at or after `lowerBound` was read. */
  complete: boolean;
  stoppedBecause: StopReason;
  dropped: string[];
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
const minTime = (items: readonly SyncTask[]) => items.reduce((m, t) => Math.min(m, t.createTime), Number.POSITIVE_INFINITY);

/**
 * Reads as few pages as the observed order allows while reading every task created at or after `lowerBound`:
 * - newest first: pages 1, 2, ... until a page reaches below the bound;
 * - oldest first: the last page, then backwards until a page reaches below the bound;
 * - anything else (or a page that contradicts the order): every page, up to `maxPages`.
 * With nothing new, that is one page in either order once the previous run's order and total are known.
 */
export async function scanTasks(input: ScanInput): Promise<ScanResult> {
  const seen = new Map<string, SyncTask>();
  const pages = new Map<number, SyncTask[]>();
  const dropped: string[] = [];
  let total = 0;
  let size = input.pageSize;
  let observed: Observed = 'flat';
  // Read through a function: the value changes inside awaited fetches, which TypeScript's narrowing cannot see.
  const order = (): Observed => observed;

  const fetch = async (n: number): Promise<SyncTask[]> => {
    const page = await input.fetchPage(n);
    pages.set(n, page.items);
    total = page.totalCount;
    // A service that caps PageSize below what was asked reports the size it used; page arithmetic must follow it.
    if (page.pageSize > 0 && page.pageSize < size) size = page.pageSize;
    for (const t of page.items) seen.set(t.taskId, t);
    dropped.push(...page.dropped);
    const o = pageOrder(page.items);
    if (o === 'unknown' || (o !== 'flat' && observed !== 'flat' && o !== observed)) observed = 'unknown';
    else if (o !== 'flat' && observed === 'flat') observed = o;
    return page.items;
  };
  const lastPage = () => lastPageOf(total, size);
  const done = (stoppedBecause: StopReason): ScanResult => ({
    tasks: [...seen.values()],
    pagesRead: pages.size,
    order: observed === 'flat' ? (input.orderHint ?? 'desc') : observed,
    totalCount: total,
    complete: stoppedBecause === 'reached-window' || stoppedBecause === 'last-page',
    stoppedBecause,
    dropped,
  });
  const limited = (): StopReason | undefined => {
    if (pages.size >= input.maxPages) return 'max-pages';
    if (!input.hasTime()) return 'budget';
    return undefined;
  };
  /** Page k, from cache or the API; a StopReason when limits forbid another call. */
  const page = async (k: number): Promise<SyncTask[] | StopReason> => {
    const cached = pages.get(k);
    if (cached) return cached;
    return limited() ?? fetch(k);
  };
  const reachesBelow = (items: SyncTask[]) => items.length > 0 && minTime(items) < input.lowerBound;
  /**
   * The list grows by new tasks. If it grew by more than the new tasks this scan saw, some are where the observed
   * order said they could not be: the order is not what it seemed, so every page must be read.
   */
  const unseenGrowth = (): boolean => {
    if (input.lastTotal === undefined || input.lastWatermark === undefined) return false;
    const seenNew = [...seen.values()].filter((t) => t.createTime > input.lastWatermark!).length;
    return total - input.lastTotal > seenNew;
  };
  const stopAtWindow = (): Promise<ScanResult> | ScanResult => {
    if (!unseenGrowth()) return done('reached-window');
    observed = 'unknown';
    return readAll();
  };

  const readAll = async (): Promise<ScanResult> => {
    for (let k = 1; k <= lastPage(); k++) {
      const items = await page(k);
      if (typeof items === 'string') return done(items);
      if (items.length === 0) break;
    }
    return done('last-page');
  };

  const walkForward = async (): Promise<ScanResult> => {
    for (let k = 1; k <= lastPage(); k++) {
      const items = await page(k);
      if (typeof items === 'string') return done(items);
      if (order() === 'unknown') return readAll();
      if (items.length === 0) break;
      if (reachesBelow(items)) return stopAtWindow();
    }
    return done('last-page');
  };

  // Starting from the true last page (the total is known after the first call) also covers a list that grew since
  // the previous run's hint.
  const walkBack = async (): Promise<ScanResult> => {
    for (let k = lastPage(); k >= 1; k--) {
      const items = await page(k);
      if (typeof items === 'string') return done(items);
      if (order() === 'unknown') return readAll();
      if (reachesBelow(items)) return stopAtWindow();
    }
    return done('last-page');
  };

  const start = input.orderHint === 'asc' && input.lastTotal !== undefined ? lastPageOf(input.lastTotal, size) : 1;
  const first = await fetch(start);
  if (first.length === 0 && start === 1) return done('last-page');
  const direction = order() === 'flat' ? (input.orderHint ?? 'desc') : order();
  if (direction === 'unknown') return readAll();
  if (direction === 'asc') return walkBack();
  return walkForward();
}
