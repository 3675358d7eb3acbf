import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { instanceWithOneFailure } from '../support/one-failure.js';
import { closeWorlds, KEYS, startWorld, type World } from '../support/world.js';

// Issue 22: a Tablestore instance refusing the function's network (Internet access is off for a new instance) made
// every run throw, and nobody was told. The runs still fail, so Function Compute records them; the channels hear why
// at the first tick of each hour, decided from the trigger time alone, since the state is what cannot be reached.
let fc: FcServer | undefined;
afterEach(async () => {
  await fc?.close();
  fc = undefined;
  await closeWorlds();
});

const instance = () => instanceWithOneFailure('cri-statedown', 'rst-sd1');

/** A world whose function reaches Tablestore over the Internet endpoint, which the instance's ACL refuses. */
async function refusedWorld(env: Record<string, string> = {}): Promise<World> {
  const w = await startWorld({ instances: [instance()], tablestore: true, env });
  w.env.TABLESTORE_ENDPOINT = w.ots!.endpoints.internet;
  return w;
}

const text = (w: World, channel: 'dingtalk' | 'slack') =>
  w.hooks.received.filter((r) => r.channel === channel).map((r) => JSON.stringify(r.body));

/** Runs one tick and returns why it failed. */
const failedTick = (w: World, triggerTime: string) =>
  w.run({ triggerTime }).then(
    () => 'completed',
    (e: unknown) => String((e as Error).message),
  );

describe('a run that cannot reach its state', () => {
  it("fails with Tablestore's code, message and fix in the log, and tells each channel in its language", async () => {
    const w = await refusedWorld({ ALERT_LANG: 'zh' });
    const why = await failedTick(w, '2026-12-03T10:02:00Z');
    expect(why).toMatch(
      /^Tablestore BatchGetRow was refused: OTSAuthFailed "Request denied by instance ACL policies\."/,
    );
    const failed = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'run failed');
    expect(failed).toMatchObject({ level: 'error', runId: expect.any(String), time: expect.any(String) });
    expect(failed!.error).toContain('ots-internal.aliyuncs.com');
    // Counted at the receivers: one notice per channel, with the service's words and the fix, nothing announced.
    for (const channel of ['dingtalk', 'slack'] as const) {
      const got = text(w, channel);
      expect(got, channel).toHaveLength(1);
      expect(got[0]).toContain('OTSAuthFailed: Request denied by instance ACL policies.');
      expect(got[0]).toContain('告警已中断');
      expect(got[0]).toContain('ots-internal.aliyuncs.com');
      expect(got[0]).not.toContain('rst-sd1');
    }
    expect(w.ots!.calls.every((c) => c.status === 403 && c.code === 'OTSAuthFailed')).toBe(true);
  });

  it('tells each channel once an hour: a run every 5 minutes for 2 hours sends 2 notices per channel', async () => {
    const w = await refusedWorld();
    const start = Date.parse('2026-12-03T10:02:00Z');
    const outcomes = [];
    for (let i = 0; i < 24; i++) outcomes.push(await failedTick(w, new Date(start + i * 300_000).toISOString()));
    expect(outcomes.filter((o) => o.includes('OTSAuthFailed'))).toHaveLength(24);
    expect(text(w, 'dingtalk')).toHaveLength(2);
    expect(text(w, 'slack')).toHaveLength(2);
    expect(text(w, 'slack')[0]).toContain('alerting is down');
    // The hour's first tick run twice: DingTalk drops the repeat by its msgUuid (the same hour, the same key); Slack
    // has no idempotency key and shows it again. Function Compute does not run a tick twice: s.yaml sets no async
    // retry (the test below).
    await failedTick(w, '2026-12-03T11:02:00Z');
    expect(text(w, 'dingtalk')).toHaveLength(2);
    expect(text(w, 'slack')).toHaveLength(3);
  });

  it('follows the schedule it is given: an hourly cron tells at every tick, a 20-minute interval once an hour', async () => {
    const hourly = await refusedWorld({ TIMER_SCHEDULE: 'CRON_TZ=Asia/Shanghai 0 30 * * * *' });
    for (const t of ['2026-12-03T10:30:00Z', '2026-12-03T11:30:00Z', '2026-12-03T12:30:00Z'])
      await failedTick(hourly, t);
    expect(text(hourly, 'dingtalk')).toHaveLength(3);
    const slow = await refusedWorld({ TIMER_SCHEDULE: '@every 20m' });
    for (let i = 0; i < 6; i++)
      await failedTick(slow, new Date(Date.parse('2026-12-03T10:15:00Z') + i * 1_200_000).toISOString());
    expect(text(slow, 'slack')).toHaveLength(2);
  });
});

/** The function's asyncInvokeConfig as s.yaml deploys it. */
function deployedAsyncConfig(): { maxAsyncRetryAttempts: number } {
  const s = parse(readFileSync(new URL('../../s.yaml', import.meta.url), 'utf8')) as {
    resources: Record<string, { props: { asyncInvokeConfig: { maxAsyncRetryAttempts: number } } }>;
  };
  return s.resources['acr-sync-alert']!.props.asyncInvokeConfig;
}

describe('a state-down tick under the async configuration s.yaml deploys', () => {
  // FC runs a timer tick asynchronously and runs it again after a function error, up to maxAsyncRetryAttempts, with
  // the same event. The tick's run throws (FC records the failure), so each retry decided again that this is the
  // hour's first tick: DingTalk dropped the repeats by msgUuid, Slack showed them (3 posts with 2 retries).
  it('tells each channel once, and the next tick is the retry', async () => {
    const w = await refusedWorld();
    const config = deployedAsyncConfig();
    fc = await startFcServer({
      accountId: '1234567890123456',
      accessKeyId: KEYS.id,
      accessKeySecret: KEYS.secret,
      functions: {},
      fc3Functions: {
        'acr-sync-alert': {
          invoke: async (event, ctx) =>
            JSON.stringify(await w.run({ event: event.toString(), requestId: ctx.requestId })),
          maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
        },
      },
    });
    fc.fireTimer('acr-sync-alert', { triggerTime: '2026-12-03T11:00:00Z', payload: '{"dryRun":false}' });
    await fc.settled();
    expect(fc.invocations.map((i) => i.attempts)).toEqual([config.maxAsyncRetryAttempts + 1]);
    // Counted at the receivers.
    expect(w.hooks.received.filter((r) => r.channel === 'slack')).toHaveLength(1);
    expect(w.hooks.received.filter((r) => r.channel === 'dingtalk')).toHaveLength(1);
    // Tablestore reachable again: the next tick, 5 minutes on, does the work and announces the failure.
    w.env.TABLESTORE_ENDPOINT = w.ots!.endpoints.classic;
    fc.fireTimer('acr-sync-alert', { triggerTime: '2026-12-03T11:05:00Z', payload: '{"dryRun":false}' });
    await fc.settled();
    expect(fc.invocations.map((i) => i.attempts)).toEqual([config.maxAsyncRetryAttempts + 1, 1]);
    expect(text(w, 'slack').filter((t) => t.includes('rst-sd1'))).toHaveLength(1);
    expect(text(w, 'dingtalk').filter((t) => t.includes('rst-sd1'))).toHaveLength(1);
  });
});

describe('log lines of a run in Function Compute', () => {
  it('are each one JSON object, unprefixed, on stdout, with level, time and run id', async () => {
    const w = await startWorld({ instances: [instance()] });
    const r = await w.runChild({ requestId: 'req-logs-1' });
    expect(r.summary).toMatchObject({ outcome: 'completed' });
    const lines = r.output.split('\n').filter((l) => l !== '' && !l.startsWith('SUMMARY:'));
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(o).toMatchObject({ level: expect.any(String), runId: 'req-logs-1' });
      expect(Date.parse(String(o.time))).not.toBeNaN();
    }
  });
});
