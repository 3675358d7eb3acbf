import type { InstanceCursor } from '../model/checkpoint.js';

/** Tasks can show up in the list after newer ones; re-read this far below the newest time seen. */
export const OVERLAP_MS = 5 * 60_000;
/** A task unfinished for longer than this stops being watched (it is logged). */
export const OPEN_MAX_AGE_MS = 3 * 24 * 3_600_000;

/**
 * The oldest CreateTime the next scan must reach: a little below the newest task seen, and low enough to re-read
 * every task still being watched. Without a cursor (first run) it is the look-back window.
 */
export function lowerBound(cursor: InstanceCursor | undefined, now: number, lookbackMs: number): number {
  if (!cursor) return now - lookbackMs;
  let lb = cursor.watermark - OVERLAP_MS;
  for (const t of Object.values(cursor.open)) lb = Math.min(lb, t.createTime);
  return lb;
}
