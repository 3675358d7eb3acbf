import { describe, expect, it } from 'vitest';
import type { Alert, RecoveryAlert, StuckAlert } from '../../../src/model/alert.js';
import type { DigestStats } from '../../../src/model/state.js';
import type { Silence, StoredSilence } from '../../../src/model/silence.js';
import {
  addMuted,
  buildDigest,
  digestDue,
  SILENCES_LISTED,
  addToStats,
  type StillFailing,
} from '../../../src/plan/digest.js';
import { isActive } from '../../../src/plan/silence.js';
import { failureAlert, syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const stats = (over: Partial<DigestStats> = {}): DigestStats => ({
  since: NOW - 86_400_000,
  byCause: {},
  byRepo: {},
  recoveries: 0,
  recoveryMs: 0,
  ...over,
});
const open = (i: number, since: number): StillFailing => ({
  instance: 'cn-hangzhou:cri-src',
  since,
  issue: 'TAG_CONFLICT',
  taskId: `rst-${i}`,
  image: `prod/app-${i}:v1`,
});
const recovery = (since: number, at: number | undefined, createTime = NOW): RecoveryAlert => ({
  kind: 'recovered',
  id: `r${since}`,
  instance: 'i',
  task: syncTask({
    taskId: `rst-ok${since}`,
    status: 'SUCCESS',
    createTime,
    ...(at === undefined ? {} : { modifiedTime: at }),
  }),
  failedTaskId: 'f',
  issue: 'NETWORK_ERROR',
  since,
  unannounced: false,
});
const stuckAlert: StuckAlert = {
  kind: 'stuck',
  id: 's',
  instance: 'i',
  task: syncTask({ taskId: 'rst-s', status: 'SYNCHRONIZING' }),
  at: NOW,
};

describe('a digest', () => {
  it('lists the images still failing oldest first, five of them, and counts them all', () => {
    const failing = [
      open(1, NOW - 10 * MIN),
      open(2, NOW - 90 * MIN),
      open(3, NOW - 30 * MIN),
      open(4, NOW - 50 * MIN),
      open(5, NOW - 70 * MIN),
      open(6, NOW - 80 * MIN),
      open(7, NOW - 5 * MIN),
    ];
    const d = buildDigest({ route: 'default', digest: { stats: stats() }, stillFailing: failing, now: NOW });
    expect(d.stillFailing).toBe(7);
    expect(d.oldestFailing.map((f) => f.taskId)).toEqual(['rst-2', 'rst-6', 'rst-5', 'rst-4', 'rst-3']);
    expect(failing[0]!.taskId).toBe('rst-1'); // the caller's list is left as it was
  });

  it('names the five repositories that failed most, ties in name order', () => {
    const byRepo = { 'a/six': 1, 'a/five': 2, 'a/one': 9, 'a/tie-b': 4, 'a/tie-a': 4, 'a/two': 7 };
    expect(
      buildDigest({ route: 'default', digest: { stats: stats({ byRepo }) }, stillFailing: [], now: NOW }).topRepos,
    ).toEqual([
      ['a/one', 9],
      ['a/two', 7],
      ['a/tie-a', 4],
      ['a/tie-b', 4],
      ['a/five', 2],
    ]);
  });

  it('gives the mean time to recover only when something recovered', () => {
    expect(
      buildDigest({
        route: 'default',
        digest: { stats: stats({ recoveries: 3, recoveryMs: 100 * MIN }) },
        stillFailing: [],
        now: NOW,
      }).meanRecoveryMs,
    ).toBe(Math.round((100 * MIN) / 3));
    expect(
      buildDigest({ route: 'default', digest: { stats: stats() }, stillFailing: [], now: NOW }).meanRecoveryMs,
    ).toBeUndefined();
  });

  it("is the default route's without a route name, another route's with its name in id and body", () => {
    const d = buildDigest({
      route: 'default',
      digest: { stats: stats({ byCause: { TAG_CONFLICT: 2 } }), muted: { since: 0, byCause: { NETWORK_ERROR: 1 } } },
      stillFailing: [],
      now: NOW,
    });
    expect(d).toEqual({
      kind: 'digest',
      id: `digest/${NOW}`,
      instance: '',
      since: NOW - 86_400_000,
      at: NOW,
      byCause: { TAG_CONFLICT: 2 },
      topRepos: [],
      recoveries: 0,
      meanRecoveryMs: undefined,
      stillFailing: 0,
      oldestFailing: [],
      muted: { NETWORK_ERROR: 1 },
    });
    const team = buildDigest({ route: 'team', digest: { stats: stats() }, stillFailing: [], now: NOW });
    expect(team).toMatchObject({ id: `digest/team/${NOW}`, route: 'team', muted: {} });
    expect(team).not.toHaveProperty('silences');
  });

  it('lists ten silences in force with who, why, what and until when, and counts them all', () => {
    const stored: StoredSilence = {
      id: 'sil-1',
      createdBy: 'ops@example',
      createdAt: '2027-01-01T00:00:00Z',
      comment: 'migration',
      expires: '2027-02-01T00:00:00Z',
      namespace: ['prod'],
      cause: ['TAG_CONFLICT'],
    };
    const window: Silence = { daily: '02:00-04:00', repo: ['api'] };
    const zoned: Silence = { daily: '01:00-02:00', timezone: 'Asia/Shanghai', instance: ['cn-*'] };
    const more: Silence[] = Array.from({ length: 10 }, (_, i) => ({ tag: [`v${i}`] }));
    const d = buildDigest({
      route: 'default',
      digest: { stats: stats() },
      stillFailing: [],
      now: NOW,
      silences: [stored, window, zoned, ...more],
    });
    expect(d.silencesTotal).toBe(13);
    expect(d.silences).toHaveLength(SILENCES_LISTED);
    expect(d.silences!.slice(0, 3)).toEqual([
      {
        id: 'sil-1',
        createdBy: 'ops@example',
        matches: [
          ['namespace', ['prod']],
          ['cause', ['TAG_CONFLICT']],
        ],
        comment: 'migration',
        until: Date.parse('2027-02-01T00:00:00Z'),
      },
      { matches: [['repo', ['api']]], daily: '02:00-04:00', timezone: 'UTC' },
      { matches: [['instance', ['cn-*']]], daily: '01:00-02:00', timezone: 'Asia/Shanghai' },
    ]);
  });
});

describe('digest statistics', () => {
  it('add to what was counted before without changing it', () => {
    const before = stats({ byCause: { TAG_CONFLICT: 1 }, byRepo: { 'prod/api': 1 }, recoveries: 1, recoveryMs: 5 });
    const after = addToStats(before, [failureAlert(syncTask({ taskId: 'rst-1' }))], NOW);
    expect(after).toEqual({ ...before, byCause: { TAG_CONFLICT: 2 }, byRepo: { 'prod/api': 2 } });
    expect(before).toEqual(
      stats({ byCause: { TAG_CONFLICT: 1 }, byRepo: { 'prod/api': 1 }, recoveries: 1, recoveryMs: 5 }),
    );
  });

  it('time a recovery from the failure to the success finishing (or starting, when its end is unknown), never negative', () => {
    const s = addToStats(
      undefined,
      [recovery(NOW - 30 * MIN, NOW - 10 * MIN), recovery(NOW - 5 * MIN, undefined, NOW), recovery(NOW, NOW - MIN)],
      NOW,
    );
    expect(s).toMatchObject({ since: NOW, recoveries: 3, recoveryMs: 20 * MIN + 5 * MIN });
  });

  it('do not count a stuck sync as a failure or a recovery', () => {
    expect(addToStats(undefined, [stuckAlert], NOW)).toEqual({
      since: NOW,
      byCause: {},
      byRepo: {},
      recoveries: 0,
      recoveryMs: 0,
    });
  });

  it('keep the 50 repositories that failed most once there are more, and all 50 when there are exactly 50', () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`ns/r${i}`, 1]));
    expect(Object.keys(addToStats(stats({ byRepo: fifty }), [], NOW).byRepo)).toHaveLength(50);
    // The rarest comes first: keeping the first 50 would keep it.
    const busy = { 'ns/rare': 1, ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`ns/r${i}`, i + 2])) };
    const s = addToStats(
      stats({ byRepo: busy }),
      [
        failureAlert(
          syncTask({
            taskId: 'rst-new',
            from: { instanceId: 'c', regionId: 'r', namespace: 'ns', repo: 'r49', tag: 't' },
          }),
        ),
      ],
      NOW,
    );
    expect(Object.keys(s.byRepo)).toHaveLength(50);
    expect(s.byRepo).not.toHaveProperty('ns/rare');
    expect(s.byRepo['ns/r49']).toBe(52);
  });

  it('count what silences muted by cause, since the first muted, ignoring notices', () => {
    const blind: Alert = { kind: 'blind', id: 'b', instance: 'i', since: 0, at: NOW, runs: 1, error: 'x' };
    const first = addMuted(undefined, [failureAlert(syncTask({ taskId: 'rst-1' })), stuckAlert, blind], NOW);
    expect(first).toEqual({ since: NOW, byCause: { TAG_CONFLICT: 1, stuck: 1 } });
    expect(addMuted(first, [failureAlert(syncTask({ taskId: 'rst-2' }))], NOW + MIN)).toEqual({
      since: NOW,
      byCause: { TAG_CONFLICT: 2, stuck: 1 },
    });
    expect(addMuted(undefined, [blind], NOW)).toBeUndefined();
  });
});

describe('a digest that was never sent', () => {
  const daily = { at: '09:00', timezone: 'UTC' };
  it("goes out in the hour after its slot, not at the hour's end", () => {
    const slot = Date.parse('2027-01-15T09:00:00Z');
    expect(digestDue(daily, undefined, slot)).toBe(true);
    expect(digestDue(daily, undefined, slot + 59 * MIN)).toBe(true);
    expect(digestDue(daily, undefined, slot + 60 * MIN)).toBe(false);
  });

  it('is due at its slot exactly, and not a minute before, after a send the day before', () => {
    const slot = Date.parse('2027-01-15T09:00:00Z');
    const sentYesterday = slot - 86_400_000 + 2 * MIN;
    expect(digestDue(daily, sentYesterday, slot - MIN)).toBe(false);
    expect(digestDue(daily, sentYesterday, slot)).toBe(true);
  });

  it('keeps schedules that differ only in weekday or zone apart', () => {
    const monday = Date.parse('2027-01-18T09:05:00Z');
    expect(digestDue({ at: '09:00', timezone: 'UTC', weekday: 'mon' }, undefined, monday)).toBe(true);
    expect(digestDue({ at: '09:00', timezone: 'UTC', weekday: 'tue' }, undefined, monday)).toBe(false);
    expect(digestDue({ at: '09:00', timezone: 'UTC' }, undefined, monday)).toBe(true);
    expect(digestDue({ at: '09:00', timezone: 'Asia/Shanghai' }, undefined, monday)).toBe(false);
  });
});

describe('a silence window', () => {
  const at = (hhmm: string) => Date.parse(`2027-01-15T${hhmm}:00Z`);
  it('starts at its first minute and ends before its last', () => {
    const w: Silence = { daily: '02:00-04:00' };
    expect([at('01:59'), at('02:00'), at('03:59'), at('04:00')].map((t) => isActive(w, t))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it('over midnight starts at its first minute and ends before its last', () => {
    const w: Silence = { daily: '23:00-01:00' };
    expect([at('22:59'), at('23:00'), at('00:59'), at('01:00'), at('12:00')].map((t) => isActive(w, t))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it('that starts and ends at the same minute is never in force', () => {
    expect([at('02:00'), at('12:00')].map((t) => isActive({ daily: '02:00-02:00' }, t))).toEqual([false, false]);
  });

  it('ends at its expiry exactly', () => {
    expect(isActive({ expires: '2027-01-15T02:00:00Z' }, at('02:00'))).toBe(false);
    expect(isActive({ expires: '2027-01-15T02:00:00Z' }, at('02:00') - 1)).toBe(true);
  });
});
