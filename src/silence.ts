import * as v from 'valibot';
import { localParts, minuteOfDay } from './local-time.js';
import { aboutTask, matcherEntries, matchesTask } from './match.js';
import type { Alert } from './state/checkpoint.js';

const window = v.pipe(v.string(), v.regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'daily must look like 02:00-04:30'));

/** One silence: every given matcher must match (patterns use * as a wildcard); active until `expires`, or daily. */
export const silenceSchema = v.strictObject({
  comment: v.optional(v.string()),
  ...matcherEntries,
  /** ISO 8601 time after which the silence no longer applies. */
  expires: v.optional(v.pipe(v.string(), v.isoTimestamp('expires must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z'))),
  /** A maintenance window repeated every day, in `timezone` (default UTC). */
  daily: v.optional(window),
  timezone: v.optional(v.string()),
});
export type Silence = v.InferOutput<typeof silenceSchema>;
export const silencesSchema = v.array(silenceSchema);

/** Whether the silence is in force at `now`: not expired, and inside its daily window if it has one. */
export function isActive(s: Silence, now: number): boolean {
  if (s.expires && Date.parse(s.expires) <= now) return false;
  if (!s.daily) return true;
  const [from, to] = s.daily.split('-').map((x) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3))) as [number, number];
  const m = minuteOfDay(localParts(now, s.timezone ?? 'UTC'));
  // A window like 23:00-01:00 runs over midnight.
  return from <= to ? m >= from && m < to : m >= from || m < to;
}

/** Splits `alerts` into those to send and those an active silence mutes. Pure. */
export function applySilences(alerts: readonly Alert[], silences: readonly Silence[], now: number) {
  const send: Alert[] = [];
  const muted: { alert: Alert; silence: Silence }[] = [];
  for (const alert of alerts) {
    const silence = silencing(alert, silences, now);
    if (silence) muted.push({ alert, silence });
    else send.push(alert);
  }
  return { send, muted };
}

/**
 * The first active silence that mutes `alert`, or undefined. Only alerts about sync tasks can be muted; notices
 * about the function's own sight of an instance, and digests, always go out.
 */
export function silencing(alert: Alert, silences: readonly Silence[], now: number): Silence | undefined {
  if (!aboutTask(alert)) return undefined;
  return silences.find((s) => isActive(s, now) && matchesTask(s, alert));
}
