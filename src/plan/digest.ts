import { Cron } from 'croner';
import { aboutTask, isFailure, type Alert, type DigestAlert, type SilenceNote } from '../model/alert.js';
import { DEFAULT_ROUTE, MATCHER_FIELDS, WEEKDAYS, type DigestSchedule } from '../model/route.js';
import { isStored, type Silence } from '../model/silence.js';
import type { DigestStats, FailingImage, RouteDigest } from '../model/state.js';
import { FAILING_MAX_AGE_MS } from '../detect/detect.js';
import { causesOf } from './match.js';

/** Repositories kept in the running statistics; the least failing are dropped beyond this. */
const MAX_REPOS = 50;

/** Adds this run's alerts to the running statistics. Pure. */
export function addToStats(stats: DigestStats | undefined, alerts: readonly Alert[], now: number): DigestStats {
  const s: DigestStats = stats
    ? { ...stats, byCause: { ...stats.byCause }, byRepo: { ...stats.byRepo } }
    : { since: now, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 };
  for (const a of alerts) {
    if (isFailure(a)) {
      const cause = causesOf(a)[0]!;
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

// One schedule per route, asked every run: build each once. A Cron without a function never starts a timer.
const schedules = new Map<string, Cron>();
function cronOf(schedule: DigestSchedule): Cron {
  const key = `${schedule.at} ${schedule.weekday ?? '*'} ${schedule.timezone}`;
  let c = schedules.get(key);
  if (!c) {
    const [hh, mm] = schedule.at.split(':').map(Number) as [number, number];
    const day = schedule.weekday ? WEEKDAYS.indexOf(schedule.weekday) : '*';
    // croner resolves local times as cron does across DST: a time skipped in spring runs at the first valid moment
    // after the gap, a time repeated in autumn runs once.
    c = new Cron(`${mm} ${hh} * * ${day}`, { timezone: schedule.timezone });
    schedules.set(key, c);
  }
  return c;
}

/** The last scheduled digest moment at or before `now` (epoch ms). */
export function lastSlot(schedule: DigestSchedule, now: number): number {
  // previousRuns looks strictly before the moment it is given.
  const [slot] = cronOf(schedule).previousRuns(1, new Date(now + 1));
  return slot ? slot.getTime() : Number.NEGATIVE_INFINITY;
}

/** Whether a digest is due: a scheduled moment passed since the last one was sent (or, never sent, within the hour). */
export function digestDue(schedule: DigestSchedule | undefined, lastSentAt: number | undefined, now: number): boolean {
  if (!schedule) return false;
  if (lastSentAt === undefined) return now - lastSlot(schedule, now) < 60 * 60_000;
  const next = cronOf(schedule).nextRun(new Date(lastSentAt));
  return next !== null && next.getTime() <= now;
}

/** An image still failing, as a digest lists it; `silenced` when no failure of it was announced. */
export type StillFailing = DigestAlert['oldestFailing'][number] & { silenced?: true };

/**
 * A failing-image row of `instance` as a digest lists it, or undefined when it is not listed: held back (a transient
 * failure not announced) or past FAILING_MAX_AGE_MS since it last failed (the detector forgets it too). Pure.
 */
export function stillFailingOf(instance: string, f: FailingImage, now: number): StillFailing | undefined {
  if (f.held || now - f.lastFailure > FAILING_MAX_AGE_MS) return undefined;
  return {
    instance,
    since: f.since,
    issue: f.issue,
    taskId: f.taskId,
    ...(f.image ? { image: f.image } : {}),
    ...(f.target ? { target: f.target } : {}),
    ...(f.ruleName || f.ruleId ? { rule: f.ruleName || f.ruleId } : {}),
    ...(f.silenced ? { silenced: true as const } : {}),
  };
}

/** What a route's digest is made of. */
export interface DigestInput {
  route: string;
  /** The route's statistics since its last digest. */
  digest: RouteDigest;
  stillFailing: readonly StillFailing[];
  now: number;
  /** Silences in force, listed (the first SILENCES_LISTED) and counted. */
  silences?: readonly Silence[];
}

/**
 * The digest for a route: its statistics, the images still failing there whose failure was announced (oldest first),
 * how many more fail that silences kept from everyone, and what was muted. Pure.
 */
export function buildDigest({ route, digest: d, stillFailing, now, silences = [] }: DigestInput): DigestAlert {
  // A silenced image was never announced: listing it beside the announced ones would make the counts disagree
  // ("4 failed, 1 recovered, 4 still failing").
  const open = stillFailing
    .filter((f) => !f.silenced)
    .sort((a, b) => a.since - b.since)
    .map(({ silenced: _, ...f }) => f);
  const silencedFailing = stillFailing.length - open.length;
  const { stats } = d;
  return {
    kind: 'digest',
    id: route === DEFAULT_ROUTE ? `digest/${now}` : `digest/${route}/${now}`,
    instance: '',
    ...(route === DEFAULT_ROUTE ? {} : { route }),
    since: stats.since,
    at: now,
    byCause: stats.byCause,
    topRepos: Object.entries(stats.byRepo)
      .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
      .slice(0, 5),
    recoveries: stats.recoveries,
    meanRecoveryMs: stats.recoveries > 0 ? Math.round(stats.recoveryMs / stats.recoveries) : undefined,
    stillFailing: open.length,
    ...(silencedFailing > 0 ? { silencedFailing } : {}),
    oldestFailing: open.slice(0, 5),
    muted: d.muted?.byCause ?? {},
    ...(silences.length > 0
      ? { silences: silences.slice(0, SILENCES_LISTED).map(noteOf), silencesTotal: silences.length }
      : {}),
  };
}

/** Silences a digest lists; the rest are counted. */
export const SILENCES_LISTED = 10;

function noteOf(s: Silence): SilenceNote {
  return {
    ...(isStored(s) ? { id: s.id, createdBy: s.createdBy } : {}),
    matches: MATCHER_FIELDS.flatMap((f) => (s[f] ? [[f, s[f]] as [string, string[]]] : [])),
    ...(s.comment ? { comment: s.comment } : {}),
    ...(s.expires ? { until: Date.parse(s.expires) } : {}),
    ...(s.daily ? { daily: s.daily, timezone: s.timezone ?? 'UTC' } : {}),
  };
}

/** Adds muted alerts about tasks to a route's muted counts, by cause. */
export function addMuted(m: RouteDigest['muted'], alerts: readonly Alert[], now: number): RouteDigest['muted'] {
  let next = m;
  for (const a of alerts) {
    if (!aboutTask(a)) continue;
    const cause = causesOf(a).at(-1)!;
    next = { since: next?.since ?? now, byCause: { ...next?.byCause, [cause]: (next?.byCause[cause] ?? 0) + 1 } };
  }
  return next;
}
