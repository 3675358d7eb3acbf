import { localParts, minuteOfDay } from '../lib/time.js';
import { aboutTask, type Alert } from '../model/alert.js';
import type { Silence } from '../model/silence.js';
import { matchesTask } from './match.js';

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
