import { afterEach, describe, expect, it } from 'vitest';
import type { RawTask, SimInstance } from '../../src/sim/cr-server.js';
import { generateTasks, rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { announcedIds, closeWorlds, SLACK_PATH, startWorld, type KillPoint, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-fault0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-fault0sh', regionId: 'cn-shanghai' };
const min = 60_000;
const spec = (id: string, status: string, agoMin: number, issue?: string, from = HZ): TaskSpec => ({
  id,
  status,
  issue,
  createTime: Date.now() - agoMin * min,
  ruleId: 'crsr-f',
  from: { ...from, namespace: 'ns', repo: `r${id.slice(4)}`, tag: 'v1' },
  to: SH,
});
/** Three pages of 20 with a failure every fifth task. */
const history = () => generateTasks({ ...HZ, count: 60, newest: Date.now() - min, spacingMs: 30_000, failEvery: 5 });
const errorsOf = (tasks: RawTask[]) =>
  tasks
    .filter((t) => t.TaskStatus === 'ERROR')
    .map((t) => t.SyncTaskId)
    .sort();

let world: World | undefined;
afterEach(closeWorlds);

/** Nothing lost, nothing twice: after the fault has passed, every expected failure reached each channel exactly once. */
async function settleAndCheck(w: World, expected: string[], runs = 2): Promise<void> {
  for (let i = 0; i < runs; i++) await w.run();
  for (const channel of ['dingtalk', 'slack'] as const) {
    const ids = announcedIds(w.hooks, channel).sort();
    expect(ids, channel).toEqual([...expected].sort());
  }
}

function cr(instances: SimInstance[], env: Record<string, string> = {}) {
  return startWorld({ instances, env: { ACR_PAGE_SIZE: '20', ...env } });
}

describe('fault injection: CR OpenAPI', () => {
  it('a throttling burst longer than one run’s retries: the instance is retried next run', async () => {
    const tasks = history();
    world = await cr([{ ...HZ, tasks, rules: [] }]);
    world.cr.fault({ action: 'ListRepoSyncTask', kind: 'throttle-user', times: 6 });
    const first = await world.run();
    expect(first.problems.join()).toMatch(/Throttling\.User/);
    expect(world.cr.calls.filter((c) => c.status === 400)).toHaveLength(5);
    await settleAndCheck(world, errorsOf(tasks));
  });

  it('502 and 503 HTML, empty 500, JSON 500 and a JSON body without Code are retried within the run', async () => {
    const tasks = history();
    world = await cr([{ ...HZ, tasks, rules: [] }]);
    for (const kind of ['html-502', 'html-503', 'empty-500', 'system-error'] as const)
      world.cr.fault({ kind, pageNo: 2 });
    world.cr.fault({ kind: 'json-without-code', pageNo: 3 });
    const first = await world.run();
    expect(first.problems).toEqual([]);
    expect(first.failuresFound).toBe(12);
    await settleAndCheck(world, errorsOf(tasks));
  });

  it('a connection reset mid-page is retried', async () => {
    const tasks = history();
    world = await cr([{ ...HZ, tasks, rules: [] }]);
    world.cr.fault({ kind: 'reset', pageNo: 2, times: 2 });
    expect((await world.run()).failuresFound).toBe(12);
    await settleAndCheck(world, errorsOf(tasks));
  });

  it('a read that never answers cannot hang the run: it times out within the budget and the next run catches up', async () => {
    const tasks = history();
    world = await startWorld({
      instances: [
        { ...HZ, tasks, rules: [] },
        { ...SH, tasks: [rawTask(spec('rst-sh1', 'ERROR', 3, 'TAG_CONFLICT', SH))], rules: [] },
      ],
      env: { ACR_PAGE_SIZE: '20' },
    });
    world.cr.fault({ kind: 'hang', instanceId: HZ.instanceId, pageNo: 2 });
    const started = Date.now();
    const first = await world.run({ timeout: 8 });
    expect(Date.now() - started).toBeLessThan(8_000);
    // The other instance is announced on time; the hung one is not marked as read.
    expect(announcedIds(world.hooks, 'slack')).toContain('rst-sh1');
    expect(first.instances.find((i) => i.instance.endsWith(HZ.instanceId))!.complete).toBe(false);
    await settleAndCheck(world, [...errorsOf(tasks), 'rst-sh1']);
  }, 30_000);

  it('items with missing or unexpected fields: failures still announced, broken items skipped and logged', async () => {
    const tasks = history();
    delete tasks[0]!.TaskIssue; // an ERROR without a TaskIssue: unclassified
    delete tasks[5]!.ModifiedTime; // only the deprecated ModifedTime
    tasks[10]!.CreateTime = String(tasks[10]!.CreateTime); // a number as a string
    tasks[2]!.TaskStatus = 'PAUSED'; // undocumented: watched
    const broken = { ...tasks[3]!, SyncTaskId: undefined } as unknown as RawTask;
    world = await cr([{ ...HZ, tasks: [...tasks, broken], rules: [] }]);
    const first = await world.run();
    expect(first.skipped.unknownStatus).toBe(1);
    expect(world.logs.join('\n')).toMatch(/skipped a malformed sync task/);
    expect(JSON.stringify(world.hooks.received)).toContain('Unclassified sync failure');
    tasks[2]!.TaskStatus = 'ERROR';
    tasks[2]!.TaskIssue = 'NETWORK_ERROR';
    await settleAndCheck(world, errorsOf(tasks));
  });

  it('new tasks arriving between pages push items across page boundaries: none lost, none twice', async () => {
    const tasks = history();
    world = await cr([{ ...HZ, tasks, rules: [] }]);
    let injected = false;
    world.onCrCall = (action, params) => {
      if (action === 'ListRepoSyncTask' && params.PageNo === '2' && !injected) {
        injected = true;
        tasks.unshift(
          ...generateTasks({ ...HZ, count: 7, newest: Date.now(), spacingMs: 1_000, failEvery: 2, prefix: 'mid' }),
        );
      }
    };
    await world.run();
    expect(injected).toBe(true);
    await settleAndCheck(world, errorsOf(tasks));
  });
});

describe('fault injection: webhooks', () => {
  const oneFailure = () => [{ ...HZ, tasks: [rawTask(spec('rst-w1', 'ERROR', 2, 'TAG_CONFLICT'))], rules: [] }];
  const expire = (w: World, ch: 'dingtalk' | 'slack') =>
    w.editControl((c) => ({ ...c, pauses: { ...c.pauses, [ch]: { ...c.pauses[ch]!, until: Date.now() - 1 } } }));

  it('DingTalk 130101 (too fast): the robot rests through its block instead of being hammered, then gets the alert once', async () => {
    world = await cr(oneFailure());
    world.hooks.fault('dingtalk', {
      kind: 'errcode',
      errcode: 130101,
      errmsg: 'send too fast, exceed 20 times per minute',
    });
    const first = await world.run();
    expect(first.notified).toEqual({ dingtalk: 0, slack: 1 });
    const until = (await world.state()).control.pauses.dingtalk!.until;
    expect(until - Date.now()).toBeGreaterThan(9 * min);
    await world.run();
    expect(world.hooks.attempts.filter((a) => a.channel === 'dingtalk')).toHaveLength(1);
    await expire(world, 'dingtalk');
    await settleAndCheck(world, ['rst-w1']);
  });

  it('Slack 429 with Retry-After: waits as asked within the run', async () => {
    world = await cr(oneFailure());
    world.hooks.fault('slack', { kind: 'status', status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    const started = Date.now();
    const first = await world.run();
    expect(first.notified.slack).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await settleAndCheck(world, ['rst-w1']);
  });

  it('Slack 429 with a Retry-After longer than the run: paused for that long, then delivered once', async () => {
    world = await cr(oneFailure());
    world.hooks.fault('slack', {
      kind: 'status',
      status: 429,
      body: 'rate_limited',
      headers: { 'retry-after': '900' },
    });
    expect((await world.run()).notified.slack).toBe(0);
    expect((await world.state()).control.pauses.slack!.until - Date.now()).toBeGreaterThan(14 * min);
    await expire(world, 'slack');
    await settleAndCheck(world, ['rst-w1']);
  });

  it('a webhook down for hours is tried less often than every run (each try reads all it is owed), and gets everything once when back', async () => {
    world = await cr(oneFailure());
    world.hooks.fault('slack', { kind: 'status', status: 503, body: 'down', times: 1_000 });
    expect((await world.run()).notified).toEqual({ dingtalk: 1, slack: 0 });
    // Down for its first 20 minutes owed: tried again every run.
    expect((await world.state()).control.pauses.slack).toBeUndefined();
    // Owed for 2 hours now: the next failing try waits a quarter of that before the one after.
    await world.editControl((c) => ({
      ...c,
      owed: { ...c.owed, slack: { ...c.owed.slack!, since: Date.now() - 120 * min } },
    }));
    await world.run();
    const until = (await world.state()).control.pauses.slack!.until - Date.now();
    expect(until).toBeGreaterThan(29 * min);
    expect(until).toBeLessThanOrEqual(30 * min);
    const tries = world.hooks.attempts.filter((a) => a.channel === 'slack').length;
    await world.run();
    expect(world.hooks.attempts.filter((a) => a.channel === 'slack')).toHaveLength(tries);
    world.hooks.heal('slack');
    await expire(world, 'slack');
    await settleAndCheck(world, ['rst-w1']);
  });

  it('a 4xx that will never succeed is reported once, not retried every run, and delivered as soon as the webhook is fixed', async () => {
    world = await cr(oneFailure());
    world.env.SLACK_WEBHOOK = world.hooks.slackUrl.replace(SLACK_PATH, '/services/T0/B0/deleted-channel');
    for (let i = 0; i < 3; i++) await world.run();
    const slackAttempts = world.hooks.attempts.filter((a) => a.channel === 'slack');
    expect(slackAttempts).toHaveLength(1);
    expect(world.logs.filter((l) => l.includes('"level":"error"') && l.includes('"target":"slack"'))).toHaveLength(1);
    expect(Object.values((await world.state()).owed).flat()).toHaveLength(1);
    world.env.SLACK_WEBHOOK = world.hooks.slackUrl; // the operator fixes the webhook: a new fingerprint
    await settleAndCheck(world, ['rst-w1'], 1);
  });
});

describe('bursts and hostile input', () => {
  it('a burst of 3,000 failures is one message per channel, within both rate limits, and every failure is counted', async () => {
    const tasks = generateTasks({ ...HZ, count: 3_000, newest: Date.now(), spacingMs: 1_000, failEvery: 1 });
    world = await startWorld({ instances: [{ ...HZ, tasks, rules: [] }], env: { ACR_PAGE_SIZE: '100' } });
    const s = await world.run();
    expect(s.notified).toEqual({ dingtalk: 3_000, slack: 3_000 });
    // DingTalk allows 20 messages a minute per robot, Slack about 1 a second: one each is far inside both.
    expect(world.hooks.attempts.map((a) => a.channel).sort()).toEqual(['dingtalk', 'slack']);
    for (const m of world.hooks.received) {
      const text = JSON.stringify(m.body);
      expect(text).toMatch(/ACR: [^"]* · 3,000 syncs failed in all/);
      const listed = (text.match(/rst-[A-Za-z0-9]+/g) ?? []).length;
      const counted = [...text.matchAll(/and (\d+) more/g)].reduce((n, x) => n + Number(x[1]), 0);
      expect(listed + counted).toBe(3_000);
    }
  });

  it('a channel whose real size limit is below our budget: the message is rendered smaller and sent again in the same run, not paused', async () => {
    const tasks = generateTasks({ ...HZ, count: 3_000, newest: Date.now(), spacingMs: 1_000, failEvery: 1 });
    world = await startWorld({
      instances: [{ ...HZ, tasks, rules: [] }],
      env: { ACR_PAGE_SIZE: '100' },
      hooks: { limits: { dingtalkBodyBytes: 5_000, slackBlocksChars: 4_000 } },
    });
    const s = await world.run();
    expect(s.notified).toEqual({ dingtalk: 3_000, slack: 3_000 });
    for (const channel of ['dingtalk', 'slack'] as const) {
      expect(world.hooks.attempts.filter((a) => a.channel === channel).length).toBeGreaterThan(1);
      expect(world.hooks.received.filter((m) => m.channel === channel)).toHaveLength(1);
    }
    const body = world.hooks.received.find((m) => m.channel === 'dingtalk')!.body as { markdown: { text: string } };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(5_000);
    expect(world.logs.filter((l) => l.includes('rendered smaller') || l.includes('smaller rendering'))).toHaveLength(2);
    const state = await world.state();
    expect(state.control.pauses ?? {}).toEqual({});
    expect(Object.values(state.owed).flat()).toEqual([]);
    await world.run();
    expect(world.hooks.received).toHaveLength(2);
  });

  it('names from the API cannot mention, link or format anything in either channel', async () => {
    const evil = rawTask({
      ...spec('rst-evil', 'ERROR', 1, 'TAG_CONFLICT'),
      from: { ...HZ, namespace: '<!channel>', repo: '@all [x](https://phish.example)', tag: '*v1*\n#### fake' },
    });
    world = await cr([
      {
        ...HZ,
        tasks: [evil],
        rules: [{ SyncRuleId: 'crsr-f', SyncRuleName: '<!here> @所有人 <https://evil.example|click>' }],
      },
    ]);
    await world.run();
    const ding = JSON.stringify(world.hooks.received.find((m) => m.channel === 'dingtalk')!.body);
    const slack = JSON.stringify(world.hooks.received.find((m) => m.channel === 'slack')!.body);
    for (const bad of ['<!channel>', '<!here>', '](https://phish', '<https://evil', '\\n#### fake'])
      expect(ding).not.toContain(bad);
    expect(ding.match(/\]\((?!https:\/\/cr\.console\.aliyun\.com\/)/g)).toBeNull();
    // Slack: mentions and links need <...>, which is escaped; what remains sits inside a code span, uninterpreted.
    for (const bad of ['<!channel>', '<!here>', '<https://evil', '\\n#### fake']) expect(slack).not.toContain(bad);
    expect(slack).toContain('`&lt;!channel&gt;/@all [x](https://phish.example):*v1* #### fake`');
    expect(ding).not.toMatch(/@all|@所有人/);
    expect(world.hooks.received.find((m) => m.channel === 'dingtalk')!.body.at).toBeUndefined();
  });
});

describe('self-monitoring', () => {
  it('says once that alerting is blind for an instance after 3 failing runs, and once that it sees again', async () => {
    const tasks = [rawTask(spec('rst-b1', 'ERROR', 1, 'NETWORK_ERROR'))];
    world = await cr([
      { ...HZ, tasks, rules: [] },
      { ...SH, tasks: [], rules: [] },
    ]);
    world.cr.fault({ instanceId: HZ.instanceId, kind: 'no-privilege', times: 5 });
    const notices = () => world!.hooks.received.filter((m) => m.channel === 'slack').map((m) => String(m.body.text));
    for (let i = 0; i < 2; i++) await world.run();
    expect(notices()).toEqual([]);
    await world.run();
    expect(notices()).toEqual([expect.stringMatching(/^🚨 ACR: alerting is blind for cn-hangzhou:cri-fault0hz/)]);
    const blind = JSON.stringify(world.hooks.received.at(-1)!.body);
    expect(blind).toMatch(/Alerting is blind for `?cn-hangzhou:cri-fault0hz/);
    expect(blind).toContain('cr:GetRepositorySync');
    await world.run();
    await world.run();
    expect(notices()).toHaveLength(1);
    await world.run(); // the role is fixed
    expect(notices()).toHaveLength(2);
    expect(notices()[1]).toMatch(
      /^🟡 ACR: network → .* · 1 sync failed · .*🟢 alerting works again for cn-hangzhou:cri-fault0hz/,
    );
    expect(JSON.stringify(world.hooks.received.at(-1)!.body)).toMatch(
      /Alerting for `?cn-hangzhou:cri-fault0hz`? works again/,
    );
    expect((await world.state()).cursors[`${HZ.regionId}:${HZ.instanceId}`]!.health).toBeUndefined();
  });
});

describe('a run killed at seeded random points', () => {
  // mulberry32: a small seeded generator, so a failing draw can be replayed.
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Every write is a BatchWriteRow: the layout's meta row (first run), the lease, the targets owed, the claimed rows,
  // digest statistics, the cursors, what delivery cleared, the release. The nth write of a run, before or after the
  // service applies it.
  const points: KillPoint[] = [
    { at: 'cr', action: 'ListRepoSyncTask' },
    { at: 'webhook', channel: 'dingtalk' },
    { at: 'webhook', channel: 'slack' },
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((nth) =>
      (['received', 'applied'] as const).map((phase): KillPoint => ({
        at: 'ots',
        action: 'BatchWriteRow',
        phase,
        nth,
      })),
    ),
  ];
  const SEED = 20261124;
  const draw = rng(SEED);
  // Odd draws kill two runs in a row (the second one mid-recovery); the points themselves are drawn.
  const plans = Array.from({ length: 6 }, (_, i) => ({
    i,
    kills: Array.from({ length: 1 + (i % 2) }, () => points[Math.floor(draw() * points.length)]!),
  }));

  for (const plan of plans) {
    it.concurrent(
      `seed ${SEED} draw ${plan.i}: killed at ${plan.kills.map((k) => JSON.stringify(k)).join(' then ')}; nothing lost, DingTalk never twice`,
      async () => {
        const tasks = generateTasks({ ...HZ, count: 25, newest: Date.now() - min, spacingMs: 20_000, failEvery: 4 });
        const w = await startWorld({ instances: [{ ...HZ, tasks, rules: [] }], tablestore: true, closedByTest: true });
        try {
          for (const kill of plan.kills) await w.runChild({ kill, timeout: 8 });
          for (let i = 0; i < 20; i++) {
            const r = await w.runChild({ timeout: 8 });
            if (r.summary?.outcome === 'nothing-new' && Object.keys((await w.state()).owed).length === 0) break;
            await new Promise((res) => setTimeout(res, 600));
          }
          const expected = errorsOf(tasks);
          expect(announcedIds(w.hooks, 'dingtalk').sort()).toEqual(expected);
          const slack = announcedIds(w.hooks, 'slack');
          for (const id of expected) {
            const n = slack.filter((x) => x === id).length;
            expect(n, id).toBeGreaterThanOrEqual(1);
            expect(n, id).toBeLessThanOrEqual(plan.kills.length + 1);
          }
        } finally {
          await w.close();
        }
      },
      120_000,
    );
  }
});
