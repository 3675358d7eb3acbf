import type { Order } from '../model/state.js';
import type { SyncTask } from '../model/task.js';

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

/** Why reading an instance's task list stopped. */
export type StopReason = 'reached-window' | 'end-of-list' | 'max-pages' | 'budget' | 'repeated-page' | 'overlap-capped';

/** The order pages showed so far: 'flat' until a page holds two distinct CreateTimes. */
export type Observed = Order | 'flat';

/** Tasks as read, a page at a time, each task once per run. */
export interface ScanBatch {
  tasks: SyncTask[];
  /**
   * The bottom of the stretch this pass reads: a task created earlier is outside it (already read, or before the
   * window).
   */
  lo: number;
  /** Only unfinished syncs are wanted from this pass. */
  watchOnly: boolean;
}

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

/** The number of the last page of a list of `total` tasks, `size` a page (1 for an empty list). */
export const lastPageOf = (total: number, size: number): number => Math.max(1, Math.ceil(total / Math.max(1, size)));
/** The oldest CreateTime of a page (+Infinity for an empty one). */
export const minTime = (items: readonly SyncTask[]): number =>
  items.reduce((m, t) => Math.min(m, t.createTime), Number.POSITIVE_INFINITY);
/** The newest CreateTime of a page (-Infinity for an empty one). */
export const maxTime = (items: readonly SyncTask[]): number =>
  items.reduce((m, t) => Math.max(m, t.createTime), Number.NEGATIVE_INFINITY);
