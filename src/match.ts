import * as v from 'valibot';
import { classify } from './classify.js';
import type { Alert, DigestAlert, MonitorAlert } from './state/checkpoint.js';

/** Alerts about one sync task (failure, recovery, stuck); the others are about the function itself or a period. */
export type TaskAlert = Exclude<Alert, MonitorAlert | DigestAlert>;
export const aboutTask = (a: Alert): a is TaskAlert => a.kind !== 'blind' && a.kind !== 'restored' && a.kind !== 'digest';

const patterns = v.pipe(v.union([v.string(), v.array(v.string())]), v.transform((x) => (Array.isArray(x) ? x : [x])));

/**
 * The fields a silence or a route matches on. Each takes a pattern or a list of them (`*` is a wildcard, case is
 * ignored); every field given must match, and a field left out matches anything.
 */
export const matcherEntries = {
  /** `regionId:instanceId` of the source instance. */
  instance: v.optional(patterns),
  namespace: v.optional(patterns),
  repo: v.optional(patterns),
  tag: v.optional(patterns),
  /** Sync rule id or name. */
  rule: v.optional(patterns),
  /** TaskIssue (e.g. NETWORK_ERROR), "UNCLASSIFIED", "recovered" or "stuck". */
  cause: v.optional(patterns),
};
export const matcherSchema = v.strictObject(matcherEntries);
export type Matcher = v.InferOutput<typeof matcherSchema>;

// A burst matches thousands of alerts against the same few patterns: compile each once.
const compiled = new Map<string, RegExp>();
function globRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    compiled.set(glob, re);
  }
  return re;
}
export const matchesAny = (value: string, globs: readonly string[] | undefined) => globs === undefined || globs.some((g) => globRegExp(g).test(value));

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
