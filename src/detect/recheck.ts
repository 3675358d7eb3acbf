import type { CrApi, TaskFilter } from '../acr/client.js';
import type { Cursor, WatchedSync } from '../model/state.js';
import type { InstanceRef, SyncTask } from '../model/task.js';
import { callCr, hasFetchTime, type CallDeps } from './cr-call.js';
import { judge, type JudgeDeps, type Judged, type Observation } from './judge.js';
import { dueAt, type DueSync, type Recheck } from './watch.js';

/** Pages one targeted re-check may read (a push rarely has more than a few tasks). */
export const RECHECK_PAGES = 3;

/** What re-checking needs of the run. */
export interface RecheckDeps extends CallDeps, JudgeDeps {
  /** Tasks per page asked for. */
  pageSize: number;
}

/**
 * The watched syncs whose re-check is due now, each with when it fell due (see `dueAt`), from when each was last
 * checked: its own `checkedAt`; for a sync with none, when it was first seen or, when later, the cursor's
 * `recheckedAt` (the previous release kept one time for all). Pure.
 */
export function dueSyncs(
  watched: Iterable<WatchedSync>,
  o: { prev?: Cursor; now: number; stuckAfterMs: number },
): DueSync[] {
  const out: DueSync[] = [];
  for (const w of watched) {
    const last = w.checkedAt ?? Math.max(w.firstSeen, o.prev?.recheckedAt ?? Number.NEGATIVE_INFINITY);
    const at = dueAt(w, last, o.stuckAfterMs, o.now);
    if (at <= o.now) out.push({ w, dueAt: at });
  }
  return out;
}

/**
 * How long the longest-waiting due re-check has waited past the time it fell due, among the due syncs still watched
 * that this run did not re-read; 0 when every due re-check was made. Pure.
 */
export function recheckBehind(
  due: readonly DueSync[],
  reread: ReadonlySet<string>,
  watched: ReadonlyMap<string, WatchedSync>,
  now: number,
): number {
  return due.reduce(
    (n, d) => (reread.has(d.w.task.taskId) || !watched.has(d.w.task.taskId) ? n : Math.max(n, now - d.dueAt)),
    0,
  );
}

/**
 * Notes in a chunk's rows that the watched syncs `ids` (those still watched) were re-checked at `o.now`: their rows,
 * written by the chunk or added to it, carry `checkedAt`, so the next runs know when each falls due again.
 */
export function markChecked(o: Observation, changes: Judged['changes'], ids: Iterable<string>): void {
  const watch = new Map(changes.watch.map((w) => [w.task.taskId, w]));
  for (const id of ids) {
    const w = o.detector.watched.get(id);
    if (!w || w.checkedAt === o.now) continue;
    const next = { ...w, checkedAt: o.now };
    o.detector.watched.set(id, next);
    watch.set(id, next);
  }
  changes.watch = [...watch.values()];
}

/**
 * Notes re-checked the syncs whose rows a chunk writes anyway (a sync whose status changed): no row more. The rows of
 * the others re-read unchanged are written together, in the chunk that ends the re-checks.
 */
export const markWritten = (o: Observation, changes: Judged['changes']): void =>
  markChecked(
    o,
    changes,
    changes.watch.map((w) => w.task.taskId),
  );

/**
 * Re-reads the planned watched syncs the scan did not read, one targeted call per push or image (while there is time
 * to fetch), and yields the chunk of each call that found any (see `markWritten`). Returns the ids read (found or
 * not) and those not found. Throws what a CR call or the store throws.
 */
export async function* recheckTargeted(
  o: Observation,
  targeted: readonly Recheck[],
  seenWatched: ReadonlySet<string>,
  deps: RecheckDeps,
): AsyncGenerator<Judged, { missing: string[]; read: string[] }> {
  const missing: string[] = [];
  const read: string[] = [];
  for (const r of targeted) {
    const wanted = r.taskIds.filter((id) => !seenWatched.has(id) && o.detector.watched.has(id));
    if (wanted.length === 0 || !hasFetchTime(deps.budget)) continue;
    const found = await recheck({ inst: o.inst, cr: o.cr, filter: r.filter, wanted }, deps);
    o.found.rechecks += found.calls;
    read.push(...wanted);
    if (found.tasks.length > 0) {
      const j = await judge(o, { tasks: found.tasks, lo: Number.NEGATIVE_INFINITY, watchOnly: false }, deps);
      markWritten(o, j.changes);
      yield j;
    }
    missing.push(...wanted.filter((id) => !found.tasks.some((t) => t.taskId === id)));
  }
  return { missing, read };
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
 * Watched syncs carried over from an earlier version (known only by id) are found only by reading the list: those
 * due that a read covered (created within one of the `spans` of CreateTimes read, `lo` to `hi`) but that it did not
 * read are missing. Pure.
 */
export function passedMissing(
  due: readonly DueSync[],
  seenWatched: ReadonlySet<string>,
  spans: readonly { lo?: number; hi?: number }[],
): string[] {
  const within = (t: number) => spans.some((s) => s.lo !== undefined && s.hi !== undefined && s.lo <= t && t <= s.hi);
  return due
    .filter((d) => d.w.partial === true && !seenWatched.has(d.w.task.taskId) && within(d.w.task.createTime))
    .map((d) => d.w.task.taskId);
}
