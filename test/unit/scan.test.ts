import { describe, expect, it } from 'vitest';
import { pageOrder, scanTasks } from '../../src/detect/scan.js';
import { type Order } from '../../src/model/checkpoint.js';
import type { Page, SyncTask } from '../../src/model/task.js';

const img = { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: 't' };
const mk = (i: number, createTime: number): SyncTask => ({ taskId: `rst-${i}`, status: 'SUCCESS', issue: '', trigger: 'PASSIVE', createTime, crossUser: false, from: img, to: img });

/** A fake list API over `tasks` in the given order, recording the pages asked for. */
function api(tasks: SyncTask[], order: 'desc' | 'asc' | 'random', cap = 1000) {
  const sorted = [...tasks].sort((a, b) => (order === 'asc' ? a.createTime - b.createTime : b.createTime - a.createTime));
  if (order === 'random') sorted.sort((a, b) => ((a.createTime * 7919) % 101) - ((b.createTime * 7919) % 101));
  const asked: number[] = [];
  return {
    asked,
    list: sorted,
    fetchPage: async (pageNo: number, size: number): Promise<Page<SyncTask>> => {
      asked.push(pageNo);
      const s = Math.min(size, cap);
      return { items: sorted.slice((pageNo - 1) * s, pageNo * s), pageNo, pageSize: s, totalCount: sorted.length, dropped: [] };
    },
  };
}

const tasks = (n: number, newest = 1_000_000, step = 1_000) => Array.from({ length: n }, (_, i) => mk(i, newest - i * step));

describe('pageOrder', () => {
  it.each([
    [[3, 2, 1], 'desc'], [[1, 2, 3], 'asc'], [[2, 2, 2], 'flat'], [[5], 'flat'], [[1, 3, 2], 'unknown'], [[3, 3, 1], 'desc'],
  ])('calls %j %s', (times, expected) => {
    expect(pageOrder(times.map((t, i) => mk(i, t)))).toBe(expected);
  });
});

describe('scanTasks', () => {
  const cases: { order: 'desc' | 'asc' | 'random'; expectOrder: Order }[] = [
    { order: 'desc', expectOrder: 'desc' }, { order: 'asc', expectOrder: 'asc' }, { order: 'random', expectOrder: 'unknown' },
  ];
  for (const { order, expectOrder } of cases) {
    it(`reads every task at or above the bound in ${order} order`, async () => {
      const a = api(tasks(200), order);
      const lb = 1_000_000 - 120 * 1_000;
      const r = await scanTasks({ lowerBound: lb, pageSize: 30, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 30), hasTime: () => true });
      const got = new Set(r.tasks.map((t) => t.taskId));
      for (const t of a.list.filter((x) => x.createTime >= lb)) expect(got.has(t.taskId)).toBe(true);
      expect(r.complete).toBe(true);
      expect(r.order).toBe(expectOrder);
      // 121 tasks at or above the bound fill 5 pages of 30; oldest-first also spends page 1 learning the order.
      expect(r.pagesRead).toBe({ desc: 5, asc: 6, random: 7 }[order]);
    });
  }

  it('reads one page when nothing is new, newest first', async () => {
    const a = api(tasks(20_000), 'desc');
    const r = await scanTasks({ lowerBound: 1_000_000 - 10_000, orderHint: 'desc', lastTotal: 20_000, pageSize: 50, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 50), hasTime: () => true });
    expect(a.asked).toEqual([1]);
    expect(r.stoppedBecause).toBe('reached-window');
  });

  it('reads only the last page when nothing is new, oldest first and the order is known', async () => {
    const a = api(tasks(20_000), 'asc');
    const r = await scanTasks({ lowerBound: 1_000_000 - 10_000, orderHint: 'asc', lastTotal: 20_000, pageSize: 50, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 50), hasTime: () => true });
    expect(a.asked).toEqual([400]);
    expect(r.complete).toBe(true);
  });

  it('finds the true last page when the list grew since the hint, oldest first', async () => {
    const a = api(tasks(1_070), 'asc');
    const r = await scanTasks({ lowerBound: 1_000_000 - 60_000, orderHint: 'asc', lastTotal: 1_000, pageSize: 50, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 50), hasTime: () => true });
    expect(a.asked).toEqual([20, 22, 21]);
    expect(r.tasks.filter((t) => t.createTime >= 1_000_000 - 60_000)).toHaveLength(61);
  });

  it('follows a page size capped by the service', async () => {
    const a = api(tasks(100), 'desc', 10);
    const r = await scanTasks({ lowerBound: 0, pageSize: 50, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 50), hasTime: () => true });
    expect(r.tasks).toHaveLength(100);
    expect(a.asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('loses nothing when new tasks push items across page boundaries mid-scan', async () => {
    const all = tasks(100);
    let calls = 0;
    const fetchPage = async (pageNo: number): Promise<Page<SyncTask>> => {
      calls += 1;
      // After the first page, five newer tasks arrive on top, shifting every item five places down.
      const list = calls > 1 ? [...tasks(5, 1_010_000).map((t, i) => ({ ...t, taskId: `rst-new${i}` })), ...all] : all;
      return { items: list.slice((pageNo - 1) * 10, pageNo * 10), pageNo, pageSize: 10, totalCount: list.length, dropped: [] };
    };
    const r = await scanTasks({ lowerBound: 0, pageSize: 10, maxPages: 100, fetchPage, hasTime: () => true });
    const got = new Set(r.tasks.map((t) => t.taskId));
    for (const t of all) expect(got.has(t.taskId)).toBe(true);
  });

  it('switches to a full read when a later page contradicts the order of the first', async () => {
    const list = [...tasks(10), ...tasks(5, 990_000).map((t, i) => ({ ...t, createTime: 995_000 + i * 100, taskId: `rst-up${i}` })), ...tasks(30, 980_000).map((t, i) => ({ ...t, taskId: `rst-low${i}` }))];
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({ items: list.slice((n - 1) * 10, n * 10), pageNo: n, pageSize: 10, totalCount: list.length, dropped: [] });
    const r = await scanTasks({ lowerBound: 0, pageSize: 10, maxPages: 100, fetchPage, hasTime: () => true });
    expect(r.tasks).toHaveLength(45);
    expect(r.order).toBe('unknown');
  });

  it('reads everything when the list grew by more new tasks than the ordered pages showed', async () => {
    // Looks newest-first, but new tasks were added at the end: only the growth of TotalCount reveals them.
    const old = tasks(30);
    const hidden = tasks(12, 2_000_000).map((t, i) => ({ ...t, taskId: `rst-hidden${i}` }));
    const list = [...old, ...hidden];
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({ items: list.slice((n - 1) * 10, n * 10), pageNo: n, pageSize: 10, totalCount: list.length, dropped: [] });
    const r = await scanTasks({ lowerBound: 1_000_000 - 5_000, orderHint: 'desc', lastTotal: 30, lastWatermark: 1_000_000, pageSize: 10, maxPages: 100, fetchPage, hasTime: () => true });
    expect(r.tasks.map((t) => t.taskId)).toEqual(expect.arrayContaining(hidden.map((t) => t.taskId)));
    expect(r.order).toBe('unknown');
  });

  it('stops at maxPages or when time runs out and says the scan is incomplete', async () => {
    const a = api(tasks(500), 'random');
    const capped = await scanTasks({ lowerBound: 0, pageSize: 10, maxPages: 3, fetchPage: (n) => a.fetchPage(n, 10), hasTime: () => true });
    expect(capped).toMatchObject({ complete: false, stoppedBecause: 'max-pages', pagesRead: 3 });
    let budget = 2;
    const timed = await scanTasks({ lowerBound: 0, pageSize: 10, maxPages: 100, fetchPage: (n) => a.fetchPage(n, 10), hasTime: () => budget-- > 0 });
    expect(timed).toMatchObject({ complete: false, stoppedBecause: 'budget' });
  });

  it('handles an empty instance with one call', async () => {
    const a = api([], 'desc');
    const r = await scanTasks({ lowerBound: 0, pageSize: 10, maxPages: 10, fetchPage: (n) => a.fetchPage(n, 10), hasTime: () => true });
    expect(r).toMatchObject({ complete: true, pagesRead: 1, tasks: [] });
  });
});
