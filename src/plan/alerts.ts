import { updateHealth } from '../detect/health.js';
import type { InstanceOutcome } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';
import type { Alert } from '../model/alert.js';
import type { InstanceHealth } from '../model/checkpoint.js';

/**
 * Turns what a run observed into alerts, and the instances' read health for the checkpoint. Pure.
 * Ids are stable (instance, task and kind), so the same event is never queued twice under different ids.
 */
export function alertsFrom(
  outcomes: readonly InstanceOutcome[],
  prevHealth: Record<string, InstanceHealth> | undefined,
  now: number,
  blindAfterRuns: number,
): { alerts: Alert[]; health: Record<string, InstanceHealth> | undefined } {
  const alerts: Alert[] = [];
  const health: Record<string, InstanceHealth> = {};
  for (const o of outcomes) {
    const instance = o.inst.key;
    // The outbox keeps what a message shows of the rule, not its filters and targets: it may hold thousands.
    const ruleOf = (ruleId?: string) => {
      const r = ruleId ? o.rules?.get(ruleId) : undefined;
      return r && { ruleId: r.ruleId, name: r.name, scope: r.scope, ...(r.trigger ? { trigger: r.trigger } : {}) };
    };
    const d = o.detection;
    if (d) {
      for (const task of d.failures) alerts.push({ id: `${instance}/${task.taskId}`, instance, task, rule: ruleOf(task.ruleId) });
      for (const r of d.recoveries) {
        alerts.push({
          kind: 'recovered', id: `${instance}/${r.success.taskId}/recovered`, instance, task: r.success, rule: ruleOf(r.success.ruleId),
          failedTaskId: r.failure.taskId, issue: r.failure.issue, since: r.failure.since, unannounced: r.sameRun,
        });
      }
      for (const task of d.stuck) alerts.push({ kind: 'stuck', id: `${instance}/${task.taskId}/stuck`, instance, task, rule: ruleOf(task.ruleId), at: now });
      for (const task of d.unstuck) alerts.push({ kind: 'unstuck', id: `${instance}/${task.taskId}/unstuck`, instance, task, rule: ruleOf(task.ruleId), at: now });
    }
    // The function's own sight: after BLIND_AFTER_RUNS failing reads of an instance, the channels are told.
    const h = updateHealth(instance, prevHealth?.[instance], o.error === undefined ? { ok: true } : { ok: false, error: describeError(o.error) }, now, blindAfterRuns);
    if (h.health) health[instance] = h.health;
    if (h.notice) alerts.push(h.notice);
  }
  return { alerts, health: Object.keys(health).length > 0 ? health : undefined };
}
