import { afterEach, describe, expect, it } from 'vitest';
import type { OtsCall } from '../../src/sim/tablestore-server.js';
import { keysFor, write } from '../../src/state/rows.js';
import type { Cell } from '../../src/sim/plainbuffer.js';
import { failureAlert, owed, syncTask } from '../support/build.js';
import { closeWorlds, failureCounts, startWorld, type KillPoint, type World } from '../support/world.js';

// After a burst each channel takes 20,000 or 100,000 alerts in one message. Removing the rows it took is one
// BatchWriteRow per 200 rows: a run killed (or refused) in the middle of that must not send the rest again.

const HZ = { instanceId: 'cri-window0', regionId: 'cn-hangzhou' };
const INSTANCE = `${HZ.regionId}:${HZ.instanceId}`;
const K = keysFor('test');
const M = 60_000;
const CHANNELS = ['dingtalk', 'slack'] as const;
type Channel = (typeof CHANNELS)[number];

afterEach(closeWorlds);

/** Alerts each channel received, summed over the messages' banners ("… · 100,000 syncs failed in all"). */
const received = (w: World) =>
  Object.fromEntries(CHANNELS.map((c) => [c, failureCounts(w.hooks, c).reduce((n, x) => n + x, 0)]));

/** What the servers saw, in order: each Tablestore request as it arrived, each message as it was accepted. */
function timeline(w: World): { what: string; at: number; call?: OtsCall }[] {
  const seen: { what: string; at: number; call?: OtsCall }[] = [];
  const calls = w.ots!.calls;
  const push = calls.push.bind(calls);
  calls.push = (...c: OtsCall[]) => {
    for (const call of c) seen.push({ what: call.action, at: Date.now(), call });
    return push(...c);
  };
  const hooks = w.hooks.received;
  const hpush = hooks.push.bind(hooks);
  hooks.push = (...m) => {
    for (const x of m) seen.push({ what: `accepted by ${x.channel}`, at: Date.now() });
    return hpush(...m);
  };
  return seen;
}

/**
 * A world whose state holds a burst of `n` failures owed to `channels`, as a run that claimed them and was stopped
 * before delivering leaves it. `gen: false` writes the rows as the previous release did (no generation column).
 */
async function burst(n: number, o: { channels?: readonly Channel[]; gen?: boolean } = {}): Promise<World> {
  const channels = o.channels ?? CHANNELS;
  const w = await startWorld({ instances: [{ ...HZ, tasks: [], rules: [] }], tablestore: true, closedByTest: true });
  await w.run(); // makes the table and its meta row
  const version = (await w.state()).controlVersion;
  const now = Date.now();
  // Seeding is setup, not what is tested: the rows go straight into the server's table, as its writes would leave
  // them (the run then reads and deletes them through the SDK).
  const table = w.ots!.tables.get('acr_sync_alert')!;
  const cell = (name: string, v: string | number): Cell => ({
    name,
    value: typeof v === 'number' ? { type: 'INTEGER', v: BigInt(v) } : { type: 'STRING', v },
  });
  for (const target of channels)
    for (let i = 0; i < n; i++) {
      const alert = failureAlert(syncTask({ taskId: `rst-b${i}`, createTime: now - 2 * M }), INSTANCE);
      const op = write.owed(K, owed(alert, target, now - M), o.gen === false ? undefined : version);
      if (op.op !== 'put') throw new Error('an owed row is a put');
      const data = Object.entries(op.cols).map(([name, v]) => cell(name, v));
      table.apply({ type: 'PUT', pk: [cell('id', op.key)], data, rowExistence: 0 });
    }
  await w.editControl((c) => ({
    ...c,
    owed: Object.fromEntries(channels.map((ch) => [ch, { since: now - M, count: n }])),
  }));
  return w;
}

/** Runs until nothing is owed (a dead run's lease let go first), at most `runs` times. */
async function settle(w: World, runs = 4): Promise<void> {
  await w.editControl((c) => ({ ...c, lease: undefined }));
  for (let i = 0; i < runs; i++) {
    await w.run({ timeout: 300 });
    if (Object.keys((await w.state()).owed).length === 0) break;
  }
}

/** The nth BatchWriteRow of a run, once the service applied it. */
const nthWrite = (nth: number): KillPoint => ({ at: 'ots', action: 'BatchWriteRow', phase: 'applied', nth });

/** Every alert reached each channel in `expected` once, and nothing is owed or recorded any more. */
async function expectOnce(w: World, expected: Record<Channel, number>): Promise<void> {
  expect(received(w)).toEqual(expected);
  const s = await w.state();
  expect(s.owed).toEqual({});
  expect(s.delivered).toEqual({});
}

// mulberry32: a small seeded generator, so a failing draw can be replayed.
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const SEED = 20261203;
const draw = rng(SEED);

describe('a run killed while removing what a channel took sends nothing twice', () => {
  // A run with nothing new: write 1 takes the lease; then per channel its message, the one write that makes it stand
  // (its record), the removal of its rows (one write per 200), the record's removal; then the release. A kill from
  // write 2 on falls after DingTalk accepted its message.
  const cases = [
    // 20,000 to both channels, as the previous release wrote them: writes 2-103 DingTalk's, 104-205 Slack's.
    ...Array.from({ length: 3 }, () => ({ n: 20_000, nth: 2 + Math.floor(draw() * 204), channels: CHANNELS })),
    // 100,000 to DingTalk: writes 2-503.
    ...Array.from({ length: 2 }, () => ({ n: 100_000, nth: 2 + Math.floor(draw() * 502), channels: ['dingtalk'] })),
  ];
  for (const c of cases)
    it(`seed ${SEED}: ${c.n} alerts to ${c.channels.join(' and ')}, killed after write ${c.nth}: each once`, async () => {
      const w = await burst(c.n, { channels: c.channels as Channel[], gen: c.n < 100_000 ? false : undefined });
      try {
        const crashed = await w.runChild({ kill: nthWrite(c.nth), timeout: 300 });
        expect(crashed.killed).toBe(true);
        await settle(w);
        await expectOnce(w, { dingtalk: c.n, slack: c.channels.includes('slack') ? c.n : 0 });
      } finally {
        await w.close();
      }
    }, 600_000);
});

describe('the duplicate window at 100,000 alerts', () => {
  it('one write stands between the accept and the record; the rows go afterwards, as clean-up', async () => {
    const w = await burst(100_000, { channels: ['dingtalk'] });
    try {
      const seen = timeline(w);
      const r = await w.runChild({ timeout: 300 });
      expect(r.summary?.notified).toEqual({ dingtalk: 100_000 });
      const writes = seen.filter((e) => e.what === 'BatchWriteRow' || e.what.startsWith('accepted'));
      const accept = writes.findIndex((e) => e.what === 'accepted by dingtalk');
      // Before it: the lease. Right after it: one write of one row, the record; then 500 removals of 200 rows, the
      // record's removal (one row) and the release.
      expect(accept).toBe(1);
      const after = writes.slice(accept + 1).map((e) => e.call!.rowsWritten);
      expect(after[0]).toBe(1);
      expect(after.slice(1, 501)).toEqual(Array(500).fill(200));
      expect(after.slice(501)).toEqual([1, 1]);
      const cleanUpMs = writes[accept + 502]!.at - writes[accept + 1]!.at;
      console.log(`100,000 alerts: 1 write between the accept and the record; clean-up ${cleanUpMs} ms, 501 writes`);
      await expectOnce(w, { dingtalk: 100_000, slack: 0 });
    } finally {
      await w.close();
    }
  }, 600_000);
});

describe('refusals of the record and of the clean-up', () => {
  it('the record refused row by row (busy) twice, then a run killed in its clean-up: each alert once', async () => {
    const w = await burst(20_000);
    try {
      w.ots!.fault({ kind: 'row-error', action: 'BatchWriteRow', rows: /\|r\|/, code: 'OTSServerBusy', times: 2 });
      const crashed = await w.runChild({ kill: nthWrite(60), timeout: 300 });
      expect(crashed.killed).toBe(true);
      await settle(w);
      await expectOnce(w, { dingtalk: 20_000, slack: 20_000 });
    } finally {
      await w.close();
    }
  }, 600_000);

  it('clean-up rows refused on every attempt: the record holds them, the next run clears them unsent', async () => {
    const w = await burst(20_000);
    try {
      w.ots!.fault({ kind: 'row-error', action: 'BatchWriteRow', rows: /\|o\|/, code: 'OTSServerBusy', times: 1e6 });
      const first = await w.run({ timeout: 300 });
      expect(first.notified).toEqual({ dingtalk: 20_000 });
      expect(Object.keys((await w.state()).delivered)).toEqual(['dingtalk']);
      w.ots!.heal();
      await settle(w);
      await expectOnce(w, { dingtalk: 20_000, slack: 20_000 });
    } finally {
      await w.close();
    }
  }, 600_000);
});
