import type { TaskFilter } from '../acr/client.js';
import type { WatchedSync } from '../model/state.js';

/** A watched sync older than the stuck threshold is re-checked this often (spread over runs), not every run. */
export const SLOW_RECHECK_MS = 15 * 60_000;
/** Re-checks in a row that do not find a watched sync before it stops being watched (the task no longer exists). */
export const MISS_LIMIT = 3;

/** One targeted ListRepoSyncTask call, and the watched syncs it re-reads. */
export interface Recheck {
  filter: TaskFilter;
  taskIds: string[];
}

export interface RecheckPlan {
  /** Read the task list back down to here (below the window) instead: cheaper for the newest of the due syncs. */
  sweepTo?: number;
  /** Watched syncs the sweep covers (if it reaches them). */
  swept: string[];
  /** Pages the sweep is estimated to read beyond the first. */
  extraPages: number;
  /** Targeted calls for the rest, one per push (SyncRecordId) or image they share. */
  targeted: Recheck[];
}

/**
 * Whether a watched sync is re-checked in this run: every run while younger than the stuck threshold (it should finish
 * soon, and its stuck notice is due then); after that only in runs where the slow re-checks are due (`slowDue`, every
 * SLOW_RECHECK_MS), so a sync running for days costs a call per quarter hour, not per run.
 */
export function isDue(w: WatchedSync, now: number, slowDue: boolean, stuckAfterMs: number): boolean {
  return slowDue || w.partial === true || now - w.task.createTime <= stuckAfterMs;
}

/** The filter that re-reads a watched sync: its push when known (fewest tasks), else its source image. */
function filterOf(w: WatchedSync): { key: string; filter: TaskFilter } | undefined {
  const t = w.task;
  if (t.batchId) return { key: `b:${t.batchId}`, filter: { syncRecordId: t.batchId } };
  if (t.from.namespace && t.from.repo && t.from.tag)
    return {
      key: `i:${t.from.namespace}/${t.from.repo}:${t.from.tag}`,
      filter: { namespace: t.from.namespace, repo: t.from.repo, tag: t.from.tag },
    };
  return undefined;
}

/**
 * How to re-read the due watched syncs that the top of the task list does not already cover. Reading pages back from
 * the top costs one call per page down to a sync (estimated from the instance's rate of tasks); a targeted call costs
 * one per distinct push or image. The newest syncs go to whichever is cheaper overall: read back as far as the k
 * newest, target the rest, for the best k. Syncs known only by id (carried over from an earlier version) can only be
 * found by reading back.
 */
export function planRechecks(
  due: readonly WatchedSync[],
  o: { top?: number; ratePerHour?: number; pageSize: number },
): RecheckPlan {
  const sorted = [...due].sort((a, b) => b.task.createTime - a.task.createTime);
  const pagesTo = (t: number) =>
    o.top === undefined || o.ratePerHour === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(0, Math.ceil((o.ratePerHour * Math.max(0, o.top - t)) / 3_600_000 / o.pageSize) - 1);
  const groupsOf = (ws: readonly WatchedSync[]) => new Set(ws.map((w) => filterOf(w)?.key ?? `?${w.task.taskId}`)).size;
  const oldestPartial = sorted.reduce((n, w, i) => (w.partial ? i + 1 : n), 0);
  let bestK = oldestPartial;
  let best = Number.POSITIVE_INFINITY;
  for (let k = oldestPartial; k <= sorted.length; k++) {
    const cost = (k === 0 ? 0 : Math.min(pagesTo(sorted[k - 1]!.task.createTime), 1e9)) + groupsOf(sorted.slice(k));
    if (cost < best) {
      best = cost;
      bestK = k;
    }
  }
  const swept = sorted.slice(0, bestK);
  const targeted = new Map<string, Recheck>();
  for (const w of sorted.slice(bestK)) {
    const f = filterOf(w);
    if (!f) continue;
    const r = targeted.get(f.key) ?? { filter: f.filter, taskIds: [] };
    r.taskIds.push(w.task.taskId);
    targeted.set(f.key, r);
  }
  const extraPages = swept.length > 0 ? Math.min(pagesTo(swept[swept.length - 1]!.task.createTime), 1e9) : 0;
  return {
    ...(swept.length > 0 ? { sweepTo: swept[swept.length - 1]!.task.createTime } : {}),
    swept: swept.map((w) => w.task.taskId),
    extraPages,
    targeted: [...targeted.values()],
  };
}
