import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS } from '../../../src/detect/list.js';
import { PageReader, ReadOnce, type PageSource } from '../../../src/detect/pages.js';
import type { Page, SyncTask } from '../../../src/model/task.js';
import { api, history, MIN, mk, NOW } from '../../support/scan-list.js';

/** A reader over `a` at 10 a page, with these limits. */
const reader = (a: ReturnType<typeof api>, o: Partial<PageSource> = {}, size = 10) =>
  new PageReader({ fetchPage: (n) => a.fetchPage(n, size), maxPages: 100, hasTime: () => true, ...o }, size);
/** A source serving fixed pages, in turn. */
const serving = (...pages: Partial<Page<SyncTask>>[]): PageSource => {
  let i = 0;
  return {
    maxPages: 100,
    hasTime: () => true,
    fetchPage: async (pageNo) => ({ items: [], pageNo, pageSize: 10, totalCount: 0, dropped: [], ...pages[i++] }),
  };
};
const at = (...minsAgo: number[]) => minsAgo.map((m, i) => mk(`rst-${i}-${m}`, NOW - m * MIN));

describe('reading a page of the task list', () => {
  it('reads pages until the run may read no more, and then says why without asking', async () => {
    const a = api(history(50));
    const r = reader(a, { maxPages: 2 });
    expect(await r.read(1)).toHaveLength(10);
    expect(await r.read(2)).toHaveLength(10);
    expect(await r.read(3)).toBe('max-pages');
    expect(a.asked).toEqual([1, 2]);
    expect(r.pages).toBe(2);
  });

  it('asks for no page once the time for fetching is spent', async () => {
    const a = api(history(50));
    expect(await reader(a, { hasTime: () => false }).read(1)).toBe('budget');
    expect(a.asked).toEqual([]);
  });

  it('keeps the TotalCount of the last page read and what parsing dropped from every page', async () => {
    const r = new PageReader(
      serving({ totalCount: 40, dropped: ['bad 1'] }, { totalCount: 38, dropped: ['bad 2'] }),
      10,
    );
    await r.read(1);
    await r.read(2);
    expect(r.total).toBe(38);
    expect(r.dropped).toEqual(['bad 1', 'bad 2']);
  });

  it('follows a smaller page size the service reports, and neither a larger one nor none', async () => {
    const r = new PageReader(serving({ pageSize: 20 }, { pageSize: 0 }, { pageSize: 7 }, { pageSize: 9 }), 10);
    await r.read(1);
    await r.read(2);
    expect(r.size).toBe(10);
    await r.read(3);
    expect(r.size).toBe(7);
    await r.read(4);
    expect(r.size).toBe(7);
  });

  it('learns the order from the first page that shows one, and calls the list in no order once pages disagree', async () => {
    const r = new PageReader(
      serving({ items: at(1, 1) }, { items: at(1, 2) }, { items: at(3, 4) }, { items: at(9, 5) }),
      10,
    );
    await r.read(1);
    expect(r.order).toBe('flat');
    await r.read(2);
    expect(r.order).toBe('desc');
    await r.read(3);
    expect(r.order).toBe('desc');
    await r.read(4);
    expect(r.order).toBe('unknown');
  });

  it('calls the list in no order for good once one page is in no order', async () => {
    const r = new PageReader(serving({ items: at(3, 1, 2) }, { items: at(1, 2) }), 10);
    await r.read(1);
    await r.read(2);
    expect(r.order).toBe('unknown');
  });

  it('takes a page for full by what the service sent, though parsing dropped an item of it', async () => {
    const r = new PageReader(
      serving({ items: at(1, 2, 3), pageSize: 4, received: 4 }, { items: at(5, 6, 7), pageSize: 4 }),
      4,
    );
    const first = await r.read(1);
    const second = await r.read(2);
    expect(r.full(first as SyncTask[])).toBe(true);
    expect(r.full(second as SyncTask[])).toBe(false);
  });
});

describe('taking each task once per run', () => {
  it('takes a task once however many pages show it', () => {
    const seen = new ReadOnce(NOW);
    const [a, b, c] = at(1, 2, 3);
    expect(seen.take([a!, b!], true).map((t) => t.taskId)).toEqual([a!.taskId, b!.taskId]);
    expect(seen.take([b!, c!], false).map((t) => t.taskId)).toEqual([c!.taskId]);
    expect(seen.tasksRead).toBe(3);
  });

  it('counts the trusted times of the top pass only, as a count and a range', () => {
    const seen = new ReadOnce(NOW);
    seen.take(at(5, 1, 3), true);
    seen.take(at(60), false);
    expect(seen.trusted).toEqual({ count: 3, min: NOW - 5 * MIN, max: NOW - MIN });
  });

  it('trusts a time exactly as far ahead as clock skew allows, and counts one further ahead or given in seconds', () => {
    const seen = new ReadOnce(NOW);
    seen.take(
      [
        mk('rst-edge', NOW + CLOCK_SKEW_MS),
        mk('rst-ahead', NOW + CLOCK_SKEW_MS + 1),
        mk('rst-seconds', NOW - MIN, 'SUCCESS', { timeInSeconds: true }),
      ],
      true,
    );
    expect(seen.trusted).toEqual({ count: 1, min: NOW + CLOCK_SKEW_MS, max: NOW + CLOCK_SKEW_MS });
    expect(seen.anomalies).toEqual({ futureTimes: 1, secondsTimes: 1, repeatedPages: 0 });
  });
});

describe("the list's size as the pages show it", () => {
  it.each<[string, (n: number) => number, number[], number]>([
    ['TotalCount when the pages agree with it', (n) => n, [1, 4], 35],
    ['at least what full pages hold, when TotalCount is capped', () => 20, [1, 3], 30],
    ['at least what full pages hold, when TotalCount is 0', () => 0, [2], 20],
    ['exactly what a short page ends with, when TotalCount overstates it', (n) => 10 * n, [4], 35],
    ['at most what precedes an empty page, when TotalCount overstates it', (n) => 10 * n, [9], 80],
  ])('is %s', async (_, total, read, want) => {
    const r = reader(api(history(35), 'desc', { total }));
    for (const p of read) await r.read(p);
    expect(r.count).toBe(want);
  });

  it('counts a page repeating a lower-numbered one as past the end of a list that serves its last page again', async () => {
    const r = reader(api(history(40), 'desc', { total: (n) => 10 * n, pastEnd: 'last-page' }));
    for (const p of [4, 9]) await r.read(p);
    expect(r.count).toBe(40);
  });

  it('is unknown before a page is read', () => {
    expect(reader(api(history(5))).count).toBeUndefined();
  });
});
