import { describe, expect, it } from 'vitest';
import type { Alert, MonitorAlert } from '../../../src/model/alert.js';
import type { RouteDigest } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';
import { alertsOf, completeFailing } from '../../../src/plan/alerts.js';
import { RunPlanner, type PlanSettings } from '../../../src/plan/plan.js';
import { defaultRoute, failureAlert, route, syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const settings = (over: Partial<PlanSettings> = {}): PlanSettings => ({
  routes: [defaultRoute()],
  silences: [],
  ...over,
});
const fail = (taskId: string, over: Partial<SyncTask> = {}) =>
  failureAlert(syncTask({ taskId, createTime: NOW - 60_000, ...over }));
const planner = (s = settings(), prev = new Map<string, RouteDigest>()) => new RunPlanner(s, prev, NOW);

describe('planning a run (RunPlanner)', () => {
  it('owes each alert to the targets of the first route that matches, and the rest to the default route', () => {
    const team = route('team', ['slack'], { match: { namespace: ['team-*'] } });
    const p = planner(settings({ routes: [team, defaultRoute()] }));
    const a = fail('rst-a', { from: { ...syncTask({ taskId: 'x' }).from, namespace: 'team-pay' } });
    const b = fail('rst-b');
    const planned = p.plan([a, b]);
    expect(planned.owed.map((o) => [o.alert.id.split('/').at(-1), o.target, o.detectedAt])).toEqual([
      ['rst-a', 'team/slack', NOW],
      ['rst-b', 'dingtalk', NOW],
      ['rst-b', 'slack', NOW],
    ]);
    expect([...planned.owner]).toEqual([
      [a.id, 'team'],
      [b.id, 'default'],
    ]);
  });

  it('keeps muted alerts out of what is owed but counts them for the digest of the route they would have gone to', () => {
    const p = planner(settings({ silences: [{ cause: ['TAG_CONFLICT'], comment: 'known' }] }));
    const muted = fail('rst-m');
    const sent = fail('rst-n', { issue: 'NETWORK_ERROR' });
    const planned = p.plan([muted, sent]);
    expect(planned.muted.map((m) => [m.alert.id, m.silence.comment])).toEqual([[muted.id, 'known']]);
    expect(planned.owed.map((o) => o.alert.id)).toEqual([sent.id, sent.id]);
    p.count([sent], [muted], planned.owner);
    const d = p.changed().get('default')!;
    expect(d.stats.byCause).toEqual({ NETWORK_ERROR: 1 });
    expect(d.muted?.byCause).toEqual({ TAG_CONFLICT: 1 });
  });

  it('names an alert no route can send, and owes it to nobody', () => {
    const planned = planner(settings({ routes: [defaultRoute([])] })).plan([fail('rst-x')]);
    expect(planned.owed).toEqual([]);
    expect(planned.unroutable.map((a) => a.id)).toEqual([fail('rst-x').id]);
  });

  it('tells every route that covers an instance when alerting is blind there', () => {
    const sg = route('sg', ['dingtalk'], { match: { instance: ['ap-southeast-1:*'] } });
    const other = route('other', ['slack'], { match: { instance: ['cn-beijing:*'] } });
    const blind: MonitorAlert = {
      kind: 'blind',
      id: 'ap-southeast-1:cri-sg/blind/1',
      instance: 'ap-southeast-1:cri-sg',
      since: 1,
      at: NOW,
      runs: 3,
    };
    const planned = planner(settings({ routes: [sg, other, defaultRoute(['slack'])] })).plan([blind]);
    expect(planned.owed.map((o) => o.target)).toEqual(['sg/dingtalk', 'slack']);
    expect(planned.owner.size).toBe(0);
  });

  it("builds a route's digest on request or schedule, owes it to that route, and starts its statistics afresh", () => {
    const team = route('team', ['slack'], { match: { namespace: ['team'] }, digest: { at: '09:00', timezone: 'UTC' } });
    const quiet = route('quiet', [], { match: { namespace: ['quiet'] } });
    const prev = new Map<string, RouteDigest>([
      [
        'team',
        {
          stats: { since: 1, byCause: { TAG_CONFLICT: 4 }, byRepo: {}, recoveries: 0, recoveryMs: 0 },
          lastSentAt: NOW - 3 * 86_400_000,
        },
      ],
    ]);
    const p = planner(settings({ routes: [team, quiet, defaultRoute()] }), prev);
    expect(p.digestsDue(false)).toEqual(['team']);
    expect(p.digestsDue(true)).toEqual(['team', 'default']);
    const { alert, owed } = p.digest('team', [
      { instance: 'i', since: 5, issue: 'TAG_CONFLICT', taskId: 'rst-1', image: 'team/api:v1' },
    ]);
    expect(alert).toMatchObject({
      kind: 'digest',
      id: `digest/team/${NOW}`,
      route: 'team',
      byCause: { TAG_CONFLICT: 4 },
      stillFailing: 1,
    });
    expect(owed.map((o) => o.target)).toEqual(['team/slack']);
    expect(p.changed().get('team')).toEqual({
      stats: { since: NOW, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 },
      lastSentAt: NOW,
    });
    expect(p.digestsDue(false)).toEqual([]);
  });

  it('sends a scheduled digest once per slot: the next run in the same slot, reading what this run wrote, sends none', () => {
    const daily = route('team', ['slack'], {
      match: { namespace: ['team'] },
      digest: { at: '09:00', timezone: 'UTC' },
    });
    const slot = Date.parse('2027-01-15T09:00:00Z');
    const runAt = (now: number, prev: Map<string, RouteDigest>) =>
      new RunPlanner(settings({ routes: [daily, defaultRoute()] }), prev, now);
    let rows = new Map<string, RouteDigest>();
    const sent: string[] = [];
    for (let now = slot - 10 * 60_000; now <= slot + 24 * 3_600_000 + 10 * 60_000; now += 5 * 60_000) {
      const p = runAt(now, rows);
      for (const r of p.digestsDue(false)) {
        p.digest(r, []);
        sent.push(`${r} ${new Date(now).toISOString()}`);
      }
      rows = new Map([...rows, ...p.changed()]);
    }
    expect(sent).toEqual(['team 2027-01-15T09:00:00.000Z', 'team 2027-01-16T09:00:00.000Z']);
  });

  it('lists in a digest the silences not yet expired, configured and stored, in or out of their daily hours', () => {
    const configured = { comment: 'window', daily: '01:00-02:00' };
    const ended = { comment: 'ended', expires: new Date(NOW).toISOString() };
    const p = planner(settings({ silences: [configured, ended] }));
    p.addSilences([{ comment: 'stored', expires: new Date(NOW + 60_000).toISOString() }]);
    expect(p.silencesInForce().map((s) => s.comment)).toEqual(['window', 'stored']);
  });

  it('owes an alert that a route can send to no one only when no route takes it', () => {
    const planned = planner(
      settings({ routes: [route('team', ['slack'], { match: { namespace: ['team'] } }), defaultRoute([])] }),
    ).plan([fail('rst-t', { from: { ...syncTask({ taskId: 'x' }).from, namespace: 'team' } }), fail('rst-x')]);
    expect(planned.owed.map((o) => [o.alert.id.split('/').at(-1), o.target])).toEqual([['rst-t', 'team/slack']]);
    expect(planned.unroutable.map((a) => a.id.split('/').at(-1))).toEqual(['rst-x']);
  });

  it('counts nothing for an alert without an owner, or owned by a route that cannot send', () => {
    const p = planner(settings({ routes: [route('quiet', []), defaultRoute()] }));
    p.count([fail('rst-1'), fail('rst-2')], [], new Map([[fail('rst-2').id, 'quiet']]));
    expect(p.changed().size).toBe(0);
  });

  it('hands a failing image owned by a route since removed (or by none) to the default route', () => {
    const p = planner(settings({ routes: [route('team', ['slack']), defaultRoute()] }));
    expect([p.ownerOf('team'), p.ownerOf('removed'), p.ownerOf(undefined)]).toEqual(['team', 'default', 'default']);
  });

  it('writes a digest row only for routes whose statistics changed', () => {
    const p = planner();
    expect(p.changed().size).toBe(0);
    p.count([fail('rst-c')], [], new Map([[fail('rst-c').id, 'default']]));
    expect([...p.changed().keys()]).toEqual(['default']);
  });

  it('raises stable alert ids from what a batch found, with what it knows of each rule', () => {
    const task = syncTask({ taskId: 'rst-1', ruleId: 'crsr-1' });
    const rules = new Map([
      [
        'crsr-1',
        { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE', trigger: 'PASSIVE', targetRegionId: 'cn-shanghai' },
      ],
    ]);
    const alerts: Alert[] = alertsOf(
      'cn-hangzhou:cri-src',
      { failures: [task], recoveries: [], stuck: [task], unstuck: [] },
      rules,
      NOW,
    );
    expect(alerts.map((a) => a.id)).toEqual(['cn-hangzhou:cri-src/rst-1', 'cn-hangzhou:cri-src/rst-1/stuck']);
    expect(alerts[0]).toMatchObject({
      rule: { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE', trigger: 'PASSIVE' },
    });
    expect(alerts[0]).not.toHaveProperty('rule.targetRegionId');
  });

  it('raises a recovery with the failure it ends, and a notice when a stuck sync finished, each under its own id', () => {
    const ok = syncTask({ taskId: 'rst-ok', status: 'SUCCESS', ruleId: 'crsr-1' });
    const done = syncTask({ taskId: 'rst-long', status: 'SUCCESS', ruleId: 'crsr-gone' });
    const rules = new Map([['crsr-1', { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' }]]);
    const alerts = alertsOf(
      'cn-hangzhou:cri-src',
      {
        failures: [],
        recoveries: [
          { success: ok, failure: { taskId: 'rst-bad', issue: 'TAG_CONFLICT', since: NOW - 60_000 }, sameRun: true },
        ],
        stuck: [],
        unstuck: [done],
      },
      rules,
      NOW,
    );
    expect(alerts).toEqual([
      {
        kind: 'recovered',
        id: 'cn-hangzhou:cri-src/rst-ok/recovered',
        instance: 'cn-hangzhou:cri-src',
        task: ok,
        rule: { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' },
        failedTaskId: 'rst-bad',
        issue: 'TAG_CONFLICT',
        since: NOW - 60_000,
        unannounced: true,
      },
      {
        kind: 'unstuck',
        id: 'cn-hangzhou:cri-src/rst-long/unstuck',
        instance: 'cn-hangzhou:cri-src',
        task: done,
        rule: undefined,
        at: NOW,
      },
    ]);
    expect(alertsOf('i', { failures: [ok], recoveries: [], stuck: [], unstuck: [] }, undefined, NOW)[0]).toMatchObject({
      rule: undefined,
    });
  });

  it('names the rule of a failing image when the rules were read, and keeps the id when they were not or it is unknown', () => {
    const rules = new Map([['crsr-1', { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' }]]);
    const row = (rule?: string) => ({
      since: NOW,
      lastFailure: NOW,
      taskId: 'rst-1',
      issue: 'TAG_CONFLICT',
      ...(rule ? { ruleId: rule } : {}),
    });
    const failing = new Map([
      ['a', row('crsr-1')],
      ['b', row('crsr-gone')],
      ['c', row()],
      ['d', null],
    ]);
    const named = completeFailing(failing, { rules, alerts: [], owner: new Map() });
    expect([...named.values()].map((f) => f?.ruleName ?? f?.ruleId)).toEqual([
      'prod-to-sh',
      'crsr-gone',
      undefined,
      undefined,
    ]);
    expect(named.get('d')).toBeNull();
    expect(failing.get('a')).toEqual(row('crsr-1'));
    expect(completeFailing(failing, { alerts: [], owner: new Map() }).get('a')!.ruleName).toBeUndefined();
  });
});
