import { describe, expect, it } from 'vitest';
import type { CrApi, TaskFilter } from '../../../src/acr/client.js';
import { observeInstance, type InstanceReport, type ObserveSettings } from '../../../src/detect/observe.js';
import { MISS_LIMIT } from '../../../src/detect/watch.js';
import { Budget, type Clock } from '../../../src/lib/budget.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { Cursor, WatchedSync } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';

const H = 3_600_000;
const MIN = 60_000;
const T0 = 1_800_000_000_000;
const inst = { regionId: 'cn-hangzhou', instanceId: 'cri-x', key: 'cn-hangzhou:cri-x' };
const settings: ObserveSettings = {
  instances: [inst],
  pageSize: 10,
  maxPages: 3,
  concurrency: 1,
  lookbackMs: 6 * H,
  discoveryMs: 0,
  blindAfterRuns: 3,
  stuckAfterMs: 100 * H,
};

const task = (id: string, createTime: number, status = 'SUCCESS', issue = '', push = `rsbt-${id}`): SyncTask => ({
  taskId: id,
  status,
  issue,
  trigger: 'PASSIVE',
  createTime,
  crossUser: false,
  batchId: push,
  from: { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: id },
  to: { instanceId: 'cri-y', regionId: 'cn-shanghai', namespace: 'ns', repo: 'r', tag: id },
});

/** An instance's task list, newest first, as ListRepoSyncTask serves it (with or without a filter). */
function instance(tasks: SyncTask[]) {
  const calls: { pageNo: number; filter?: TaskFilter }[] = [];
  const matches = (t: SyncTask, f?: TaskFilter) =>
    !f ||
    ((f.syncRecordId === undefined || t.batchId === f.syncRecordId) &&
      (f.tag === undefined || t.from.tag === f.tag) &&
      (f.repo === undefined || t.from.repo === f.repo) &&
      (f.namespace === undefined || t.from.namespace === f.namespace));
  const api: CrApi = {
    async listSyncTasks({ pageNo, pageSize, filter }) {
      calls.push({ pageNo, ...(filter ? { filter } : {}) });
      const all = tasks.filter((t) => matches(t, filter)).sort((a, b) => b.createTime - a.createTime);
      return {
        items: all.slice((pageNo - 1) * pageSize, pageNo * pageSize),
        pageNo,
        pageSize,
        totalCount: all.length,
        dropped: [],
      };
    },
    async listSyncRules({ pageNo, pageSize }) {
      return { items: [], pageNo, pageSize, totalCount: 0, dropped: [] };
    },
  };
  return { api, calls, tasks };
}

/** One run over the instance at `now`: every failure it announced, the syncs it watches, and its report. */
async function observe(cr: CrApi, now: number, prev: Cursor | undefined, watched: WatchedSync[]) {
  const clock: Clock = { now: () => now };
  const gen = observeInstance(inst, prev, {
    crFor: () => cr,
    store: {
      watched: async () => watched,
      lookup: async () => ({ handled: new Set(), failing: new Map() }),
      keptRules: async () => undefined,
      keepRules: async () => {},
    },
    clock,
    budget: new Budget(clock, now + 60_000, 5_000),
    log: silentLogger,
    settings,
  });
  const failures: string[] = [];
  const watching = new Map(watched.map((w) => [w.task.taskId, w]));
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      expect(r.value.error).toBeUndefined();
      return { failures, watching: [...watching.values()], report: r.value as InstanceReport };
    }
    failures.push(...r.value.changes.failures.map((t) => t.taskId));
    for (const w of r.value.changes.watch) watching.set(w.task.taskId, w);
    for (const id of r.value.changes.unwatch) watching.delete(id);
  }
}

describe('a sync still running when the scan passes it', () => {
  it('stays watched while the newest tasks move on, and its failure hours later is announced', async () => {
    const running = task('rst-long', T0 - 2 * H, 'SYNCHRONIZING');
    const cr = instance([running, ...Array.from({ length: 5 }, (_, i) => task(`rst-a${i}`, T0 - i * MIN))]);
    const first = await observe(cr.api, T0, undefined, []);
    expect(first.watching.map((w) => w.task.taskId)).toEqual(['rst-long']);
    expect(first.report.cursor?.watching).toBe(1);

    // Many newer syncs since: the scan reads only the newest, far above the running one.
    cr.tasks.push(...Array.from({ length: 200 }, (_, i) => task(`rst-b${i}`, T0 + 4 * H - i * MIN)));
    const second = await observe(cr.api, T0 + 4 * H, first.report.cursor, first.watching);
    expect(second.report.cursor!.top).toBe(T0 + 4 * H);
    expect(second.watching.map((w) => w.task.taskId)).toEqual(['rst-long']);
    expect(second.failures).toEqual([]);

    cr.tasks[0] = { ...running, status: 'ERROR', issue: 'NETWORK_ERROR' };
    cr.calls.length = 0;
    const third = await observe(cr.api, T0 + 4 * H + 5 * MIN, second.report.cursor, second.watching);
    expect(third.failures).toEqual(['rst-long']);
    expect(third.watching).toEqual([]);
    expect(third.report.cursor?.watching).toBe(0);
    // Found with one call for its push, not by reading the list back down to it.
    expect(cr.calls.filter((c) => c.filter)).toEqual([{ pageNo: 1, filter: { syncRecordId: 'rsbt-rst-long' } }]);
    expect(third.report.rechecks).toBe(1);
  });

  it('stops being watched only after re-checks in a row do not find it', async () => {
    const running = task('rst-gone', T0 - 2 * H, 'SYNCHRONIZING');
    const cr = instance([running, task('rst-a', T0 - MIN)]);
    let { report, watching } = await observe(cr.api, T0, undefined, []);
    cr.tasks.splice(0, 1);
    cr.tasks.push(...Array.from({ length: 100 }, (_, i) => task(`rst-b${i}`, T0 + 3 * H - i * MIN)));
    // What each run leaves of it: re-checks in a row that missed it, then 'gone'.
    const seen: (number | string)[] = [];
    for (let run = 1; run <= MISS_LIMIT + 2 && seen.at(-1) !== 'gone'; run++) {
      ({ report, watching } = await observe(cr.api, T0 + 3 * H + run * 5 * MIN, report.cursor, watching));
      seen.push(report.gone.includes('rst-gone') ? 'gone' : (watching[0]?.misses ?? 0));
    }
    expect(seen.filter((x) => x !== 0)).toEqual([...Array.from({ length: MISS_LIMIT - 1 }, (_, i) => i + 1), 'gone']);
    expect(watching).toEqual([]);
  });
});
