import type { Cursor, WatchedSync } from '../model/state.js';
import { callsLeft } from './cr-call.js';
import { missedChunk, type Judged, type Observation } from './judge.js';
import { backStart, readBack, type BackResult, type BackStart } from './read-back.js';
import { dueSyncs, markChecked, passedMissing, recheckBehind, recheckTargeted, type RecheckDeps } from './recheck.js';
import type { ScanResult } from './scan.js';
import { MISS_LIMIT, planRechecks, type DueSync, type RecheckPlan } from './watch.js';

/** What re-checking an instance's watched syncs needs of the run: its budget, log and store, and its limits. */
export interface RecheckRunDeps extends Omit<RecheckDeps, 'pageSize'> {
  settings: { stuckAfterMs: number; pageSize: number; maxPages: number };
}

/**
 * Re-checks the due watched syncs the scan did not read, within the calls the run can still afford at the time its
 * CR calls take (`planRechecks`): reading the list back from where the last read-back stopped, and targeted calls.
 * Yields the chunks that found any, then one chunk noting misses and the syncs re-read (`checkedAt`): one write for
 * all the rows a re-check changes only that time of (the store splits it into requests of 200 rows). Returns where
 * the next read-back goes on (undefined: as before), and how far behind the due re-checks are.
 */
export async function* recheckWatched(
  o: Observation,
  r: { watched: readonly WatchedSync[]; scan: ScanResult; seen: ReadonlySet<string> },
  deps: RecheckRunDeps,
): AsyncGenerator<Judged, { readBack?: Cursor['readBack'] | null; behindMs: number }> {
  const s = deps.settings;
  const due = dueSyncs(r.watched, { prev: o.prev, now: o.now, stuckAfterMs: s.stuckAfterMs });
  if (due.length === 0) return { behindMs: 0 };
  const { plan, start } = planFor(o, { ...r, due }, deps);
  const recheckDeps = { budget: deps.budget, log: deps.log, store: deps.store, pageSize: s.pageSize };
  const back = plan.backPages > 0 && start ? yield* readBackCounted(o, start, recheckDeps) : undefined;
  const seen = new Set([...r.seen, ...(back?.found ?? [])]);
  const t = yield* recheckTargeted(o, plan.targeted, seen, recheckDeps);
  const spans = [{ lo: r.scan.coveredTo, hi: Number.POSITIVE_INFINITY }, ...(back ? [back] : [])];
  const missing = [...t.missing, ...passedMissing(due, seen, spans)];
  // A young sync the scan read is due again next run anyway: no row is written for it.
  const slow = (w: WatchedSync) => o.now - w.task.createTime > s.stuckAfterMs;
  const reread = new Set([...seen, ...t.read, ...missing]);
  const mark = due
    .map((d) => d.w)
    .filter((w) => reread.has(w.task.taskId) && (!r.seen.has(w.task.taskId) || slow(w)))
    .map((w) => w.task.taskId);
  const checked = missedChunk(o, missing, MISS_LIMIT, deps.log);
  markChecked(o, checked.changes, mark);
  if (checked.changes.watch.length + checked.changes.unwatch.length > 0) yield checked;
  return { readBack: back?.next, behindMs: recheckBehind(due, reread, o.detector.watched, o.now) };
}

/**
 * The plan for this run's re-checks (see `planRechecks`), from the calls the run can still afford at the time its CR
 * calls take, and where its read-back starts.
 */
function planFor(
  o: Observation,
  r: { due: readonly DueSync[]; scan: ScanResult; seen: ReadonlySet<string> },
  deps: RecheckRunDeps,
): { plan: RecheckPlan; start?: BackStart } {
  const s = deps.settings;
  const hints = { ...o.prev, ...r.scan.cursor };
  const size = hints.pageSize ?? s.pageSize;
  const top = r.scan.coveredTo ?? hints.top ?? o.now;
  const unread = r.due.filter((d) => !r.seen.has(d.w.task.taskId));
  const maxBack = s.maxPages - r.scan.pagesRead;
  const plan = planRechecks(unread, {
    calls: callsLeft(deps.budget),
    maxBackPages: maxBack,
    top,
    ...(o.prev?.readBack ? { resume: o.prev.readBack.below } : {}),
    ...(hints.rate !== undefined ? { ratePerHour: hints.rate } : {}),
    pageSize: size,
    canReadBack: hints.order === 'desc' || hints.order === 'asc',
  });
  const start = backStart(
    { ...hints, readBack: o.prev?.readBack },
    { from: plan.from, pages: plan.backPages, now: o.now, size, until: oldestOf(plan.back, o), maxPages: maxBack },
  );
  return { plan, ...(start ? { start } : {}) };
}

/** The oldest CreateTime of the watched syncs `ids` (undefined when none). */
function oldestOf(ids: readonly string[], o: Observation): number | undefined {
  const times = ids.flatMap((id) => o.detector.watched.get(id)?.task.createTime ?? []);
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** A read-back whose calls count as re-checks. */
async function* readBackCounted(
  o: Observation,
  start: BackStart,
  deps: RecheckDeps,
): AsyncGenerator<Judged, BackResult> {
  const r = yield* readBack(o, start, deps);
  o.found.rechecks += r.calls;
  return r;
}
