import type { ScanResult } from './acr/scan.js';
import type { SyncTask } from './acr/types.js';
import { OPEN_MAX_AGE_MS, OVERLAP_MS, lowerBound, type InstanceCursor, type OpenTask } from './state/checkpoint.js';

/** Why a task did or did not become an alert; counted per run so that a log line can say why. */
export type Reason =
  | 'new-failure'
  | 'already-announced'
  | 'before-window'
  | 'still-running'
  | 'succeeded'
  | 'canceled'
  | 'unknown-status';

export interface Detection {
  failures: SyncTask[];
  cursor: InstanceCursor;
  reasons: Record<Reason, number>;
  /** Statuses outside the documented set, to log. */
  unknownStatuses: string[];
  /** Watched tasks no longer returned by a complete scan, or unfinished for too long. */
  stoppedWatching: string[];
}

const RUNNING = new Set(['PENDING', 'SYNCHRONIZING']);

const zero = (): Record<Reason, number> => ({
  'new-failure': 0, 'already-announced': 0, 'before-window': 0, 'still-running': 0, succeeded: 0, canceled: 0, 'unknown-status': 0,
});

/**
 * Decides which tasks are failures not announced before, and the cursor for the next run. Pure.
 * - `ERROR` tasks not in `handled` are new failures, whatever order or page they came in.
 * - Unfinished tasks (and unknown statuses, defensively) are watched, so one that fails later is still caught.
 * - The watermark advances only after a complete scan; an incomplete one is resumed by the next run.
 */
export function detect(prev: InstanceCursor | undefined, scan: Pick<ScanResult, 'tasks' | 'complete' | 'order' | 'totalCount'>, now: number, lookbackMs: number): Detection {
  const lb = lowerBound(prev, now, lookbackMs);
  const open: Record<string, OpenTask> = { ...prev?.open };
  const handled: Record<string, number> = { ...prev?.handled };
  const reasons = zero();
  const failures: SyncTask[] = [];
  const unknownStatuses = new Set<string>();
  const returned = new Set<string>();

  for (const t of scan.tasks) {
    returned.add(t.taskId);
    if (t.createTime < lb && !(t.taskId in open)) {
      reasons['before-window'] += 1;
      continue;
    }
    if (t.status === 'ERROR') {
      delete open[t.taskId];
      if (t.taskId in handled) reasons['already-announced'] += 1;
      else {
        handled[t.taskId] = t.createTime;
        failures.push(t);
        reasons['new-failure'] += 1;
      }
    } else if (t.status === 'SUCCESS' || t.status === 'CANCELED') {
      delete open[t.taskId];
      reasons[t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
    } else {
      if (!RUNNING.has(t.status)) unknownStatuses.add(t.status || '(empty)');
      open[t.taskId] = { createTime: t.createTime, status: t.status, firstSeen: open[t.taskId]?.firstSeen ?? now };
      reasons[RUNNING.has(t.status) ? 'still-running' : 'unknown-status'] += 1;
    }
  }

  const stoppedWatching: string[] = [];
  for (const [id, t] of Object.entries(open)) {
    const vanished = scan.complete && !returned.has(id) && t.createTime >= lb;
    if (vanished || now - t.createTime > OPEN_MAX_AGE_MS) {
      delete open[id];
      stoppedWatching.push(id);
    }
  }

  const newest = scan.tasks.reduce((m, t) => Math.max(m, t.createTime), Number.NEGATIVE_INFINITY);
  const watermark = scan.complete
    ? Math.max(prev?.watermark ?? lb + OVERLAP_MS, newest)
    : (prev?.watermark ?? lb + OVERLAP_MS);
  const cursor: InstanceCursor = { watermark, order: scan.order, total: scan.totalCount, open, handled };
  // What lies below the next scan's bound is never re-read, so its handled marks can go.
  const nextLb = lowerBound(cursor, now, lookbackMs);
  for (const [id, created] of Object.entries(handled)) if (created < nextLb) delete handled[id];

  return { failures, cursor, reasons, unknownStatuses: [...unknownStatuses], stoppedWatching };
}
