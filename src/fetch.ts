import type { Budget } from './budget.js';
import type { CrApi } from './acr/client.js';
import { scanTasks, type ScanResult } from './acr/scan.js';
import type { SyncRule } from './acr/types.js';
import type { InstanceRef } from './config.js';
import type { Logger } from './log.js';
import { withRetry } from './retry.js';
import { lowerBound, type InstanceCursor } from './state/checkpoint.js';

/** Preferred timeout for one CR call; pop-core's own default is 3 s. */
const CR_CALL_TIMEOUT_MS = 8_000;
/** Sync rules per instance are few; this only bounds a runaway listing. */
const MAX_RULE_PAGES = 20;
const RULE_PAGE_SIZE = 50;

export interface FetchDeps {
  cr: CrApi;
  budget: Budget;
  log: Logger;
  now: number;
  lookbackMs: number;
  pageSize: number;
  maxPages: number;
}

/** Reads the sync tasks of one instance that the cursor says are needed; CR errors surface as IntegrationError. */
export async function fetchTasks(inst: InstanceRef, cursor: InstanceCursor | undefined, deps: FetchDeps): Promise<ScanResult> {
  const result = await scanTasks({
    lowerBound: lowerBound(cursor, deps.now, deps.lookbackMs),
    orderHint: cursor?.order,
    lastTotal: cursor?.total,
    lastWatermark: cursor?.watermark,
    pageSize: deps.pageSize,
    maxPages: deps.maxPages,
    hasTime: () => deps.budget.remainingForFetch() > 1_000,
    fetchPage: (pageNo) =>
      withRetry((timeoutMs) => deps.cr.listSyncTasks({ instanceId: inst.instanceId, pageNo, pageSize: deps.pageSize, timeoutMs }), {
        budget: deps.budget, log: deps.log, label: `ListRepoSyncTask ${inst.key} page ${pageNo}`, attemptTimeoutMs: CR_CALL_TIMEOUT_MS, keepReserve: true,
      }),
  });
  for (const d of result.dropped) deps.log.warn('skipped a malformed sync task', { instance: inst.key, problem: d });
  if (!result.complete) deps.log.warn('scan stopped before reaching the previous run; the next run continues', { instance: inst.key, because: result.stoppedBecause, pages: result.pagesRead });
  return result;
}

/** All sync rules of an instance by id. */
export async function fetchRules(inst: InstanceRef, deps: Pick<FetchDeps, 'cr' | 'budget' | 'log'>): Promise<Map<string, SyncRule>> {
  const rules = new Map<string, SyncRule>();
  for (let pageNo = 1; pageNo <= MAX_RULE_PAGES; pageNo++) {
    const page = await withRetry((timeoutMs) => deps.cr.listSyncRules({ instanceId: inst.instanceId, pageNo, pageSize: RULE_PAGE_SIZE, timeoutMs }), {
      budget: deps.budget, log: deps.log, label: `ListRepoSyncRule ${inst.key} page ${pageNo}`, attemptTimeoutMs: CR_CALL_TIMEOUT_MS, keepReserve: true,
    });
    for (const r of page.items) rules.set(r.ruleId, r);
    if (page.items.length === 0 || pageNo * page.pageSize >= page.totalCount) break;
  }
  return rules;
}
