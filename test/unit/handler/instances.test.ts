import { describe, expect, it } from 'vitest';
import { observeAndClaim } from '../../../src/handler/instances.js';
import { Budget } from '../../../src/lib/budget.js';
import { ChunkNotClaimedError } from '../../../src/lib/errors.js';
import { write } from '../../../src/state/rows.js';
import type { ClaimRows } from '../../../src/state/store.js';
import { fakeCr, INST, movableClock, SETTINGS, T0, task } from '../../support/observe-fakes.js';
import { claimHarness } from '../../support/run-harness.js';

const SH = { regionId: 'cn-shanghai', instanceId: 'cri-y', key: 'cn-shanghai:cri-y' };

/** Two instances, Hangzhou and Shanghai, each with one failed task, read one at a time. */
function twoInstances() {
  const h = claimHarness({ now: T0 });
  const hz = fakeCr([task('rst-hz', T0 - 60_000, 'ERROR')]);
  const sh = fakeCr([task('rst-sh', T0 - 60_000, 'ERROR')]);
  const clock = movableClock(T0);
  const observe = {
    store: h.store,
    clock,
    budget: new Budget(clock, T0 + 60_000, 10_000),
    log: h.log,
    settings: { ...SETTINGS, instances: [INST, SH], concurrency: 1 },
    crFor: (regionId: string) => (regionId === SH.regionId ? sh.api : hz.api),
  };
  return { h, hz, sh, observe };
}

describe('observing and claiming every instance (observeAndClaim)', () => {
  it("claims what each instance found and returns every instance's report in configured order", async () => {
    const { h, observe } = twoInstances();
    const out = await observeAndClaim({ observe, cursors: new Map(), claims: h.ctx });
    expect(out.lost).toBeUndefined();
    expect(out.reports.map((r) => r.inst.key)).toEqual([INST.key, SH.key]);
    expect(h.ctx.tally.failures).toBe(2);
    expect((await h.state()).owed.slack!.map((o) => o.alert.id).sort()).toEqual([
      `${INST.key}/rst-hz`,
      `${SH.key}/rst-sh`,
    ]);
  });

  it('stops the instances not yet read once a claim finds another run took the lease, and reports the race', async () => {
    const { h, sh, observe } = twoInstances();
    await h.table.writeRows([write.control(h.store.keys, { owed: {}, pauses: {} }, 0)]);
    const out = await observeAndClaim({ observe, cursors: new Map(), claims: h.ctx });
    expect(out.lost?.name).toBe('LostRace');
    expect(out.reports).toEqual([]);
    expect(sh.taskCalls).toEqual([]);
    expect((await h.state()).owed).toEqual({});
  });

  it('ends an instance whose chunk could not be claimed as unread, cursor unmoved, and completes the others', async () => {
    const { h, observe } = twoInstances();
    const claims = {
      ...h.ctx,
      store: {
        claim: (instance: string, rows: ClaimRows) =>
          instance === INST.key
            ? Promise.reject(new ChunkNotClaimedError(instance, new Error('rows owed refused')))
            : h.store.claim(instance, rows),
      },
    };
    const out = await observeAndClaim({ observe, cursors: new Map(), claims });
    const [hz, sh] = out.reports;
    expect(hz!.error).toBeInstanceOf(ChunkNotClaimedError);
    expect(hz!.cursor?.top).toBeUndefined();
    expect(sh!.error).toBeUndefined();
    expect(sh!.cursor?.top).toBeDefined();
    expect((await h.state()).owed.slack!.map((o) => o.alert.id)).toEqual([`${SH.key}/rst-sh`]);
  });

  it('throws what observing threw when it is not a lost race', async () => {
    const { h, observe } = twoInstances();
    const broken = {
      ...observe,
      crFor: () => {
        throw new Error('no client');
      },
    };
    await expect(observeAndClaim({ observe: broken, cursors: new Map(), claims: h.ctx })).rejects.toThrow('no client');
  });
});
