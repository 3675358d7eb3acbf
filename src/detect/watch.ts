import type { TaskFilter } from '../acr/client.js';
import type { WatchedSync } from '../model/state.js';

/** A watched sync older than the stuck threshold is re-checked this often (each on its own time), not every run. */
export const SLOW_RECHECK_MS = 15 * 60_000;
/** Re-checks in a row that do not find a watched sync before it stops being watched (the task no longer exists). */
export const MISS_LIMIT = 3;

/** One targeted ListRepoSyncTask call, and the watched syncs it re-reads. */
export interface Recheck {
  filter: TaskFilter;
  taskIds: string[];
}

/** A watched sync whose re-check is due, and since when. */
export interface DueSync {
  w: WatchedSync;
  dueAt: number;
}

export interface RecheckPlan {
  /** The read-back goes on below this CreateTime: where the last one stopped, or where the scan stopped. */
  from: number;
  /** Pages to read back (0: none). */
  backPages: number;
  /** Watched syncs the read-back is expected to reach. */
  back: string[];
  /** Targeted calls, one per push (SyncRecordId) or image they share, the longest-waiting first. */
  targeted: Recheck[];
}

/** Where a read-back stands and what the run can spend on re-checks: the input of `planRechecks`. */
export interface RecheckBudget {
  /** CR calls the run can still afford for re-checks (time left for reading over the measured time per call). */
  calls: number;
  /** Pages a read-back may read (what is left of the instance's pages per run). */
  maxBackPages: number;
  /** CreateTime down to which this run's scan read the list: a read-back from the top starts below it. */
  top: number;
  /** CreateTime the last read-back stopped at, to go on below it. */
  resume?: number;
  /** Tasks created per hour, to estimate how many pages down a time lies; unknown: reading back is not priced. */
  ratePerHour?: number;
  pageSize: number;
  /** Whether the list's order lets a read-back find a time at all (not when CreateTime order is unknown). */
  canReadBack: boolean;
}

/**
 * When a watched sync's re-check falls due: while younger than the stuck threshold at every run (it should finish
 * soon, and its stuck notice is due then), so since it was last checked; after that SLOW_RECHECK_MS after its last
 * re-check, but not before it passed the threshold, so a sync running for days costs a call per quarter hour, not per
 * run. `lastChecked`: its own `checkedAt`, else when it was first seen (it was read then). Pure.
 */
export function dueAt(w: WatchedSync, lastChecked: number, stuckAfterMs: number, now: number): number {
  const young = now - w.task.createTime <= stuckAfterMs;
  return young ? lastChecked : Math.max(lastChecked + SLOW_RECHECK_MS, w.task.createTime + stuckAfterMs);
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

/** Targeted calls for `ws` in their order, at most `calls`, each covering every sync of `ws` that shares it. */
function targetedFor(ws: readonly WatchedSync[], calls: number): { targeted: Recheck[]; covered: number } {
  const groups = new Map<string, Recheck>();
  let covered = 0;
  for (const w of ws) {
    const f = w.partial ? undefined : filterOf(w);
    if (!f) continue;
    const g = groups.get(f.key);
    if (!g && groups.size >= calls) continue;
    const r = g ?? { filter: f.filter, taskIds: [] };
    r.taskIds.push(w.task.taskId);
    groups.set(f.key, r);
    covered += 1;
  }
  return { targeted: [...groups.values()], covered };
}

/**
 * How to re-read the due watched syncs within the calls the run can afford. They are taken longest-waiting first (a
 * sync re-checked now waits its turn again, so every one comes round). Two ways to re-read: a targeted call per push
 * or image, or reading the list back from where the last read-back stopped (from the top once nothing due is left
 * below that), a page per call, reaching as far down as the pages it can afford, estimated from the rate of tasks.
 * Each read-back length the budget allows is priced by how many due syncs it and the targeted calls left after it
 * re-read; the most wins, then the fewest calls, then targeted calls (they find a sync wherever the list moved it).
 * Syncs known only by id can only be found by reading back: when the longest-waiting due sync is one, the plan reads
 * back towards it whatever that costs. Pure.
 */
export function planRechecks(due: readonly DueSync[], b: RecheckBudget): RecheckPlan {
  const ws = [...due].sort(byWait).map((d) => d.w);
  const calls = Math.max(0, Math.floor(b.calls));
  const targetedOnly = { ...targetedFor(ws, calls), from: b.top, backPages: 0, back: [] as string[] };
  const maxBack = Math.min(calls, Math.max(0, Math.floor(b.maxBackPages)));
  if (!b.canReadBack || maxBack === 0 || ws.length === 0) return withoutCount(targetedOnly);
  const head = ws[0]!;
  const resumable =
    b.resume !== undefined && ws.some((w) => w.task.createTime <= b.resume! && (!head.partial || w === head));
  const from = resumable ? b.resume! : b.top;
  // The first page read back is the one `from` is on, read again: where the last read stopped may have moved.
  const pagesTo = (t: number) =>
    b.ratePerHour === undefined
      ? Number.POSITIVE_INFINITY
      : 1 + Math.ceil((b.ratePerHour * (from - t)) / 3_600_000 / b.pageSize);
  const option = (pages: number) => {
    const back = new Set(
      ws.filter((w) => w.task.createTime <= from && pagesTo(w.task.createTime) <= pages).map((w) => w.task.taskId),
    );
    const rest = targetedFor(
      ws.filter((w) => !back.has(w.task.taskId)),
      calls - pages,
    );
    return { from, backPages: pages, back: [...back], targeted: rest.targeted, covered: back.size + rest.covered };
  };
  if (head.partial) return withoutCount(option(Math.min(maxBack, pagesTo(head.task.createTime))));
  let best = targetedOnly;
  const lengths = new Set(
    ws.filter((w) => w.task.createTime <= from).map((w) => Math.min(maxBack, pagesTo(w.task.createTime))),
  );
  for (const pages of [...lengths].filter(Number.isFinite).sort((x, y) => x - y)) {
    const o = option(pages);
    const cost = (x: RecheckPlan) => x.backPages + x.targeted.length;
    if (o.covered > best.covered || (o.covered === best.covered && cost(o) < cost(best))) best = o;
  }
  return withoutCount(best);
}

/** Longest-waiting first; among those due alike, the oldest sync first. */
const byWait = (x: DueSync, y: DueSync) =>
  x.dueAt - y.dueAt || x.w.task.createTime - y.w.task.createTime || (x.w.task.taskId < y.w.task.taskId ? -1 : 1);

const withoutCount = ({ covered: _, ...plan }: RecheckPlan & { covered: number }): RecheckPlan => plan;
