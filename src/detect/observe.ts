import type { CrApi } from '../acr/client.js';
import type { Budget, Clock } from '../lib/budget.js';
import type { Logger } from '../lib/log.js';
import type { Cursor, WatchedSync } from '../model/state.js';
import type { InstanceRef } from '../model/task.js';
import { InstanceDetector, type Batch, type DetectOptions } from './detect.js';
import { callCr, hasFetchTime } from './cr-call.js';
import {
  joinBatch,
  judge,
  noFindings,
  releaseHeld,
  type Judged,
  type Observation,
  type StateLookups,
} from './judge.js';
import { recheckWatched } from './recheck-watched.js';
import {
  failedReport,
  logScan,
  readReport,
  stoppedReport,
  readingRank,
  unreachedRuns,
  unreadMs,
  type InstanceReport,
} from './report.js';
import { rulesOnce } from './rules.js';
import { scanTasks, type ScanResult } from './scan.js';

export type { InstanceReport } from './report.js';
export type { Judged, StateLookups } from './judge.js';

/** Tasks judged (and claimed) together: bounds memory whatever the burst. */
export const CHUNK_TASKS = 1_000;

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
  /** Aborted when the run stops: observing then stops at the next chunk boundary. */
  signal?: AbortSignal;
}

/** What the scan saw besides the tasks it yielded: which watched syncs it read. */
interface Sight {
  watched: Set<string>;
}

/**
 * The order instances are read in: one never read first, then by rank (`readingRank`: the runs that did not reach an
 * instance, over the place it kept when a run last read it only in part), then the most unread history. Each run
 * reads on from where the last one ran out of time, so every instance is read within ⌈instances / instances a run
 * reaches⌉ runs; one read only in part keeps its place rather than going to the back, and since that place does not
 * grow while it is read, a backlog is worked down without starving the others. Ties keep the configured order. Pure.
 */
export function readingOrder<T>(items: readonly T[], cursorOf: (t: T) => Cursor | undefined): T[] {
  const rank = (c: Cursor | undefined) => (c === undefined ? Infinity : readingRank(c));
  const keyed = items.map((item) => {
    const c = cursorOf(item);
    return { item, rank: rank(c), waiting: unreachedRuns(c) > 0 ? 1 : 0, unread: unreadMs(c) };
  });
  // Of equal rank, one the last run did not reach goes before one it read in part.
  const before = (a: (typeof keyed)[number], b: (typeof keyed)[number]) =>
    b.rank - a.rank || b.waiting - a.waiting || b.unread - a.unread;
  return keyed.sort(before).map((k) => k.item);
}

/**
 * Observes one instance: its watched syncs, its task list from where the last run left it, re-checks of watched syncs
 * the list does not reach, and held transient failures now due. Yields judged chunks of at most CHUNK_TASKS tasks,
 * each to be claimed before the next is read; returns what the run learned. An instance that cannot be read is
 * reported with its error and its cursor unchanged but for its read health. Once `deps.signal` is aborted it reads
 * nothing more: at the next chunk boundary it returns a report without a cursor (see `stoppedReport`).
 */
export async function* observeInstance(
  inst: InstanceRef,
  prev: Cursor | undefined,
  deps: ObserveDeps,
): AsyncGenerator<Judged, InstanceReport> {
  const now = deps.clock.now();
  const cr = deps.crFor(inst.regionId);
  const found = noFindings();
  let detector: InstanceDetector | undefined;
  const watching = () => detector?.watched.size ?? prev?.watching ?? 0;
  try {
    if (deps.signal?.aborted) return stoppedReport({ inst, prev, found, watched: watching() });
    const watched = (prev?.watching ?? 0) > 0 ? await deps.store.watched(inst.key) : [];
    detector = new InstanceDetector(prev, watched, now, deps.settings);
    const o: Observation = { inst, prev, now, cr, detector, found, rules: rulesOnce(inst, cr, deps) };
    const steps = observeSteps(o, watched, deps);
    for (;;) {
      const r = await steps.next();
      if (r.done) return r.value;
      yield r.value;
      if (deps.signal?.aborted) return stoppedReport({ inst, prev, found, watched: watching() });
    }
  } catch (error) {
    return failedReport({ inst, prev, now, found, watched: watching(), error }, deps.settings, deps.log);
  }
}

/** The steps of observing an instance, in order; each yields the chunks it judged. */
async function* observeSteps(
  o: Observation,
  watched: readonly WatchedSync[],
  deps: ObserveDeps,
): AsyncGenerator<Judged, InstanceReport> {
  const s = deps.settings;
  const { scan, sight } = yield* readList(o, deps);
  logScan(o.inst, scan, deps.log);
  const recheckDeps = { budget: deps.budget, log: deps.log, store: deps.store, settings: s };
  const re = yield* recheckWatched(o, { watched, scan, seen: sight.watched }, recheckDeps);
  yield* releaseHeld(o, deps);
  return readReport(o, { scan, readBack: re.readBack, recheckBehindMs: re.behindMs }, s);
}

/**
 * Scans the instance's task list and yields it judged, in chunks of one stretch and at most CHUNK_TASKS tasks.
 * Returns the scan's result, and which watched syncs it read (noted before their chunk is judged,
 * since judging stops watching a sync that settled).
 */
async function* readList(
  o: Observation,
  deps: ObserveDeps,
): AsyncGenerator<Judged, { scan: ScanResult; sight: Sight }> {
  const s = deps.settings;
  const gen = scanTasks({
    cursor: o.prev,
    now: o.now,
    lookbackMs: s.lookbackMs,
    discoveryMs: s.discoveryMs,
    pageSize: s.pageSize,
    maxPages: s.maxPages,
    hasTime: () => hasFetchTime(deps.budget),
    fetchPage: (pageNo) =>
      callCr(deps, `ListRepoSyncTask ${o.inst.key} page ${pageNo}`, (timeoutMs) =>
        o.cr.listSyncTasks({ instanceId: o.inst.instanceId, pageNo, pageSize: s.pageSize, timeoutMs }),
      ),
  });
  const sight: Sight = { watched: new Set() };
  let chunk: Batch | undefined;
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      if (chunk) yield await judge(o, chunk, deps);
      return { scan: r.value, sight };
    }
    for (const t of r.value.tasks) {
      if (o.detector.watched.has(t.taskId)) sight.watched.add(t.taskId);
    }
    const joined = joinBatch(chunk, r.value, CHUNK_TASKS);
    if (joined.ready) yield await judge(o, joined.ready, deps);
    chunk = joined.chunk;
  }
}
