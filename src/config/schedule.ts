import { Cron } from 'croner';
import { checkedZone } from './routes.js';

/**
 * The timer trigger's schedule (TIMER_SCHEDULE, which s.yaml sets from the trigger's own expression): an interval
 * (`@every 5m`) or a cron expression, so a run can tell where its tick sits among the others without any state.
 */
export type Schedule = { kind: 'every'; ms: number; text: string } | { kind: 'cron'; cron: Cron; text: string };

/** What a deployment without TIMER_SCHEDULE is taken to run at: s.yaml's default schedule. */
export const DEFAULT_SCHEDULE = '@every 5m';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };

/**
 * Reads a Function Compute timer expression: `@every` with an interval in h/m/s (`@every 5m`, `@every 1h30m`), or a
 * six-field cron (`sec min hour day month week`), in UTC unless prefixed with `CRON_TZ=<zone> ` (Function Compute,
 * "Timer triggers"). Undefined on a problem, which is pushed.
 */
export function parseSchedule(name: string, text: string, problems: string[]): Schedule | undefined {
  const t = text.trim();
  const every = /^@every\s+((?:\d+[hms])+)$/.exec(t);
  if (every) {
    let ms = 0;
    for (const [, n, unit] of every[1]!.matchAll(/(\d+)([hms])/g)) ms += Number(n) * UNIT_MS[unit!]!;
    if (ms >= 60_000) return { kind: 'every', ms, text: t };
    problems.push(`${name} "${t}": an @every interval must be at least 1m`);
    return undefined;
  }
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(t);
  const expr = tz ? tz[2]! : t;
  if (tz && !checkedZone(`${name} CRON_TZ`, tz[1]!, problems)) return undefined;
  try {
    if (expr.split(/\s+/).length !== 6) throw new Error('six fields');
    return { kind: 'cron', cron: new Cron(expr, { timezone: tz?.[1] ?? 'UTC', paused: true }), text: t };
  } catch {
    problems.push(
      `${name} "${t}" is not a timer expression: use @every 5m, or six cron fields (sec min hour day month week), ` +
        'optionally after CRON_TZ=<zone>',
    );
    return undefined;
  }
}

/** The tick before the one at `at` (epoch ms), by the schedule. */
export function tickBefore(schedule: Schedule, at: number): number {
  if (schedule.kind === 'every') return at - schedule.ms;
  // previousRuns looks strictly before the moment it is given.
  return schedule.cron.previousRuns(1, new Date(at))[0]?.getTime() ?? Number.NEGATIVE_INFINITY;
}
