import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import type { SimInstance } from '../../src/sim/cr-server.js';
import { DEMO_ISSUES, demoInstances, generateTasks, rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { announcedIds, closeWorlds, failureCounts, SECRETS, startWorld, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-test0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-test0sh', regionId: 'cn-shanghai' };
const min = 60_000;

function task(id: string, status: string, agoMin: number, issue?: string, from = HZ): TaskSpec {
  return {
    id,
    status,
    issue,
    createTime: Date.now() - agoMin * min,
    ruleId: 'crsr-r1',
    from: { ...from, namespace: 'prod', repo: `app-${id.slice(4)}`, tag: 'v1' },
    to: SH,
  };
}
const instance = (tasks: TaskSpec[], where = HZ): SimInstance => ({ ...where, tasks: tasks.map(rawTask), rules: [] });

let world: World | undefined;
afterEach(closeWorlds);

describe('handler, end to end against the local CR simulator and webhook receivers', () => {
  it('announces every new failure once, grouped and classified, to both channels; the next run announces nothing', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const first = await world.run();
    expect(first.outcome).toBe('completed');
    expect(first).toMatchObject({ failuresFound: 8, recovered: 1, stuck: 1 });
    expect(first.notified).toEqual({ dingtalk: 10, slack: 10 });
    const ding = world.hooks.received.filter((r) => r.channel === 'dingtalk');
    expect(ding).toHaveLength(1);
    const text = JSON.stringify(ding[0]!.body);
    for (const issue of DEMO_ISSUES) expect(text).toContain(issue);
    expect(text).toContain('Unclassified sync failure');
    expect(text).toContain('prod-to-shanghai');
    expect(text).toMatch(
      /prod\/payment-service:v3.2.1.*failed with NETWORK_ERROR.*\(failed and recovered between two checks\)/,
    );
    expect(text).toMatch(/base\/cuda-devel:12.4.1-ubuntu22.04.*syncing for 2 h 1[45] min/);
    expect(new Set(announcedIds(world.hooks, 'slack'))).toEqual(new Set(announcedIds(world.hooks, 'dingtalk')));
    // Every CR call was signed correctly (the simulator verifies like the gateway).
    expect(world.cr.calls.every((c) => c.signatureValid)).toBe(true);

    const before = await world.state();
    const second = await world.run();
    expect(second.outcome).toBe('nothing-new');
    expect(second.failuresFound).toBe(0);
    expect(world.hooks.received).toHaveLength(2);
    expect(await world.state()).toEqual(before);
    // One read of the starting rows, one of the syncs watched on the instance with unfinished ones; one page each.
    expect(second.apiCalls).toMatchObject({ cr: 3, stateReads: 2, stateWrites: 0, webhookPosts: 0 });
  });

  for (const order of ['desc', 'asc', 'shuffle'] as const) {
    it(`reads several pages in ${order} order and announces each failure exactly once across runs`, async () => {
      const history = generateTasks({ ...HZ, count: 230, newest: Date.now() - 10 * min, spacingMs: min, failEvery: 7 });
      world = await startWorld({
        instances: [{ ...HZ, tasks: [...history], rules: [] }],
        cr: { order },
        env: { ACR_PAGE_SIZE: '20' },
      });
      await world.run();
      // New failures appear on top of the history between runs.
      const more = generateTasks({
        ...HZ,
        count: 15,
        newest: Date.now(),
        spacingMs: 30_000,
        failEvery: 3,
        prefix: 'n',
      });
      world.cr.instances[0]!.tasks.push(...more);
      const second = await world.run();
      const third = await world.run();
      const expected = [...history, ...more]
        .filter((t) => t.TaskStatus === 'ERROR')
        .map((t) => t.SyncTaskId)
        .sort();
      // Large groups are cut with "and N more"; the counted totals must add up to every failure, once.
      expect(failureCounts(world.hooks, 'slack').reduce((a, b) => a + b, 0)).toBe(expected.length);
      expect(second.failuresFound).toBe(5);
      expect(third.failuresFound).toBe(0);
      const ids = announcedIds(world.hooks, 'dingtalk');
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(expected).toContain(id);
      // With nothing new: newest-first reads one page; oldest-first reads the last page (5 tasks: 245 % 20) and the
      // one before it, since the 5-minute overlap reaches into it; an unordered list must be read in full.
      expect(third.instances[0]!.pages).toBe({ desc: 1, asc: 2, shuffle: 13 }[order]);
    });
  }

  it('catches a task that fails after an earlier run saw it running', async () => {
    world = await startWorld({
      instances: [instance([task('rst-run1', 'SYNCHRONIZING', 30), task('rst-ok1', 'SUCCESS', 29)])],
    });
    const first = await world.run();
    expect(first.failuresFound).toBe(0);
    expect(first.skipped.stillRunning).toBe(1);
    // Much later: many newer tasks pushed the running one off the first page, then it failed.
    const raw = world.cr.instances[0]!.tasks.find((t) => t.SyncTaskId === 'rst-run1')!;
    raw.TaskStatus = 'ERROR';
    raw.TaskIssue = 'NETWORK_ERROR';
    world.cr.instances[0]!.tasks.push(
      ...generateTasks({ ...HZ, count: 120, newest: Date.now(), spacingMs: 10_000, prefix: 'later' }),
    );
    const second = await world.run();
    expect(second.failuresFound).toBe(1);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-run1']);
  });

  it('announces once that a failed image synced fine again, with how long it was broken', async () => {
    const failed = {
      ...task('rst-rf1', 'ERROR', 40, 'NETWORK_ERROR'),
      from: { ...HZ, namespace: 'prod', repo: 'api', tag: 'v9' },
    };
    world = await startWorld({ instances: [instance([failed])] });
    expect((await world.run()).failuresFound).toBe(1);
    world.cr.instances[0]!.tasks.push(
      rawTask({
        ...failed,
        id: 'rst-ok1',
        status: 'SUCCESS',
        issue: undefined,
        createTime: Date.now() - 60_000,
        modifiedTime: Date.now() - 30_000,
      }),
    );
    await world.run();
    await world.run();
    const slack = world.hooks.received.filter((m) => m.channel === 'slack').map((m) => JSON.stringify(m.body));
    expect(slack).toHaveLength(2);
    expect(slack[1]).toMatch(/✅ ACR: 1 sync recovered/);
    expect(slack[1]).toMatch(/failed with `NETWORK_ERROR` at .*, synced fine at .*: broken for (39|40) min/);
    expect(slack[1]).toContain('`rst-ok1`');
  });

  it('announces a sync running longer than STUCK_AFTER_MINUTES once, and once more when it finishes', async () => {
    world = await startWorld({
      instances: [instance([task('rst-slow', 'SYNCHRONIZING', 90)])],
      env: { STUCK_AFTER_MINUTES: '60' },
    });
    await world.run();
    await world.run();
    const texts = () =>
      world!.hooks.received.filter((m) => m.channel === 'dingtalk').map((m) => JSON.stringify(m.body));
    expect(texts()).toHaveLength(1);
    expect(texts()[0]).toMatch(/⏳ ACR: 1 sync stuck/);
    expect(texts()[0]).toMatch(/syncing for 1 h (29|30) min/);
    world.cr.instances[0]!.tasks[0]!.TaskStatus = 'SUCCESS';
    await world.run();
    expect(texts()).toHaveLength(2);
    expect(texts()[1]).toMatch(/🏁 ACR: 1 stuck sync finished.*finished \(succeeded\) after/);
  });

  it('does not send what a silence mutes, but logs it, counts it and keeps a tally; other failures go out', async () => {
    const silences = JSON.stringify([
      {
        cause: 'TAG_CONFLICT',
        namespace: 'prod',
        comment: 'known: immutable tags in prod',
        expires: '2099-01-01T00:00:00Z',
      },
    ]);
    world = await startWorld({
      instances: [instance([task('rst-m1', 'ERROR', 5, 'TAG_CONFLICT'), task('rst-m2', 'ERROR', 4, 'NETWORK_ERROR')])],
      env: { SILENCES: silences },
    });
    const s = await world.run();
    expect(s).toMatchObject({ failuresFound: 2, muted: 1, notified: { dingtalk: 1, slack: 1 } });
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-m2']);
    expect(
      world.logs.filter(
        (l) => l.includes('muted by a silence') && l.includes('rst-m1') && l.includes('known: immutable tags in prod'),
      ),
    ).toHaveLength(1);
    expect((await world.state()).digests.default!.muted!.byCause).toEqual({ TAG_CONFLICT: 1 });
    expect((await world.run()).outcome).toBe('nothing-new');
  });

  it('@mentions the configured people when a message holds a high-severity failure, and only then', async () => {
    const env = {
      DINGTALK_AT_MOBILES: '13800000000',
      DINGTALK_AT_USER_IDS: 'ops-lead',
      SLACK_MENTIONS: 'U0123ABC,S0456DEF',
    };
    world = await startWorld({ instances: [instance([task('rst-mild', 'ERROR', 5, 'NETWORK_ERROR')])], env });
    await world.run();
    const mild = world.hooks.received.map((m) => m.body);
    expect(mild.find((b) => b.msgtype === 'markdown')!.at).toBeUndefined();
    expect(JSON.stringify(mild)).not.toMatch(/<@U0123ABC>|@13800000000/);
    world.cr.instances[0]!.tasks.push(rawTask(task('rst-oss', 'ERROR', 1, 'OSS_POLICY_UNAUTHORIZED')));
    await world.run();
    const ding = world.hooks.received.filter((m) => m.channel === 'dingtalk').at(-1)!.body as {
      at?: unknown;
      markdown: { text: string };
    };
    expect(ding.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['ops-lead'], isAtAll: false });
    // DingTalk shows a mention only when the text holds "@<mobile>" or "@<userId>".
    expect(ding.markdown.text).toMatch(/@13800000000 @ops-lead$/);
    const slack = JSON.stringify(world.hooks.received.filter((m) => m.channel === 'slack').at(-1)!.body);
    expect(slack).toContain('<@U0123ABC> <!subteam^S0456DEF>');
  });

  it('with TRANSIENT_MIN_FAILURES=2 waits for a network error to repeat before announcing it', async () => {
    const image = (id: string, ago: number) => ({
      ...task(id, 'ERROR', ago, 'NETWORK_ERROR'),
      from: { ...HZ, namespace: 'prod', repo: 'flaky', tag: 'v1' },
    });
    world = await startWorld({ instances: [instance([image('rst-n1', 20)])], env: { TRANSIENT_MIN_FAILURES: '2' } });
    const first = await world.run();
    expect(first).toMatchObject({ failuresFound: 0, skipped: { heldTransient: 1 }, notified: {} });
    expect(world.hooks.received).toHaveLength(0);
    world.cr.instances[0]!.tasks.push(rawTask(image('rst-n2', 5)));
    await world.run();
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-n2']);
  });

  it('sends a digest on request: failures by cause, top repositories, recoveries, what is still failing, what was muted', async () => {
    const img = (id: string, ago: number, status: string, issue: string | undefined, repo: string) => ({
      ...task(id, status, ago, issue),
      from: { ...HZ, namespace: 'prod', repo, tag: 'v1' },
    });
    const silences = JSON.stringify([{ repo: 'muted-repo', comment: 'known' }]);
    world = await startWorld({
      instances: [
        {
          ...instance([
            img('rst-d1', 50, 'ERROR', 'TAG_CONFLICT', 'api'),
            img('rst-d2', 40, 'ERROR', 'NETWORK_ERROR', 'web'),
            img('rst-d3', 30, 'ERROR', 'TAG_CONFLICT', 'muted-repo'),
          ]),
          rules: [{ SyncRuleId: 'crsr-r1', SyncRuleName: 'prod-to-shanghai' }],
        },
      ],
      env: { SILENCES: silences },
    });
    await world.run();
    world.cr.instances[0]!.tasks.push(rawTask(img('rst-d4', 10, 'SUCCESS', undefined, 'web')));
    await world.run();
    await world.run({ payload: '{"digest":true}' });
    const last = JSON.stringify(world.hooks.received.filter((m) => m.channel === 'dingtalk').at(-1)!.body);
    expect(last).toContain('📊 ACR: digest since');
    expect(last).toMatch(/Failures announced: 2 \(NETWORK_ERROR 1, TAG_CONFLICT 1\)/);
    expect(last).not.toMatch(/Most failing repositories/); // each failed once: no count worth showing
    expect(last).toMatch(/Recovered: 1, mean time to recovery 3[01] min/);
    // A muted image is still failing: the digest says so apart from the announced ones (2 announced, 1 recovered,
    // 1 still failing), and counts it among the muted too.
    expect(last).toMatch(/Still failing: 1/);
    expect(last).toMatch(/Also failing, never announced \(every failure muted by a silence\): 1 image/);
    // Each entry: source image → target instance, since when, cause, the rule by name, the last failed task.
    expect(last).toMatch(
      /prod\/api:v1 → cn-shanghai:cri-test0sh · failing since [^·]* · TAG_CONFLICT · rule prod-to-shanghai · rst-d1/,
    );
    expect(last).not.toContain('prod/muted-repo:v1');
    expect(last).toMatch(/Muted by silences: TAG_CONFLICT 1/);
    const d = (await world.state()).digests.default!;
    expect(d.stats.byCause).toEqual({});
    expect(d.muted).toBeUndefined();
    expect((await world.run()).outcome).toBe('nothing-new');
  });

  it('keeps a failure for a channel that is down and sends it there when it is back, without repeating it elsewhere', async () => {
    world = await startWorld({ instances: [instance([task('rst-f1', 'ERROR', 10, 'TAG_CONFLICT')])] });
    world.hooks.fault('dingtalk', { kind: 'down', times: 10 });
    const first = await world.run();
    expect(first.notified).toEqual({ dingtalk: 0, slack: 1 });
    expect(first.stillOwed).toBe(1);
    expect(first.problems.join()).toMatch(/dingtalk/);
    expect(Object.fromEntries(Object.entries((await world.state()).owed).map(([t, o]) => [t, o.length]))).toEqual({
      dingtalk: 1,
    });

    world.hooks.heal('dingtalk');
    const second = await world.run();
    expect(second.notified).toEqual({ dingtalk: 1 });
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-f1']);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-f1']);
    expect((await world.state()).owed).toEqual({});
  });

  it('treats a DingTalk errcode as a failed delivery, pauses the robot instead of retrying every run, and delivers after', async () => {
    world = await startWorld({ instances: [instance([task('rst-e1', 'ERROR', 10, 'INTERNAL_ERROR')])] });
    world.hooks.fault('dingtalk', { kind: 'errcode', errcode: 310000, errmsg: 'keywords not in content' });
    const first = await world.run();
    expect(first.notified.dingtalk).toBe(0);
    expect(first.problems.join()).toMatch(/dingtalk: paused until .*310000.*keyword/);
    expect(world.hooks.received.filter((r) => r.channel === 'dingtalk')).toHaveLength(0);
    const paused = await world.run();
    expect(paused).toMatchObject({ outcome: 'nothing-new', stillOwed: 1, apiCalls: { stateWrites: 0 } });
    expect(world.hooks.attempts.filter((a) => a.channel === 'dingtalk')).toHaveLength(1);
    await world.editControl((c) => ({
      ...c,
      pauses: { ...c.pauses, dingtalk: { ...c.pauses.dingtalk!, until: Date.now() - 1 } },
    }));
    const second = await world.run();
    expect(second.notified.dingtalk).toBe(1);
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-e1']);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-e1']);
  });

  it('retries CR throttling with backoff and then succeeds within the same run', async () => {
    world = await startWorld({ instances: [instance([task('rst-t1', 'ERROR', 10, 'NETWORK_ERROR')])] });
    world.cr.fault({ action: 'ListRepoSyncTask', kind: 'throttle', times: 1 });
    world.cr.fault({ action: 'ListRepoSyncTask', kind: 'throttle-user', times: 1 });
    const summary = await world.run();
    expect(summary.failuresFound).toBe(1);
    expect(summary.problems).toEqual([]);
    expect(world.cr.calls.filter((c) => c.status === 400).map((c) => c.action)).toEqual([
      'ListRepoSyncTask',
      'ListRepoSyncTask',
    ]);
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-t1']);
    // NETWORK_ERROR is transient: the message carries the commands to re-run it.
    expect(JSON.stringify(world.hooks.received[0]!.body)).toContain(
      'aliyun cr CreateRepoSyncTaskByRule --region cn-hangzhou --InstanceId cri-test0hz --SyncRuleId crsr-r1 --RepoId \\"$id\\" --Tag v1',
    );
  });

  it('reports NoPrivilege as a configuration problem naming the RAM action, without retrying, and still alerts other instances', async () => {
    world = await startWorld({
      instances: [
        instance([task('rst-a', 'ERROR', 5, 'TAG_CONFLICT')]),
        instance([task('rst-b', 'ERROR', 5, 'TAG_CONFLICT', SH)], SH),
      ],
    });
    world.cr.fault({ action: 'ListRepoSyncTask', instanceId: HZ.instanceId, kind: 'no-privilege', times: 1 });
    const summary = await world.run();
    expect(summary.problems.join()).toMatch(/cr:GetRepositorySync/);
    expect(summary.instances.find((i) => i.instance === `${HZ.regionId}:${HZ.instanceId}`)!.error).toMatch(
      /NoPrivilege/,
    );
    expect(world.cr.calls.filter((c) => c.params.InstanceId === HZ.instanceId)).toHaveLength(1);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-b']);
    // Once the role is fixed, the refused instance's failure is announced.
    const next = await world.run();
    expect(next.failuresFound).toBe(1);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-b', 'rst-a']);
  });

  it('names the missing ListRepoSyncRule action and still alerts without rule names', async () => {
    world = await startWorld({
      instances: [instance([task('rst-r', 'ERROR', 5, 'NETWORK_ERROR')])],
      cr: { denied: ['ListRepoSyncRule'] },
    });
    const summary = await world.run();
    expect(summary.failuresFound).toBe(1);
    expect(world.logs.join('\n')).toMatch(/cr:ListSyncRule/);
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-r']);
  });

  it('refuses malformed configuration with one error naming every problem, and prints no secret', async () => {
    world = await startWorld({ instances: [instance([])] });
    const err = await world
      .run({
        env: {
          ACR_INSTANCES: 'cn-hangzhou:not-an-instance,hangzhou',
          DINGTALK_WEBHOOK: 'http://oapi.dingtalk.com/robot/send?access_token=leaky-token-123',
          DINGTALK_SECRET: 'nope-secret-456',
          SLACK_WEBHOOK: undefined,
          ALERT_LANG: 'fr',
          LOOKBACK_MINUTES: 'soon',
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/ACR_INSTANCES entry "cn-hangzhou:not-an-instance"/);
    expect(problems).toMatch(/ACR_INSTANCES entry "hangzhou"/);
    expect(problems).toMatch(/DINGTALK_WEBHOOK must use https/);
    expect(problems).toMatch(/DINGTALK_SECRET must be the robot signing secret/);
    expect(problems).toMatch(/ALERT_LANG must be zh or en/);
    expect(problems).toMatch(/LOOKBACK_MINUTES must be a whole number/);
    const everything = [String(err), ...world.logs].join('\n');
    expect(everything).not.toContain('leaky-token-123');
    expect(everything).not.toContain('nope-secret-456');
  });

  it('refuses a file checkpoint inside Function Compute', async () => {
    world = await startWorld({ instances: [instance([])] });
    await expect(world.run({ env: { FC_FUNCTION_NAME: 'acr-sync-alert' } })).rejects.toThrow(
      /TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE are required in Function Compute/,
    );
  });

  it('in a dry run logs the messages it would send and neither posts nor saves', async () => {
    world = await startWorld({ instances: [instance([task('rst-d', 'ERROR', 5, 'TAG_CONFLICT')])] });
    const summary = await world.run({ payload: '{"dryRun":true}' });
    expect(summary.outcome).toBe('dry-run');
    expect(summary.failuresFound).toBe(1);
    expect(world.hooks.attempts).toHaveLength(0);
    expect(existsSync(world.stateFile)).toBe(false);
    expect(world.logs.filter((l) => l.includes('dry run: message not sent') && l.includes('rst-d'))).toHaveLength(2);
    const real = await world.run();
    expect(real.failuresFound).toBe(1);
  });

  it('lets exactly one of two overlapping runs announce the same new failures', async () => {
    world = await startWorld({
      instances: [instance([task('rst-o1', 'ERROR', 5, 'TAG_CONFLICT'), task('rst-o2', 'ERROR', 4, 'NETWORK_ERROR')])],
      overlap: 2,
    });
    const [a, b] = await Promise.all([world.run(), world.run()]);
    expect([a.outcome, b.outcome].sort()).toEqual(['completed', 'lost-race']);
    expect(announcedIds(world.hooks, 'dingtalk').sort()).toEqual(['rst-o1', 'rst-o2']);
    expect(announcedIds(world.hooks, 'slack').sort()).toEqual(['rst-o1', 'rst-o2']);
  });

  it('never writes a key, token, signing secret or webhook path into logs, errors or summaries', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    world.hooks.fault('slack', { kind: 'status', status: 404, body: 'channel_not_found' });
    world.cr.fault({ kind: 'html-502' });
    await world.run();
    await world.run({ payload: '{"dryRun":true}' });
    await world
      .run({ env: { SLACK_WEBHOOK: 'ftp://x/services/slack-hook-secret-a41f' } })
      .catch((e: unknown) => world!.logs.push(String(e)));
    const all = world.logs.join('\n');
    expect(world.logs.length).toBeGreaterThan(5);
    for (const s of SECRETS) expect(all).not.toContain(s);
  });
});
