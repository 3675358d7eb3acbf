import { describe, expect, it } from 'vitest';
import type { Page, SyncTask } from '../../../src/model/task.js';
import { api, cursorAfter, H, history, MIN, mk, NOW, run } from '../../support/scan-list.js';

describe('placing a stretch left unread', () => {
  it('reads a stretch whose place, guessed from a rate measured in a burst, lies past the end of the list', async () => {
    const a = api(history(100));
    // 600 an hour would put the stretch 500 tasks down; the list holds 100.
    const { ids, result } = await run(a, {
      cursor: { top: NOW - MIN, gaps: [{ hi: NOW - 51 * MIN, lo: NOW - 90 * MIN }], order: 'desc', rate: 600 },
    });
    expect(ids).toContain('rst-t50');
    expect(ids).toContain('rst-t89');
    expect(result.complete).toBe(true);
  });
});

describe('what a run costs', () => {
  const top = NOW - MIN;

  it.each([
    ['desc', 990],
    ['desc', 0],
    ['desc', 5_000],
    ['asc', 990],
    ['asc', 0],
  ] as const)(
    'finds where a stretch begins in reads that grow as the log of how far off its place is (%s, depth %i)',
    async (order, depth) => {
      const a = api(history(1_000), order);
      const gap = { hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth, total: 1_000 };
      const { ids } = await run(a, { cursor: { top, gaps: [gap], order, total: 1_000 } });
      expect(ids).toEqual(expect.arrayContaining(Array.from({ length: 100 }, (_, i) => `rst-t${300 + i}`)));
      // The top pass (1 page, 2 oldest first), the stretch's 11 pages, and the search: 2·log2(pages off) + 2.
      const off = Math.abs(Math.floor(Math.max(0, depth - 10) / 10) - 30) + 1;
      expect(a.asked.length).toBeLessThanOrEqual((order === 'asc' ? 2 : 1) + 11 + 2 * Math.ceil(Math.log2(off)) + 2);
    },
  );

  it('reads no stretch again once the top pass reached the end of the list', async () => {
    const a = api(history(25));
    await run(a, {
      cursor: { top: NOW - 20 * H, gaps: [{ hi: NOW - 21 * H, lo: NOW - 22 * H, depth: 500 }], order: 'desc' },
    });
    expect(a.asked).toEqual([1, 2, 3]);
  });

  it('while behind, re-reads two pages of the overlap, then goes on with the stretch', async () => {
    const a = api(Array.from({ length: 1_500 }, (_, i) => mk(`rst-d${i}`, NOW - MIN - i * 1_000)));
    const first = await run(a, { maxPages: 6, lookbackMs: H });
    a.asked.length = 0;
    await run(a, { cursor: cursorAfter(first.result), maxPages: 6, lookbackMs: H });
    expect(a.asked).toEqual([1, 2, 6, 7, 8, 9]);
  });

  it('on a first run without time, reads nothing and leaves nothing to resume', async () => {
    const a = api(history(50));
    const { result } = await run(a, { hasTime: () => false });
    expect(a.asked).toEqual([]);
    expect(result.cursor.gaps).toEqual([]);
    expect(result.complete).toBe(false);
  });

  it('reads every page of a list whose pages turn out to be in opposite orders, below the window too', async () => {
    const tasks = history(30);
    const pages = [tasks.slice(0, 10), tasks.slice(10, 20).reverse(), tasks.slice(20, 30), []];
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({
      items: pages[n - 1] ?? [],
      pageNo: n,
      pageSize: 10,
      totalCount: 30,
      dropped: [],
    });
    const { ids, result } = await run({ fetchPage }, { lookbackMs: 10 * MIN });
    expect(ids).toHaveLength(30);
    expect(result.stoppedBecause).toBe('end-of-list');
  });

  it('in a list no longer in any order, stops only at a repeated page or the end, however much it re-read', async () => {
    const a = api(history(95), 'random', { repeat: [3] });
    const { result } = await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300 }], order: 'desc' },
    });
    expect(result.stoppedBecause).toBe('repeated-page');
    expect(a.asked).toEqual([1, 2, 3]);
  });
});

describe('the end of a list found by reading', () => {
  const lastAgain = { total: (n: number) => 10 * n, pastEnd: 'last-page' as const };
  for (const [what, o, added] of [
    ['TotalCount 10 times the truth', { total: (n: number) => 10 * n }, 95],
    ['TotalCount capped at 100', { total: (n: number) => Math.min(n, 100) }, 95],
    ['TotalCount 0', { total: () => 0 }, 95],
    ['its full last page served again past the end, TotalCount 10 times the truth', lastAgain, 100],
    ['its short last page served again past the end, TotalCount 10 times the truth', lastAgain, 95],
  ] as const)
    it(`reads every new task of an oldest-first list with ${what}, and says it is complete`, async () => {
      const a = api(history(400), 'asc', o);
      const first = await run(a, { lookbackMs: 10 * MIN });
      a.add(Array.from({ length: added }, (_, i) => mk(`rst-n${i}`, NOW - 50_000 + i * 100)));
      a.asked.length = 0;
      const { ids, result } = await run(a, { cursor: cursorAfter(first.result) });
      expect(ids.filter((id) => id.startsWith('rst-n'))).toHaveLength(added);
      expect(result.complete).toBe(true);
      // The newest of 50 pages, found from the cursor's page 40 by galloping (twice where the last page is served
      // again past the end), then the 11 pages back to the top read before.
      const search = 2 * Math.ceil(Math.log2(10)) + 2;
      expect(a.asked.length).toBeLessThanOrEqual(2 + (o === lastAgain ? 2 : 1) * search + 11);
    });
});
