import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../../src/model/task.js';
import { configSecrets, readConfig } from '../../../src/config/config.js';
import { router } from '../../../src/plan/routing.js';
import { targetsOf } from '../../../src/model/route.js';
import type { Alert } from '../../../src/model/alert.js';
import { parseLegacy } from '../../../src/state/earlier-document.js';
import { causesOf, matchesAny, matchesTask } from '../../../src/plan/match.js';
import { digest } from '../../support/alerts.js';
import { defaultRoute, failureAlert, route, syncTask } from '../../support/build.js';
import { configProblems } from '../../support/config.js';

const HOOK = {
  ding: 'https://oapi.dingtalk.com/robot/send?access_token=route-token-8f1e',
  slack: 'https://hooks.slack.com/services/T9/B9/route-hook-2c4d',
};
const env = (routes: unknown, extra: Record<string, string> = {}) => ({
  ACR_INSTANCES: 'cn-hangzhou:cri-abc',
  SLACK_WEBHOOK: 'https://hooks.slack.com/services/a',
  ROUTES: JSON.stringify(routes),
  ...extra,
});

const task = (over: Partial<SyncTask['from']> = {}, issue = 'TAG_CONFLICT'): SyncTask => ({
  taskId: 'rst-1',
  status: 'ERROR',
  issue,
  trigger: 'PASSIVE',
  createTime: 0,
  crossUser: false,
  ruleId: 'crsr-7',
  from: { instanceId: 'cri-abc', regionId: 'cn-hangzhou', namespace: 'team-a', repo: 'api', tag: 'v1', ...over },
  to: { instanceId: 'cri-b', regionId: 'cn-shanghai', namespace: 'team-a', repo: 'api', tag: 'v1' },
});
const failure = (over: Partial<SyncTask['from']> = {}, issue?: string, instance = 'cn-hangzhou:cri-abc'): Alert => ({
  id: 'x',
  instance,
  task: task(over, issue),
});

describe('routes config', () => {
  const routes = [
    {
      name: 'team-a',
      match: { namespace: 'team-a*' },
      dingtalk: { webhook: HOOK.ding, atMobiles: ['13900000001'] },
      lang: 'zh',
    },
    {
      name: 'network',
      match: { cause: ['NETWORK_ERROR', 'INTERNAL_ERROR'], instance: 'cn-*:*' },
      slack: { webhook: HOOK.slack, mentions: ['S0NETOPS'] },
      timezone: 'Europe/Berlin',
      digest: { at: '08:30', weekday: 'mon' },
    },
  ];

  it('reads routes in order, fills in what they leave out, and puts the default route last', () => {
    const c = readConfig(env(routes, { ALERT_TIMEZONE: 'Asia/Singapore', DINGTALK_AT_MOBILES: '13800000000' }));
    expect(c.routes.map((r) => r.name)).toEqual(['team-a', 'network', 'default']);
    const [team, net, def] = c.routes;
    expect(team).toMatchObject({
      lang: 'zh',
      timeZone: 'Asia/Singapore',
      mentions: { dingtalkMobiles: ['13900000001'], dingtalkUserIds: [], slack: [] },
    });
    expect(net).toMatchObject({
      lang: 'en',
      timeZone: 'Europe/Berlin',
      digest: { at: '08:30', weekday: 'mon', timezone: 'Europe/Berlin' },
      match: { cause: ['NETWORK_ERROR', 'INTERNAL_ERROR'], instance: ['cn-*:*'] },
    });
    expect(def).toMatchObject({
      name: 'default',
      timeZone: 'Asia/Singapore',
      mentions: { dingtalkMobiles: ['13800000000'] },
    });
    expect(def!.match).toBeUndefined();
    expect(targetsOf(team!)).toEqual(['team-a/dingtalk']);
    expect(targetsOf(def!)).toEqual(['slack']);
    // Each route's webhooks are secrets like the default route's, and never part of the config's JSON.
    expect(configSecrets(c).map((s) => s.reveal())).toEqual(
      expect.arrayContaining([HOOK.ding, 'route-token-8f1e', HOOK.slack]),
    );
    expect(JSON.stringify(c)).not.toMatch(/route-token-8f1e|route-hook-2c4d/);
  });

  it("defaults a route's time zone by its language when ALERT_TIMEZONE is unset", () => {
    const c = readConfig(env(routes, { ALERT_LANG: 'en' }));
    expect(c.routes.map((r) => r.timeZone)).toEqual(['Asia/Shanghai', 'Europe/Berlin', 'UTC']);
  });

  it('reads ROUTES_FILE like ROUTES', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'routes-')), 'routes.json');
    writeFileSync(file, JSON.stringify(routes));
    const { ROUTES: _r, ...rest } = env(routes);
    expect(readConfig({ ...rest, ROUTES_FILE: file }).routes).toHaveLength(3);
    expect(configProblems({ ROUTES: '[]', ROUTES_FILE: file })).toMatch(/set ROUTES or ROUTES_FILE, not both/);
    expect(configProblems({ ROUTES_FILE: `${file}.missing` })).toMatch(/ROUTES_FILE .* cannot be read \(ENOENT\)/);
    // In Function Compute a relative path means the code directory.
    expect(readConfig({ ...rest, ROUTES_FILE: 'routes.json', FC_FUNC_CODE_PATH: dirname(file) }).routes).toHaveLength(
      3,
    );
  });

  it.each([
    ['not JSON', '{', /ROUTES is not valid JSON/],
    ['not an array', '{"name":"x"}', /routes: routes must be a JSON array of routes/],
    [
      'an unknown field',
      JSON.stringify([{ name: 'x', slack: { webhook: HOOK.slack }, mtach: {} }]),
      /routes\[0\]\.mtach: unknown field/,
    ],
    [
      'an unknown matcher',
      JSON.stringify([{ name: 'x', slack: { webhook: HOOK.slack }, match: { namspace: 'a' } }]),
      /routes\[0\]\.match\.namspace: unknown field/,
    ],
    ['no name', JSON.stringify([{ slack: { webhook: HOOK.slack } }]), /routes\[0\]\.name: is required/],
    [
      'a bad name',
      JSON.stringify([{ name: 'team a', slack: { webhook: HOOK.slack } }]),
      /routes\[0\]\.name: name must be 1-32 letters/,
    ],
    [
      'the reserved name',
      JSON.stringify([{ name: 'default', slack: { webhook: HOOK.slack } }]),
      /routes\[0\]\.name "default" is reserved/,
    ],
    [
      'a repeated name',
      JSON.stringify([
        { name: 'a', match: { repo: 'x' }, slack: { webhook: HOOK.slack } },
        { name: 'a', slack: { webhook: HOOK.slack } },
      ]),
      /routes\[1\]\.name "a" is used by an earlier route/,
    ],
    [
      'no channel',
      JSON.stringify([{ name: 'a', match: { repo: 'x' } }]),
      /routes\[0\] \(a\) has no dingtalk or slack webhook/,
    ],
    [
      'a webhook where an object belongs',
      JSON.stringify([{ name: 'a', slack: HOOK.slack }]),
      /routes\[0\]\.slack: Invalid type: Expected Object$/m,
    ],
    [
      'a webhook as a matcher',
      JSON.stringify([{ name: 'a', slack: { webhook: HOOK.slack }, match: { repo: { url: HOOK.ding } } }]),
      /routes\[0\]\.match\.repo: Invalid type: Expected \(string \| Array\)$/m,
    ],
    [
      'a foreign webhook host',
      JSON.stringify([{ name: 'a', slack: { webhook: 'https://evil.example/services/x-secret' } }]),
      /routes\[0\]\.slack\.webhook must point at Slack/,
    ],
    [
      'a DingTalk webhook without token',
      JSON.stringify([{ name: 'a', dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send' } }]),
      /routes\[0\]\.dingtalk\.webhook must carry the robot access_token/,
    ],
    [
      'a bad signing secret',
      JSON.stringify([{ name: 'a', dingtalk: { webhook: HOOK.ding, secret: 'nope-secret' } }]),
      /routes\[0\]\.dingtalk\.secret must be the robot signing secret/,
    ],
    [
      'a bad mention',
      JSON.stringify([{ name: 'a', slack: { webhook: HOOK.slack, mentions: ['@bob'] } }]),
      /routes\[0\]\.slack\.mentions entry "@bob" must be a Slack user id/,
    ],
    [
      'a bad time zone',
      JSON.stringify([{ name: 'a', slack: { webhook: HOOK.slack }, timezone: 'Mars/Olympus' }]),
      /routes\[0\]\.timezone "Mars\/Olympus" is not an IANA time zone/,
    ],
    [
      'a bad digest time',
      JSON.stringify([{ name: 'a', slack: { webhook: HOOK.slack }, digest: { at: '9am' } }]),
      /routes\[0\]\.digest\.at: digest\.at must be a local time like 09:00/,
    ],
    [
      'a catch-all before other routes',
      JSON.stringify([
        { name: 'all', slack: { webhook: HOOK.slack } },
        { name: 'b', match: { repo: 'x' }, slack: { webhook: HOOK.slack } },
      ]),
      /routes\[0\] \(all\) matches every alert, so the routes after it are never used/,
    ],
  ])('refuses %s, naming the route and field, without echoing a secret', (_what, routesJson, why) => {
    const p = configProblems({ ROUTES: routesJson });
    expect(p).toMatch(why);
    expect(p).not.toMatch(/x-secret|nope-secret|route-token-8f1e|route-hook-2c4d/);
  });

  it('needs somewhere for an alert that matches no route', () => {
    const noDefault = { ACR_INSTANCES: 'cn-hangzhou:cri-abc', ROUTES: JSON.stringify([routes[0]]) };
    expect(() => readConfig(noDefault)).toThrow(/alerts that match no route have nowhere to go/);
    // A route without "match" at the end catches the rest instead of the default route.
    const c = readConfig({
      ...noDefault,
      ROUTES: JSON.stringify([routes[0], { name: 'rest', slack: { webhook: HOOK.slack } }]),
    });
    expect(c.routes.map((r) => [r.name, targetsOf(r)])).toEqual([
      ['team-a', ['team-a/dingtalk']],
      ['rest', ['rest/slack']],
      ['default', []],
    ]);
    expect(() => readConfig({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', ROUTES: '[]' })).toThrow(/no channel configured/);
  });
});

describe('routing alerts', () => {
  const c = readConfig(
    env([
      { name: 'team-a', match: { namespace: 'team-a*' }, dingtalk: { webhook: HOOK.ding } },
      { name: 'network', match: { cause: 'NETWORK_ERROR' }, slack: { webhook: HOOK.slack } },
      { name: 'beijing', match: { instance: 'cn-beijing:*', repo: 'web*' }, slack: { webhook: HOOK.slack } },
    ]),
  );
  const route = router(c.routes);
  const names = (a: Alert) => route(a).map((r) => r.name);

  it('sends an alert about a task to the first route that matches, else the default route', () => {
    expect(names(failure())).toEqual(['team-a']);
    expect(names(failure({}, 'NETWORK_ERROR'))).toEqual(['team-a']);
    expect(names(failure({ namespace: 'platform' }, 'NETWORK_ERROR'))).toEqual(['network']);
    expect(names(failure({ namespace: 'platform' }))).toEqual(['default']);
    expect(names(failure({ namespace: 'platform', repo: 'web-ui' }, undefined, 'cn-beijing:cri-x'))).toEqual([
      'beijing',
    ]);
    expect(names(failure({ namespace: 'platform', repo: 'api' }, undefined, 'cn-beijing:cri-x'))).toEqual(['default']);
  });

  it('routes a recovery by its failure\'s cause and a stuck sync as "stuck", like silences', () => {
    const recovered: Alert = {
      kind: 'recovered',
      id: 'r',
      instance: 'cn-hangzhou:cri-abc',
      task: { ...task({ namespace: 'platform' }), status: 'SUCCESS', issue: '' },
      failedTaskId: 'f',
      issue: 'NETWORK_ERROR',
      since: 0,
      unannounced: false,
    };
    const stuck: Alert = {
      kind: 'stuck',
      id: 's',
      instance: 'cn-hangzhou:cri-abc',
      task: { ...task({ namespace: 'platform' }), status: 'SYNCHRONIZING' },
      at: 0,
    };
    expect(names(recovered)).toEqual(['network']);
    expect(names(stuck)).toEqual(['default']);
  });

  it('tells every route that can hear from an instance when alerting is blind there; a digest goes to its own route', () => {
    const blind = (instance: string): Alert => ({ kind: 'blind', id: 'b', instance, since: 0, at: 0, runs: 3 });
    expect(names(blind('cn-hangzhou:cri-abc'))).toEqual(['team-a', 'network', 'default']);
    expect(names(blind('cn-beijing:cri-x'))).toEqual(['team-a', 'network', 'beijing', 'default']);
    const digest = (route?: string): Alert => ({
      kind: 'digest',
      id: 'd',
      instance: '',
      route,
      since: 0,
      at: 0,
      byCause: {},
      topRepos: [],
      recoveries: 0,
      stillFailing: 0,
      oldestFailing: [],
      muted: {},
    });
    expect(names(digest('network'))).toEqual(['network']);
    expect(names(digest())).toEqual(['default']);
  });
});

describe('checkpoints written before routes', () => {
  it("read their one digest and muted tally as the default route's, and their channel names as its targets", () => {
    const stats = { since: 1, byCause: { TAG_CONFLICT: 2 }, byRepo: { 'ns/a': 2 }, recoveries: 0, recoveryMs: 0 };
    const cp = parseLegacy(
      {
        schema: 1,
        instances: {},
        outbox: [
          {
            alert: { id: 'i/t', instance: 'i', task: { taskId: 't', createTime: 1 } },
            pending: ['slack'],
            detectedAt: 1,
            attempts: 0,
          },
        ],
        digest: { stats, lastSentAt: 5 },
        muted: { since: 2, byCause: { NETWORK_ERROR: 1 } },
        channels: { dingtalk: { until: 9, error: 'x', fingerprint: 'f' } },
      },
      'test',
    );
    expect(cp.digests).toEqual({
      default: { stats, lastSentAt: 5, muted: { since: 2, byCause: { NETWORK_ERROR: 1 } } },
    });
    expect(cp).not.toHaveProperty('digest');
    expect(cp).not.toHaveProperty('muted');
    expect(cp.outbox[0]!.pending).toEqual(['slack']);
    expect(() =>
      parseLegacy(
        {
          schema: 1,
          instances: {},
          outbox: [
            {
              alert: { id: 'i/t', instance: 'i', task: { taskId: 't', createTime: 1 } },
              pending: ['email'],
              detectedAt: 1,
              attempts: 0,
            },
          ],
        },
        'test',
      ),
    ).toThrow(/damaged .*not a delivery target/);
  });
});

describe('the router', () => {
  const fail = (namespace: string): Alert =>
    failureAlert(syncTask({ taskId: `rst-${namespace}`, from: { ...syncTask({ taskId: 'x' }).from, namespace } }));
  it('passes over a matching route that has no channel, to the next that can send', () => {
    const quiet = route('quiet', [], { match: { namespace: ['prod'] } });
    const r = router([quiet, defaultRoute(['slack'])]);
    expect(r(fail('prod')).map((x) => x.name)).toEqual(['default']);
  });

  it('sends a digest to the route it was built for, and one for a route since removed nowhere', () => {
    const team = route('team', ['slack']);
    const r = router([team, defaultRoute(['slack'])]);
    const digestOf = (routeName?: string): Alert => ({ ...digest(), ...(routeName ? { route: routeName } : {}) });
    expect(r(digestOf('team')).map((x) => x.name)).toEqual(['team']);
    expect(r(digestOf()).map((x) => x.name)).toEqual(['default']);
    expect(r(digestOf('removed'))).toEqual([]);
  });

  it('matches a whole name: a route for namespace "prod" does not capture a failure in "production"', () => {
    const r = router([route('prod', ['slack'], { match: { namespace: ['prod'] } }), defaultRoute(['slack'])]);
    expect(r(fail('production')).map((x) => x.name)).toEqual(['default']);
    expect(r(fail('prod')).map((x) => x.name)).toEqual(['prod']);
  });

  it('sends an alert no route can send nowhere', () => {
    expect(router([defaultRoute([])])(fail('prod'))).toEqual([]);
  });
});

describe('matching patterns', () => {
  it('treat * as any text and every other character literally, ignoring case', () => {
    expect(matchesAny('team-pay', ['te*-pay'])).toBe(true);
    expect(matchesAny('TEAM-PAY', ['team-p*'])).toBe(true);
    expect(matchesAny('v1x2', ['v1.2'])).toBe(false);
    expect(matchesAny('v1.2', ['v1.2'])).toBe(true);
    expect(matchesAny('a+b', ['a+b'])).toBe(true);
    expect(matchesAny('aab', ['a+b'])).toBe(false);
    expect(matchesAny('xteam-pay', ['team-*'])).toBe(false);
    expect(matchesAny('anything', undefined)).toBe(true);
    expect(matchesAny('anything', [])).toBe(false);
  });

  it('match a rule by id or by name, and a task without a known rule only by id', () => {
    const a = failureAlert(syncTask({ taskId: 'rst-1', ruleId: 'crsr-7' }));
    const named = { ...a, rule: { ruleId: 'crsr-7', name: 'to-shanghai', scope: 'NAMESPACE' } };
    expect(matchesTask({ rule: ['crsr-8'] }, named)).toBe(false);
    expect(matchesTask({ rule: ['to-*'] }, named)).toBe(true);
    expect(matchesTask({ rule: ['to-*'] }, a)).toBe(false);
    expect(matchesTask({ rule: ['crsr-7'] }, a)).toBe(true);
  });

  it('count a stuck sync that finished under "stuck", like the stuck one', () => {
    const task = syncTask({ taskId: 'rst-s', status: 'SUCCESS', issue: 'TAG_CONFLICT' });
    expect(causesOf({ kind: 'unstuck', id: 'u', instance: 'i', task, at: 0 })).toEqual(['stuck']);
    expect(causesOf({ kind: 'stuck', id: 's', instance: 'i', task, at: 0 })).toEqual(['stuck']);
    expect(
      causesOf({
        kind: 'recovered',
        id: 'r',
        instance: 'i',
        task,
        failedTaskId: 'f',
        issue: '',
        since: 0,
        unannounced: false,
      }),
    ).toEqual(['UNCLASSIFIED', 'recovered']);
  });
});
