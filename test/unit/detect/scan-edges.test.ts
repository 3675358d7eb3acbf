import { describe, expect, it } from 'vitest';
import { OVERLAP_MS } from '../../../src/detect/list.js';
import type { Cursor, Gap } from '../../../src/model/state.js';
import type { Page, SyncTask } from '../../../src/model/task.js';
import { api, H, history, MIN, mk, NOW, run } from '../../support/scan-list.js';

const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('the order a list is read in', () => {
  it('calls a list in no order when its pages are each ordered but in opposite directions', async () => {
    const tasks = history(20);
    // Page 1 newest first, page 2 oldest first.
    const pages = [tasks.slice(0, 10), tasks.slice(10, 20).reverse(), []];
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({
      items: pages[n - 1] ?? [],
      pageNo: n,
      pageSize: 10,
      totalCount: 20,
      dropped: [],
    });
    const { result, ids } = await run({ fetchPage: (n) => fetchPage(n) }, { lookbackMs: 10 * MIN });
    expect(result.cursor.order).toBe('unknown');
    // In no order, reaching below the window ends nothing: every page is read.
    expect(ids).toHaveLength(20);
  });

  it('keeps calling a list oldest first when a page of tasks created at one moment shows no order', async () => {
    const flat = Array.from({ length: 10 }, (_, i) => mk(`rst-f${i}`, NOW - 30 * MIN));
    const a = api([...history(10), ...flat, ...history(10, 'o', H)], 'asc');
    // The last run found it newest first; this one finds it oldest first, and ends on the page that shows no order.
    const { result } = await run(a, { cursor: { top: NOW - 20 * MIN, gaps: [], order: 'desc' } });
    expect(a.asked).toEqual([1, 3, 4, 2]);
    expect(result.cursor.order).toBe('asc');
  });

  it('reads an empty instance as newest first, with no newest time yet', async () => {
    const { result } = await run(api([]));
    expect(result.cursor.order).toBe('desc');
    expect(result.cursor).not.toHaveProperty('top');
    expect(result.cursor).not.toHaveProperty('readAt');
    expect(result.cursor).not.toHaveProperty('rate');
  });

  it('does not follow a page size larger than the one asked for', async () => {
    const a = api(history(25));
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({ ...(await a.fetchPage(n, 10)), pageSize: 50 });
    const { result, ids } = await run({ fetchPage }, { lookbackMs: 10 * H });
    expect(ids).toHaveLength(25);
    expect(result.pagesRead).toBe(3);
    expect(result.cursor).not.toHaveProperty('pageSize');
  });

  it('yields a task once when new arrivals push it onto the next page mid-scan', async () => {
    const a = api(history(25));
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => {
      if (n === 2) a.add([mk('rst-mid', NOW - 1_000)]);
      return a.fetchPage(n, 10);
    };
    const { ids, result } = await run({ fetchPage }, { lookbackMs: 10 * H });
    expect(ids.filter((id) => id === 'rst-t9')).toHaveLength(1);
    expect(result.tasksRead).toBe(new Set(ids).size);
    expect(result.tasksRead).toBe(25);
  });

  it('measures no rate from tasks all created at one moment', async () => {
    const a = api(Array.from({ length: 5 }, (_, i) => mk(`rst-same${i}`, NOW - MIN)));
    const { result } = await run(a);
    expect(result.cursor).not.toHaveProperty('rate');
  });
});

describe('the top pass', () => {
  it('reads on past a page whose oldest task is exactly at the bound', async () => {
    // Bound: 5 minutes below the top; page 1 ends with the task exactly 5 minutes below it.
    const top = NOW - MIN;
    const tasks = Array.from({ length: 30 }, (_, i) => mk(`rst-b${i}`, top - Math.round((i * OVERLAP_MS) / 9)));
    const b = api(tasks);
    await run(b, { cursor: { top, gaps: [], order: 'desc' } });
    expect(b.asked).toEqual([1, 2]);
  });

  it('takes the newest page of an oldest-first list even when time runs out looking past it', async () => {
    const a = api(history(100), 'asc');
    let calls = 0;
    const { ids, result } = await run(a, { hasTime: () => calls++ < 2 });
    expect(a.asked).toEqual([1, 10]);
    expect(ids).toContain('rst-t0');
    expect(result.stoppedBecause).toBe('budget');
  });

  it('ends an oldest-first list at its first page', async () => {
    const a = api(history(35), 'asc');
    const { result } = await run(a, { lookbackMs: 10 * H });
    expect(a.asked).toEqual([1, 4, 3, 2, 1]);
    expect(result.stoppedBecause).toBe('end-of-list');
  });

  it('finds the newest page of an oldest-first list that shrank since the last run', async () => {
    const a = api(history(95), 'asc');
    await run(a, { cursor: { top: NOW - 5 * MIN, gaps: [], order: 'asc', total: 125 } });
    // Page 13 is empty; TotalCount (95) names page 10, which is short: the last.
    expect(a.asked).toEqual([13, 10, 9]);
  });

  it('after a restart from the top, keeps the cursor when time runs out before the first page', async () => {
    const a = api(history(95));
    let calls = 0;
    const cursor: Cursor = {
      top: NOW - 10 * MIN,
      gaps: [{ hi: NOW - 2 * H, lo: NOW - 3 * H, depth: 70 }],
      order: 'asc',
      total: 95,
    };
    const { result } = await run(a, { cursor, hasTime: () => calls++ < 1 });
    expect(a.asked).toEqual([10]);
    expect(result.stoppedBecause).toBe('budget');
    expect(result.complete).toBe(false);
    expect(result.cursor.gaps).toStrictEqual(cursor.gaps);
  });

  it('calls a list in no order incomplete when it ran out of pages, though it read tasks older than the window', async () => {
    const a = api(history(95), 'random');
    const { result } = await run(a, { maxPages: 3, lookbackMs: 30 * MIN });
    expect(result.coveredTo).toBeLessThan(NOW - 30 * MIN);
    expect(result.complete).toBe(false);
  });

  it('leaves no stretch it cannot place when time runs out before any task of the top was read', async () => {
    const a = api(history(95), 'asc', { total: (n) => n + 30 });
    let calls = 0;
    const { result } = await run(a, { hasTime: () => calls++ < 2 });
    expect(a.asked).toEqual([1, 13]);
    expect(result.cursor.gaps.filter((g) => !g.watchOnly)).toEqual([]);
    expect(result.cursor).not.toHaveProperty('readAt');
  });
});

describe('stretches left unread', () => {
  const top = NOW - MIN;
  const gap: Gap = { hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300 };

  it('keeps the stretches as they were when the top pass used up the time or the pages', async () => {
    for (const over of [
      { maxPages: 2 },
      {
        hasTime: (
          (calls = 0) =>
          () =>
            calls++ < 2
        )(),
      },
    ]) {
      const a = api(history(600).map((t, i) => (i < 30 ? mk(`rst-x${i}`, NOW - 10_000 + i) : t)));
      const { result } = await run(a, { cursor: { top, gaps: [gap], order: 'desc' }, ...over });
      expect(result.cursor.gaps.slice(-1)).toStrictEqual([gap]);
    }
  });

  it('keeps the stretches as they were when the list is no longer in any order', async () => {
    const a = api(history(95), 'random', { repeat: [3] });
    const { result } = await run(a, { cursor: { top, gaps: [gap], order: 'desc' } });
    expect(result.cursor.gaps).toStrictEqual([gap]);
  });

  it('yields the tasks of a stretch with its bottom, as tasks to judge in full', async () => {
    const a = api(history(600));
    const { seen } = await run(a, { cursor: { top, gaps: [gap], order: 'desc' } });
    expect(seen.find((s) => s.id === 'rst-t350')).toEqual({ id: 'rst-t350', lo: NOW - 400 * MIN, watchOnly: false });
  });

  it('takes a page whose newest task is exactly the top of the stretch as where it begins', async () => {
    const a = api(history(600));
    await run(a, { cursor: { top, gaps: [{ ...gap, depth: 310 }], order: 'desc' } });
    expect(a.asked.slice(0, 3)).toEqual([1, 31, 32]);
  });

  it('finds where a stretch begins 68 pages above its guessed place in a search of 11 pages, and reads all of it', async () => {
    const a = api(history(1_000));
    const { ids } = await run(a, { cursor: { top, gaps: [{ ...gap, depth: 990 }], order: 'desc' } });
    // Galloping back from page 99 in steps of 1, 2, 4 ... 64 to page 1, then halving between 1 and 36 to page 31, which holds its top.
    expect(a.asked.slice(0, 12)).toEqual([1, 99, 98, 96, 92, 84, 68, 36, 1, 18, 27, 31]);
    expect(a.asked.slice(12)).toEqual(range(32, 41));
    expect(ids).toEqual(expect.arrayContaining(range(300, 399).map((i) => `rst-t${i}`)));
  });

  it('stops at the first page of an oldest-first list when the stretch reaches below its oldest task', async () => {
    const a = api(history(100), 'asc');
    await run(a, {
      cursor: {
        top,
        gaps: [{ hi: NOW - 71 * MIN, lo: NOW - 300 * MIN, depth: 70, total: 100 }],
        order: 'asc',
        total: 100,
      },
    });
    expect(a.asked).toEqual([10, 11, 4, 3, 2, 1]);
  });

  it('keeps four stretches as they are, and merges only beyond four', async () => {
    const a = api(history(600));
    const four: Gap[] = [1, 2, 3, 4].map((i) => ({ hi: NOW - 2 * i * H, lo: NOW - (2 * i + 1) * H, depth: 100 * i }));
    const { result } = await run(a, { cursor: { top, gaps: four, order: 'desc' }, maxPages: 1 });
    expect(result.cursor.gaps).toHaveLength(4);
    expect(result.cursor.gaps.slice(1)).toStrictEqual(four.slice(1));
  });
});
