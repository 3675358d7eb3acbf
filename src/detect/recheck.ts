import type { CrApi, TaskFilter } from '../acr/client.js';
import type { Cursor, WatchedSync } from '../model/state.js';
import type { InstanceRef, SyncTask } from '../model/task.js';
import { callCr, hasFetchTime, type CallDeps } from './cr-call.js';
import { judge, type JudgeDeps, type Judged, type Observation } from './judge.js';
import { isDue, planRechecks, SLOW_RECHECK_MS, type Recheck, type RecheckPlan } from './watch.js';

/** Pages one targeted re-check may read (a push rarely has more than a few tasks). */
export const RECHECK_PAGES = 3;

/** What re-checking needs of the run. */
export interface RecheckDeps extends CallDeps, JudgeDeps {
  /** Tasks per page asked for. */
  pageSize: number;
}

/**
 * How this run re-checks the instance's watched syncs: every run while young, every SLOW_RECHECK_MS once past the
 * stuck threshold (`planRechecks` chooses between reading back and targeted calls). `slowChecked`: the slow re-checks
 * are done by this plan, which counts only when they cost something (a targeted call, or reading below the window).
 * Pure.
 */
export function recheckPlanFor(
  watched: readonly WatchedSync[],
  o: { prev?: Cursor; now: number; stuckAfterMs: number; pageSize: number },
): { plan: RecheckPlan; slowChecked: boolean } {
  const slowDue = o.now - (o.prev?.recheckedAt ?? 0) >= SLOW_RECHECK_MS;
  const due = watched.filter((w) => isDue(w, o.now, slowDue, o.stuckAfterMs));
  const plan = planRechecks(due, {
    top: o.prev?.top,
    ratePerHour: o.prev?.rate,
    pageSize: o.prev?.pageSize ?? o.pageSize,
  });
  const slow = new Set(due.filter((w) => o.now - w.task.createTime > o.stuckAfterMs).map((w) => w.task.taskId));
  const slowChecked =
    slowDue &&
    (plan.targeted.some((r) => r.taskIds.some((id) => slow.has(id))) ||
      (plan.extraPages > 0 && plan.swept.some((id) => slow.has(id))));
  return { plan, slowChecked };
}

/**
 * Re-reads the due watched syncs the scan did not read, one targeted call per push or image (while there is time to
 * fetch), and yields the chunk of each call that found any. Returns the ids not found. Throws what a CR call or the
 * store throws.
 */
export async function* recheckTargeted(
  o: Observation,
  targeted: readonly Recheck[],
  seenWatched: ReadonlySet<string>,
  deps: RecheckDeps,
): AsyncGenerator<Judged, string[]> {
  const missing: string[] = [];
  for (const r of targeted) {
    const wanted = r.taskIds.filter((id) => !seenWatched.has(id) && o.detector.watched.has(id));
    if (wanted.length === 0 || !hasFetchTime(deps.budget)) continue;
    const found = await recheck({ inst: o.inst, cr: o.cr, filter: r.filter, wanted }, deps);
    o.found.rechecks += found.calls;
    if (found.tasks.length > 0)
      yield await judge(o, { tasks: found.tasks, lo: Number.NEGATIVE_INFINITY, watchOnly: false }, deps);
    missing.push(...wanted.filter((id) => !found.tasks.some((t) => t.taskId === id)));
  }
  return missing;
}

/**
 * Re-reads watched syncs with one filter, at most RECHECK_PAGES pages, stopping at a short page or once all are found:
 * the tasks found among `wanted`, and the calls it took.
 */
export async function recheck(
  r: { inst: InstanceRef; cr: CrApi; filter: TaskFilter; wanted: readonly string[] },
  deps: CallDeps & { pageSize: number },
): Promise<{ tasks: SyncTask[]; calls: number }> {
  const want = new Set(r.wanted);
  const tasks: SyncTask[] = [];
  let calls = 0;
  for (let pageNo = 1; pageNo <= RECHECK_PAGES && want.size > 0; pageNo++) {
    const page = await callCr(deps, `ListRepoSyncTask ${r.inst.key} re-check page ${pageNo}`, (timeoutMs) =>
      r.cr.listSyncTasks({
        instanceId: r.inst.instanceId,
        pageNo,
        pageSize: deps.pageSize,
        timeoutMs,
        filter: r.filter,
      }),
    );
    calls += 1;
    for (const t of page.items) {
      if (want.delete(t.taskId)) tasks.push(t);
    }
    if (page.items.length < page.pageSize) break;
  }
  return { tasks, calls };
}

/**
 * Watched syncs carried over from an earlier version (known only by id) are found only by reading back: those the
 * sweep should have covered (created no earlier than `coveredTo`, how far the top pass read) but did not read are
 * missing. None when the top pass read nothing. Pure.
 */
export function sweptMissing(
  swept: readonly string[],
  watched: ReadonlyMap<string, WatchedSync>,
  seenWatched: ReadonlySet<string>,
  coveredTo: number | undefined,
): string[] {
  if (coveredTo === undefined) return [];
  return swept.filter((id) => {
    const w = watched.get(id);
    return w?.partial === true && !seenWatched.has(id) && w.task.createTime >= coveredTo;
  });
}
