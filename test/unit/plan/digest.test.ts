import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../../src/model/task.js';
import { readConfig } from '../../../src/config/config.js';
import { configProblems } from '../../support/config.js';
import { addToStats, digestDue, lastSlot } from '../../../src/plan/digest.js';
import { completeFailing } from '../../../src/plan/alerts.js';
import type { FailingImage } from '../../../src/model/state.js';
import { imageKey } from '../../../src/detect/detect.js';
import type { Alert, FailureAlert } from '../../../src/model/alert.js';

const task = (i: number, issue = 'TAG_CONFLICT'): SyncTask => ({
  taskId: `rst-${i}`,
  status: 'ERROR',
  issue,
  trigger: 'PASSIVE',
  createTime: 0,
  crossUser: false,
  from: { instanceId: 'cri-a', regionId: 'cn-hangzhou', namespace: 'ns', repo: `r${i}`, tag: 'v' },
  to: { instanceId: 'cri-b', regionId: 'cn-shanghai', namespace: 'ns', repo: `r${i}`, tag: 'v' },
});
const fail = (i: number, issue?: string): Alert => ({
  id: `f${i}`,
  instance: 'cn-hangzhou:cri-a',
  task: task(i, issue),
});

describe('digest schedule', () => {
  const daily = { at: '09:00', timezone: 'Asia/Shanghai' };
  it('finds the last 09:00 in Shanghai (01:00 UTC)', () => {
    expect(new Date(lastSlot(daily, Date.parse('2026-11-24T03:00:00Z'))).toISOString()).toBe(
      '2026-11-24T01:00:00.000Z',
    );
    expect(new Date(lastSlot(daily, Date.parse('2026-11-24T00:30:00Z'))).toISOString()).toBe(
      '2026-11-23T01:00:00.000Z',
    );
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
    expect(new Date(lastSlot(weekly, Date.parse('2026-11-26T12:00:00Z'))).toISOString()).toBe(
      '2026-11-23T09:00:00.000Z',
    ); // Thursday
    expect(new Date(lastSlot(weekly, Date.parse('2026-11-23T08:00:00Z'))).toISOString()).toBe(
      '2026-11-16T09:00:00.000Z',
    );
  });
});

/** Every digest a run every 5 minutes would send from `from` to `to` (UTC ISO), as UTC ISO times. */
function sendsBetween(
  schedule: Parameters<typeof digestDue>[0],
  from: string,
  to: string,
  lastSentAt?: string,
): string[] {
  const sent: string[] = [];
  let last = lastSentAt === undefined ? undefined : Date.parse(lastSentAt);
  for (let now = Date.parse(from); now <= Date.parse(to); now += 5 * 60_000) {
    if (digestDue(schedule, last, now)) {
      sent.push(new Date(now).toISOString());
      last = now;
    }
  }
  return sent;
}

describe('digest schedule across daylight saving time', () => {
  it('sends one daily digest on the day the clocks go back in Berlin, at 08:30 local (the reported double send)', () => {
    const berlin = { at: '08:30', timezone: 'Europe/Berlin' };
    // Last sent 2025-10-25 08:31 CEST; on 2025-10-26 the clocks go back at 03:00 CEST, so 08:30 CET is 07:30 UTC.
    expect(sendsBetween(berlin, '2025-10-25T06:35:00Z', '2025-10-27T12:00:00Z', '2025-10-25T06:31:00Z')).toEqual([
      '2025-10-26T07:30:00.000Z',
      '2025-10-27T07:30:00.000Z',
    ]);
  });

  it('sends one daily digest on the day the clocks go forward in Berlin, even at a local time that does not exist', () => {
    // 02:30 does not exist on 2025-03-30 (02:00 CET jumps to 03:00 CEST): it runs at the first valid moment after.
    expect(
      sendsBetween(
        { at: '02:30', timezone: 'Europe/Berlin' },
        '2025-03-28T12:00:00Z',
        '2025-03-31T12:00:00Z',
        '2025-03-28T01:30:00Z',
      ),
    ).toEqual(['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z']);
    expect(
      sendsBetween(
        { at: '08:30', timezone: 'Europe/Berlin' },
        '2025-03-29T12:00:00Z',
        '2025-03-31T12:00:00Z',
        '2025-03-29T07:30:00Z',
      ),
    ).toEqual(['2025-03-30T06:30:00.000Z', '2025-03-31T06:30:00.000Z']);
  });

  it('sends once in New York at a local time the autumn change repeats, and on time after the spring change', () => {
    // 2025-11-02: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST); one digest only.
    expect(
      sendsBetween(
        { at: '01:30', timezone: 'America/New_York' },
        '2025-11-01T12:00:00Z',
        '2025-11-03T12:00:00Z',
        '2025-11-01T05:30:00Z',
      ),
    ).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']);
    // 2025-03-09: 09:00 EST was 14:00 UTC, 09:00 EDT is 13:00 UTC.
    expect(
      sendsBetween(
        { at: '09:00', timezone: 'America/New_York' },
        '2025-03-08T15:00:00Z',
        '2025-03-10T15:00:00Z',
        '2025-03-08T14:00:00Z',
      ),
    ).toEqual(['2025-03-09T13:00:00.000Z', '2025-03-10T13:00:00.000Z']);
  });

  it('sends one weekly digest a week across both changes, in Berlin and New York', () => {
    expect(
      sendsBetween(
        { at: '08:30', timezone: 'Europe/Berlin', weekday: 'sun' },
        '2025-10-19T07:00:00Z',
        '2025-11-03T00:00:00Z',
        '2025-10-19T06:30:00Z',
      ),
    ).toEqual(['2025-10-26T07:30:00.000Z', '2025-11-02T07:30:00.000Z']);
    expect(
      sendsBetween(
        { at: '09:00', timezone: 'Europe/Berlin', weekday: 'mon' },
        '2025-03-24T09:00:00Z',
        '2025-04-08T00:00:00Z',
        '2025-03-24T08:00:00Z',
      ),
    ).toEqual(['2025-03-31T07:00:00.000Z', '2025-04-07T07:00:00.000Z']);
    expect(
      sendsBetween(
        { at: '01:30', timezone: 'America/New_York', weekday: 'sun' },
        '2025-10-26T06:00:00Z',
        '2025-11-10T00:00:00Z',
        '2025-10-26T05:30:00Z',
      ),
    ).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-09T06:30:00.000Z']);
  });
});

describe('digest statistics', () => {
  it('counts failures by cause and repository, and recoveries with their time, keeping at most 50 repositories', () => {
    const alerts: Alert[] = [
      ...Array.from({ length: 60 }, (_, i) => fail(i)),
      fail(0, 'NETWORK_ERROR'),
      {
        kind: 'recovered',
        id: 'r',
        instance: 'x',
        task: { ...task(1), status: 'SUCCESS', modifiedTime: 600_000 },
        failedTaskId: 'f',
        issue: 'TAG_CONFLICT',
        since: 0,
        unannounced: false,
      },
    ];
    const s = addToStats(undefined, alerts, 5);
    expect(s.byCause).toEqual({ TAG_CONFLICT: 60, NETWORK_ERROR: 1 });
    expect(Object.keys(s.byRepo)).toHaveLength(50);
    expect(s.byRepo['ns/r0']).toBe(2);
    expect(s).toMatchObject({ since: 5, recoveries: 1, recoveryMs: 600_000 });
  });

  it('is configured with the rest, naming what is wrong', () => {
    expect(configProblems({ DIGEST_AT: '9am' })).toMatch(/DIGEST_AT must be a local time like 09:00/);
    expect(configProblems({ DIGEST_AT: '09:00', DIGEST_TIMEZONE: 'Moon/Base' })).toMatch(
      /DIGEST_TIMEZONE "Moon\/Base" is not an IANA time zone/,
    );
    expect(configProblems({ DIGEST_WEEKDAY: 'friday' })).toMatch(/DIGEST_WEEKDAY must be one of/);
    expect(configProblems({ DIGEST_WEEKDAY: 'fri' })).toMatch(/need DIGEST_AT/);
    expect(
      readConfig({
        ACR_INSTANCES: 'cn-hangzhou:cri-abc',
        SLACK_WEBHOOK: 'https://hooks.slack.com/services/a',
        DIGEST_AT: '09:00',
        ALERT_LANG: 'zh',
      }).routes.at(-1)?.digest,
    ).toEqual({ at: '09:00', timezone: 'Asia/Shanghai', weekday: undefined });
  });
});

describe('which route owns a failing image', () => {
  const row = (over: Partial<FailingImage> = {}): FailingImage => ({
    since: 0,
    lastFailure: 0,
    taskId: 't',
    issue: 'TAG_CONFLICT',
    ...over,
  });
  it('records the route a failure went to, and clears it when a later failure of the image goes to the default route', () => {
    const a = fail(1);
    const key = imageKey((a as FailureAlert).task);
    const failing = new Map<string, FailingImage | null>([
      [key, row()],
      ['other', row({ route: 'team-b' })],
    ]);
    completeFailing(failing, { alerts: [a], owner: new Map([[a.id, 'team-a']]) });
    expect(failing.get(key)!.route).toBe('team-a');
    expect(failing.get('other')!.route).toBe('team-b');
    completeFailing(failing, { alerts: [a], owner: new Map([[a.id, 'default']]) });
    expect(failing.get(key)).not.toHaveProperty('route');
    // An image whose row this batch deletes (it recovered) is left alone.
    const gone = new Map<string, FailingImage | null>([[key, null]]);
    completeFailing(gone, { alerts: [a], owner: new Map([[a.id, 'team-a']]) });
    expect(gone.get(key)).toBeNull();
  });
});
