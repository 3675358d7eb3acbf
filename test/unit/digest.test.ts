import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../src/acr/types.js';
import { readConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';
import { digestDue, lastSlot, tagOwners, tally } from '../../src/digest.js';
import { imageKey } from '../../src/detect.js';
import type { Alert, FailureAlert } from '../../src/state/checkpoint.js';

const task = (i: number, issue = 'TAG_CONFLICT'): SyncTask => ({
  taskId: `rst-${i}`, status: 'ERROR', issue, trigger: 'PASSIVE', createTime: 0, crossUser: false,
  from: { instanceId: 'cri-a', regionId: 'cn-hangzhou', namespace: 'ns', repo: `r${i}`, tag: 'v' }, to: { instanceId: 'cri-b', regionId: 'cn-shanghai', namespace: 'ns', repo: `r${i}`, tag: 'v' },
});
const fail = (i: number, issue?: string): Alert => ({ id: `f${i}`, instance: 'cn-hangzhou:cri-a', task: task(i, issue) });

describe('digest schedule', () => {
  const daily = { at: '09:00', timezone: 'Asia/Shanghai' };
  it('finds the last 09:00 in Shanghai (01:00 UTC)', () => {
    expect(new Date(lastSlot(daily, Date.parse('2026-11-24T03:00:00Z'))).toISOString()).toBe('2026-11-24T01:00:00.000Z');
    expect(new Date(lastSlot(daily, Date.parse('2026-11-24T00:30:00Z'))).toISOString()).toBe('2026-11-23T01:00:00.000Z');
  });
  it('is due once per slot', () => {
    const now = Date.parse('2026-11-24T01:05:00Z');
    expect(digestDue(daily, undefined, now)).toBe(true);
    expect(digestDue(daily, now, now + 60_000)).toBe(false);
    expect(digestDue(daily, now, now + 24 * 3_600_000)).toBe(true);
    expect(digestDue(undefined, undefined, now)).toBe(false);
    // Deployed long after today's slot: wait for tomorrow's rather than sending at once.
    expect(digestDue(daily, undefined, Date.parse('2026-11-24T05:00:00Z'))).toBe(false);
  });
  it('weekly: the last Monday 09:00 UTC', () => {
    const weekly = { at: '09:00', timezone: 'UTC', weekday: 'mon' as const };
    expect(new Date(lastSlot(weekly, Date.parse('2026-11-26T12:00:00Z'))).toISOString()).toBe('2026-11-23T09:00:00.000Z'); // Thursday
    expect(new Date(lastSlot(weekly, Date.parse('2026-11-23T08:00:00Z'))).toISOString()).toBe('2026-11-16T09:00:00.000Z');
  });
});

describe('digest statistics', () => {
  it('counts failures by cause and repository, and recoveries with their time, keeping at most 50 repositories', () => {
    const alerts: Alert[] = [...Array.from({ length: 60 }, (_, i) => fail(i)), fail(0, 'NETWORK_ERROR'),
      { kind: 'recovered', id: 'r', instance: 'x', task: { ...task(1), status: 'SUCCESS', modifiedTime: 600_000 }, failedTaskId: 'f', issue: 'TAG_CONFLICT', since: 0, unannounced: false }];
    const s = tally(undefined, alerts, 5);
    expect(s.byCause).toEqual({ TAG_CONFLICT: 60, NETWORK_ERROR: 1 });
    expect(Object.keys(s.byRepo)).toHaveLength(50);
    expect(s.byRepo['ns/r0']).toBe(2);
    expect(s).toMatchObject({ since: 5, recoveries: 1, recoveryMs: 600_000 });
  });

  it('is configured with the rest, naming what is wrong', () => {
    expect(configProblems({ DIGEST_AT: '9am' })).toMatch(/DIGEST_AT must be a local time like 09:00/);
    expect(configProblems({ DIGEST_AT: '09:00', DIGEST_TIMEZONE: 'Moon/Base' })).toMatch(/DIGEST_TIMEZONE "Moon\/Base" is not an IANA time zone/);
    expect(configProblems({ DIGEST_WEEKDAY: 'friday' })).toMatch(/DIGEST_WEEKDAY must be one of/);
    expect(configProblems({ DIGEST_WEEKDAY: 'fri' })).toMatch(/need DIGEST_AT/);
    expect(readConfig({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: 'https://hooks.slack.com/services/a', DIGEST_AT: '09:00', ALERT_LANG: 'zh' }).routes.at(-1)?.digest).toEqual({ at: '09:00', timezone: 'Asia/Shanghai', weekday: undefined });
  });
});

describe('which route owns a failing image', () => {
  const cursor = (failing: Record<string, { route?: string }>) => ({ watermark: 0, open: {}, handled: {}, failing: Object.fromEntries(Object.entries(failing).map(([k, f]) => [k, { since: 0, lastFailure: 0, taskId: 't', issue: 'TAG_CONFLICT', ...f }])) });
  it('records the route a failure went to, and clears it when a later failure of the image goes to the default route', () => {
    const a = fail(1);
    const key = imageKey((a as FailureAlert).task);
    const cursors = { 'cn-hangzhou:cri-a': cursor({ [key]: {}, other: {} }) };
    const toTeam = tagOwners(cursors, { sent: [a], muted: [], ownerOf: () => 'team-a' });
    expect(toTeam['cn-hangzhou:cri-a']!.failing![key]!.route).toBe('team-a');
    expect(cursors['cn-hangzhou:cri-a'].failing[key]!.route).toBeUndefined(); // the input is not changed
    const back = tagOwners(toTeam, { sent: [], muted: [a], ownerOf: () => 'default' });
    expect(back['cn-hangzhou:cri-a']!.failing![key]).not.toHaveProperty('route');
    // Without any route tags and nothing routed elsewhere, the cursors are shared as they are.
    const same = tagOwners(cursors, { sent: [a], muted: [], ownerOf: () => 'default' });
    expect(same['cn-hangzhou:cri-a']).toBe(cursors['cn-hangzhou:cri-a']);
  });
});
