import type { CrApi } from '../acr/client.js';
import type { Clock } from '../lib/budget.js';
import { describeError } from '../lib/errors.js';
import type { KeptRules } from '../model/state.js';
import type { InstanceRef, SyncRule } from '../model/task.js';
import { callCr, type CallDeps } from './cr-call.js';

/** Sync rules per instance are few; this only bounds a runaway listing. */
export const MAX_RULE_PAGES = 20;
const RULE_PAGE_SIZE = 50;
/**
 * How long rules read from the API are used before they are read again. Rules change rarely, and a rule a task names
 * that is not kept is read at once; a renamed rule shows its old name for at most this long.
 */
export const RULES_KEEP_MS = 3_600_000;

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

/** Where an instance's rules are kept between runs (a row of the state). */
export interface RuleKeeper {
  keptRules(instance: string): Promise<KeptRules | undefined>;
  keepRules(instance: string, kept: KeptRules): Promise<void>;
}

/** What naming rules needs: CR calls within the run's budget, the keeper of the rules, the clock and the log. */
export interface RulesDeps extends CallDeps {
  store: RuleKeeper;
  clock: Clock;
}

/**
 * An instance's sync rules by id, for naming them in messages, given the rule ids the alerts name (all of them when not
 * told); undefined when none are known.
 */
export type RulesFor = (named?: readonly string[]) => Promise<Map<string, SyncRule> | undefined>;

/** What a message names of a rule: the rest (filters, targets) is not kept. */
const keptRule = (r: SyncRule) => ({
  ruleId: r.ruleId,
  name: r.name,
  scope: r.scope,
  ...(r.trigger !== undefined ? { trigger: r.trigger } : {}),
});

const byId = (kept: KeptRules): Map<string, SyncRule> => new Map(kept.rules.map((r) => [r.ruleId, r]));

/**
 * The instance's sync rules for one run. The rules kept in the state serve while younger than RULES_KEEP_MS and holding
 * every rule id asked for; otherwise they are read from the API, at most once per run and only when first needed, and
 * kept for the next runs. Names make a message better, but a failure must not wait for them: when the API cannot be
 * read, the rules kept (however old) serve, else undefined, with a warning; a state that cannot be read or written
 * only costs the API call. Never throws.
 */
export function rulesOnce(inst: InstanceRef, cr: CrApi, deps: RulesDeps): RulesFor {
  let kept: Promise<KeptRules | undefined> | undefined;
  let read: Promise<Map<string, SyncRule> | undefined> | undefined;
  return async (named) => {
    if (read) return read;
    const k = await (kept ??= readKept(inst, deps));
    const fresh = k !== undefined && deps.clock.now() - k.readAt < RULES_KEEP_MS;
    const ids = new Set([...(k?.rules.map((r) => r.ruleId) ?? []), ...(k?.absent ?? [])]);
    if (fresh && (named ?? []).every((id) => ids.has(id))) return byId(k);
    return (read ??= readAndKeep(inst, cr, deps, { before: k, named: named ?? [] }));
  };
}

/** The rules kept in the state; undefined (with a warning) when the state cannot be read. */
function readKept(inst: InstanceRef, deps: RulesDeps): Promise<KeptRules | undefined> {
  return deps.store.keptRules(inst.key).catch((error: unknown) => {
    deps.log.warn('could not read the sync rules kept in the state; reading them from CR', {
      instance: inst.key,
      error: describeError(error),
    });
    return undefined;
  });
}

/** Ids kept as absent at most: a run's alerts name few rules, this only bounds the row. */
const MAX_ABSENT = 100;

/**
 * Reads the rules from the API and keeps them, with the ids `named` that the API does not list (so they do not make
 * the next runs read the rules again); when that fails, the rules kept before (if any) serve.
 */
async function readAndKeep(
  inst: InstanceRef,
  cr: CrApi,
  deps: RulesDeps,
  { before, named }: { before: KeptRules | undefined; named: readonly string[] },
): Promise<Map<string, SyncRule> | undefined> {
  const readAt = deps.clock.now();
  let rules: Map<string, SyncRule>;
  try {
    rules = await fetchRules(inst, cr, deps);
  } catch (error) {
    deps.log.warn(
      before
        ? 'could not read sync rules; alerts name the rules as last read'
        : 'could not read sync rules; alerts go out without rule names',
      { instance: inst.key, error: describeError(error) },
    );
    return before && byId(before);
  }
  try {
    const absent = named.filter((id) => !rules.has(id)).slice(0, MAX_ABSENT);
    const kept = { readAt, rules: [...rules.values()].map(keptRule), ...(absent.length > 0 ? { absent } : {}) };
    await deps.store.keepRules(inst.key, kept);
  } catch (error) {
    deps.log.warn('could not keep the sync rules in the state; the next run reads them again', {
      instance: inst.key,
      error: describeError(error),
    });
  }
  return rules;
}
