import { Cron } from 'croner';
import { imageKey } from '../detect/detect.js';
import { isFailure, aboutTask, type Alert, type DigestAlert, type FailureAlert } from '../model/alert.js';
import type { DigestStats, InstanceCursor, RouteDigest } from '../model/checkpoint.js';
import { canSend, DEFAULT_ROUTE, WEEKDAYS, type DigestSchedule, type Route } from '../model/route.js';
import { causesOf } from './match.js';

/** Repositories kept in the running tally; the least failing are dropped beyond this. */
const MAX_REPOS = 50;

/** Adds this run's alerts to the running statistics. Pure. */
export function tally(stats: DigestStats | undefined, alerts: readonly Alert[], now: number): DigestStats {
  const s: DigestStats = stats ? { ...stats, byCause: { ...stats.byCause }, byRepo: { ...stats.byRepo } } : { since: now, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 };
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

/** The digest of `stats` for `route`, with the images still failing there now (oldest first) and what silences muted. */
export function buildDigest(route: string, d: RouteDigest, cursors: Record<string, InstanceCursor>, owners: ReadonlySet<string>, now: number): DigestAlert {
  // An image whose route is gone from the configuration falls back to the default route.
  const ownerOf = (r: string | undefined) => (r !== undefined && owners.has(r) ? r : DEFAULT_ROUTE);
  const open = Object.entries(cursors).flatMap(([instance, c]) =>
    Object.values(c.failing ?? {})
      .filter((f) => !f.held && ownerOf(f.route) === route)
      .map((f) => ({ instance, since: f.since, issue: f.issue, taskId: f.taskId })),
  );
  open.sort((a, b) => a.since - b.since);
  const { stats } = d;
  return {
    kind: 'digest',
    id: route === DEFAULT_ROUTE ? `digest/${now}` : `digest/${route}/${now}`,
    instance: '',
    ...(route === DEFAULT_ROUTE ? {} : { route }),
    since: stats.since,
    at: now,
    byCause: stats.byCause,
    topRepos: Object.entries(stats.byRepo).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, 5),
    recoveries: stats.recoveries,
    meanRecoveryMs: stats.recoveries > 0 ? Math.round(stats.recoveryMs / stats.recoveries) : undefined,
    stillFailing: open.length,
    oldestFailing: open.slice(0, 5),
    muted: d.muted?.byCause ?? {},
  };
}

/** This run's alerts, each with the route that owns it (undefined when no route can send). */
export interface OwnedAlerts {
  sent: readonly Alert[];
  muted: readonly Alert[];
  ownerOf(alert: Alert): string | undefined;
}

/**
 * Per route that can send: adds this run's alerts to its statistics and its muted tally, and builds its digest when
 * one is due by its schedule (or `force`d), starting its statistics afresh. Routes no longer configured are dropped.
 * Pure.
 */
export function advanceDigests(
  prev: Record<string, RouteDigest> | undefined,
  routes: readonly Route[],
  run: OwnedAlerts,
  cursors: Record<string, InstanceCursor>,
  now: number,
  force: boolean,
): { digests: Record<string, RouteDigest> | undefined; due: DigestAlert[] } {
  const sending = routes.filter(canSend);
  const owners = new Set(sending.map((r) => r.name));
  const byOwner = (alerts: readonly Alert[]) => {
    const m = new Map<string, Alert[]>();
    for (const a of alerts) {
      const o = run.ownerOf(a);
      if (o === undefined) continue;
      const list = m.get(o);
      if (list) list.push(a);
      else m.set(o, [a]);
    }
    return m;
  };
  const sent = byOwner(run.sent);
  const muted = byOwner(run.muted);
  const digests: Record<string, RouteDigest> = {};
  const due: DigestAlert[] = [];
  for (const r of sending) {
    const p = prev?.[r.name];
    let d: RouteDigest = { stats: tally(p?.stats, sent.get(r.name) ?? [], now), lastSentAt: p?.lastSentAt, muted: addMuted(p?.muted, muted.get(r.name) ?? [], now) };
    if (force || digestDue(r.digest, p?.lastSentAt, now)) {
      due.push(buildDigest(r.name, d, cursors, owners, now));
      d = { stats: tally(undefined, [], now), lastSentAt: now };
    }
    digests[r.name] = d;
  }
  return { digests: Object.keys(digests).length > 0 ? digests : undefined, due };
}

function addMuted(m: RouteDigest['muted'], alerts: readonly Alert[], now: number): RouteDigest['muted'] {
  let next = m;
  for (const a of alerts) {
    if (!aboutTask(a)) continue;
    const cause = causesOf(a).at(-1)!;
    next = { since: next?.since ?? now, byCause: { ...next?.byCause, [cause]: (next?.byCause[cause] ?? 0) + 1 } };
  }
  return next;
}

/**
 * Records on each failing image the route its failure went to, so that route's digest lists it while it keeps
 * failing. Returns new cursors; those without such failures are shared. Pure.
 */
export function tagOwners(cursors: Record<string, InstanceCursor>, run: OwnedAlerts): Record<string, InstanceCursor> {
  const out = { ...cursors };
  // Each touched cursor's `failing` is copied once, then updated in place: a burst tags thousands of images.
  const copied = new Set<string>();
  // Without routes nothing is tagged and nothing needs to be: skip hashing each image of a burst. Whether an
  // instance has tags is looked up only when a failure there goes to the default route, once per instance.
  const hasTags = new Map<string, boolean>();
  const tagged = (instance: string) => {
    let t = hasTags.get(instance);
    if (t === undefined) {
      t = Object.values(cursors[instance]?.failing ?? {}).some((f) => f.route !== undefined);
      hasTags.set(instance, t);
    }
    return t;
  };
  for (const list of [run.sent, run.muted]) {
    for (const a of list) {
      if (!isFailure(a)) continue;
      const owner = run.ownerOf(a);
      const tag = owner && owner !== DEFAULT_ROUTE ? owner : undefined;
      if (tag === undefined && !tagged(a.instance)) continue;
      retag(a, tag);
    }
  }
  return out;

  function retag(a: FailureAlert, tag: string | undefined): void {
    const c = out[a.instance];
    const key = imageKey(a.task);
    const f = c?.failing?.[key];
    if (!c || !f || f.route === tag) return;
    if (!copied.has(a.instance)) {
      out[a.instance] = { ...c, failing: { ...c.failing } };
      copied.add(a.instance);
    }
    const { route: _old, ...rest } = f;
    out[a.instance]!.failing![key] = tag ? { ...rest, route: tag } : rest;
  }
}
