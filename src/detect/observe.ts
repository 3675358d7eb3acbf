import pLimit from 'p-limit';
import type { CrApi } from '../acr/client.js';
import type { Budget, Clock } from '../lib/budget.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';
import type { Checkpoint, InstanceCursor } from '../model/checkpoint.js';
import type { InstanceRef, SyncRule } from '../model/task.js';
import { lowerBound } from './cursor.js';
import { detect, type Detection, type DetectOptions } from './detect.js';
import { scanTasks, type ScanResult } from './scan.js';

/** Preferred timeout for one CR call; pop-core's own default is 3 s. */
const CR_CALL_TIMEOUT_MS = 8_000;
/** Sync rules per instance are few; this only bounds a runaway listing. */
const MAX_RULE_PAGES = 20;
const RULE_PAGE_SIZE = 50;

/** What one run learned about one instance: its tasks and what they mean, or why it could not read them. */
export interface InstanceOutcome {
  inst: InstanceRef;
  scan?: ScanResult;
  detection?: Detection;
  rules?: Map<string, SyncRule>;
  error?: unknown;
}

/** How instances are read and what counts as new. */
export interface ObserveSettings extends DetectOptions {
  instances: readonly InstanceRef[];
  pageSize: number;
  maxPages: number;
  /** Instances read at once (CR throttles per account). */
  concurrency: number;
}

/** What observing needs: a CR client per region, the run's clock, budget and log. */
export interface ObserveDeps {
  crFor(regionId: string): CrApi;
  clock: Clock;
  budget: Budget;
  log: Logger;
  settings: ObserveSettings;
}

/** Reads the sync tasks of one instance that the cursor says are needed; CR errors surface as IntegrationError. */
async function fetchTasks(inst: InstanceRef, cursor: InstanceCursor | undefined, cr: CrApi, deps: ObserveDeps, now: number): Promise<ScanResult> {
  const { pageSize, maxPages, lookbackMs } = deps.settings;
  const result = await scanTasks({
    lowerBound: lowerBound(cursor, now, lookbackMs),
    orderHint: cursor?.order,
    lastTotal: cursor?.total,
    lastWatermark: cursor?.watermark,
    pageSize,
    maxPages,
    hasTime: () => deps.budget.remainingForFetch() > 1_000,
    fetchPage: (pageNo) =>
      withRetry((timeoutMs) => cr.listSyncTasks({ instanceId: inst.instanceId, pageNo, pageSize, timeoutMs }), {
        budget: deps.budget, log: deps.log, label: `ListRepoSyncTask ${inst.key} page ${pageNo}`, attemptTimeoutMs: CR_CALL_TIMEOUT_MS, keepReserve: true,
      }),
  });
  for (const d of result.dropped) deps.log.warn('skipped a malformed sync task', { instance: inst.key, problem: d });
  if (!result.complete) deps.log.warn('scan stopped before reaching the previous run; the next run continues', { instance: inst.key, because: result.stoppedBecause, pages: result.pagesRead });
  return result;
}

/** All sync rules of an instance by id. */
async function fetchRules(inst: InstanceRef, cr: CrApi, deps: Pick<ObserveDeps, 'budget' | 'log'>): Promise<Map<string, SyncRule>> {
  const rules = new Map<string, SyncRule>();
  for (let pageNo = 1; pageNo <= MAX_RULE_PAGES; pageNo++) {
    const page = await withRetry((timeoutMs) => cr.listSyncRules({ instanceId: inst.instanceId, pageNo, pageSize: RULE_PAGE_SIZE, timeoutMs }), {
      budget: deps.budget, log: deps.log, label: `ListRepoSyncRule ${inst.key} page ${pageNo}`, attemptTimeoutMs: CR_CALL_TIMEOUT_MS, keepReserve: true,
    });
    for (const r of page.items) rules.set(r.ruleId, r);
    if (page.items.length === 0 || pageNo * page.pageSize >= page.totalCount) break;
  }
  return rules;
}

/**
 * Reads every configured instance (a bounded number at once) and decides what is new in each. An instance that
 * cannot be read is reported in its outcome; the others go on. Rule names are fetched only where there is
 * something to announce, so a quiet run reads one task page per instance and nothing else.
 */
export async function observeInstances(deps: ObserveDeps, prev: Checkpoint): Promise<InstanceOutcome[]> {
  const limit = pLimit(deps.settings.concurrency);
  return Promise.all(
    deps.settings.instances.map((inst) =>
      limit(async (): Promise<InstanceOutcome> => {
        const cr = deps.crFor(inst.regionId);
        const now = deps.clock.now();
        let scan: ScanResult;
        try {
          scan = await fetchTasks(inst, prev.instances[inst.key], cr, deps, now);
        } catch (error) {
          const level = error instanceof IntegrationError && error.kind === 'config' ? 'error' : 'warn';
          deps.log[level]('could not read sync tasks; this instance is retried next run', { instance: inst.key, error: describeError(error) });
          return { inst, error };
        }
        const detection = detect(prev.instances[inst.key], scan, now, deps.settings);
        if (detection.unknownStatuses.length > 0) deps.log.warn('tasks with an undocumented TaskStatus are watched like running ones', { instance: inst.key, statuses: detection.unknownStatuses });
        if (detection.stoppedWatching.length > 0) deps.log.warn('stopped watching tasks that vanished or stayed unfinished too long', { instance: inst.key, tasks: detection.stoppedWatching.slice(0, 20) });
        let rules: Map<string, SyncRule> | undefined;
        if (detection.failures.length + detection.recoveries.length + detection.stuck.length + detection.unstuck.length > 0) {
          try {
            rules = await fetchRules(inst, cr, deps);
          } catch (error) {
            // Names make a message better, but a failure must not wait for them.
            deps.log.warn('could not read sync rules; alerts go out without rule names', { instance: inst.key, error: describeError(error) });
          }
        }
        return { inst, scan, detection, rules };
      }),
    ),
  );
}
