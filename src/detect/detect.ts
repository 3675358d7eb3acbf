import { createHash } from 'node:crypto';
import type { FailingImage, InstanceCursor, OpenTask } from '../model/checkpoint.js';
import type { SyncTask } from '../model/task.js';
import { classify } from './classify.js';
import { OPEN_MAX_AGE_MS, OVERLAP_MS, lowerBound } from './cursor.js';
import type { ScanResult } from './scan.js';

/** Why a task did or did not become an alert; counted per run so that a log line can say why. */
export type Reason =
  | 'new-failure'
  | 'already-announced'
  | 'before-window'
  | 'still-running'
  | 'succeeded'
  | 'canceled'
  | 'unknown-status'
  | 'held-transient';

/** A failing image whose sync succeeded later. */
export interface Recovery {
  success: SyncTask;
  failure: FailingImage;
  /** The failure was found in this same run: it is reported only as recovered. */
  sameRun: boolean;
}

export interface DetectOptions {
  lookbackMs: number;
  /** A task PENDING or SYNCHRONIZING longer than this is stuck. */
  stuckAfterMs: number;
  /**
   * Transient causes (NETWORK_ERROR, INTERNAL_ERROR) are held back until the same image failed `minFailures` times
   * within `windowMs`, or has been failing for `persistMs`. `minFailures` 1 announces every failure at once.
   */
  transient?: { minFailures: number; windowMs: number; persistMs: number };
}

export interface Detection {
  failures: SyncTask[];
  recoveries: Recovery[];
  /** Tasks to announce as stuck now, and stuck tasks that finished (`unstuck`). */
  stuck: SyncTask[];
  unstuck: SyncTask[];
  cursor: InstanceCursor;
  reasons: Record<Reason, number>;
  /** Statuses outside the documented set, to log. */
  unknownStatuses: string[];
  /** Watched tasks no longer returned by a complete scan, or unfinished for too long. */
  stoppedWatching: string[];
}

const RUNNING = new Set(['PENDING', 'SYNCHRONIZING']);
/** A failing image is remembered this long for its recovery notice. */
export const FAILING_MAX_AGE_MS = 7 * 24 * 3_600_000;

/**
 * What "the same image" means for recovery: the same sync rule to the same target repository and tag. Hashed to 16
 * characters: a burst after an outage remembers thousands of these in the checkpoint.
 */
export function imageKey(t: SyncTask): string {
  return createHash('sha256').update(`${t.ruleId ?? ''}|${t.to.regionId}/${t.to.instanceId}|${t.to.namespace}/${t.to.repo}:${t.to.tag}`).digest('base64url').slice(0, 16);
}

const zero = (): Record<Reason, number> => ({
  'new-failure': 0, 'already-announced': 0, 'before-window': 0, 'still-running': 0, succeeded: 0, canceled: 0, 'unknown-status': 0, 'held-transient': 0,
});

/**
 * Decides which tasks are failures not announced before, which failing images recovered, which tasks are stuck,
 * and the cursor for the next run. Pure.
 * - `ERROR` tasks not in `handled` are new failures, whatever order or page they came in.
 * - A `SUCCESS` later than a remembered failure of the same image is a recovery; if that failure was found in this
 *   same run, it is reported only as recovered.
 * - Unfinished tasks (and unknown statuses, defensively) are watched, so one that fails later is still caught; one
 *   unfinished for longer than `stuckAfterMs` is stuck, once.
 * - The watermark advances only after a complete scan; an incomplete one is resumed by the next run.
 */
export function detect(prev: InstanceCursor | undefined, scan: Pick<ScanResult, 'tasks' | 'complete' | 'order' | 'totalCount'>, now: number, opts: DetectOptions): Detection {
  const lookbackMs = opts.lookbackMs;
  const tr = opts.transient;
  const lb = lowerBound(prev, now, lookbackMs);
  const open: Record<string, OpenTask> = { ...prev?.open };
  const handled: Record<string, number> = { ...prev?.handled };
  const failing: Record<string, FailingImage> = { ...prev?.failing };
  const reasons = zero();
  let failures: SyncTask[] = [];
  const recoveries: Recovery[] = [];
  const stuck: SyncTask[] = [];
  const unstuck: SyncTask[] = [];
  const unknownStatuses = new Set<string>();
  const returned = new Set<string>();
  const newThisRun = new Set<string>();

  // Oldest first, so a failure and a later success of the same image in one run read as "failed, then recovered".
  for (const t of [...scan.tasks].sort((a, b) => a.createTime - b.createTime)) {
    returned.add(t.taskId);
    if (t.createTime < lb && !(t.taskId in open)) {
      reasons['before-window'] += 1;
      continue;
    }
    const wasStuck = open[t.taskId]?.stuck === true;
    if (t.status === 'ERROR') {
      delete open[t.taskId];
      if (t.taskId in handled) reasons['already-announced'] += 1;
      else {
        handled[t.taskId] = t.createTime;
        reasons['new-failure'] += 1;
        const key = imageKey(t);
        const f = failing[key];
        const inWindow = f?.windowStart !== undefined && tr !== undefined && t.createTime - f.windowStart <= tr.windowMs;
        const count = inWindow ? (f?.count ?? 0) + 1 : 1;
        const entry: FailingImage = { since: f?.since ?? t.createTime, lastFailure: t.createTime, taskId: t.taskId, issue: t.issue, count, windowStart: inWindow ? f!.windowStart : t.createTime };
        const hold = tr !== undefined && tr.minFailures > 1 && classify(t.issue).transient && count < tr.minFailures && t.createTime - entry.since < tr.persistMs;
        if (hold) {
          // Not announced yet: a transient cause usually passes; it is announced if it repeats or persists.
          failing[key] = { ...entry, held: t };
          reasons['held-transient'] += 1;
        } else {
          failing[key] = entry;
          failures.push(t);
          newThisRun.add(t.taskId);
        }
      }
    } else if (t.status === 'SUCCESS' || t.status === 'CANCELED') {
      delete open[t.taskId];
      reasons[t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
      if (wasStuck) unstuck.push(t);
      const key = imageKey(t);
      const f = failing[key];
      if (t.status === 'SUCCESS' && f && t.createTime > f.lastFailure) {
        // A failure that was held back and never announced recovers quietly.
        if (!f.held) recoveries.push({ success: t, failure: f, sameRun: newThisRun.has(f.taskId) });
        delete failing[key];
      }
    } else {
      if (!RUNNING.has(t.status)) unknownStatuses.add(t.status || '(empty)');
      const isStuck = now - t.createTime > opts.stuckAfterMs;
      if (isStuck && !wasStuck) stuck.push(t);
      open[t.taskId] = { createTime: t.createTime, status: t.status, firstSeen: open[t.taskId]?.firstSeen ?? now, ...(isStuck || wasStuck ? { stuck: true } : {}) };
      reasons[RUNNING.has(t.status) ? 'still-running' : 'unknown-status'] += 1;
    }
  }
  // Held transient failures that have now persisted long enough are announced.
  if (tr) {
    for (const [k, f] of Object.entries(failing)) {
      if (f.held && now - f.since >= tr.persistMs) {
        failures.push(f.held);
        const { held: _released, ...rest } = f;
        failing[k] = rest;
      }
    }
  }
  // A failure that recovered within this run is reported as recovered only.
  const recoveredNow = new Set(recoveries.filter((r) => r.sameRun).map((r) => r.failure.taskId));
  failures = failures.filter((t) => !recoveredNow.has(t.taskId));
  for (const [k, f] of Object.entries(failing)) if (now - f.lastFailure > FAILING_MAX_AGE_MS) delete failing[k];

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
  const cursor: InstanceCursor = { watermark, order: scan.order, total: scan.totalCount, open, handled, ...(Object.keys(failing).length > 0 ? { failing } : {}) };
  // What lies below the next scan's bound is never re-read, so its handled marks can go.
  const nextLb = lowerBound(cursor, now, lookbackMs);
  for (const [id, created] of Object.entries(handled)) if (created < nextLb) delete handled[id];

  return { failures, recoveries, stuck, unstuck, cursor, reasons, unknownStatuses: [...unknownStatuses], stoppedWatching };
}
