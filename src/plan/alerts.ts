import type { Changes } from '../detect/detect.js';
import type { Alert, AlertRule } from '../model/alert.js';
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
  // An alert keeps what a message shows of the rule, not its filters and targets: the outbox may hold thousands.
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
 * Failing-image rows (null: the image no longer fails) with their rule named by its name where the rules were read, so a digest can say which rule
 * without reading the rules of every instance it lists; the id stays where the name is unknown. Pure.
 */
export function namedFailing(
  failing: ReadonlyMap<string, FailingImage | null>,
  rules: ReadonlyMap<string, SyncRule> | undefined,
): Map<string, FailingImage | null> {
  const out = new Map(failing);
  if (!rules) return out;
  for (const [key, f] of failing) {
    const name = f?.rule ? rules.get(f.rule)?.name : undefined;
    if (f && name) out.set(key, { ...f, rule: name });
  }
  return out;
}
