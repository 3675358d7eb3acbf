import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/config.js';
import type { RunDeps } from '../../src/handler/deps.js';
import { runOnce } from '../../src/handler/run.js';
import { Budget, type Clock } from '../../src/lib/budget.js';
import { silentLogger } from '../../src/lib/log.js';
import { MAX_ROWS_PER_MESSAGE, type Target } from '../../src/notify/deliver.js';
import type { ChannelName } from '../../src/model/lang.js';
import type { Notifier } from '../../src/notify/types.js';
import { StateStore } from '../../src/state/store.js';
import { keysFor, write, type Keys } from '../../src/state/rows.js';
import { MemoryTable, type KeyedRow, type WriteOp } from '../../src/state/table.js';
import { failure, T0 } from '../support/alerts.js';
import { SETTINGS } from '../support/observe-fakes.js';

// After a burst each channel is owed every alert of it, and a run delivers to one channel after another within the
// function's memory: what the first channel took must be gone while the next one's alerts are read.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const OWED = 30_000;
/** Alert ids of 150 characters: plain key parts, so each row key is about 190 characters. */
const idOf = (i: number) => `cn-hangzhou:cri-src/${'r'.repeat(123)}-${String(i).padStart(6, '0')}`;

/**
 * A table whose owed rows are made when read, not stored: the test's heap then changes only with what the run keeps.
 * Each target is owed `owed` alerts (OWED unless told); deleting one of their rows marks it gone. Every other row is kept as usual.
 */
class OwedOnRead extends MemoryTable {
  readonly gone = new Map<string, Uint8Array>();

  /** Called on every read of owed rows, e.g. to let time pass. */
  onOwedRead?: () => void;

  constructor(
    private readonly k: Keys,
    private readonly targets: readonly string[],
    private readonly owed: number | Record<string, number> = OWED,
  ) {
    super('memory, owed rows made on read');
    for (const t of targets) this.gone.set(t, new Uint8Array(this.count(t)));
  }

  private count(target: string): number {
    return typeof this.owed === 'number' ? this.owed : (this.owed[target] ?? 0);
  }

  private owedRange(from: string): { target: string; start: number } | undefined {
    for (const target of this.targets) {
      const [lo, hi] = this.k.owedRange(target);
      if (from >= lo && from < hi) return { target, start: from === lo ? 0 : Number(from.slice(-6)) };
    }
    return undefined;
  }

  override async rangePage(
    from: string,
    to: string,
    t?: number,
    limit = 5_000,
  ): Promise<{ rows: KeyedRow[]; next?: string }> {
    const r = this.owedRange(from);
    if (!r) return super.rangePage(from, to, t, limit);
    this.onOwedRead?.();
    const rows: KeyedRow[] = [];
    const gone = this.gone.get(r.target)!;
    for (let i = r.start; i < this.count(r.target); i++) {
      if (rows.length >= limit) return { rows, next: this.k.owed(r.target, idOf(i)) };
      if (gone[i]) continue;
      const op = write.owed(this.k, { target: r.target, detectedAt: T0, alert: { ...failure(i % 50), id: idOf(i) } });
      rows.push({ key: op.key, cols: (op as Extract<WriteOp, { op: 'put' }>).cols });
    }
    return { rows };
  }

  override async writeRows(ops: readonly WriteOp[]): Promise<{ failed: string[] }> {
    const rest: WriteOp[] = [];
    for (const o of ops) {
      const r = o.op === 'delete' ? this.owedRange(o.key) : undefined;
      if (r) this.gone.get(r.target)![r.start] = 1;
      else rest.push(o);
    }
    return rest.length > 0 ? super.writeRows(rest) : { failed: [] };
  }
}

/** A run with no instance to read, delivering to DingTalk and Slack what `table` says each is owed (for an hour). */
async function deliveryRun(
  table: OwedOnRead,
  k: Keys,
  owed: number | { dingtalk: number; slack: number },
  onSend: (channel: ChannelName, payload: unknown) => void,
  now = T0,
  time?: { clock: Clock; deadline: number; reserveMs: number },
) {
  const clock: Clock = time?.clock ?? { now: () => now };
  const budget = new Budget(clock, time?.deadline ?? now + 600_000, time?.reserveMs ?? 0);
  const config = readConfig({
    ACR_INSTANCES: 'cn-hangzhou:cri-src',
    DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=t',
    SLACK_WEBHOOK: 'https://hooks.slack.com/services/a',
  });
  const store = new StateStore(table, 'memory-test', (_label, fn) => fn(5_000), clock.now);
  const counts = typeof owed === 'number' ? { dingtalk: owed, slack: owed } : owed;
  if (counts.dingtalk + counts.slack > 0) {
    await table.writeRows([
      write.control(
        k,
        {
          owed: {
            dingtalk: { since: now - 3_600_000, count: counts.dingtalk },
            slack: { since: now - 3_600_000, count: counts.slack },
          },
          pauses: {},
        },
        0,
      ),
    ]);
  }
  const notifier = (channel: ChannelName): Notifier => ({
    channel,
    fingerprint: channel,
    send: async (payload) => onSend(channel, payload),
  });
  const route = config.routes.at(-1)!;
  const targets: Target[] = (['dingtalk', 'slack'] as const).map((c) => ({ id: c, route, notifier: notifier(c) }));
  const deps: RunDeps = {
    clock,
    budget,
    log: silentLogger,
    store,
    targets,
    runId: `run-${now}`,
    dryRun: false,
    forceDigest: false,
    counter: { cr: 0 },
    observe: {
      store,
      clock,
      budget,
      log: silentLogger,
      settings: { ...SETTINGS, instances: [] },
      crFor: () => {
        throw new Error('no instance is configured');
      },
    },
    plan: { routes: config.routes, silences: [] },
  };
  return { summary: await runOnce(deps), store };
}

const cleared = (table: OwedOnRead) => [...table.gone.values()].map((g) => g.reduce((n, x) => n + x, 0));

describe('what a run keeps while it delivers', () => {
  it('lets go of the rows one channel took before it reads what the next is owed (30,000 alerts each)', async () => {
    const k = keysFor('memory-test');
    const table = new OwedOnRead(k, ['dingtalk', 'slack']);
    const heapAtSend: Record<string, number> = {};
    const { summary } = await deliveryRun(table, k, OWED, (channel) => {
      gc();
      heapAtSend[channel] = process.memoryUsage().heapUsed;
    });

    expect(summary.notified).toEqual({ dingtalk: OWED, slack: OWED });
    expect(cleared(table)).toEqual([OWED, OWED]);
    // Each send holds its own channel's row keys (30,000 of about 190 characters: some 6 MB); the second holding the
    // first's as well would show as that much more.
    const keyBytes = OWED * k.owed('dingtalk', idOf(0)).length;
    expect(keyBytes).toBeGreaterThan(5_000_000);
    expect(heapAtSend.slack! - heapAtSend.dingtalk!).toBeLessThan(keyBytes / 3);
  });

  it('delivers a backlog larger than one message over runs: 150,000 alerts a message, each once, the first saying more follows', async () => {
    const backlog = MAX_ROWS_PER_MESSAGE + 5_000;
    const k = keysFor('memory-test');
    const table = new OwedOnRead(k, ['dingtalk', 'slack'], backlog);
    const said: Record<string, string[]> = { dingtalk: [], slack: [] };
    const first = await deliveryRun(table, k, backlog, (channel, payload) =>
      said[channel]!.push(JSON.stringify(payload)),
    );
    expect(first.summary.notified).toEqual({ dingtalk: MAX_ROWS_PER_MESSAGE, slack: MAX_ROWS_PER_MESSAGE });
    expect(cleared(table)).toEqual([MAX_ROWS_PER_MESSAGE, MAX_ROWS_PER_MESSAGE]);
    // The rows left are the last in key order, still owed; the control row counts them, owed from this run (the
    // channels took a message: a failure from here starts its backoff afresh).
    expect(table.gone.get('slack')!.indexOf(0)).toBe(MAX_ROWS_PER_MESSAGE);
    expect(first.summary.stillOwed).toBe(2 * 5_000);
    const control = (await first.store.begin([], [])).control.value;
    expect(control.owed).toEqual({ dingtalk: { since: T0, count: 5_000 }, slack: { since: T0, count: 5_000 } });
    expect(said.dingtalk![0]).toContain('the rest follow in the next one');
    expect(said.slack![0]).toContain('the rest follow in the next one');

    const second = await deliveryRun(
      table,
      k,
      0,
      (channel, payload) => said[channel]!.push(JSON.stringify(payload)),
      T0 + 300_000,
    );
    expect(second.summary.notified).toEqual({ dingtalk: 5_000, slack: 5_000 });
    expect(second.summary.stillOwed).toBe(0);
    expect(cleared(table)).toEqual([backlog, backlog]);
    expect(said.dingtalk![1]).not.toContain('follow');
    expect(said.dingtalk).toHaveLength(2);
  });

  it('gives each channel its share of the time left for reading: one owed a great deal leaves the next some', async () => {
    const k = keysFor('memory-test');
    // 40 s left, 20 s of it reserve: reading may go on until 10 s are left, and each page of 1,000 rows takes 1 s.
    const table = new OwedOnRead(k, ['dingtalk', 'slack'], { dingtalk: 40_000, slack: 20_000 });
    let now = T0;
    table.onOwedRead = () => (now += 1_000);
    const { summary, store } = await deliveryRun(table, k, { dingtalk: 40_000, slack: 20_000 }, () => {}, T0, {
      clock: { now: () => now },
      deadline: T0 + 40_000,
      reserveMs: 20_000,
    });
    // Half of the 30 s for DingTalk (15 pages, and the read that found its time up), then what is left for Slack (14
    // pages). Reading DingTalk's rows until 10 s were left would have left Slack none.
    expect(summary.notified).toEqual({ dingtalk: 15_000, slack: 14_000 });
    expect(cleared(table)).toEqual([15_000, 14_000]);
    const control = (await store.begin([], [])).control.value;
    expect(control.owed).toEqual({ dingtalk: { since: T0, count: 25_000 }, slack: { since: T0, count: 6_000 } });
  });

  it('removes what a channel no longer configured was owed a page at a time, as far as the run has time, and the rest next run', async () => {
    const k = keysFor('memory-test');
    const table = new OwedOnRead(k, ['old/slack'], 40_000);
    await table.writeRows([
      write.control(k, { owed: { 'old/slack': { since: T0 - 3_600_000, count: 40_000 } }, pauses: {} }, 0),
    ]);
    let now = T0;
    table.onOwedRead = () => (now += 1_000);
    const sent: string[] = [];
    // 30 s left, 20 s of it reserve: pages are read and removed until 10 s are left, one a second.
    const first = await deliveryRun(table, k, 0, (channel) => sent.push(channel), T0, {
      clock: { now: () => now },
      deadline: T0 + 30_000,
      reserveMs: 20_000,
    });
    expect(cleared(table)).toEqual([20_000]);
    expect((await first.store.begin([], [])).control.value.owed).toEqual({
      'old/slack': { since: T0 - 3_600_000, count: 20_000 },
    });
    const second = await deliveryRun(table, k, 0, (channel) => sent.push(channel), T0 + 300_000);
    expect(cleared(table)).toEqual([40_000]);
    expect((await second.store.begin([], [])).control.value.owed).toEqual({});
    expect(sent).toEqual([]);
  });
});
