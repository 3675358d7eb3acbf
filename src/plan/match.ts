import { classify } from '../model/classify.js';
import type { TaskAlert } from '../model/alert.js';
import type { Matcher } from '../model/route.js';

// A burst matches thousands of alerts against the same few patterns: compile each once.
const compiled = new Map<string, RegExp>();
function globRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (!re) {
    re = new RegExp(
      `^${glob
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    compiled.set(glob, re);
  }
  return re;
}

/** Whether `value` matches one of `globs` (`*` is a wildcard, case is ignored); no globs match anything. */
export const matchesAny = (value: string, globs: readonly string[] | undefined) =>
  globs === undefined || globs.some((g) => globRegExp(g).test(value));

/**
 * The causes an alert answers to: a failure its TaskIssue; a recovery its failure's TaskIssue and "recovered";
 * a stuck (or unstuck) task "stuck". The last one is what tallies count it under.
 */
export function causesOf(alert: TaskAlert): string[] {
  if (alert.kind === 'recovered') return [classify(alert.issue).issue || 'UNCLASSIFIED', 'recovered'];
  if (alert.kind === 'stuck' || alert.kind === 'unstuck') return ['stuck'];
  return [classify(alert.task.issue).issue || 'UNCLASSIFIED'];
}

/** Whether every field `m` gives matches the task `alert` is about. */
export function matchesTask(m: Matcher, alert: TaskAlert): boolean {
  const t = alert.task;
  return (
    matchesAny(alert.instance, m.instance) &&
    matchesAny(t.from.namespace, m.namespace) &&
    matchesAny(t.from.repo, m.repo) &&
    matchesAny(t.from.tag, m.tag) &&
    (m.rule === undefined || matchesAny(t.ruleId ?? '', m.rule) || matchesAny(alert.rule?.name ?? '', m.rule)) &&
    (m.cause === undefined || causesOf(alert).some((c) => matchesAny(c, m.cause)))
  );
}
