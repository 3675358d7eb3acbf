import type { CrApi, TaskFilter } from '../acr/client.js';
import type { Budget, Clock } from '../lib/budget.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';
import type { MonitorAlert } from '../model/alert.js';
import type { Cursor, FailingImage, WatchedSync } from '../model/state.js';
import { isSettled, type InstanceRef, type SyncRule, type SyncTask } from '../model/task.js';
import { InstanceDetector, zeroReasons, type Batch, type Changes, type DetectOptions, type Reason } from './detect.js';
import { updateHealth } from './health.js';
import { scanTasks, type ScanResult } from './scan.js';
import { isDue, MISS_LIMIT, planRechecks, SLOW_RECHECK_MS } from './watch.js';

/** Preferred timeout for one CR call; pop-core's own default is 3 s. */
const CR_CALL_TIMEOUT_MS = 8_000;

/** Sync rules per instance are few; this only bounds a runaway listing. */
const MAX_RULE_PAGES = 20;
const RULE_PAGE_SIZE = 50;
/** Tasks judged (and claimed) together: bounds memory whatever the burst. */
export const CHUNK_TASKS = 1_000;
/** Pages one targeted re-check may read (a push rarely has more than a few tasks). */
const RECHECK_PAGES = 3;

/** What observing needs of the store: watched syncs, and lookups of claimed failures and failing images. */
export interface StateLookups {
  watched(instance: string): Promise<WatchedSync[]>;
  lookup(
    instance: string,
    taskIds: readonly string[],
    imageKeys: readonly string[],
  ): Promise<{ handled: Set<string>; failing: Map<string, FailingImage> }>;
}

/** How instances are read and what counts as new. */
export interface ObserveSettings extends DetectOptions {
  instances: readonly InstanceRef[];
  pageSize: number;
  maxPages: number;
  /** Instances read at once (CR throttles per account). */
  concurrency: number;
  /** On the first run, failures older than this are not announced. */
  lookbackMs: number;
  /** On the first run, unfinished syncs are looked for this far below the look-back, to be watched. */
  discoveryMs: number;
  /** Consecutive runs that cannot read an instance before the channels are told alerting is blind there. */
  blindAfterRuns: number;
}

/** What observing needs: a CR client per region, the store, the run's clock, budget and log. */
export interface ObserveDeps {
  crFor(regionId: string): CrApi;
  store: StateLookups;
  clock: Clock;
  budget: Budget;
  log: Logger;
  settings: ObserveSettings;
}

/** One judged chunk of an instance's tasks, with a way to name their rules. */
export interface Judged {
  inst: InstanceRef;
  changes: Changes;
  /** The instance's sync rules by id, read once per run when first asked (undefined when they cannot be read). */
  rules(): Promise<Map<string, SyncRule> | undefined>;
}

/** What a run learned about one instance, once all its chunks were judged. */
export interface InstanceReport {
  inst: InstanceRef;
  /** The cursor to store, when it changed. */
  cursor?: Cursor;
  scan?: Pick<ScanResult, 'pagesRead' | 'tasksRead' | 'complete' | 'stoppedBecause' | 'anomalies'> & { order?: string };
  /** Time since the oldest task still unread within the window (0 when caught up). */
  behindMs: number;
  reasons: Record<Reason, number>;
  newFailures: number;
  watched: number;
  rechecks: number;
  /** Watched syncs no longer found, so no longer watched. */
  gone: string[];
  /** Alerting's own sight of the instance changed: blind, or restored. */
  notice?: MonitorAlert;
  error?: unknown;
}

const sumReasons = (into: Record<Reason, number>, from: Record<Reason, number>) => {
  for (const k of Object.keys(from) as Reason[]) into[k] += from[k];
};
/**
 * How much task history inside the window is still unread (the spans of the cursor's gaps), in ms: it shrinks run by
 * run while a backlog is worked down, and is 0 when caught up. (A gap ends at the window's start when where the list
 * ends is not known yet, so this is an upper bound.)
 */
export const unreadMs = (c: Cursor | undefined): number =>
  (c?.gaps ?? []).filter((g) => !g.watchOnly).reduce((n, g) => n + Math.max(0, g.hi - g.lo), 0);

/**
 * The order instances are read in: one never read first, then one the last run could not reach, then the most unread
 * history; a backlog is worked down without starving the others.
 */
export function readingOrder<T>(items: readonly T[], cursorOf: (t: T) => Cursor | undefined): T[] {
  const rank = (c: Cursor | undefined) => (c === undefined ? 2 : c.starved ? 1 : 0);
  return [...items].sort(
    (a, b) => rank(cursorOf(b)) - rank(cursorOf(a)) || unreadMs(cursorOf(b)) - unreadMs(cursorOf(a)),
  );
}

/**
 * Observes one instance: its watched syncs, its task list from where the last run left it, re-checks of watched syncs
 * the list does not reach, and held transient failures now due. Yields judged chunks of at most CHUNK_TASKS tasks,
 * each to be claimed before the next is read; returns what the run learned. An instance that cannot be read is
 * reported with its error and its cursor unchanged but for its read health.
 */
export async function* observeInstance(
  inst: InstanceRef,
  prev: Cursor | undefined,
  deps: ObserveDeps,
): AsyncGenerator<Judged, InstanceReport> {
  const { settings: s, log } = deps;
  const now = deps.clock.now();
  const cr = deps.crFor(inst.regionId);
  const reasons = zeroReasons();
  let newFailures = 0;
  let rechecks = 0;
  let rulesRead: Promise<Map<string, SyncRule> | undefined> | undefined;
  const rules = () =>
    (rulesRead ??= fetchRules(inst, cr, deps).catch((error: unknown) => {
      // Names make a message better, but a failure must not wait for them.
      log.warn('could not read sync rules; alerts go out without rule names', {
        instance: inst.key,
        error: describeError(error),
      });
      return undefined;
    }));
  const retry = <T>(label: string, fn: (t: number) => Promise<T>) =>
    withRetry(fn, { budget: deps.budget, log, label, attemptTimeoutMs: CR_CALL_TIMEOUT_MS, keepReserve: true });

  let detector: InstanceDetector | undefined;
  const judge = async (batch: Batch): Promise<Judged> => {
    const needs = detector!.needs(batch);
    const known =
      needs.taskIds.length + needs.imageKeys.length > 0
        ? await deps.store.lookup(inst.key, needs.taskIds, needs.imageKeys)
        : { handled: new Set<string>(), failing: new Map() };
    const changes = detector!.take(batch, known);
    sumReasons(reasons, changes.reasons);
    newFailures += changes.failures.length;
    if (changes.unknownStatuses.length > 0)
      log.warn('tasks with an undocumented TaskStatus are watched like running ones', {
        instance: inst.key,
        statuses: changes.unknownStatuses,
      });
    return { inst, changes, rules };
  };

  let scan: ScanResult | undefined;
  let gone: string[] = [];
  try {
    const watched = (prev?.watching ?? 0) > 0 ? await deps.store.watched(inst.key) : [];
    detector = new InstanceDetector(prev, watched, now, s);
    // Re-checks of watched syncs: every run while young, every SLOW_RECHECK_MS once past the stuck threshold.
    const slowDue = now - (prev?.recheckedAt ?? 0) >= SLOW_RECHECK_MS;
    const due = watched.filter((w) => isDue(w, now, slowDue, s.stuckAfterMs));
    const plan = planRechecks(due, { top: prev?.top, ratePerHour: prev?.rate, pageSize: prev?.pageSize ?? s.pageSize });
    // The slow re-checks count as done only when they cost something: a targeted call, or reading below the window.
    const slow = new Set(due.filter((w) => now - w.task.createTime > s.stuckAfterMs).map((w) => w.task.taskId));
    const slowChecked =
      slowDue &&
      (plan.targeted.some((r) => r.taskIds.some((id) => slow.has(id))) ||
        (plan.extraPages > 0 && plan.swept.some((id) => slow.has(id))));

    const gen = scanTasks({
      cursor: prev,
      now,
      lookbackMs: s.lookbackMs,
      discoveryMs: s.discoveryMs,
      pageSize: s.pageSize,
      maxPages: s.maxPages,
      sweepTo: plan.sweepTo,
      hasTime: () => deps.budget.remainingForFetch() > 1_000,
      fetchPage: (pageNo) =>
        retry(`ListRepoSyncTask ${inst.key} page ${pageNo}`, (timeoutMs) =>
          cr.listSyncTasks({ instanceId: inst.instanceId, pageNo, pageSize: s.pageSize, timeoutMs }),
        ),
    });
    const seenWatched = new Set<string>();
    // Unfinished syncs the scan itself read (few: each is watched): when they include every slow one, the slow
    // re-checks are as good as done.
    const seenOpen = new Set<string>();
    let chunk: Batch | undefined;
    for (;;) {
      const r = await gen.next();
      if (!r.done) {
        for (const t of r.value.tasks) {
          if (detector.watched.has(t.taskId)) seenWatched.add(t.taskId);
          if (!isSettled(t.status)) seenOpen.add(t.taskId);
        }
        if (
          chunk &&
          (chunk.lo !== r.value.lo ||
            chunk.watchOnly !== r.value.watchOnly ||
            chunk.tasks.length + r.value.tasks.length > CHUNK_TASKS)
        ) {
          yield await judge(chunk);
          chunk = undefined;
        }
        chunk = chunk
          ? { ...chunk, tasks: [...chunk.tasks, ...r.value.tasks] }
          : { tasks: [...r.value.tasks], lo: r.value.lo, watchOnly: r.value.watchOnly };
        continue;
      }
      scan = r.value;
      break;
    }
    if (chunk) yield await judge(chunk);
    for (const d of scan.dropped) log.warn('skipped a malformed sync task', { instance: inst.key, problem: d });
    if (!scan.complete)
      log.warn('the scan stopped before reading everything new; the next run continues where it stopped', {
        instance: inst.key,
        because: scan.stoppedBecause,
        pages: scan.pagesRead,
      });
    const a = scan.anomalies;
    if (a.futureTimes + a.secondsTimes + a.repeatedPages > 0)
      log.warn('the task list said something it cannot mean; those times never move the watermark', {
        instance: inst.key,
        ...a,
      });

    // Targeted re-checks of due watched syncs the scan did not read.
    const missing: string[] = [];
    for (const r of plan.targeted) {
      const wanted = r.taskIds.filter((id) => !seenWatched.has(id) && detector!.watched.has(id));
      if (wanted.length === 0 || deps.budget.remainingForFetch() <= 1_000) continue;
      const found = await recheck(inst, cr, r.filter, wanted, (label, fn) => retry(label, fn), s.pageSize);
      rechecks += found.calls;
      if (found.tasks.length > 0)
        yield await judge({ tasks: found.tasks, lo: Number.NEGATIVE_INFINITY, watchOnly: false });
      missing.push(...wanted.filter((id) => !found.tasks.some((t) => t.taskId === id)));
    }
    // Syncs carried over from an earlier version are found only by reading back; one the sweep passed is gone.
    if (scan.coveredTo !== undefined) {
      for (const id of plan.swept) {
        const w = detector.watched.get(id);
        if (w?.partial && !seenWatched.has(id) && w.task.createTime >= scan.coveredTo) missing.push(id);
      }
    }
    if (missing.length > 0) {
      const m = detector.missed(missing, MISS_LIMIT);
      gone = m.gone;
      if (gone.length > 0)
        log.warn('stopped watching syncs the API no longer returns', { instance: inst.key, tasks: gone.slice(0, 20) });
      yield { inst, changes: m, rules };
    }
    // Held transient failures that have persisted long enough.
    const dueHeld = detector.dueHeld();
    if (dueHeld.length > 0) {
      const { failing } = await deps.store.lookup(inst.key, [], dueHeld);
      const released = detector.release(failing);
      newFailures += released.failures.length;
      if (released.failures.length + released.failing.size > 0) yield { inst, changes: released, rules };
    }
    // A read clears the failing-run count: the cursor below carries no health.
    const { notice } = updateHealth(inst.key, prev?.health, { ok: true }, now, s.blindAfterRuns);
    // Not reached at all (out of time before its first page): everything it knew stays, and it goes first next run.
    const reading: Cursor =
      scan.pagesRead > 0
        ? scan.cursor
        : {
            ...(prev?.top !== undefined ? { top: prev.top } : {}),
            gaps: prev?.gaps ?? [],
            ...hints(prev),
            starved: true,
          };
    const slowNow = [...detector.watched.values()].filter((w) => now - w.task.createTime > s.stuckAfterMs);
    const slowSeen = slowNow.length > 0 && slowNow.every((w) => seenOpen.has(w.task.taskId));
    // Seen by the scan counts as re-checked only when the cursor is written anyway: a quiet run writes nothing.
    const recheckedAt = slowChecked || (slowSeen && reading.top !== prev?.top) ? now : prev?.recheckedAt;
    const next: Cursor = {
      ...reading,
      // Rate and size hints move only with new tasks: a quiet run leaves the cursor as it was, and writes nothing.
      ...(reading.top === prev?.top ? hints(prev) : {}),
      ...detector.cursorPart(reading.top),
      ...(recheckedAt !== undefined ? { recheckedAt } : {}),
    };
    return {
      inst,
      cursor: next,
      scan: {
        pagesRead: scan.pagesRead,
        tasksRead: scan.tasksRead,
        complete: scan.complete,
        stoppedBecause: scan.stoppedBecause,
        anomalies: scan.anomalies,
        order: next.order,
      },
      behindMs: unreadMs(next),
      reasons,
      newFailures,
      watched: detector.watched.size,
      rechecks,
      gone,
      ...(notice ? { notice } : {}),
    };
  } catch (error) {
    const level = error instanceof IntegrationError && error.kind === 'config' ? 'error' : 'warn';
    log[level]('could not read sync tasks; this instance is retried next run', {
      instance: inst.key,
      error: describeError(error),
    });
    const h = updateHealth(inst.key, prev?.health, { ok: false, error: describeError(error) }, now, s.blindAfterRuns);
    const cursor: Cursor = { ...(prev ?? { gaps: [] }), health: h.health };
    return {
      inst,
      cursor,
      behindMs: unreadMs(prev),
      reasons,
      newFailures,
      watched: detector?.watched.size ?? prev?.watching ?? 0,
      rechecks,
      gone,
      ...(h.notice ? { notice: h.notice } : {}),
      error,
    };
  }
}

/** The cursor's hints that only new tasks move. */
const hints = (c: Cursor | undefined): Partial<Cursor> => ({
  ...(c?.rate !== undefined ? { rate: c.rate } : {}),
  ...(c?.total !== undefined ? { total: c.total } : {}),
  ...(c?.pageSize !== undefined ? { pageSize: c.pageSize } : {}),
  ...(c?.order !== undefined ? { order: c.order } : {}),
});

/** Re-reads watched syncs with one filter: the tasks found among `wanted`, and the calls it took. */
async function recheck(
  inst: InstanceRef,
  cr: CrApi,
  filter: TaskFilter,
  wanted: readonly string[],
  retry: <T>(label: string, fn: (t: number) => Promise<T>) => Promise<T>,
  pageSize: number,
) {
  const want = new Set(wanted);
  const tasks: SyncTask[] = [];
  let calls = 0;
  for (let pageNo = 1; pageNo <= RECHECK_PAGES && want.size > 0; pageNo++) {
    const page = await retry(`ListRepoSyncTask ${inst.key} re-check page ${pageNo}`, (timeoutMs) =>
      cr.listSyncTasks({ instanceId: inst.instanceId, pageNo, pageSize, timeoutMs, filter }),
    );
    calls += 1;
    for (const t of page.items) {
      if (want.delete(t.taskId)) tasks.push(t);
    }
    if (page.items.length < page.pageSize) break;
  }
  return { tasks, calls };
}

/** All sync rules of an instance by id. */
async function fetchRules(
  inst: InstanceRef,
  cr: CrApi,
  deps: Pick<ObserveDeps, 'budget' | 'log'>,
): Promise<Map<string, SyncRule>> {
  const rules = new Map<string, SyncRule>();
  for (let pageNo = 1; pageNo <= MAX_RULE_PAGES; pageNo++) {
    const page = await withRetry(
      (timeoutMs) => cr.listSyncRules({ instanceId: inst.instanceId, pageNo, pageSize: RULE_PAGE_SIZE, timeoutMs }),
      {
        budget: deps.budget,
        log: deps.log,
        label: `ListRepoSyncRule ${inst.key} page ${pageNo}`,
        attemptTimeoutMs: CR_CALL_TIMEOUT_MS,
        keepReserve: true,
      },
    );
    for (const r of page.items) rules.set(r.ruleId, r);
    // A short page ends the list whatever TotalCount says.
    if (page.items.length < page.pageSize) break;
  }
  return rules;
}
