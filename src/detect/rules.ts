import type { CrApi } from '../acr/client.js';
import { describeError } from '../lib/errors.js';
import type { InstanceRef, SyncRule } from '../model/task.js';
import { callCr, type CallDeps } from './cr-call.js';

/** Sync rules per instance are few; this only bounds a runaway listing. */
export const MAX_RULE_PAGES = 20;
const RULE_PAGE_SIZE = 50;

/**
 * All sync rules of an instance by id, read page by page until a short page (whatever TotalCount says) or
 * MAX_RULE_PAGES. Throws what the CR call threw once retries are spent.
 */
export async function fetchRules(inst: InstanceRef, cr: CrApi, deps: CallDeps): Promise<Map<string, SyncRule>> {
  const rules = new Map<string, SyncRule>();
  for (let pageNo = 1; pageNo <= MAX_RULE_PAGES; pageNo++) {
    const page = await callCr(deps, `ListRepoSyncRule ${inst.key} page ${pageNo}`, (timeoutMs) =>
      cr.listSyncRules({ instanceId: inst.instanceId, pageNo, pageSize: RULE_PAGE_SIZE, timeoutMs }),
    );
    for (const r of page.items) rules.set(r.ruleId, r);
    if (page.items.length < page.pageSize) break;
  }
  return rules;
}

/**
 * The instance's sync rules, read at most once per run and only when first asked; undefined (with a warning) when they
 * cannot be read: names make a message better, but a failure must not wait for them. Never throws.
 */
export function rulesOnce(
  inst: InstanceRef,
  cr: CrApi,
  deps: CallDeps,
): () => Promise<Map<string, SyncRule> | undefined> {
  let read: Promise<Map<string, SyncRule> | undefined> | undefined;
  return () =>
    (read ??= fetchRules(inst, cr, deps).catch((error: unknown) => {
      deps.log.warn('could not read sync rules; alerts go out without rule names', {
        instance: inst.key,
        error: describeError(error),
      });
      return undefined;
    }));
}
