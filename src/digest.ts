import { classify } from './classify.js';
import { localParts, minuteOfDay } from './local-time.js';
import type { Alert, DigestAlert, DigestStats, InstanceCursor } from './state/checkpoint.js';

/** Repositories kept in the running tally; the least failing are dropped beyond this. */
const MAX_REPOS = 50;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface DigestSchedule {
  /** "HH:MM" local time. */
  at: string;
  timezone: string;
  /** Weekly on this day; daily when absent. */
  weekday?: Weekday;
}

/** Adds this run's alerts to the running statistics. Pure. */
export function tally(stats: DigestStats | undefined, alerts: readonly Alert[], now: number): DigestStats {
  const s: DigestStats = stats ? { ...stats, byCause: { ...stats.byCause }, byRepo: { ...stats.byRepo } } : { since: now, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 };
  for (const a of alerts) {
    if (a.kind === undefined || a.kind === 'failure') {
      const cause = classify(a.task.issue).issue || 'UNCLASSIFIED';
      s.byCause[cause] = (s.byCause[cause] ?? 0) + 1;
      const repo = `${a.task.from.namespace}/${a.task.from.repo}`;
      s.byRepo[repo] = (s.byRepo[repo] ?? 0) + 1;
    } else if (a.kind === 'recovered') {
      s.recoveries += 1;
      s.recoveryMs += Math.max(0, (a.task.modifiedTime ?? a.task.createTime) - a.since);
    }
  }
  const repos = Object.entries(s.byRepo);
  if (repos.length > MAX_REPOS) s.byRepo = Object.fromEntries(repos.sort((x, y) => y[1] - x[1]).slice(0, MAX_REPOS));
  return s;
}

/** The last scheduled digest moment at or before `now` (epoch ms). */
export function lastSlot(schedule: DigestSchedule, now: number): number {
  const [hh, mm] = schedule.at.split(':').map(Number) as [number, number];
  const local = localParts(now, schedule.timezone);
  const localMinutes = minuteOfDay(local);
  const today = WEEKDAYS.indexOf(local.weekday as Weekday);
  // Days back to the most recent scheduled day whose slot has passed.
  let back = localMinutes >= hh * 60 + mm ? 0 : 1;
  if (schedule.weekday) {
    const target = WEEKDAYS.indexOf(schedule.weekday);
    back = (today - target + 7) % 7;
    if (back === 0 && localMinutes < hh * 60 + mm) back = 7;
  }
  const minutesAgo = back * 1440 + localMinutes - (hh * 60 + mm);
  return now - minutesAgo * 60_000 - (now % 60_000);
}

/** Whether a digest is due: a scheduled moment passed since the last one was sent. */
export function digestDue(schedule: DigestSchedule | undefined, lastSentAt: number | undefined, now: number): boolean {
  if (!schedule) return false;
  const slot = lastSlot(schedule, now);
  return lastSentAt === undefined ? now - slot < 60 * 60_000 : lastSentAt < slot;
}

/** The digest of `stats`, with the images still failing now (oldest first) and what silences muted. */
export function buildDigest(stats: DigestStats, cursors: Record<string, InstanceCursor>, muted: Record<string, number> | undefined, now: number): DigestAlert {
  const open = Object.entries(cursors).flatMap(([instance, c]) =>
    Object.values(c.failing ?? {}).filter((f) => !f.held).map((f) => ({ instance, since: f.since, issue: f.issue, taskId: f.taskId })),
  );
  open.sort((a, b) => a.since - b.since);
  return {
    kind: 'digest',
    id: `digest/${now}`,
    instance: '',
    since: stats.since,
    at: now,
    byCause: stats.byCause,
    topRepos: Object.entries(stats.byRepo).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, 5),
    recoveries: stats.recoveries,
    meanRecoveryMs: stats.recoveries > 0 ? Math.round(stats.recoveryMs / stats.recoveries) : undefined,
    stillFailing: open.length,
    oldestFailing: open.slice(0, 5),
    muted: muted ?? {},
  };
}
