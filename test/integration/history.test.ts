import { afterEach, describe, expect, it } from 'vitest';
import type { RawTask } from '../../src/sim/cr-server.js';
import { generateTasks, rawTask } from '../../src/sim/seed.js';
import { keysFor, read, write } from '../../src/state/rows.js';
import { announcedIds, closeWorlds, failureCounts, startWorld, type World } from '../support/world.js';

// Long histories, long syncs and an API that misreports itself, through the real handler against the local CR and
// Tablestore servers: what the receivers got and what the CR server was asked, never how our own code was called.
const HZ = { instanceId: 'cri-hist0hz', regionId: 'cn-hangzhou' };
const SZ = { instanceId: 'cri-hist0sz', regionId: 'cn-shenzhen' };
const key = (i: { regionId: string; instanceId: string }) => `${i.regionId}:${i.instanceId}`;
const H = 3_600_000;
const MIN = 60_000;

let world: World | undefined;
afterEach(closeWorlds);

/** The ListRepoSyncTask calls since `from`, as [instance, filter or page] pairs. */
function taskCalls(w: World, from: number): string[] {
  return w.cr.calls
    .slice(from)
    .filter((c) => c.action === 'ListRepoSyncTask')
    .map(
      (c) =>
        `${c.params.InstanceId} ${c.params.SyncRecordId ? `id=${c.params.SyncRecordId}` : c.params.RepoName ? `image=${c.params.RepoNamespaceName}/${c.params.RepoName}:${c.params.Tag}` : `page=${c.params.PageNo}`}`,
    );
}

/** Makes the instance's slow re-checks due now, as 15 minutes passing would: each watched sync re-checked 16 min ago. */
async function letQuarterHourPass(w: World, instance: string): Promise<void> {
  const k = keysFor(w.env.STATE_KEY ?? 'default');
  const t = w.table();
  const [from, to] = k.watchRange(instance);
  const { rows } = await t.rangePage(from, to, 5_000);
  const back = rows.map((r) => read.watch(r.key, r.cols)).map((x) => ({ ...x, checkedAt: Date.now() - 16 * MIN }));
  await t.writeRows(
    back.map((x) => write.watch(k, instance, x)),
    5_000,
  );
}

describe('history, long syncs and a misreporting API', () => {
  it('a sync open for 47 h on a 300-tasks-an-hour instance: stuck once, then 1 page a run and a targeted re-check a quarter hour; its failure is announced', async () => {
    const now = Date.now();
    const history = generateTasks({ ...HZ, count: 300 * 48, newest: now - MIN, spacingMs: 12_000, status: 'SUCCESS' });
    const open = rawTask({
      id: 'rst-long',
      status: 'SYNCHRONIZING',
      createTime: now - 47 * H,
      ruleId: 'crsr-g1',
      from: { ...HZ, namespace: 'prod', repo: 'big', tag: 'v9' },
      to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
    });
    world = await startWorld({
      instances: [{ ...HZ, tasks: [...history, open], rules: [] }],
      tablestore: true,
      env: { ACR_PAGE_SIZE: '100' },
    });
    const first = await world.run();
    expect(first.stuck).toBe(1);
    expect(JSON.stringify(world.hooks.received.at(-1)!.body)).toContain('rst-long');
    expect((await world.state()).watched[key(HZ)]!.map((w) => w.task.taskId)).toEqual(['rst-long']);

    // Quiet runs: one page each, however long the sync has been open.
    for (let i = 0; i < 3; i++) {
      world.cr.instances[0]!.tasks.push(
        rawTask({
          id: `rst-new${i}`,
          status: 'SUCCESS',
          createTime: Date.now() - 1_000,
          ruleId: 'crsr-g1',
          from: { ...HZ, namespace: 'prod', repo: 'x', tag: `t${i}` },
          to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
        }),
      );
      const from = world.cr.calls.length;
      expect((await world.run()).outcome).toBe('nothing-new');
      expect(taskCalls(world, from)).toEqual([`${HZ.instanceId} page=1`]);
    }
    // It fails; a quarter hour on, the re-check finds it with one call filtered on its push (SyncRecordId, the task's
    // SyncBatchTaskId), not by reading 47 h back.
    Object.assign(open, { TaskStatus: 'ERROR', TaskIssue: 'NETWORK_ERROR', ModifiedTime: Date.now() - 1_000 });
    await letQuarterHourPass(world, key(HZ));
    const from = world.cr.calls.length;
    const s = await world.run();
    expect(s.failuresFound).toBe(1);
    expect(taskCalls(world, from).sort()).toEqual([`${HZ.instanceId} id=rsbt-long`, `${HZ.instanceId} page=1`]);
    expect(announcedIds(world.hooks, 'dingtalk').filter((id) => id === 'rst-long')).toHaveLength(2); // stuck, then failed
    expect(failureCounts(world.hooks, 'dingtalk').at(-1)).toBe(1);
    expect((await world.state()).watched[key(HZ)] ?? []).toEqual([]);
  });

  it('a TotalCount that understates the list and a page served twice: every new failure is announced, once', async () => {
    const now = Date.now();
    world = await startWorld({
      instances: [
        {
          ...HZ,
          tasks: generateTasks({ ...HZ, count: 500, newest: now - 10 * MIN, spacingMs: 30_000, status: 'SUCCESS' }),
          rules: [],
        },
      ],
      tablestore: true,
      env: { ACR_PAGE_SIZE: '20' },
    });
    await world.run();
    const burst = generateTasks({
      ...HZ,
      count: 135,
      newest: Date.now() - 1_000,
      spacingMs: 2_000,
      failEvery: 1,
      prefix: 'n',
    });
    world.cr.instances[0]!.tasks.push(...burst);
    world.cr.options.totalCount = () => 30;
    world.cr.fault({ kind: 'repeat-page', action: 'ListRepoSyncTask', pageNo: 3 });
    const first = await world.run();
    expect(first.instances[0]!.complete).toBe(false);
    expect(first.instances[0]!.anomalies?.repeatedPages).toBe(1);
    let notified = first.notified.dingtalk ?? 0;
    for (let i = 0; i < 3; i++) {
      const s = await world.run();
      notified += s.notified.dingtalk ?? 0;
      if (s.outcome === 'nothing-new') break;
    }
    // Each failure claimed once (one row per task) and delivered once: as many alerts accepted as there are failures.
    expect((await world.state()).handled[key(HZ)]!.sort()).toEqual(burst.map((t) => t.SyncTaskId).sort());
    expect(notified).toBe(135);
  });

  it('a CreateTime an hour ahead of the clock is reported and does not hide the failures of the hour that follows', async () => {
    world = await startWorld({
      instances: [
        {
          ...HZ,
          tasks: generateTasks({
            ...HZ,
            count: 50,
            newest: Date.now() - 10 * MIN,
            spacingMs: 30_000,
            status: 'SUCCESS',
          }),
          rules: [],
        },
      ],
      tablestore: true,
    });
    await world.run();
    const tasks = world.cr.instances[0]!.tasks;
    const image = (tag: string) => ({ ...HZ, namespace: 'prod', repo: 'clock', tag });
    tasks.push(
      rawTask({
        id: 'rst-future',
        status: 'SUCCESS',
        createTime: Date.now() + H,
        ruleId: 'crsr-g1',
        from: image('f'),
        to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
      }),
    );
    const seen = await world.run();
    expect(seen.instances[0]!.anomalies?.futureTimes).toBe(1);
    tasks.push(
      rawTask({
        id: 'rst-after',
        status: 'ERROR',
        issue: 'TAG_CONFLICT',
        createTime: Date.now(),
        ruleId: 'crsr-g1',
        from: image('a'),
        to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
      }),
    );
    const after = await world.run();
    expect(after.failuresFound).toBe(1);
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-after']);
  });

  it('a backlog behind a slow API: each run reads on from where the last stopped, the instance not reached first, every page about once', async () => {
    const older = (i: typeof HZ): RawTask[] =>
      generateTasks({ ...i, count: 5, newest: Date.now() - 7 * H, spacingMs: 60_000, status: 'SUCCESS' });
    world = await startWorld({
      instances: [
        { ...HZ, tasks: older(HZ), rules: [] },
        { ...SZ, tasks: older(SZ), rules: [] },
      ],
      tablestore: true,
      cr: { latencyMs: 60 },
      env: { ACR_PAGE_SIZE: '50', FETCH_CONCURRENCY: '1' },
    });
    await world.run();
    const per = 600;
    for (const [n, inst] of [HZ, SZ].entries()) {
      world.cr.instances[n]!.tasks.push(
        ...generateTasks({
          ...inst,
          count: per,
          newest: Date.now() - 1_000,
          spacingMs: 30_000,
          failEvery: 1,
          prefix: 'b',
        }),
      );
    }
    const runs: { order: string[]; behind: Record<string, number>; announced: number; complete: boolean }[] = [];
    const start = world.cr.calls.length;
    for (let i = 0; i < 10; i++) {
      const from = world.cr.calls.length;
      // A 4-second function keeps a little over a second for reading: about 8 pages at 60 ms a call.
      const s = await world.run({ timeout: 4 });
      const order = [...new Set(taskCalls(world, from).map((c) => c.split(' ')[0]!))];
      runs.push({
        order,
        behind: Object.fromEntries(s.instances.map((x) => [x.instance, x.behindMinutes])),
        announced: s.failuresFound,
        complete: s.instances.every((x) => x.complete),
      });
      if (runs.at(-1)!.complete && s.failuresFound === 0) break;
    }
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.at(-1)!.complete).toBe(true);
    // Every run but the last announced something, and once an instance's backlog is known it only shrinks.
    for (const r of runs.slice(0, -1)) expect(r.announced).toBeGreaterThan(0);
    for (const i of [key(HZ), key(SZ)]) {
      const seen = runs
        .map((r) => r.behind[i]!)
        .filter((_, n) => runs.slice(0, n + 1).some((r) => r.order.includes(i.split(':')[1]!)));
      for (let n = 1; n < seen.length; n++) expect(seen[n]).toBeLessThanOrEqual(seen[n - 1]!);
    }
    // An instance a run could not reach is read first by the next run.
    for (let n = 0; n + 1 < runs.length; n++) {
      const missed = [HZ.instanceId, SZ.instanceId].find((id) => !runs[n]!.order.includes(id));
      if (missed) expect(runs[n + 1]!.order[0]).toBe(missed);
    }
    expect(runs.reduce((n, r) => n + r.announced, 0)).toBe(2 * per);
    const state = await world.state();
    expect([...state.handled[key(HZ)]!, ...state.handled[key(SZ)]!]).toHaveLength(2 * per);
    expect(state.owed).toEqual({});
    expect(failureCounts(world.hooks, 'slack').reduce((n, x) => n + x, 0)).toBe(2 * per);
    // Each page read once, plus per run and instance reached the newest page and the page where it stopped before.
    const total = world.cr.calls.slice(start).filter((c) => c.action === 'ListRepoSyncTask').length;
    expect(total).toBeLessThanOrEqual(2 * (per / 50 + 1) + 2 * runs.length);
  });
});
