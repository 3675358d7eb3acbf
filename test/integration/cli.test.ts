import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { demoInstances } from '../../src/sim/seed.js';
import { announcedIds, closeWorlds, KEYS, SECRETS, SLACK_PATH, startWorld, type World } from '../support/world.js';

function io(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env } };
}
const localKeys = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret,
  ALIBABA_CLOUD_SECURITY_TOKEN: KEYS.token,
};

let world: World | undefined;
let fc: FcServer | undefined;
afterEach(async () => {
  await fc?.close();
  fc = undefined;
  await closeWorlds();
});

describe('acr-sync-alert CLI', () => {
  it('prints help, and refuses unknown commands and options with usage', async () => {
    const h = io({});
    expect(await main(['--help'], h.io)).toBe(0);
    expect(h.out.join()).toMatch(/Usage: acr-sync-alert <command>/);
    const u = io({});
    expect(await main(['deploy'], u.io)).toBe(2);
    expect(u.err.join()).toMatch(/unknown command "deploy"/);
    const o = io({});
    expect(await main(['run', '--dryrun'], o.io)).toBe(2);
  });

  it('run --dry-run prints the messages with local credentials, needs no channel, posts and saves nothing', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const { DINGTALK_WEBHOOK: _d, DINGTALK_SECRET: _s, SLACK_WEBHOOK: _k, ...noChannels } = world.env;
    const c = io({ ...noChannels, ...localKeys });
    expect(await main(['run', '--dry-run'], c.io)).toBe(0);
    const printed = c.out.join('\n');
    expect(printed).toMatch(/DingTalk · 🔴 ACR: 1× OSS not authorised → .* · 8 syncs failed in all/);
    expect(printed).toMatch(/Slack · 🔴 ACR: 1× OSS not authorised → .* · 8 syncs failed in all/);
    expect(printed).toContain('"outcome": "dry-run"');
    expect(existsSync(world.stateFile)).toBe(false);
    expect(world.hooks.attempts).toHaveLength(0);
    for (const s of SECRETS) expect([...c.out, ...c.err].join()).not.toContain(s);
  });

  it('run posts and saves like the function, and says why when credentials are missing', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    expect(await main(['run'], io({ ...world.env, ...localKeys }).io)).toBe(0);
    expect(announcedIds(world.hooks, 'dingtalk')).toHaveLength(10);
    expect(existsSync(world.stateFile)).toBe(true);
    const none = io({ ...world.env });
    expect(await main(['run'], none.io)).toBe(2);
    expect(none.err.join()).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });

  it('preview renders a file of tasks offline, as text or raw payloads', async () => {
    const dir = (world = await startWorld({ instances: [] })).dir;
    const file = join(dir, 'tasks.json');
    const sample = demoInstances(Date.UTC(2026, 10, 24, 8));
    writeFileSync(file, JSON.stringify({ SyncTasks: sample[0]!.tasks, SyncRules: sample[0]!.rules }));
    const text = io({});
    expect(await main(['preview', '--file', file, '--channel', 'slack'], text.io)).toBe(0);
    expect(text.out.join()).toContain(' · 7 syncs failed in all, 6 other groups');
    expect(text.out.join()).toContain('`prod-to-shanghai`');
    const raw = io({});
    expect(await main(['preview', '--file', file, '--channel', 'dingtalk', '--json', '--lang', 'zh'], raw.io)).toBe(0);
    expect(JSON.parse(raw.out[0]!)).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: expect.stringContaining('共 7 个同步任务失败') },
    });
    writeFileSync(file, '{"SyncTasks": "nope"}');
    const bad = io({});
    expect(await main(['preview', '--file', file], bad.io)).toBe(1);
    expect(bad.err.join()).toMatch(/SyncTasks: expected an array/);
    expect(world.cr.calls).toHaveLength(0);
  });
});

describe('acr-sync-alert check', () => {
  it('sends a signed test message to each webhook and says so', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const c = io({ ...world.env, ...localKeys });
    expect(await main(['check', '--send'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(
      /configuration: read: 3 instance\(s\)[\s\S]*dingtalk: test message accepted[\s\S]*slack: test message accepted/,
    );
    expect(JSON.stringify(world.hooks.received.map((m) => m.body))).toContain('ACR sync alert: test message');
  });

  it('explains a DingTalk keyword refusal (310000) and a dead Slack hook, and fails', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()), hooks: { dingtalkKeyword: 'deploy-bot' } });
    world.env.SLACK_WEBHOOK = world.hooks.slackUrl.replace(SLACK_PATH, '/services/T0/B0/gone');
    const c = io({ ...world.env, ...localKeys });
    expect(await main(['check', '--send'], c.io)).toBe(1);
    const err = c.out.join('\n');
    expect(err).toMatch(/✗ channel dingtalk: test message refused: .*310000 keywords not in content/);
    expect(err).toMatch(/use ACR as the robot's custom keyword/);
    expect(err).toMatch(/✗ channel slack: test message refused: .*no_service.* — fix: check SLACK_WEBHOOK/);
    for (const s of SECRETS) expect([...c.out, ...c.err].join()).not.toContain(s);
  });

  it("lists the routes in matching order and tests every route's webhooks, each in its language", async () => {
    world = await startWorld({
      instances: demoInstances(Date.now()),
      hooks: { moreRobots: [{ token: 'team-robot-token-4a1c' }], moreSlackPaths: ['/services/T0/B0/team-hook-9e2f'] },
    });
    const routes = [
      {
        name: 'team-a',
        match: { namespace: ['team-a', 'team-a-*'] },
        dingtalk: { webhook: world.hooks.dingtalkUrlFor('team-robot-token-4a1c') },
        lang: 'zh',
        digest: { at: '09:00', weekday: 'mon' },
      },
      {
        name: 'late',
        match: { cause: 'stuck' },
        slack: { webhook: world.hooks.slackUrlFor('/services/T0/B0/gone') },
        timezone: 'Europe/Paris',
      },
      {
        name: 'net',
        match: { cause: 'NETWORK_ERROR' },
        slack: { webhook: world.hooks.slackUrlFor('/services/T0/B0/team-hook-9e2f') },
      },
    ];
    const c = io({ ...world.env, ...localKeys, ROUTES: JSON.stringify(routes) });
    expect(await main(['check', '--send'], c.io)).toBe(1);
    expect(c.out).toEqual(
      expect.arrayContaining([
        'route 1 team-a: namespace=team-a|team-a-* -> dingtalk (zh, Asia/Shanghai, digest mon 09:00)',
        'route 2 late: cause=stuck -> slack (en, Europe/Paris)',
        'route 3 net: cause=NETWORK_ERROR -> slack (en, UTC)',
        'route 4 default: anything else -> dingtalk + slack (en, UTC)',
        '✓ channel team-a/dingtalk: test message accepted',
        '✓ channel net/slack: test message accepted',
        '✓ channel dingtalk: test message accepted',
        '✓ channel slack: test message accepted',
      ]),
    );
    expect(c.out.join('\n')).toMatch(
      /^✗ channel late\/slack: test message refused: .*no_service.* — fix: check the slack webhook of route "late" in ROUTES/m,
    );
    expect(
      world.hooks.received.filter((m) => m.hook === 'team-robot-token-4a1c').map((m) => JSON.stringify(m.body)),
    ).toEqual([expect.stringContaining('ACR 同步告警：测试消息')]);
    expect(world.hooks.received.filter((m) => m.hook === '/services/T0/B0/team-hook-9e2f')).toHaveLength(1);
    for (const secret of [...SECRETS, 'team-robot-token-4a1c', 'team-hook-9e2f'])
      expect([...c.out, ...c.err].join()).not.toContain(secret);
  });

  it('reports configuration problems without sending anything', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const c = io({ ...world.env, ...localKeys, ACR_INSTANCES: 'nope' });
    expect(await main(['check', '--send'], c.io)).toBe(1);
    expect(c.out.join()).toMatch(/✗ configuration: ACR_INSTANCES entry "nope"/);
    expect(world.hooks.attempts).toHaveLength(0);
  });
});

describe('acr-sync-alert invoke, through @alicloud/fc2 against a local Function Compute endpoint', () => {
  async function setup(fnBody?: (event: Buffer) => Promise<string>) {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const w = world;
    fc = await startFcServer({
      accountId: '1234567890123456',
      accessKeyId: KEYS.id,
      accessKeySecret: KEYS.secret,
      securityToken: KEYS.token,
      functions: {
        'alerts/acr-sync-alert':
          fnBody ??
          (async (event) =>
            JSON.stringify(await w.run({ payload: (JSON.parse(event.toString()) as { payload: string }).payload }))),
      },
    });
    return [
      '--account-id',
      '1234567890123456',
      '--region',
      'cn-hangzhou',
      '--service',
      'alerts',
      '--endpoint',
      fc.endpoint,
    ];
  }

  it('invokes synchronously with a signed request and prints the run summary', async () => {
    const args = await setup();
    const c = io(localKeys);
    expect(await main(['invoke', ...args], c.io)).toBe(0);
    expect(JSON.parse(c.out.join(''))).toMatchObject({ outcome: 'completed', failuresFound: 8 });
    expect(fc!.invocations[0]).toMatchObject({
      type: 'Sync',
      signatureValid: true,
      status: 200,
      path: '/2016-08-15/services/alerts/functions/acr-sync-alert/invocations',
    });
    expect(JSON.parse(fc!.invocations[0]!.event)).toMatchObject({
      triggerName: 'cli-invoke',
      payload: '{"dryRun":false}',
    });
  });

  it('queues an async dry run and returns at once with the request id', async () => {
    const args = await setup();
    const c = io(localKeys);
    expect(await main(['invoke', ...args, '--async', '--dry-run'], c.io)).toBe(0);
    expect(c.out.join()).toMatch(/^queued: request [0-9a-f-]{36}/);
    expect(fc!.invocations[0]).toMatchObject({ type: 'Async', status: 202 });
    await fc!.settled();
    expect(world!.logs.some((l) => l.includes('dry run: message not sent'))).toBe(true);
    expect(world!.hooks.attempts).toHaveLength(0);
  });

  it('reports a function that threw, a rejected signature, and missing arguments', async () => {
    const args = await setup(async () => {
      throw new Error('Invalid configuration: ACR_INSTANCES is required');
    });
    const threw = io(localKeys);
    expect(await main(['invoke', ...args], threw.io)).toBe(1);
    expect(threw.err.join()).toMatch(
      /the function failed \(UnhandledInvocationError\): Invalid configuration: ACR_INSTANCES is required/,
    );
    const wrong = io({ ...localKeys, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    expect(await main(['invoke', ...args], wrong.io)).toBe(1);
    expect(wrong.err.join()).toMatch(/refused the invocation \(SignatureNotMatch\)/);
    expect(wrong.err.join()).not.toContain('not-the-secret');
    const missing = io(localKeys);
    expect(await main(['invoke', '--service', 'alerts'], missing.io)).toBe(2);
    expect(missing.err.join()).toMatch(/^usage:/);
    expect(missing.err.join()).toMatch(/--region \(or ALIBABA_CLOUD_REGION_ID\) is required/);
    expect(missing.err.join()).toMatch(/--account-id \(or ALIBABA_CLOUD_ACCOUNT_ID\) is required with --service/);
  });
});

describe('the deprecated name CHECKPOINT_FILE', () => {
  const DEPRECATED = 'CHECKPOINT_FILE is deprecated: rename it to STATE_FILE';

  it('a run that uses it keeps its state in that file and logs one deprecation line', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const summary = await world.run({ env: { STATE_FILE: undefined, CHECKPOINT_FILE: world.stateFile } });
    expect(summary.outcome).toBe('completed');
    expect(existsSync(world.stateFile)).toBe(true);
    expect(world.logs.filter((l) => l.includes(DEPRECATED))).toHaveLength(1);
    const again = await world.run();
    expect(again.failuresFound).toBe(0);
    expect(world.logs.filter((l) => l.includes(DEPRECATED))).toHaveLength(1);
  });

  it('run and check print the deprecation line', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const { STATE_FILE: file, ...rest } = world.env;
    const env = { ...rest, CHECKPOINT_FILE: file, ...localKeys };
    const run = io(env);
    expect(await main(['run'], run.io)).toBe(0);
    expect(run.err.filter((l) => l.includes(DEPRECATED))).toHaveLength(1);
    const check = io(env);
    expect(await main(['check'], check.io)).toBe(0);
    expect(check.out.filter((l) => l.includes(DEPRECATED))).toEqual([`note: ${DEPRECATED}`]);
  });
});
