import { describe, expect, it } from 'vitest';
import {
  readGap,
  readGaps,
  startPage,
  unreadAfterTop,
  type GapContext,
  type GapOutcome,
} from '../../../src/detect/gaps.js';
import type { ScanBatch, StopReason } from '../../../src/detect/list.js';
import { PageReader, ReadOnce } from '../../../src/detect/pages.js';
import type { TopOutcome } from '../../../src/detect/top.js';
import type { Cursor, Gap } from '../../../src/model/state.js';
import { api, H, history, MIN, NOW } from '../../support/scan-list.js';

const BOUND = NOW - 6 * H;
const topRead = (over: Partial<TopOutcome> = {}): TopOutcome => ({
  stop: 'reached-window',
  complete: true,
  direction: 'desc',
  lowest: BOUND - MIN,
  nextDepth: 40,
  pages: 4,
  ...over,
});
const prevGap: Gap = { hi: NOW - 8 * H, lo: NOW - 9 * H, depth: 400 };
const prev: Cursor = { top: NOW - 5 * H, gaps: [prevGap] };

describe('what is left unread once the top pass is done', () => {
  it.each<[string, TopOutcome, Cursor | undefined, number | undefined, { left: Gap[]; waiting: Gap[] }]>([
    [
      'nothing of the top when it read everything above its bound',
      topRead(),
      prev,
      90,
      { left: [], waiting: [prevGap] },
    ],
    [
      'the rest of the top, from the oldest task it read down to its bound, placed by how many stand above',
      topRead({ stop: 'max-pages', complete: false, lowest: NOW - 3 * H }),
      prev,
      90,
      { left: [{ hi: NOW - 3 * H, lo: BOUND, depth: 40, total: 90 }], waiting: [prevGap] },
    ],
    [
      'no place for the rest of a list in no order, which cannot be resumed',
      topRead({ stop: 'max-pages', complete: false, direction: 'unknown' }),
      prev,
      90,
      { left: [], waiting: [prevGap] },
    ],
    [
      'no place for the rest of a top of which no task was read',
      topRead({ stop: 'budget', complete: false, lowest: Number.POSITIVE_INFINITY }),
      prev,
      90,
      { left: [], waiting: [prevGap] },
    ],
    [
      'nothing below once the top pass reached the end of the list',
      topRead({ stop: 'end-of-list' }),
      prev,
      90,
      { left: [], waiting: [] },
    ],
    [
      'on a first run, the stretch below the look-back where only unfinished syncs are wanted, placed a page up',
      topRead(),
      undefined,
      90,
      { left: [], waiting: [{ hi: BOUND, lo: BOUND - H, watchOnly: true, depth: 30, total: 90 }] },
    ],
    [
      'on a first run that did not finish the top, that stretch with no position',
      topRead({ stop: 'max-pages', complete: false, lowest: NOW - H }),
      undefined,
      undefined,
      { left: [{ hi: NOW - H, lo: BOUND, depth: 40 }], waiting: [{ hi: BOUND, lo: BOUND - H, watchOnly: true }] },
    ],
  ])('%s', (_, top, prevCursor, total, want) => {
    expect(unreadAfterTop(top, { prev: prevCursor, bound: BOUND, discoveryMs: H, total, size: 10 })).toStrictEqual(
      want,
    );
  });
});

describe('the page a stretch left unread is read from', () => {
  const desc: GapContext = { direction: 'desc' };
  const at = (gap: Partial<Gap>, o: Partial<GapContext> & { total?: number } = {}) =>
    startPage({ hi: NOW - 2 * H, lo: NOW - 3 * H, ...gap }, { ...desc, total: 100, size: 10, ...o });
  it.each<[string, number, number]>([
    ['one page above where it was left, newest first', at({ depth: 30 }), 3],
    ['further down by the tasks added since', at({ depth: 30, total: 90 }), 4],
    ['no further up when the list lost tasks since', at({ depth: 30, total: 120 }), 3],
    ['where the rate puts it when it has no position', at({}, { rate: 60, top: NOW - H }), 6],
    ['the first page with neither a position nor a rate', at({}), 1],
    ['where its position says even past the end of the list, which reading then finds', at({ depth: 500 }), 50],
    ['counted back from the last page in an oldest-first list', at({ depth: 30 }, { direction: 'asc' }), 8],
    ['the last page of an oldest-first list for a stretch near the top', at({ depth: 5 }, { direction: 'asc' }), 10],
    ['the first page for a stretch near the top', at({ depth: 5 }), 1],
  ])('%s', (_, page, want) => {
    expect(page).toBe(want);
  });
});

/** A reader over `a` at 10 a page, and what reading with it yielded. */
function reading(a: ReturnType<typeof api>, o: { maxPages?: number } = {}) {
  const reader = new PageReader(
    { fetchPage: (n) => a.fetchPage(n, 10), maxPages: o.maxPages ?? 100, hasTime: () => true },
    10,
  );
  return { reader, seen: new ReadOnce(NOW) };
}
async function drain<R>(gen: AsyncGenerator<ScanBatch, R>) {
  const batches: ScanBatch[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { out: r.value, batches, ids: batches.flatMap((b) => b.tasks.map((t) => t.taskId)) };
    batches.push(r.value);
  }
}
/** Tasks 1 to 100 minutes ago; `total` read as 100 by a first page. */
const list = () => api(history(100));
const primed = async (a: ReturnType<typeof api>, o: { maxPages?: number } = {}) => {
  const r = reading(a, o);
  await r.reader.read(1);
  a.asked.length = 0;
  return r;
};

describe('reading one stretch left unread', () => {
  it('reads from where it was left down to a page below its bottom, as tasks to judge in full', async () => {
    const a = list();
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 40 * MIN, lo: NOW - 55 * MIN, depth: 40, total: 100 };
    const { out, batches } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    expect(a.asked).toEqual([4, 5, 6]);
    expect(out).toEqual({});
    expect(batches.every((b) => b.lo === gap.lo && !b.watchOnly)).toBe(true);
  });

  it('gallops back to where it begins when its position was guessed too deep', async () => {
    const a = list();
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 20 * MIN, lo: NOW - 35 * MIN, depth: 60, total: 100 };
    await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    // Pages 6, 5 and 3 lie below its top (steps of 1 and 2), page 1 above it, and page 2 between holds it: the
    // stretch is read on from there.
    expect(a.asked).toEqual([6, 5, 3, 1, 2, 3, 4]);
  });

  it('finds where it begins however far off its position is, in reads that grow as the log of the error', async () => {
    const a = api(history(1000));
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 2 * MIN, lo: NOW - 3 * MIN, depth: 900, total: 1000 };
    const { ids } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    // 89 pages off: galloping back in steps of 1, 2, 4 ... 32, then to page 1, which holds its top.
    expect(a.asked).toEqual([90, 89, 87, 83, 75, 59, 27, 1]);
    expect(ids).toEqual(expect.arrayContaining(['rst-t1', 'rst-t2']));
  });

  it('finds where it begins when it lies past the end of the list, and reads on to the end', async () => {
    const a = api(history(1000));
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 990 * MIN, lo: NOW - 2000 * MIN, depth: 100, total: 100 };
    const { ids, out } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    expect(a.asked.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 2);
    expect(ids).toEqual(expect.arrayContaining(['rst-t990', 'rst-t999']));
    expect(out).toEqual({});
  });

  it('keeps where it got when out of pages: from the oldest task read, at the page it could not read', async () => {
    const a = list();
    const { reader, seen } = await primed(a, { maxPages: 3 });
    const gap: Gap = { hi: NOW - 40 * MIN, lo: NOW - 90 * MIN, depth: 40, total: 100 };
    const { out } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    expect(a.asked).toEqual([4, 5]);
    expect(out).toEqual({ stop: 'max-pages', left: { hi: NOW - 50 * MIN, lo: NOW - 90 * MIN, depth: 50, total: 100 } });
  });

  it('when a run has too few pages to finish finding where it begins, the next run looks halfway between', async () => {
    // Positioned 90 pages too deep (as while a service repeated its pages), a list of 10 pages, 4 pages a run.
    const a = api(history(100));
    let gap: Gap | undefined = { hi: NOW - 2 * MIN, lo: NOW - 3 * MIN, depth: 1000, total: 100 };
    const firstAsked: number[] = [];
    let runs = 0;
    let ids: string[] = [];
    while (gap && runs < 10) {
      runs += 1;
      a.asked.length = 0;
      const { reader, seen } = await primed(a, { maxPages: 5 });
      const r: { out: GapOutcome; ids: string[] } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
      firstAsked.push(a.asked[0]!);
      ids = r.ids;
      gap = r.out.left;
    }
    // Each run reads its first page and gallops down 1, 2, 4 pages (100, 99, 97, 93: all past the end); the next
    // run starts halfway below the lowest page known past (46, then 19 after 46, 45, 43, 39).
    expect(firstAsked.slice(0, 3)).toEqual([100, 46, 19]);
    expect(runs).toBeLessThanOrEqual(5);
    expect(ids).toEqual(expect.arrayContaining(['rst-t2']));
  });

  it('finds where it begins behind an empty page past the end of a list whose TotalCount overstates it', async () => {
    // TotalCount says 100 where 30 are left: the page the stretch's position points to is past the end.
    const a = api(history(30), 'desc', { total: () => 100 });
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 25 * MIN, lo: NOW - 90 * MIN, depth: 60, total: 100 };
    const { out, ids } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    expect(a.asked).toEqual([6, 5, 3, 4]);
    expect(ids).toEqual(expect.arrayContaining(['rst-t25', 'rst-t29']));
    expect(out).toEqual({});
  });

  it('ends a stretch that lies wholly past the end of the list, having read nothing of it', async () => {
    const a = api(history(30));
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 60 * MIN, lo: NOW - 90 * MIN, depth: 60, total: 30 };
    const { out, ids } = await drain(readGap(reader, seen, gap, { direction: 'desc' }));
    expect(ids).toEqual([]);
    expect(out).toEqual({});
  });

  it('reads an oldest-first list back towards its first page, and ends there', async () => {
    const a = api(history(30), 'asc');
    const { reader, seen } = await primed(a);
    const gap: Gap = { hi: NOW - 15 * MIN, lo: NOW - 90 * MIN, depth: 15, total: 30 };
    const { out, ids } = await drain(readGap(reader, seen, gap, { direction: 'asc' }));
    expect(a.asked).toEqual([3, 2, 1]);
    // Page 3 holds only tasks newer than its top (read before): the stretch begins on page 2.
    expect(ids).toHaveLength(20);
    expect(out).toEqual({});
  });
});

describe('reading the stretches left unread', () => {
  const newer: Gap = { hi: NOW - 20 * MIN, lo: NOW - 25 * MIN, depth: 20, total: 100 };
  const older: Gap = { hi: NOW - 60 * MIN, lo: NOW - 65 * MIN, depth: 60, total: 100 };
  const gaps = (stop: StopReason, direction: GapContext['direction'] = 'desc', maxPages?: number) =>
    primed(list(), { maxPages }).then(({ reader, seen }) =>
      drain(readGaps(reader, seen, [older, newer], { direction, stop })),
    );

  it('reads the newest first, and leaves none of those it finished', async () => {
    const { out, batches } = await gaps('reached-window');
    expect(batches.map((b) => b.lo)).toEqual([newer.lo, newer.lo, older.lo, older.lo]);
    expect(out).toEqual({ gaps: [], stop: 'reached-window' });
  });

  it('keeps them as they were when the top pass used up the pages or the time', async () => {
    for (const stop of ['max-pages', 'budget'] as const)
      expect((await gaps(stop)).out).toEqual({ gaps: [newer, older], stop });
  });

  it('keeps them as they were in a list in no order', async () => {
    expect((await gaps('repeated-page', 'unknown')).out).toEqual({ gaps: [newer, older], stop: 'repeated-page' });
  });

  it('keeps one as it was when the pages run out before where it begins was found', async () => {
    const { out } = await gaps('reached-window', 'desc', 3);
    expect(out).toEqual({ gaps: [older], stop: 'max-pages' });
  });

  it('keeps the rest as they were once the pages ran out', async () => {
    const { out } = await gaps('reached-window', 'desc', 2);
    expect(out).toEqual({ gaps: [newer, older], stop: 'max-pages' });
  });
});
