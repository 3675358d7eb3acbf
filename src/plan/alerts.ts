import { imageKey, type Changes } from '../detect/detect.js';
import { isFailure, type Alert, type AlertRule, type FailureAlert } from '../model/alert.js';
import { DEFAULT_ROUTE } from '../model/route.js';
import type { FailingImage } from '../model/state.js';
import type { SyncRule } from '../model/task.js';

/**
 * The alerts a judged batch of one instance raises: failures, recoveries, stuck syncs and stuck syncs that finished.
 * Ids are stable (instance, task and kind), so the same event is never claimed twice under different ids. Pure.
 */
export function alertsOf(
  instance: string,
  c: Pick<Changes, 'failures' | 'recoveries' | 'stuck' | 'unstuck'>,
  rules: ReadonlyMap<string, SyncRule> | undefined,
  now: number,
): Alert[] {
  // An alert keeps what a message shows of the rule, not its filters and targets: a channel may be owed thousands.
  const ruleOf = (ruleId?: string): AlertRule | undefined => {
    const r = ruleId ? rules?.get(ruleId) : undefined;
    return r && { ruleId: r.ruleId, name: r.name, scope: r.scope, ...(r.trigger ? { trigger: r.trigger } : {}) };
  };
  const alerts: Alert[] = [];
  for (const task of c.failures)
    alerts.push({ id: `${instance}/${task.taskId}`, instance, task, rule: ruleOf(task.ruleId) });
  for (const r of c.recoveries) {
    alerts.push({
      kind: 'recovered',
      id: `${instance}/${r.success.taskId}/recovered`,
      instance,
      task: r.success,
      rule: ruleOf(r.success.ruleId),
      failedTaskId: r.failure.taskId,
      issue: r.failure.issue,
      since: r.failure.since,
      unannounced: r.sameRun,
    });
  }
  for (const task of c.stuck)
    alerts.push({
      kind: 'stuck',
      id: `${instance}/${task.taskId}/stuck`,
      instance,
      task,
      rule: ruleOf(task.ruleId),
      at: now,
    });
  for (const task of c.unstuck)
    alerts.push({
      kind: 'unstuck',
      id: `${instance}/${task.taskId}/unstuck`,
      instance,
      task,
      rule: ruleOf(task.ruleId),
      at: now,
    });
  return alerts;
}

/**
 * The failing-image rows a batch writes (null: the image no longer fails), completed. Each row gets its rule's
 * name where the rules were read (on a copy; the id alone where the name is unknown), so a digest can say which rule
 * without reading the rules of every instance it lists. Each image a failure was claimed for records the route that
 * owns that failure (`owner`, muted or not), so that route's digest lists it while it keeps failing; a failure owned
 * by the default route clears an earlier route. A row whose failures were all muted is marked `silenced`, for the
 * digest to count apart. The route is set on the row itself. Returns the rows to write.
 */
export function completeFailing(
  failing: ReadonlyMap<string, FailingImage | null>,
  by: {
    rules?: ReadonlyMap<string, SyncRule>;
    alerts: readonly Alert[];
    owner: ReadonlyMap<string, string>;
    /** Ids of the alerts a silence muted. */
    muted?: ReadonlySet<string>;
  },
): Map<string, FailingImage | null> {
  const out = new Map(failing);
  if (by.rules) {
    for (const [key, f] of failing) {
      const name = f?.ruleId ? by.rules.get(f.ruleId)?.name : undefined;
      if (f && name) out.set(key, { ...f, ruleName: name });
    }
  }
  for (const a of by.alerts) {
    if (!isFailure(a)) continue;
    const f = out.get(imageKey(a.task));
    if (!f) continue;
    const route = by.owner.get(a.id);
    if (route && route !== DEFAULT_ROUTE) f.route = route;
    else delete f.route;
    markSilenced(f, a, by.muted?.has(a.id) ?? false);
  }
  return out;
}

/**
 * Silenced while every failure of the image was muted: a muted first failure, or a muted one after muted ones. One
 * announced failure makes it announced for as long as it keeps failing.
 */
function markSilenced(f: FailingImage, a: FailureAlert, muted: boolean): void {
  if (muted && (f.silenced || f.since >= a.task.createTime)) f.silenced = true;
  else delete f.silenced;
}
