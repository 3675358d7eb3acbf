import pLimit from 'p-limit';
import type { ScanResult } from './acr/scan.js';
import type { SyncRule } from './acr/types.js';
import type { InstanceRef } from './config.js';
import { detect, type Detection } from './detect.js';
import { describeError, IntegrationError } from './errors.js';
import { fetchRules, fetchTasks } from './fetch.js';
import type { RunDeps } from './run.js';
import type { Checkpoint } from './state/checkpoint.js';

/** What one run learned about one instance: its tasks and what they mean, or why it could not read them. */
export interface InstanceOutcome {
  inst: InstanceRef;
  scan?: ScanResult;
  detection?: Detection;
  rules?: Map<string, SyncRule>;
  error?: unknown;
}

/**
 * Reads every configured instance (a bounded number at once) and decides what is new in each. An instance that
 * cannot be read is reported in its outcome; the others go on. Rule names are fetched only where there is
 * something to announce, so a quiet run reads one task page per instance and nothing else.
 */
export async function observeInstances(deps: RunDeps, prev: Checkpoint): Promise<InstanceOutcome[]> {
  const limit = pLimit(deps.config.fetchConcurrency);
  const lookbackMs = deps.config.lookbackMinutes * 60_000;
  return Promise.all(
    deps.config.instances.map((inst) =>
      limit(async (): Promise<InstanceOutcome> => {
        const cr = deps.crFor(inst.regionId);
        const now = deps.clock.now();
        const fetchDeps = { cr, budget: deps.budget, log: deps.log, now, lookbackMs, pageSize: deps.config.pageSize, maxPages: deps.config.maxPagesPerInstance };
        let scan: ScanResult;
        try {
          scan = await fetchTasks(inst, prev.instances[inst.key], fetchDeps);
        } catch (error) {
          const level = error instanceof IntegrationError && error.kind === 'config' ? 'error' : 'warn';
          deps.log[level]('could not read sync tasks; this instance is retried next run', { instance: inst.key, error: describeError(error) });
          return { inst, error };
        }
        const t = deps.config.transient;
        const detection = detect(prev.instances[inst.key], scan, now, {
          lookbackMs,
          stuckAfterMs: deps.config.stuckAfterMinutes * 60_000,
          transient: { minFailures: t.minFailures, windowMs: t.windowMinutes * 60_000, persistMs: t.persistMinutes * 60_000 },
        });
        if (detection.unknownStatuses.length > 0) deps.log.warn('tasks with an undocumented TaskStatus are watched like running ones', { instance: inst.key, statuses: detection.unknownStatuses });
        if (detection.stoppedWatching.length > 0) deps.log.warn('stopped watching tasks that vanished or stayed unfinished too long', { instance: inst.key, tasks: detection.stoppedWatching.slice(0, 20) });
        let rules: Map<string, SyncRule> | undefined;
        if (detection.failures.length + detection.recoveries.length + detection.stuck.length + detection.unstuck.length > 0) {
          try {
            rules = await fetchRules(inst, fetchDeps);
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
