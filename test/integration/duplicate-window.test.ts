import { afterEach, describe, expect, it } from 'vitest';
import type { OtsCall } from '../../src/sim/tablestore-server.js';
import { keysFor, write } from '../../src/state/rows.js';
import type { WriteOp } from '../../src/state/table.js';
import { failureAlert, owed, syncTask } from '../support/build.js';
import { closeWorlds, failureCounts, startWorld, type KillPoint, type World } from '../support/world.js';

// After a burst each channel takes 20,000 or 100,000 alerts in one message. Removing the rows it took is one
// BatchWriteRow per 200 rows: a run killed (or refused) in the middle of that must not send the rest again.

const HZ = { instanceId: 'cri-window0', regionId: 'cn-hangzhou' };
const INSTANCE = `${HZ.regionId}:${HZ.instanceId}`;
const K = keysFor('test');
const M = 60_000;
const CHANNELS = ['dingtalk', 'slack'] as const;

afterEach(closeWorlds);

/** Alerts each channel received, summed over the messages' banners ("ACR: 100000 syncs failed"). */
const received = (w: World) =>
  Object.fromEntries(CHANNELS.map((c) => [c, failureCounts(w.hooks, c).reduce((n, x) => n + x, 0)]));

/** What the servers saw, in order: each Tablestore request when it arrived, each message when it was accepted. */
export function timeline(w: World): { what: string; at: number }[] {
  const seen: { what: string; at: number }[] = [];
  const calls = w.ots!.calls;
  const push = calls.push.bind(calls);
  calls.push = (...c: OtsCall[]) => {
    for (const x of c) seen.push({ what: x.action, at: Date.now() });
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
 * A world whose state holds a burst of `n` failures owed to both channels, as a run that claimed them and was stopped
 * before delivering leaves it. `gen: false` writes the rows as the previous release did (no generation column).
 */
async function burst(n: number, opts: { gen: boolean } = { gen: true }): Promise<World> {
  const w = await startWorld({ instances: [{ ...HZ, tasks: [], rules: [] }], tablestore: true, closedByTest: true });
  await w.run(); // makes the table and its meta row
  const version = (await w.state()).controlVersion;
  const now = Date.now();
  const t = w.table();
  const ops: WriteOp[] = [];
  for (const target of CHANNELS)
    for (let i = 0; i < n; i++) {
      const alert = failureAlert(syncTask({ taskId: `rst-b${i}`, createTime: now - 2 * M }), INSTANCE);
      ops.push(write.owed(K, owed(alert, target, now - M), opts.gen ? version : undefined));
    }
  const chunks: WriteOp[][] = [];
  for (let i = 0; i < ops.length; i += 200) chunks.push(ops.slice(i, i + 200));
  for (let i = 0; i < chunks.length; i += 8)
    await Promise.all(chunks.slice(i, i + 8).map((c) => t.writeRows(c, 30_000)));
  await w.editControl((c) => ({
    ...c,
    owed: Object.fromEntries(CHANNELS.map((ch) => [ch, { since: now - M, count: n }])),
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

/** The nth BatchWriteRow of a run, once the service applied it (or when it arrived). */
const nthWrite = (nth: number, phase: 'applied' | 'received' = 'applied'): KillPoint => ({
  at: 'ots',
  action: 'BatchWriteRow',
  phase,
  nth,
});

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
  // A run with nothing new: write 1 takes the lease; then per channel its message, the one write that makes it stand,
  // the removal of its rows (one write per 200), the record's removal; then the release. A kill anywhere from write 2
  // on falls after DingTalk accepted its message.
  const cases = [
    ...Array.from({ length: 3 }, () => ({ n: 20_000, nth: 2 + Math.floor(draw() * 204), gen: false })),
    ...Array.from({ length: 2 }, () => ({ n: 100_000, nth: 2 + Math.floor(draw() * 1004), gen: true })),
  ];
  for (const c of cases)
    it(`seed ${SEED}: ${c.n} alerts, killed after write ${c.nth}: each alert reaches each channel once`, async () => {
      const w = await burst(c.n, { gen: c.gen });
      try {
        const crashed = await w.runChild({ kill: nthWrite(c.nth), timeout: 300 });
        expect(crashed.killed).toBe(true);
        await settle(w);
        expect(received(w)).toEqual({ dingtalk: c.n, slack: c.n });
        expect((await w.state()).owed).toEqual({});
      } finally {
        await w.close();
      }
    }, 600_000);
});
