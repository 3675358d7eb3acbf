import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, OVERLAP_MS } from '../../../src/detect/list.js';
import type { Cursor, Gap } from '../../../src/model/state.js';
import type { Page, SyncTask } from '../../../src/model/task.js';
import { api, cursorAfter, H, history, MIN, mk, NOW, run } from '../../support/scan-list.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('what a scan keeps for the next run', () => {
  it('measures how many tasks are created an hour, and averages it with the last measure', async () => {
    // A task every 7 minutes: 60 / 7 an hour, kept to one decimal.
    const a = api(Array.from({ length: 30 }, (_, i) => mk(`rst-s${i}`, NOW - MIN - i * 7 * MIN)));
    const { result } = await run(a, { lookbackMs: 10 * H });
    expect(result.cursor.rate).toBe(8.6);
    const next = await run(a, { cursor: { ...cursorAfter(result), rate: 20 } });
    // One page of 10 tasks over 63 minutes: 60/7 again, averaged with 20.
    expect(next.result.cursor.rate).toBe(14.3);
    // A run that reads a single trusted task measures nothing and keeps the last measure.
    const one = api([mk('rst-only', NOW - MIN)]);
    expect((await run(one, { cursor: { gaps: [], rate: 20 } })).result.cursor.rate).toBe(20);
    expect((await run(one)).result.cursor).not.toHaveProperty('rate');
  });

  it('keeps all it knew of the list when time is out before the first page', async () => {
    const a = api(history(50), 'asc');
    const cursor: Cursor = {
      top: NOW - MIN,
      gaps: [{ hi: NOW - 2 * H, lo: NOW - 3 * H, depth: 40 }],
      order: 'asc',
      pageSize: 7,
      rate: 12,
      total: 77,
      readAt: NOW - 10 * MIN,
    };
    const { result } = await run(a, { cursor, hasTime: () => false });
    expect(a.asked).toEqual([]);
    expect(result.cursor).toStrictEqual({
      top: NOW - MIN,
      gaps: [{ hi: NOW - 2 * H, lo: NOW - 3 * H, depth: 40 }],
      order: 'asc',
      pageSize: 7,
      rate: 12,
      total: 77,
      readAt: NOW - 10 * MIN,
    });
    expect(result.coveredTo).toBeUndefined();
  });

  it('on a first run out of pages, keeps the unread rest of the window and the stretch below it as gaps, placed by what was read', async () => {
    const a = api(history(100));
    const { result } = await run(a, { maxPages: 3 });
    expect(result).toMatchObject({
      stoppedBecause: 'max-pages',
      complete: false,
      pagesRead: 3,
      tasksRead: 30,
      coveredTo: NOW - 30 * MIN,
    });
    expect(result.cursor.gaps).toStrictEqual([
      { hi: NOW - 30 * MIN, lo: NOW - 6 * H, depth: 30, total: 100 },
      { hi: NOW - 6 * H, lo: NOW - 6 * H, watchOnly: true, total: 100 },
    ]);
    expect(result.cursor.top).toBe(NOW - MIN);
    expect(result.cursor.readAt).toBeUndefined();
  });

  it('on a complete first run, places the stretch below the window where the last page read began', async () => {
    const a = api([...history(25), ...history(20, 'o', 7 * H)]);
    const { result } = await run(a, { discoveryMs: 24 * H });
    expect(result.complete).toBe(true);
    expect(result.cursor.readAt).toBe(NOW);
    // The list goes on below the window, so the first run also reads back for unfinished syncs; with all time it
    // reaches the end of the list and nothing is left.
    expect(result.cursor.gaps).toEqual([]);
    // Out of pages, the stretch below is kept from one page above the top pass's last (20 tasks down, so page 2):
    // the page it would read first, which its next read starts from.
    const short = await run(a, { discoveryMs: 24 * H, maxPages: 3 });
    expect(short.result.cursor.gaps).toStrictEqual([
      { hi: NOW - 6 * H, lo: NOW - 30 * H, watchOnly: true, depth: 20, total: 45 },
    ]);
    expect(short.result.complete).toBe(true);
  });

  it('passes on what parsing dropped, and says how far down the top pass read', async () => {
    const a = api(history(30));
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => {
      const p = await a.fetchPage(n, 10);
      return n === 2 ? { ...p, dropped: ['SyncTasks[3]: no id'] } : p;
    };
    const { result } = await run(a, { fetchPage });
    expect(result.dropped).toEqual(['SyncTasks[3]: no id']);
    expect(result.coveredTo).toBe(NOW - 30 * MIN);
  });

  it('trusts a time exactly as far ahead as clock skew allows, and counts one further ahead', async () => {
    const a = api([mk('rst-edge', NOW + CLOCK_SKEW_MS), mk('rst-ahead', NOW + CLOCK_SKEW_MS + 1), ...history(3)]);
    const { result } = await run(a);
    expect(result.cursor.top).toBe(NOW + CLOCK_SKEW_MS);
    expect(result.anomalies).toEqual({ futureTimes: 1, secondsTimes: 0, repeatedPages: 0 });
  });

  it('merges the two oldest unread stretches once there are more than four, leaving the watch-only one apart', async () => {
    const a = api(history(600));
    const gaps = (fifth: Partial<Gap>): Gap[] => [
      { hi: NOW - 2 * H, lo: NOW - 3 * H, depth: 100 },
      { hi: NOW - 4 * H, lo: NOW - 5 * H, depth: 200 },
      { hi: NOW - 6 * H, lo: NOW - 7 * H, depth: 300 },
      { hi: NOW - 8 * H, lo: NOW - 9 * H, ...fifth },
      { hi: NOW - 10 * H, lo: NOW - 11 * H, depth: 500 },
      { hi: NOW - 12 * H, lo: NOW - 20 * H, watchOnly: true },
    ];
    const cursor = (g: Gap[]): Cursor => ({ top: NOW - MIN, gaps: g, order: 'desc' });
    const { result } = await run(a, { cursor: cursor(gaps({ depth: 400, total: 300 })), maxPages: 1 });
    expect(result.stoppedBecause).toBe('max-pages');
    expect(result.cursor.gaps.slice(1)).toStrictEqual([
      { hi: NOW - 4 * H, lo: NOW - 5 * H, depth: 200 },
      { hi: NOW - 6 * H, lo: NOW - 7 * H, depth: 300 },
      { hi: NOW - 8 * H, lo: NOW - 11 * H, depth: 400, total: 300 },
      { hi: NOW - 12 * H, lo: NOW - 20 * H, watchOnly: true },
    ]);
    const bare = await run(a, { cursor: cursor(gaps({})), maxPages: 1 });
    expect(bare.result.cursor.gaps[3]).toStrictEqual({ hi: NOW - 8 * H, lo: NOW - 11 * H });
  });

  it('in a list in no order leaves nothing to resume: what it did not read, the next run reads from the top', async () => {
    const a = api(history(95), 'random');
    const { result } = await run(a, { maxPages: 3 });
    expect(result.complete).toBe(false);
    expect(result.cursor.order).toBe('unknown');
    expect(result.cursor.gaps.filter((g) => !g.watchOnly)).toEqual([]);
  });
});

describe('finding where a stretch left unread begins', () => {
  const top = NOW - MIN;

  it('places it from the measured rate when it has no position', async () => {
    const a = api(history(600));
    const { ids } = await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN }], order: 'desc', rate: 60 },
    });
    expect(a.asked).toEqual([1, ...range(30, 41)]);
    expect(ids).toContain('rst-t300');
    expect(ids).toContain('rst-t399');
  });

  it('counts the tasks added above it since it was left', async () => {
    const a = api(history(600));
    a.add(Array.from({ length: 50 }, (_, i) => mk(`rst-n${i}`, NOW - 50_000 + i * 100)));
    const { ids, result } = await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300, total: 600 }], order: 'desc' },
    });
    expect(a.asked).toEqual([...range(1, 6), ...range(35, 46)]);
    expect(ids).toContain('rst-t399');
    expect(result.complete).toBe(true);
  });

  it('steps back to where it begins when its place was guessed too deep', async () => {
    const a = api(history(600));
    const { ids } = await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 320 }], order: 'desc' },
    });
    expect(a.asked).toEqual([1, 32, 31, ...range(32, 41)]);
    expect(ids).toContain('rst-t300');
  });

  it('keeps where it got when time runs out inside a stretch, and goes on from there next run', async () => {
    const a = api(history(600));
    let calls = 0;
    const first = await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300 }], order: 'desc' },
      hasTime: () => calls++ < 4,
    });
    expect(first.result.stoppedBecause).toBe('budget');
    expect(first.result.cursor.gaps).toStrictEqual([
      { hi: NOW - 320 * MIN, lo: NOW - 400 * MIN, depth: 320, total: 600 },
    ]);
    a.asked.length = 0;
    const second = await run(a, { cursor: cursorAfter(first.result) });
    expect(a.asked).toEqual([1, ...range(32, 41)]);
    expect(second.ids).toContain('rst-t399');
    expect(second.result.complete).toBe(true);
  });

  it('reads it back from the end in an oldest-first list', async () => {
    const a = api(history(600), 'asc');
    // Oldest first: positions from the newest task still count down from the last page.
    const { ids, result } = await run(a, {
      cursor: {
        top,
        gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300, total: 600 }],
        order: 'asc',
        total: 600,
      },
    });
    expect(a.asked).toEqual([60, 61, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
    expect(ids).toContain('rst-t300');
    expect(ids).toContain('rst-t399');
    expect(result.complete).toBe(true);
  });
});

describe('finding the top of the list', () => {
  it('starts again from the first page when a list that was oldest first is newest first now', async () => {
    const a = api(history(95));
    const { ids, result } = await run(a, { cursor: { top: NOW - 10 * MIN, gaps: [], order: 'asc', total: 95 } });
    expect(a.asked.slice(0, 2)).toEqual([10, 1]);
    expect(ids.slice(0, 3)).toEqual(['rst-t0', 'rst-t1', 'rst-t2']);
    expect(result.cursor.order).toBe('desc');
    expect(result.cursor.top).toBe(NOW - MIN);
  });

  it('walks back from an empty page past the end of an oldest-first list that TotalCount overstates', async () => {
    const a = api(history(95), 'asc', { total: (n) => n + 30 });
    const { ids, result } = await run(a, { cursor: { top: NOW - 5 * MIN, gaps: [], order: 'asc', total: 125 } });
    // 13 and 12 (the page the count names, held to what page 13 showed) are empty; galloping back 1 then 2 pages,
    // 11 is empty and 9 full, and page 10 between is the last.
    expect(a.asked).toEqual([13, 12, 11, 9, 10, 9]);
    expect(ids.slice(0, 5)).toEqual(['rst-t0', 'rst-t1', 'rst-t2', 'rst-t3', 'rst-t4']);
    expect(result.complete).toBe(true);
  });

  it('reads an oldest-first list from the page TotalCount names, then on while pages are full', async () => {
    const a = api(history(95), 'asc');
    const first = await run(a, { lookbackMs: 10 * MIN });
    expect(a.asked.slice(0, 3)).toEqual([1, 10, 9]);
    expect(first.result.cursor.top).toBe(NOW - MIN);
    a.add(Array.from({ length: 15 }, (_, i) => mk(`rst-n${i}`, NOW - 50_000 + i)));
    a.asked.length = 0;
    const next = await run(a, { cursor: cursorAfter(first.result) });
    expect(a.asked).toEqual([10, 11, 12, 10, 9]);
    expect(next.ids.filter((id) => id.startsWith('rst-n'))).toHaveLength(15);
    expect(next.result.cursor.top).toBe(NOW - 50_000 + 14);
  });
});

describe('the overlap read again', () => {
  it('reads down to the overlap below the newest time read, or less once that was read whole long enough ago', async () => {
    const a = api(Array.from({ length: 100 }, (_, i) => mk(`rst-q${i}`, NOW - MIN - i * 20_000)));
    const top = NOW - MIN;
    // Read whole just now: a task could still show up anywhere in the 5 minutes below the top.
    const recent = await run(a, { cursor: { top, gaps: [], order: 'desc', readAt: NOW } });
    expect(recent.result.pagesRead).toBe(2);
    expect(recent.seen[0]!.lo).toBe(top - OVERLAP_MS);
    // Read whole long ago: nothing can show up late below the top any more.
    const old = await run(a, { cursor: { top, gaps: [], order: 'desc', readAt: top + OVERLAP_MS + CLOCK_SKEW_MS } });
    expect(old.seen[0]!.lo).toBe(top);
    const between = await run(a, {
      cursor: { top, gaps: [], order: 'desc', readAt: top + OVERLAP_MS + CLOCK_SKEW_MS - 2 * MIN },
    });
    expect(between.seen[0]!.lo).toBe(top - 2 * MIN);
  });
});

describe('reading an oldest-first list', () => {
  it('out of pages, resumes next run from the last page it read, not one page below it', async () => {
    const a = api(history(100), 'asc');
    const first = await run(a, { maxPages: 4 });
    expect(a.asked).toEqual([1, 10, 11, 9]);
    // Pages 9 and 10 hold the 20 newest tasks: page 8 is the one it would read next.
    expect(first.result.cursor.gaps[0]).toStrictEqual({ hi: NOW - 20 * MIN, lo: NOW - 6 * H, depth: 20, total: 100 });
    a.asked.length = 0;
    const next = await run(a, { cursor: cursorAfter(first.result) });
    // The top, then page 9 again to confirm where the stretch begins, then on down without reading a page twice.
    expect(a.asked.slice(0, 5)).toEqual([10, 11, 9, 8, 7]);
    expect(next.ids.filter((id) => id.startsWith('rst-t')).length).toBe(100);
  });

  it('keeps where it got when time runs out inside a stretch', async () => {
    const a = api(history(600), 'asc');
    let calls = 0;
    const { result } = await run(a, {
      cursor: {
        top: NOW - MIN,
        gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300, total: 600 }],
        order: 'asc',
        total: 600,
      },
      hasTime: () => calls++ < 5,
    });
    expect(a.asked).toEqual([60, 61, 31, 30, 29]);
    expect(result.cursor.gaps).toStrictEqual([{ hi: NOW - 320 * MIN, lo: NOW - 400 * MIN, depth: 320, total: 600 }]);
  });

  it('steps towards the newer end to where a stretch begins when its place was guessed too deep', async () => {
    const a = api(history(600), 'asc');
    const { ids } = await run(a, {
      cursor: {
        top: NOW - MIN,
        gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 320, total: 600 }],
        order: 'asc',
        total: 600,
      },
    });
    expect(a.asked.slice(0, 5)).toEqual([60, 61, 29, 30, 29]);
    expect(ids).toContain('rst-t300');
    expect(ids).toContain('rst-t399');
  });

  it('starts from the first page when it knows the order but not the size of the list', async () => {
    const a = api(history(95), 'asc');
    await run(a, { cursor: { top: NOW - 10 * MIN, gaps: [], order: 'asc' } });
    expect(a.asked.slice(0, 2)).toEqual([1, 10]);
  });

  it('keeps reading oldest first when the last page holds a single task, which shows no order', async () => {
    const a = api(history(91), 'asc');
    const { result } = await run(a, { cursor: { top: NOW - MIN, gaps: [], order: 'asc', total: 91 } });
    expect(a.asked).toEqual([10, 9]);
    expect(result.cursor.order).toBe('asc');
  });
});

describe('stretches left unread, over runs', () => {
  const top = NOW - MIN;

  it('reads the newest stretch first, however the cursor lists them', async () => {
    const a = api(history(600));
    const gaps: Gap[] = [
      { hi: NOW - 401 * MIN, lo: NOW - 450 * MIN, depth: 400 },
      { hi: NOW - 201 * MIN, lo: NOW - 250 * MIN, depth: 200 },
    ];
    const { ids, result } = await run(a, { cursor: { top, gaps, order: 'desc' }, maxPages: 4 });
    expect(ids).toContain('rst-t200');
    expect(ids).not.toContain('rst-t400');
    expect(result.cursor.gaps.map((g) => g.hi)).toEqual([NOW - 220 * MIN, NOW - 401 * MIN]);
  });

  it('drops every stretch once the top pass reaches the end of the list', async () => {
    const a = api(history(25));
    const { result } = await run(a, {
      cursor: { top: NOW - 20 * H, gaps: [{ hi: NOW - 21 * H, lo: NOW - 22 * H, depth: 500 }], order: 'desc' },
    });
    expect(result.stoppedBecause).toBe('end-of-list');
    expect(result.cursor.gaps).toEqual([]);
    expect(result.complete).toBe(true);
  });

  it('does not place a stretch further up because the list lost tasks since', async () => {
    const a = api(history(600));
    await run(a, {
      cursor: { top, gaps: [{ hi: NOW - 301 * MIN, lo: NOW - 400 * MIN, depth: 300, total: 700 }], order: 'desc' },
    });
    expect(a.asked.slice(0, 2)).toEqual([1, 30]);
  });

  it('re-reads down to a watched sync even while stretches wait, past the overlap it would otherwise cap', async () => {
    const a = api(Array.from({ length: 1_500 }, (_, i) => mk(`rst-d${i}`, NOW - MIN - i * 1_000)));
    const first = await run(a, { maxPages: 6, lookbackMs: H });
    expect(first.result.cursor.gaps.some((g) => !g.watchOnly)).toBe(true);
    const sweepTo = NOW - 8 * MIN;
    const { result } = await run(a, { cursor: cursorAfter(first.result), lookbackMs: H, sweepTo, maxPages: 100 });
    expect(result.coveredTo).toBeLessThan(sweepTo);
    const capped = await run(a, { cursor: cursorAfter(first.result), lookbackMs: H, maxPages: 100 });
    expect(capped.result.coveredTo).toBeGreaterThan(sweepTo);
  });
});

describe('what the service says of its pages', () => {
  it('keeps the page size asked for when the service reports none', async () => {
    const a = api(history(25));
    const fetchPage = async (n: number): Promise<Page<SyncTask>> => ({ ...(await a.fetchPage(n, 10)), pageSize: 0 });
    const { result, ids } = await run(a, { fetchPage, lookbackMs: 10 * H });
    expect(ids).toHaveLength(25);
    expect(result.pagesRead).toBe(3);
    expect(result.cursor).not.toHaveProperty('pageSize');
  });
});
