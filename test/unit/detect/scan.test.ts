import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, OVERLAP_MS, pageOrder } from '../../../src/detect/list.js';
import type { Cursor, Order } from '../../../src/model/state.js';
import { api, cursorAfter, H, history, MIN, mk, NOW, run } from '../../support/scan-list.js';

describe('pageOrder', () => {
  it.each([
    [[3, 2, 1], 'desc'],
    [[1, 2, 3], 'asc'],
    [[2, 2, 2], 'flat'],
    [[5], 'flat'],
    [[1, 3, 2], 'unknown'],
    [[3, 3, 1], 'desc'],
  ])('calls %j %s', (times, expected) => {
    expect(pageOrder(times.map((t, i) => mk(`rst-${i}`, t)))).toBe(expected);
  });
});

describe('scanning an instance', () => {
  for (const [order, expected] of [
    ['desc', 'desc'],
    ['asc', 'asc'],
    ['random', 'unknown'],
  ] as const) {
    it(`reads every task of the look-back window on the first run, in ${order} order, and calls it complete`, async () => {
      const a = api(history(95), order);
      const { result, ids } = await run(a);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => Number(id.slice(5)) < 359).sort()).toEqual(
        history(95)
          .map((t) => t.taskId)
          .sort(),
      );
      expect(result.complete).toBe(true);
      expect(result.cursor.order).toBe(expected as Order);
      expect(result.cursor.top).toBe(NOW - MIN);
    });
  }

  it('reads one page when nothing is new, newest first, and finds what arrived since', async () => {
    const a = api(history(200));
    const first = await run(a);
    a.asked.length = 0;
    const quiet = await run(a, { cursor: cursorAfter(first.result) });
    expect(a.asked).toEqual([1]);
    expect(quiet.result.complete).toBe(true);
    a.add([mk('rst-new1', NOW - 10_000), mk('rst-new2', NOW - 5_000)]);
    a.asked.length = 0;
    const next = await run(a, { cursor: cursorAfter(quiet.result) });
    expect(a.asked).toEqual([1]);
    expect(next.ids.slice(0, 2)).toEqual(['rst-new2', 'rst-new1']);
    expect(next.result.cursor.top).toBe(NOW - 5_000);
  });

  it('reads only the last page when nothing is new, oldest first, and the true last page when the list grew', async () => {
    // 99 tasks: the last page holds 9, reaching below the 5-minute overlap on its own.
    const a = api(history(99), 'asc');
    const first = await run(a);
    a.asked.length = 0;
    await run(a, { cursor: cursorAfter(first.result) });
    expect(a.asked).toEqual([10]);
    a.add(Array.from({ length: 12 }, (_, i) => mk(`rst-n${i}`, NOW - 30_000 + i)));
    a.asked.length = 0;
    const grown = await run(a, { cursor: cursorAfter(first.result) });
    expect(grown.ids.filter((id) => id.startsWith('rst-n')).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `rst-n${i}`).sort(),
    );
    expect(grown.result.complete).toBe(true);
  });

  it('does not stop at the page TotalCount names when that count is too small: only a short page ends the list', async () => {
    const a = api(history(135), 'desc', { total: () => 30 });
    const { ids, result } = await run(a, { lookbackMs: 1_000 * H });
    expect(ids).toHaveLength(135);
    expect(result.complete).toBe(true);
    const asc = api(history(135), 'asc', { total: () => 30 });
    const r2 = await run(asc, { lookbackMs: 1_000 * H });
    expect(r2.ids).toHaveLength(135);
  });

  it('calls a scan whose page repeats the one before incomplete, and leaves a gap for the next run', async () => {
    const a = api(history(95), 'desc', { repeat: [3] });
    const { result } = await run(a);
    expect(result.complete).toBe(false);
    expect(result.stoppedBecause).toBe('repeated-page');
    expect(result.anomalies.repeatedPages).toBe(1);
    expect(result.cursor.gaps.some((g) => !g.watchOnly)).toBe(true);
  });

  it('never lets a time ahead of the clock, or one given in seconds, move the watermark; it reports them', async () => {
    const future = mk('rst-future', NOW + H, 'ERROR');
    const seconds = mk('rst-secs', NOW - 2 * MIN, 'ERROR', { timeInSeconds: true });
    const a = api([future, seconds, ...history(5)]);
    const { result, ids } = await run(a);
    expect(ids).toContain('rst-future');
    expect(ids).toContain('rst-secs');
    expect(result.cursor.top).toBe(NOW - MIN);
    expect(result.anomalies).toMatchObject({ futureTimes: 1, secondsTimes: 1 });
    expect(NOW + H > NOW + CLOCK_SKEW_MS).toBe(true);
  });

  it('works a backlog down over runs that run out of pages, reading each page once, newest stretch first', async () => {
    const a = api(history(300));
    let cursor: Cursor | undefined;
    const all: string[] = [];
    let runs = 0;
    do {
      const { result, ids } = await run(a, { cursor, maxPages: 6 });
      all.push(...ids);
      cursor = cursorAfter(result);
      runs += 1;
      if (result.complete) break;
    } while (runs < 20);
    expect(new Set(all).size).toBe(300);
    // 30 pages of 10 for 300 tasks, plus the overlap each resumed stretch re-reads to confirm where it is, and the
    // page past the end that shows nothing lies below the window.
    expect(a.asked.length).toBeLessThanOrEqual(30 + 2 * runs + 1);
    expect(runs).toBeGreaterThan(4);
    expect(cursor.gaps.filter((g) => !g.watchOnly)).toEqual([]);
  });

  it('works a dense backlog down, where the 5-minute overlap alone holds more pages than a run may read', async () => {
    // One task a second: the overlap below the newest time is 30 pages of 10; a run reads 6.
    const dense = Array.from({ length: 1_500 }, (_, i) => mk(`rst-d${i}`, NOW - MIN - i * 1_000));
    const a = api(dense);
    let cursor: Cursor | undefined;
    const all = new Set<string>();
    let runs = 0;
    for (; runs < 100; runs++) {
      const before = all.size;
      const { result, ids } = await run(a, { cursor, maxPages: 6, lookbackMs: H }, 10);
      ids.forEach((id) => all.add(id));
      cursor = cursorAfter(result);
      if (result.complete) break;
      // Every run that leaves something unread has read something it had not read before.
      expect(all.size, `run ${runs + 1}`).toBeGreaterThan(before);
    }
    expect(all.size).toBe(1_500);
    expect(cursor!.gaps.filter((g) => !g.watchOnly)).toEqual([]);
    // 150 pages to read; each run after the first re-reads at most 2 pages of the overlap and 1 to place its gap.
    expect(runs + 1).toBeLessThanOrEqual(Math.ceil(150 / 3) + 1);
  });

  it('does not count a run behind, which re-read only part of the overlap, as having read it whole', async () => {
    const a = api(Array.from({ length: 1_500 }, (_, i) => mk(`rst-d${i}`, NOW - MIN - i * 1_000)));
    const first = await run(a, { maxPages: 6, lookbackMs: H });
    expect(first.result.complete).toBe(false);
    const second = await run(a, { cursor: cursorAfter(first.result), maxPages: 6, lookbackMs: H, now: NOW + 5 * MIN });
    expect(second.result.cursor.readAt).toBe(first.result.cursor.readAt);
  });

  it('stops reading a busy overlap again once the list has been quiet longer than a task can show up late', async () => {
    // One task a second for 10 minutes: the overlap below the newest time is 30 pages of 10.
    const a = api(Array.from({ length: 600 }, (_, i) => mk(`rst-b${i}`, NOW - MIN - i * 1_000)));
    const at = async (now: number, cursor?: Cursor) => {
      a.asked.length = 0;
      const r = await run(a, { cursor, now, lookbackMs: H });
      return { ...r, pages: a.asked.length, cursor: cursorAfter(r.result) };
    };
    const first = await at(NOW);
    const second = await at(NOW + 5 * MIN, first.cursor);
    expect(second.pages).toBeGreaterThanOrEqual(30);
    // Created 3 minutes before the first read and shown only now: still inside what a late task may be.
    a.add([mk('rst-late', NOW - 3 * MIN)]);
    const third = await at(NOW + 10 * MIN, second.cursor);
    expect(third.ids).toContain('rst-late');
    const fourth = await at(NOW + 15 * MIN, third.cursor);
    const fifth = await at(NOW + 20 * MIN, fourth.cursor);
    expect([fourth.pages, fifth.pages]).toEqual([1, 1]);
    // A one-page run does not move when the overlap was last read whole (its cursor stays as it was: nothing to write).
    expect([fourth.cursor.readAt, fifth.cursor.readAt]).toEqual([NOW + 10 * MIN, NOW + 10 * MIN]);
    expect(fifth.result.complete).toBe(true);
  });

  it('keeps reading the newest tasks first while a backlog is still open, and resumes the backlog where it was', async () => {
    const a = api(history(200));
    const first = await run(a, { maxPages: 5 });
    expect(first.result.complete).toBe(false);
    a.add([mk('rst-fresh', NOW - 1_000)]);
    const second = await run(a, { cursor: cursorAfter(first.result), maxPages: 5 });
    expect(second.ids[0]).toBe('rst-fresh');
    // The top is read again only as far as its 5-minute overlap; the backlog resumes where the first run stopped.
    expect(second.ids).not.toContain('rst-t20');
    expect(second.ids).toContain('rst-t55');
  });

  it('follows a page size capped by the service', async () => {
    const a = api(history(40), 'desc', { cap: 7 });
    const { result, ids } = await run(a, { lookbackMs: 1_000 * H }, 20);
    expect(ids).toHaveLength(40);
    expect(result.cursor.pageSize).toBe(7);
  });

  it('stops when time runs out and says what is left', async () => {
    let calls = 0;
    const a = api(history(100));
    const { result } = await run(a, { hasTime: () => calls++ < 3 });
    expect(result.stoppedBecause).toBe('budget');
    expect(result.complete).toBe(false);
    expect(result.pagesRead).toBe(3);
  });

  it('on the first run also reads below the look-back, only to find unfinished syncs to watch', async () => {
    const old = mk('rst-old-running', NOW - 30 * H, 'SYNCHRONIZING');
    const a = api([...history(20), old, ...history(30, 'o', 20 * H)]);
    const { seen, result } = await run(a, { lookbackMs: 2 * H, discoveryMs: 48 * H });
    expect(seen.find((s) => s.id === 'rst-old-running')?.watchOnly).toBe(true);
    expect(seen.find((s) => s.id === 'rst-t3')?.watchOnly).toBe(false);
    expect(result.complete).toBe(true);
  });

  it('re-reads back down to a watched sync when asked, below the window', async () => {
    const a = api(history(100));
    const first = await run(a, { lookbackMs: 200 * H });
    a.asked.length = 0;
    const { seen } = await run(a, { cursor: cursorAfter(first.result), sweepTo: NOW - 35 * MIN });
    expect(a.asked).toEqual([1, 2, 3, 4]);
    expect(seen.find((s) => s.id === 'rst-t33')?.lo).toBe(NOW - MIN - OVERLAP_MS);
  });

  it('reads nothing when time is out before the first page, and keeps the cursor it had', async () => {
    const a = api(history(50));
    const first = await run(a);
    a.asked.length = 0;
    const late = await run(a, { cursor: cursorAfter(first.result), hasTime: () => false });
    expect(a.asked).toEqual([]);
    expect(late.result).toMatchObject({ pagesRead: 0, complete: false, stoppedBecause: 'budget' });
    expect(late.result.cursor.top).toBe(first.result.cursor.top);
    expect(late.result.cursor.gaps).toEqual(first.result.cursor.gaps);
  });

  it('does not take a page that lost a malformed item for the end of the list', async () => {
    const tasks = history(40);
    const a = api(tasks);
    const fetchPage = async (n: number) => {
      const p = await a.fetchPage(n, 10);
      // The service sent 10 items; parsing dropped one.
      return n === 1 ? { ...p, items: p.items.slice(1), received: 10, dropped: ['SyncTasks[0]: no id'] } : p;
    };
    const { ids, result } = await run(a, { fetchPage });
    expect(ids).toHaveLength(39);
    expect(result.pagesRead).toBe(5);
  });

  it('handles an empty instance with one call', async () => {
    const a = api([]);
    const { result } = await run(a);
    expect(a.asked).toEqual([1]);
    expect(result.complete).toBe(true);
  });
});
