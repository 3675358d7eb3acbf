import { afterEach, describe, expect, it } from 'vitest';
import { generateTasks } from '../../src/sim/seed.js';
import type { SimInstance } from '../../src/sim/cr-server.js';
import { closeWorlds, failureCounts, startWorld } from '../support/world.js';

afterEach(closeWorlds);

const HZ = { regionId: 'cn-hangzhou', instanceId: 'cri-asc0000001' };
const MIN = 60_000;

/**
 * The local CR server answering oldest first with a TotalCount `lie` makes of the truth; the real handler and SDK
 * client read it. Counted at the CR server (its calls) and the webhook receivers (the failures their messages name).
 */
async function oldestFirst(lie: (n: number) => number, pastEnd?: 'last-page', history = 200) {
  const now = Date.now();
  const inst: SimInstance = {
    ...HZ,
    tasks: generateTasks({ ...HZ, count: history, newest: now - 40 * MIN, spacingMs: 6_000, status: 'SUCCESS' }),
    rules: [],
  };
  const w = await startWorld({
    instances: [inst],
    cr: { order: 'asc', totalCount: lie, ...(pastEnd ? { pastEnd } : {}) },
  });
  await w.run();
  // 2,000 new tasks (one in 40 failing) since that run: 40 pages of 50.
  inst.tasks.push(
    ...generateTasks({ ...HZ, count: 2_000, newest: Date.now() - 1_000, spacingMs: 1_000, failEvery: 40, prefix: 'n' }),
  );
  const before = w.cr.calls.length;
  const s = await w.run();
  const taskCalls = w.cr.calls.slice(before).filter((c) => c.action === 'ListRepoSyncTask').length;
  const quietBefore = w.cr.calls.length;
  await w.run();
  const quiet = w.cr.calls.slice(quietBefore).map((c) => Number(c.params.PageNo));
  return { s, taskCalls, quiet, announced: failureCounts(w.hooks, 'dingtalk').reduce((a, b) => a + b, 0) };
}

describe('an oldest-first list whose TotalCount is 10 times the truth, read through the CR server', () => {
  it('announces every new failure, finding the newest page in a bounded search, and costs a quiet run one read more than a truthful count', async () => {
    const r = await oldestFirst((n) => 10 * n);
    expect(r.announced).toBe(50);
    expect(r.s.instances[0]).toMatchObject({ complete: true, newFailures: 50 });
    // 44 pages hold the list: the page the cursor names, the page TotalCount names (empty), a galloping search from
    // the first (2·log2(40) + 2 = 13 reads at most), then the 40 new pages read back.
    expect(r.taskCalls).toBeLessThanOrEqual(2 + 13 + 40);
    // Nothing new: the cursor's page (full), the page TotalCount names (empty), the one after the cursor's (empty),
    // then the 5-minute overlap below the newest task read again (300 tasks at one a second: 6 pages).
    expect(r.quiet.slice(0, 3)).toEqual([44, 440, 45]);
    expect(r.quiet.length).toBeLessThanOrEqual(3 + 6);
  });

  it('announces every new failure when the server serves its short last page again for any page past the end', async () => {
    // 2,210 tasks: the last page (the 45th) holds 10.
    const r = await oldestFirst((n) => 10 * n, 'last-page', 210);
    expect(r.announced).toBe(50);
    expect(r.s.instances[0]).toMatchObject({ complete: true, newFailures: 50 });
    // Two searches at most (the end, then the lowest page serving the last page's tasks), and the 40 new pages.
    expect(r.taskCalls).toBeLessThanOrEqual(2 + 2 * 13 + 40);
  });
});
