import { afterEach, describe, expect, it } from 'vitest';
import type { SimInstance } from '../../src/sim/cr-server.js';
import { rawTask, type TaskSpec } from '../../src/sim/seed.js';
import type { Received } from '../../src/sim/webhook-server.js';
import { closeWorlds, SECRETS, startWorld, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-route0hz', regionId: 'cn-hangzhou' };
const BJ = { instanceId: 'cri-route0bj', regionId: 'cn-beijing' };
const SH = { instanceId: 'cri-route0sh', regionId: 'cn-shanghai' };
const min = 60_000;

// Each route has its own robot and hook; these are as secret as the default route's.
const TEAM = {
  token: 'team-a-robot-token-19ce',
  secret: 'SECteam-a-signing-secret-77d0',
  slack: '/services/T0TEAM/B0TEAM/team-a-hook-secret-3b1e',
};
const NET = { slack: '/services/T0NET/B0NET/network-hook-secret-c5a2' };
const ROUTE_SECRETS = [TEAM.token, TEAM.secret, TEAM.slack, NET.slack];

function task(
  id: string,
  status: string,
  agoMin: number,
  issue: string | undefined,
  namespace: string,
  from = HZ,
): TaskSpec {
  return {
    id,
    status,
    issue,
    createTime: Date.now() - agoMin * min,
    ruleId: 'crsr-r1',
    from: { ...from, namespace, repo: `app-${id.slice(4)}`, tag: 'v1' },
    to: SH,
  };
}
const instance = (tasks: TaskSpec[], where = HZ): SimInstance => ({ ...where, tasks: tasks.map(rawTask), rules: [] });

/** Task ids in the messages one robot or hook received. */
const idsAt = (w: World, hook: string) =>
  w.hooks.received
    .filter((m) => m.hook === hook)
    .flatMap((m) => JSON.stringify(m.body).match(/rst-[A-Za-z0-9]+/g) ?? []);
const texts = (w: World, hook: string) =>
  w.hooks.received.filter((m) => m.hook === hook).map((m: Received) => JSON.stringify(m.body));

async function routedWorld(
  instances: SimInstance[],
  routes: (urls: { teamDing: string; teamSlack: string; netSlack: string }) => unknown[],
  env: Record<string, string> = {},
) {
  const w = await startWorld({
    instances,
    hooks: { moreRobots: [{ token: TEAM.token, secret: TEAM.secret }], moreSlackPaths: [TEAM.slack, NET.slack] },
  });
  const urls = {
    teamDing: w.hooks.dingtalkUrlFor(TEAM.token),
    teamSlack: w.hooks.slackUrlFor(TEAM.slack),
    netSlack: w.hooks.slackUrlFor(NET.slack),
  };
  Object.assign(w.env, { ROUTES: JSON.stringify(routes(urls)), ...env });
  return w;
}

const teamRoute = (u: { teamDing: string; teamSlack: string }, extra: Record<string, unknown> = {}) => ({
  name: 'team-a',
  match: { namespace: 'team-a*' },
  dingtalk: { webhook: u.teamDing, secret: TEAM.secret, atMobiles: ['13900000001'] },
  slack: { webhook: u.teamSlack, mentions: ['U0TEAMLEAD'] },
  lang: 'zh',
  timezone: 'Asia/Tokyo',
  ...extra,
});
const netRoute = (u: { netSlack: string }) => ({
  name: 'network',
  match: { cause: 'NETWORK_ERROR' },
  slack: { webhook: u.netSlack },
  timezone: 'America/New_York',
});

let world: World | undefined;
afterEach(closeWorlds);

describe('routing, end to end through the handler', () => {
  it('sends each failure to the first route that matches, the rest to the default route, each in its own language and time zone', async () => {
    world = await routedWorld(
      [
        instance([
          task('rst-a1', 'ERROR', 9, 'TAG_CONFLICT', 'team-a'),
          task('rst-a2', 'ERROR', 8, 'NETWORK_ERROR', 'team-a-batch'), // team-a comes first, so not "network"
          task('rst-n1', 'ERROR', 7, 'NETWORK_ERROR', 'platform'),
          task('rst-d1', 'ERROR', 6, 'TAG_CONFLICT', 'platform'),
        ]),
      ],
      (u) => [teamRoute(u), netRoute(u)],
    );
    const s = await world.run();
    expect(s).toMatchObject({ outcome: 'completed', failuresFound: 4 });
    expect(s.notified).toEqual({ 'team-a/dingtalk': 2, 'team-a/slack': 2, 'network/slack': 1, dingtalk: 1, slack: 1 });
    expect(new Set(idsAt(world, TEAM.token))).toEqual(new Set(['rst-a1', 'rst-a2']));
    expect(new Set(idsAt(world, TEAM.slack))).toEqual(new Set(['rst-a1', 'rst-a2']));
    expect(idsAt(world, NET.slack)).toEqual(['rst-n1']);
    expect(idsAt(world, 'dingtalk-robot-token-5e1d')).toEqual(['rst-d1']);
    // The team's messages are in Chinese with Tokyo times; the network route's in English with New York times.
    const team = texts(world, TEAM.token)[0]!;
    expect(team).toMatch(/ACR：1× .* · 共 2 个同步任务失败/);
    expect(team).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC\+9/);
    expect(texts(world, NET.slack)[0]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC-[45]/);
    expect(texts(world, 'dingtalk-robot-token-5e1d')[0]).toMatch(/ UTC[^+-]/);

    expect((await world.run()).outcome).toBe('nothing-new');
    expect(world.hooks.received).toHaveLength(5);
    for (const secret of [...SECRETS, ...ROUTE_SECRETS])
      for (const line of world.logs) expect(line).not.toContain(secret);
  });

  it("@mentions the route's own people on severe failures, and sends a recovery to the route its failure went to", async () => {
    world = await routedWorld(
      [
        instance([
          task('rst-s1', 'ERROR', 20, 'OSS_POLICY_UNAUTHORIZED', 'team-a'),
          task('rst-s2', 'ERROR', 19, 'OSS_POLICY_UNAUTHORIZED', 'platform'),
        ]),
      ],
      (u) => [teamRoute(u)],
      { DINGTALK_AT_MOBILES: '13800000000' },
    );
    await world.run();
    const teamDing = world.hooks.received.find((m) => m.hook === TEAM.token)!.body as { at?: { atMobiles: string[] } };
    const defaultDing = world.hooks.received.find((m) => m.channel === 'dingtalk' && m.hook !== TEAM.token)!.body as {
      at?: { atMobiles: string[] };
    };
    expect(teamDing.at?.atMobiles).toEqual(['13900000001']);
    expect(defaultDing.at?.atMobiles).toEqual(['13800000000']);
    expect(texts(world, TEAM.slack)[0]).toContain('<@U0TEAMLEAD>');
    expect(JSON.stringify(world.hooks.received.filter((m) => m.hook !== TEAM.slack).map((m) => m.body))).not.toContain(
      'U0TEAMLEAD',
    );

    // The same image syncs fine: the recovery goes where the failure went, and nowhere else.
    const fixed = {
      ...task('rst-s3', 'SUCCESS', 2, undefined, 'team-a'),
      from: { ...HZ, namespace: 'team-a', repo: 'app-s1', tag: 'v1' },
    };
    world.cr.instances[0]!.tasks.push(rawTask(fixed));
    const before = world.hooks.received.length;
    const s = await world.run();
    expect(s.recovered).toBe(1);
    expect(s.notified).toEqual({ 'team-a/dingtalk': 1, 'team-a/slack': 1 });
    expect(
      world.hooks.received
        .slice(before)
        .map((m) => m.hook)
        .sort(),
    ).toEqual([TEAM.slack, TEAM.token].sort());
    expect(texts(world, TEAM.token).at(-1)).toContain('已恢复');
  });

  it('tells every route that could hear from an instance that alerting is blind there, and no other route', async () => {
    world = await routedWorld(
      [instance([], HZ), instance([task('rst-b1', 'ERROR', 3, 'TAG_CONFLICT', 'team-a', BJ)], BJ)],
      (u) => [teamRoute(u), { ...netRoute(u), match: { instance: 'cn-beijing:*' } }],
      { BLIND_AFTER_RUNS: '1' },
    );
    world.cr.fault({ instanceId: HZ.instanceId, kind: 'no-privilege', times: 1 });
    await world.run();
    const blindAt = world.hooks.received
      .filter((m) => JSON.stringify(m.body).includes('cri-route0hz'))
      .map((m) => m.hook);
    // team-a matches any instance; the network route only Beijing; the default route everything.
    expect(blindAt.sort()).toEqual(
      [TEAM.slack, TEAM.token, 'dingtalk-robot-token-5e1d', '/services/T0TEST/B0TEST/slack-hook-secret-a41f'].sort(),
    );
    expect(texts(world, TEAM.token)[0]).toContain('cri-route0hz');
    expect(idsAt(world, TEAM.token)).toEqual(['rst-b1']);
  });

  it('keeps a route whose hook refuses paused on its own, while the other routes deliver', async () => {
    world = await routedWorld(
      [
        instance([
          task('rst-p1', 'ERROR', 5, 'TAG_CONFLICT', 'team-a'),
          task('rst-p2', 'ERROR', 4, 'TAG_CONFLICT', 'platform'),
        ]),
      ],
      (u) => [teamRoute(u, { slack: { webhook: u.teamSlack.replace(TEAM.slack, '/services/T0TEAM/B0TEAM/deleted') } })],
    );
    const s = await world.run();
    expect(s.notified).toEqual({ 'team-a/dingtalk': 1, 'team-a/slack': 0, dingtalk: 1, slack: 1 });
    expect(s.problems.join('\n')).toMatch(/^team-a\/slack: paused until .*no_service/m);
    const state = await world.state();
    expect(
      Object.entries(state.owed).map(([target, o]) => [target, o.map((x) => x.alert.id.split('/').at(-1))]),
    ).toEqual([['team-a/slack', ['rst-p1']]]);
    expect(Object.keys(state.control.pauses)).toEqual(['team-a/slack']);
    // Fixed: the pause ends at once because the webhook changed, and only the team's hook gets the failure.
    const routes = JSON.parse(world.env.ROUTES!) as { slack: { webhook: string } }[];
    routes[0]!.slack.webhook = world.hooks.slackUrlFor(TEAM.slack);
    world.env.ROUTES = JSON.stringify(routes);
    const after = await world.run();
    expect(after.notified).toEqual({ 'team-a/slack': 1 });
    expect(idsAt(world, TEAM.slack)).toEqual(['rst-p1']);
    expect(after.stillOwed).toBe(0);
  });

  it('sends each route its own digest: its failures, its still-failing images, its muted alerts, on its own schedule', async () => {
    world = await routedWorld(
      [
        instance([
          task('rst-g1', 'ERROR', 30, 'TAG_CONFLICT', 'team-a'),
          task('rst-g2', 'ERROR', 29, 'NETWORK_ERROR', 'team-a'),
          task('rst-g3', 'ERROR', 28, 'MANIFEST_NOT_FOUND', 'platform'),
        ]),
      ],
      (u) => [teamRoute(u, { slack: undefined, digest: { at: localHhmm(Date.now() - 5 * min, 'Asia/Tokyo') } })],
      { SILENCES: JSON.stringify([{ cause: 'NETWORK_ERROR', comment: 'known flaky link' }]) },
    );
    // The team's digest time passed 5 minutes ago; the default route has no DIGEST_AT.
    await world.run();
    const teamDigest = texts(world, TEAM.token).find((t) => t.includes('告警汇总'))!;
    expect(teamDigest).toBeDefined();
    expect(
      world.hooks.received.filter((m) => m.hook !== TEAM.token && JSON.stringify(m.body).includes('digest')),
    ).toHaveLength(0);
    expect(teamDigest).toMatch(/已通知的失败：1 次（TAG_CONFLICT 1 次）/);
    expect(teamDigest).toMatch(/仍在失败的镜像：1 个/);
    expect(teamDigest).toMatch(/另有 1 个镜像仍在失败，其每次失败都已被静默/);
    expect(teamDigest).toMatch(/已静默的告警：NETWORK_ERROR 1 次/);
    expect(teamDigest).not.toContain('rst-g3');

    // On request every route gets one: the default route's lists only its own image.
    await world.run({ payload: '{"digest":true}' });
    const defaultDigest = JSON.stringify(
      world.hooks.received.filter((m) => m.channel === 'dingtalk' && m.hook !== TEAM.token).at(-1)!.body,
    );
    expect(defaultDigest).toContain('📊 ACR: digest since');
    expect(defaultDigest).toMatch(/Failures announced: 1 \(MANIFEST_NOT_FOUND 1\)/);
    expect(defaultDigest).toMatch(/Still failing: 1/);
    expect(defaultDigest).toContain('rst-g3');
    expect(defaultDigest).not.toMatch(/rst-g1|rst-g2|Muted/);
    const secondTeam = texts(world, TEAM.token).at(-1)!;
    expect(secondTeam).toMatch(/已通知的失败：0 次/);
    expect(secondTeam).toMatch(/仍在失败的镜像：1 个/);
    expect(secondTeam).toMatch(/另有 1 个镜像仍在失败/);
  });
});

/** "HH:MM" of `ms` in `timeZone`. */
function localHhmm(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    ms,
  );
}
