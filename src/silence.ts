import * as v from 'valibot';
import { classify } from './classify.js';
import { localParts, minuteOfDay } from './local-time.js';
import type { Alert, DigestAlert, MonitorAlert } from './state/checkpoint.js';

type TaskAlert = Exclude<Alert, MonitorAlert | DigestAlert>;
const aboutTask = (a: Alert): a is TaskAlert => a.kind !== 'blind' && a.kind !== 'restored' && a.kind !== 'digest';

const patterns = v.pipe(v.union([v.string(), v.array(v.string())]), v.transform((x) => (Array.isArray(x) ? x : [x])));
const window = v.pipe(v.string(), v.regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'daily must look like 02:00-04:30'));

/** One silence: every given matcher must match (patterns use * as a wildcard); active until `expires`, or daily. */
export const silenceSchema = v.strictObject({
  comment: v.optional(v.string()),
  instance: v.optional(patterns),
  namespace: v.optional(patterns),
  repo: v.optional(patterns),
  tag: v.optional(patterns),
  rule: v.optional(patterns),
  cause: v.optional(patterns),
  /** ISO 8601 time after which the silence no longer applies. */
  expires: v.optional(v.pipe(v.string(), v.isoTimestamp('expires must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z'))),
  /** A maintenance window repeated every day, in `timezone` (default UTC). */
  daily: v.optional(window),
  timezone: v.optional(v.string()),
});
export type Silence = v.InferOutput<typeof silenceSchema>;
export const silencesSchema = v.array(silenceSchema);

const toRegExp = (glob: string) => new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
const matchesAny = (value: string, globs: readonly string[] | undefined) => globs === undefined || globs.some((g) => toRegExp(g).test(value));

/** Whether the silence is in force at `now`: not expired, and inside its daily window if it has one. */
export function isActive(s: Silence, now: number): boolean {
  if (s.expires && Date.parse(s.expires) <= now) return false;
  if (!s.daily) return true;
  const [from, to] = s.daily.split('-').map((x) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3))) as [number, number];
  const m = minuteOfDay(localParts(now, s.timezone ?? 'UTC'));
  // A window like 23:00-01:00 runs over midnight.
  return from <= to ? m >= from && m < to : m >= from || m < to;
}

/** What a silence's `cause` matches: a failure's TaskIssue; a recovery its failure's TaskIssue or "recovered"; "stuck". */
function causesOf(alert: TaskAlert): string[] {
  if (alert.kind === 'recovered') return [classify(alert.issue).issue || 'UNCLASSIFIED', 'recovered'];
  if (alert.kind === 'stuck' || alert.kind === 'unstuck') return ['stuck'];
  return [classify(alert.task.issue).issue || 'UNCLASSIFIED'];
}

/** Alerts a silence muted since `since`, by cause: what a digest will report. */
export interface MutedTally {
  since: number;
  byCause: Record<string, number>;
}

/**
 * Splits `alerts` into those to send and those an active silence mutes, adding the muted ones to `tally`. Pure.
 */
export function applySilences(alerts: readonly Alert[], silences: readonly Silence[], tally: MutedTally | undefined, now: number) {
  const send: Alert[] = [];
  const muted: { alert: Alert; silence: Silence }[] = [];
  let next = tally;
  for (const alert of alerts) {
    const silence = silencing(alert, silences, now);
    if (!silence || !aboutTask(alert)) {
      send.push(alert);
      continue;
    }
    muted.push({ alert, silence });
    const cause = causesOf(alert).at(-1)!;
    next = { since: next?.since ?? now, byCause: { ...next?.byCause, [cause]: (next?.byCause[cause] ?? 0) + 1 } };
  }
  return { send, muted, tally: next };
}

/**
 * The first active silence that mutes `alert`, or undefined. Only alerts about sync tasks can be muted; notices
 * about the function's own sight of an instance, and digests, always go out.
 */
export function silencing(alert: Alert, silences: readonly Silence[], now: number): Silence | undefined {
  if (!aboutTask(alert)) return undefined;
  const t = alert.task;
  const causes = causesOf(alert);
  return silences.find(
    (s) =>
      isActive(s, now) &&
      matchesAny(alert.instance, s.instance) &&
      matchesAny(t.from.namespace, s.namespace) &&
      matchesAny(t.from.repo, s.repo) &&
      matchesAny(t.from.tag, s.tag) &&
      (s.rule === undefined || matchesAny(t.ruleId ?? '', s.rule) || matchesAny(alert.rule?.name ?? '', s.rule)) &&
      (s.cause === undefined || causes.some((c) => matchesAny(c, s.cause))),
  );
}
