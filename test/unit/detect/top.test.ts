import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, OVERLAP_MS, OVERLAP_PAGES_BEHIND, type ScanBatch } from '../../../src/detect/list.js';
import { PageReader, ReadOnce } from '../../../src/detect/pages.js';
import { readTop, topBounds, type TopPlan } from '../../../src/detect/top.js';
import type { Cursor } from '../../../src/model/state.js';
import { api, H, history, MIN, mk, NOW } from '../../support/scan-list.js';

/** Runs the top pass over `a` (10 a page) to its end: what it yielded and what it returned. */
async function top(a: ReturnType<typeof api>, plan: TopPlan, o: { maxPages?: number; hasTime?: () => boolean } = {}) {
  const reader = new PageReader(
    { fetchPage: (n) => a.fetchPage(n, 10), maxPages: o.maxPages ?? 100, hasTime: o.hasTime ?? (() => true) },
    10,
  );
  const seen = new ReadOnce(NOW);
  const gen = readTop(reader, seen, plan);
  const batches: ScanBatch[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { out: r.value, batches, ids: batches.flatMap((b) => b.tasks.map((t) => t.taskId)), seen };
    batches.push(r.value);
  }
}
const plan = (bound: number, over: Partial<TopPlan> = {}): TopPlan => ({ bound, stopAt: bound, below: [], ...over });
const ids = (from: number, to: number, prefix = 't') =>
  Array.from({ length: to - from + 1 }, (_, i) => `rst-${prefix}${from + i}`);

describe('where the top pass stops', () => {
  const top = NOW - H;
  it.each<[string, Cursor | undefined, { sweepTo?: number }, { bound: number; stopAt: number }]>([
    ['at the look-back on a first run', undefined, {}, { bound: NOW - 6 * H, stopAt: NOW - 6 * H }],
    [
      'the overlap below the newest time read',
      { top, gaps: [] },
      {},
      { bound: top - OVERLAP_MS, stopAt: top - OVERLAP_MS },
    ],
    [
      'less far down once the overlap was read whole longer ago than a task can show up late',
      { top, gaps: [], readAt: top + CLOCK_SKEW_MS + MIN },
      {},
      { bound: top - OVERLAP_MS + MIN, stopAt: top - OVERLAP_MS + MIN },
    ],
    ['never above the newest time read', { top, gaps: [], readAt: NOW + H }, {}, { bound: top, stopAt: top }],
    [
      'further down when watched syncs are re-read by reading back',
      { top, gaps: [] },
      { sweepTo: NOW - 5 * H },
      { bound: top - OVERLAP_MS, stopAt: NOW - 5 * H },
    ],
    [
      'not further up for a sweep above its bound',
      { top, gaps: [] },
      { sweepTo: NOW },
      { bound: top - OVERLAP_MS, stopAt: top - OVERLAP_MS },
    ],
  ])('%s', (_, prev, o, want) => {
    expect(topBounds(prev, { now: NOW, lookbackMs: 6 * H, ...o })).toEqual(want);
  });
});

describe('the top pass', () => {
  it('reads a newest-first list from the first page down to the first page below its bound', async () => {
    const a = api(history(50));
    const { out, ids: read } = await top(a, plan(NOW - 25 * MIN + 1));
    expect(a.asked).toEqual([1, 2, 3]);
    expect(read).toEqual(ids(0, 29));
    expect(out).toEqual({
      stop: 'reached-window',
      complete: true,
      direction: 'desc',
      lowest: NOW - 30 * MIN,
      nextDepth: 30,
      pages: 3,
    });
  });

  it('ends at a short page, having read the whole list', async () => {
    const a = api(history(15));
    const { out } = await top(a, plan(NOW - 6 * H));
    expect(a.asked).toEqual([1, 2]);
    expect(out).toMatchObject({ stop: 'end-of-list', complete: true });
  });

  it('reads an oldest-first list back from the page TotalCount names, newest tasks first', async () => {
    const a = api(history(35), 'asc');
    const { out, ids: read } = await top(a, plan(NOW - 12 * MIN + 1, { prev: { gaps: [], order: 'asc', total: 35 } }));
    expect(a.asked).toEqual([4, 3]);
    expect(read).toEqual(ids(0, 14));
    expect(out).toMatchObject({ stop: 'reached-window', complete: true, direction: 'asc', nextDepth: 15 });
  });

  it('starts again from the first page when a list read oldest first last time is newest first now', async () => {
    const a = api(history(35));
    const { out } = await top(a, plan(NOW - 5 * MIN + 1, { prev: { gaps: [], order: 'asc', total: 35 } }));
    expect(a.asked).toEqual([4, 1]);
    expect(out).toMatchObject({ direction: 'desc', complete: true });
  });

  it('says why when not even its first page can be read', async () => {
    const a = api(history(35));
    expect((await top(a, plan(NOW - H), { hasTime: () => false })).out).toBe('budget');
    expect((await top(a, plan(NOW - H), { maxPages: 0 })).out).toBe('max-pages');
    expect(a.asked).toEqual([]);
  });

  it('stops incomplete at a page served twice, and counts it', async () => {
    const a = api(history(50), 'desc', { repeat: [2] });
    const { out, seen } = await top(a, plan(NOW - 6 * H));
    expect(out).toMatchObject({ stop: 'repeated-page', complete: false, lowest: NOW - 10 * MIN, nextDepth: 20 });
    expect(seen.anomalies.repeatedPages).toBe(1);
  });

  it('stops incomplete when out of pages, saying how many tasks stand above the next page', async () => {
    const a = api(history(50));
    const { out } = await top(a, plan(NOW - 6 * H), { maxPages: 2 });
    expect(out).toMatchObject({ stop: 'max-pages', complete: false, nextDepth: 20, lowest: NOW - 20 * MIN });
  });

  it(`while older stretches wait, re-reads only ${OVERLAP_PAGES_BEHIND} pages of the overlap`, async () => {
    const a = api(history(100));
    const prev: Cursor = { top: NOW - MIN, gaps: [{ hi: NOW - 5 * H, lo: NOW - 6 * H }] };
    const { out } = await top(a, plan(NOW - 3 * H, { prev }));
    expect(a.asked).toEqual([1, 2]);
    expect(out).toMatchObject({ stop: 'overlap-capped', complete: true });
  });

  it('reads the whole overlap down to a watched sync even while stretches wait', async () => {
    const a = api(history(100));
    const prev: Cursor = { top: NOW - MIN, gaps: [{ hi: NOW - 5 * H, lo: NOW - 6 * H }] };
    const { out } = await top(a, plan(NOW - 3 * H, { prev, stopAt: NOW - 35 * MIN }));
    expect(a.asked).toEqual([1, 2, 3, 4]);
    expect(out).toMatchObject({ stop: 'reached-window' });
  });

  it('yields a task below its bound with the stretch it lies in, to be judged as part of it', async () => {
    const a = api(history(20));
    const below = [{ hi: NOW - 12 * MIN, lo: NOW - 15 * MIN, watchOnly: true }];
    const { batches } = await top(a, plan(NOW - 10 * MIN, { below }));
    // The second page: 11 to 20 minutes ago; those of 12 to 15 minutes ago lie in the stretch.
    expect(batches.map((b) => [b.lo, b.watchOnly, b.tasks.length])).toEqual([
      [NOW - 10 * MIN, false, 10],
      [NOW - 10 * MIN, false, 6],
      [NOW - 15 * MIN, true, 4],
    ]);
  });

  it('reads every page of a list in no order, however far below its bound', async () => {
    const a = api(
      Array.from({ length: 30 }, (_, i) => mk(`rst-${i}`, NOW - i * 60 * MIN)),
      'random',
    );
    const { out, ids: read } = await top(a, plan(NOW - 30 * MIN));
    expect(a.asked).toEqual([1, 2, 3, 4]);
    expect(read).toHaveLength(30);
    expect(out).toMatchObject({ stop: 'end-of-list', direction: 'unknown', complete: true });
  });
});
