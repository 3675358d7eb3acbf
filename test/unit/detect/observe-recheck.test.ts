import { describe, expect, it } from 'vitest';
import { MISS_LIMIT } from '../../../src/detect/watch.js';
import type { Judged } from '../../../src/detect/observe.js';
import type { Cursor, WatchedSync } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';
import {
  failuresOf,
  fakeCr,
  fakeStore,
  H,
  MIN,
  movableClock,
  observeRun,
  T0,
  task,
  watchedAfter,
  watching,
} from '../../support/observe-fakes.js';

// The list's newest syncs, one a minute: the scan reads its first page and stops there, far above any watched sync.
const newest = Array.from({ length: 40 }, (_, i) => task(`q${i}`, T0 - (i + 1) * MIN));
const prevTop = T0 - MIN;
const cursor = (over: Partial<Cursor> = {}): Cursor => ({ top: prevTop, gaps: [], order: 'desc', ...over });
const young = (id: string, status = 'SYNCHRONIZING', over: Partial<SyncTask> = {}) => task(id, T0 - H, status, over);
const old = (id: string, status = 'SYNCHRONIZING', over: Partial<SyncTask> = {}) => task(id, T0 - 3 * H, status, over);

/** Tasks a chunk judged, whatever it made of them. */
const judgedIn = (j: Judged) => Object.values(j.changes.reasons).reduce((a, b) => a + b, 0);

/** One run with these watched syncs (and their current state in the list), at T0. */
async function run(
  listed: SyncTask[],
  watched: WatchedSync[],
  prev: Partial<Cursor> = {},
  extra: Parameters<typeof observeRun>[2] = {},
) {
  const cr = fakeCr([...newest, ...listed]);
  const { store } = fakeStore({ watched });
  const out = await observeRun(cr.api, T0, { prev: cursor({ watching: watched.length, ...prev }), store, ...extra });
  return {
    ...out,
    cr,
    pushCalls: cr.taskCalls.filter((c) => c.filter).map((c) => [c.filter, c.pageNo]),
    watchedNow: watchedAfter(watched, out.chunks),
  };
}

describe('re-checking a watched sync the scan does not reach', () => {
  it('re-reads a young one by its push in every run, and announces its failure', async () => {
    const w = young('w');
    const { chunks, report, pushCalls, watchedNow } = await run(
      [{ ...w, status: 'ERROR', issue: 'TAG_CONFLICT' }],
      [watching(w)],
      { recheckedAt: T0 - MIN },
    );
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(failuresOf(chunks)).toEqual(['w']);
    expect(report.rechecks).toBe(1);
    expect(report.newFailures).toBe(1);
    expect(watchedNow).toEqual([]);
  });

  it('re-reads by the source image when the push is not known', async () => {
    const w = young('w', 'SYNCHRONIZING', { batchId: undefined });
    const { pushCalls, report } = await run([w], [watching(w)], { recheckedAt: T0 - MIN });
    expect(pushCalls).toEqual([[{ namespace: 'ns', repo: 'w', tag: 'v1' }, 1]]);
    expect(report.rechecks).toBe(1);
  });

  it('does not spend a call on one the scan itself read', async () => {
    const w = task('w', T0 - 3 * MIN - 1_000, 'SYNCHRONIZING');
    const { pushCalls, report, watchedNow } = await run([w], [watching(w)], { recheckedAt: T0 - MIN });
    expect(pushCalls).toEqual([]);
    expect(report.rechecks).toBe(0);
    expect(watchedNow.map((x) => [x.task.taskId, x.misses])).toEqual([['w', undefined]]);
  });

  it('re-reads one running past the stuck threshold only every quarter hour after its own last re-check', async () => {
    const w = old('w');
    const early = await run([w], [watching(w, { stuck: true, checkedAt: T0 - 10 * MIN })]);
    expect(early.pushCalls).toEqual([]);
    expect(early.watchedNow[0]?.checkedAt).toBe(T0 - 10 * MIN);
    expect(early.chunks.flatMap((c) => c.changes.watch)).toEqual([]);

    const due = await run([w], [watching(w, { stuck: true, checkedAt: T0 - 15 * MIN })]);
    expect(due.pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(due.watchedNow[0]?.checkedAt).toBe(T0);
  });

  it('takes the time the previous release kept for all (the cursor’s recheckedAt) for a sync with none of its own', async () => {
    const w = old('w');
    const early = await run([w], [watching(w, { stuck: true })], { recheckedAt: T0 - 10 * MIN });
    expect(early.pushCalls).toEqual([]);
    const due = await run([w], [watching(w, { stuck: true })], { recheckedAt: T0 - 15 * MIN });
    expect(due.pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(due.watchedNow[0]?.checkedAt).toBe(T0);
    // Kept as it was: it is only read.
    expect(due.report.cursor?.recheckedAt).toBe(T0 - 15 * MIN);
  });

  it('re-reads a long-running one never re-checked before', async () => {
    const w = old('w');
    const { pushCalls, watchedNow } = await run([w], [watching(w, { stuck: true })]);
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(watchedNow[0]?.checkedAt).toBe(T0);
  });

  it('notes only the syncs re-read as re-checked', async () => {
    const y = young('y');
    const o = old('o');
    const { pushCalls, watchedNow } = await run(
      [y, o],
      [watching(y), watching(o, { stuck: true, checkedAt: T0 - MIN })],
    );
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-y' }, 1]]);
    expect(watchedNow.map((w) => [w.task.taskId, w.checkedAt])).toEqual([
      ['y', T0],
      ['o', T0 - MIN],
    ]);
  });

  it('writes the rows of syncs re-read unchanged together, in the one chunk that ends the re-checks', async () => {
    const os = [old('o1'), old('o2'), old('o3')];
    const { pushCalls, chunks } = await run(
      os,
      os.map((t) => watching(t, { stuck: true })),
    );
    expect(pushCalls).toHaveLength(3);
    expect(
      chunks.map((c) => c.changes.watch.map((w) => [w.task.taskId, w.checkedAt])).filter((x) => x.length > 0),
    ).toEqual([
      [
        ['o1', T0],
        ['o2', T0],
        ['o3', T0],
      ],
    ]);
  });

  it('re-reads a young sync and a long-running one of the same push with one call, and notes both re-checked', async () => {
    const y = young('y', 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const o = old('o', 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const { pushCalls, watchedNow } = await run([y, o], [watching(y), watching(o, { stuck: true })]);
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-shared' }, 1]]);
    expect(watchedNow.map((w) => w.checkedAt)).toEqual([T0, T0]);
  });

  it('counts a sync exactly at the stuck threshold as young', async () => {
    const edge = task('edge', T0 - 2 * H, 'SYNCHRONIZING');
    const { pushCalls } = await run([edge], [watching(edge, { checkedAt: T0 - MIN })]);
    expect(pushCalls).toHaveLength(1);
  });

  it('re-reads young ones while the long-running ones wait their quarter hour', async () => {
    const y = young('y');
    const o = old('o');
    const { pushCalls } = await run([y, o], [watching(y), watching(o, { stuck: true })], { recheckedAt: T0 - 5 * MIN });
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-y' }, 1]]);
  });

  it("reads a push's tasks page by page until the watched one is found, three pages at most", async () => {
    const push = (n: number) =>
      Array.from({ length: n }, (_, i) => task(`p${i}`, T0 - H + (n - i) * 1_000, 'SUCCESS', { batchId: 'rsbt-big' }));
    const w = young('w', 'SYNCHRONIZING', { batchId: 'rsbt-big' });
    const third = await run([...push(25), w], [watching(w)], { recheckedAt: T0 - MIN });
    expect(third.pushCalls.map(([, p]) => p)).toEqual([1, 2, 3]);
    expect(third.report.rechecks).toBe(3);
    expect(third.watchedNow.map((x) => x.misses)).toEqual([undefined]);

    const beyond = await run([...push(35), w], [watching(w)], { recheckedAt: T0 - MIN });
    expect(beyond.pushCalls.map(([, p]) => p)).toEqual([1, 2, 3]);
    expect(beyond.watchedNow.map((x) => x.misses)).toEqual([1]);
  });

  it("stops reading a push once the watched sync is found, or the push's list ends", async () => {
    const w = young('w', 'SYNCHRONIZING', { batchId: 'rsbt-big' });
    const after = Array.from({ length: 25 }, (_, i) =>
      task(`p${i}`, T0 - H - (i + 1) * 1_000, 'SUCCESS', { batchId: 'rsbt-big' }),
    );
    const found = await run([w, ...after], [watching(w)], { recheckedAt: T0 - MIN });
    expect(found.pushCalls.map(([, p]) => p)).toEqual([1]);

    const short = await run(after.slice(0, 4), [watching(w)], { recheckedAt: T0 - MIN });
    expect(short.pushCalls.map(([, p]) => p)).toEqual([1]);
    expect(short.report.rechecks).toBe(1);
  });

  it('stops watching one that re-checks in a row no longer find, with a warning', async () => {
    const w = young('w');
    let watched = [watching(w)];
    const seen: (number | undefined | 'gone')[] = [];
    for (let i = 0; i < MISS_LIMIT; i++) {
      const r = await run([], watched, { recheckedAt: T0 - MIN });
      watched = r.watchedNow;
      seen.push(r.report.gone.includes('w') ? 'gone' : watched[0]?.misses);
      if (r.report.gone.length > 0)
        expect(r.log).toContainEqual({
          level: 'warn',
          msg: 'stopped watching syncs the API no longer returns',
          fields: { instance: 'cn-hangzhou:cri-x', tasks: ['w'] },
        });
    }
    expect(seen).toEqual([...Array.from({ length: MISS_LIMIT - 1 }, (_, i) => i + 1), 'gone']);
    expect(watched).toEqual([]);
  });

  it('counts a miss only for the syncs of a push that its re-read did not find', async () => {
    const here = young('here', 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const gone = task('gone', T0 - H - MIN, 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const { watchedNow, chunks } = await run([here], [watching(here), watching(gone)], { recheckedAt: T0 - MIN });
    expect(Object.fromEntries(watchedNow.map((w) => [w.task.taskId, w.misses]))).toEqual({ here: undefined, gone: 1 });
    // Each chunk is claimed before the next is read: none comes with nothing in it.
    expect(chunks.every((c) => judgedIn(c) + c.changes.watch.length + c.changes.unwatch.length > 0)).toBe(true);
  });

  it('does not warn of syncs gone when a re-check only missed one', async () => {
    const w = young('w');
    const { log, report, chunks } = await run([], [watching(w)], { recheckedAt: T0 - MIN });
    expect(report.gone).toEqual([]);
    // What the run yields: the page it read, and the miss; a re-read that found nothing has nothing to claim.
    expect(chunks.map((c) => [judgedIn(c), c.changes.watch.map((x) => x.misses)])).toEqual([
      [10, []],
      [0, [1]],
    ]);
    expect(log.map((l) => l.msg)).not.toContain('stopped watching syncs the API no longer returns');
  });

  it('names at most twenty of the syncs it stopped watching in one warning', async () => {
    const ws = Array.from({ length: 25 }, (_, i) => young(`w${i}`));
    const { log, report } = await run(
      [],
      ws.map((t) => watching(t, { misses: MISS_LIMIT - 1 })),
      { recheckedAt: T0 - MIN },
    );
    expect(report.gone).toHaveLength(25);
    const warned = log.find((l) => l.msg === 'stopped watching syncs the API no longer returns');
    expect((warned?.fields?.tasks as string[]).length).toBe(20);
  });

  it('spends no re-check when the fetch time left is a second or less, and counts no miss for it', async () => {
    const w = young('w');
    const clock = movableClock(T0);
    // The first page of the scan takes all but a second of the time left for fetching.
    const cr = fakeCr([...newest], {
      before: (c) => {
        if (!c.filter) clock.t = T0 + 59_000;
      },
    });
    const { store } = fakeStore({ watched: [watching(w)] });
    const { report, chunks } = await observeRun(cr.api, T0, {
      prev: cursor({ watching: 1, recheckedAt: T0 - MIN }),
      store,
      clock,
    });
    expect(cr.taskCalls.filter((c) => c.filter)).toEqual([]);
    expect(report.rechecks).toBe(0);
    expect(watchedAfter([watching(w)], chunks)[0]?.misses).toBeUndefined();
  });
});

describe('re-checking by reading the list back', () => {
  // A list of five tasks an hour (a page of 10 holds two hours), with five long-running syncs of five pushes three
  // hours down (page 2) and five more four hours down (page 3): reading back a page or two costs less than a call
  // per push.
  const steady = Array.from({ length: 29 }, (_, i) => task(`s${i}`, T0 - 6 * MIN - i * 12 * MIN));
  const at3 = Array.from({ length: 5 }, (_, i) => task(`o${i}`, T0 - 3 * H - i * MIN, 'SYNCHRONIZING'));
  const at4 = Array.from({ length: 5 }, (_, i) => task(`p${i}`, T0 - 4 * H - i * MIN, 'SYNCHRONIZING'));
  const list = [...steady, ...at3, ...at4];
  const prev = (over: Partial<Cursor> = {}): Cursor => ({
    top: T0 - 6 * MIN,
    gaps: [],
    order: 'desc',
    rate: 5,
    ...over,
  });
  /** One run at `at`; with `fetchMs`, each CR call takes 2 s of it. */
  async function backRun(watched: WatchedSync[], at: number, o: { prev?: Cursor; fetchMs?: number } = {}) {
    const clock = movableClock(at);
    const cr = fakeCr(list, { before: () => void (o.fetchMs !== undefined && (clock.t += 2_000)) });
    const { store } = fakeStore({ watched });
    const out = await observeRun(cr.api, at, {
      prev: { ...(o.prev ?? prev()), watching: watched.length },
      store,
      clock,
      ...(o.fetchMs !== undefined ? { fetchMs: o.fetchMs } : {}),
    });
    return { ...out, cr, pages: cr.taskCalls.map((c) => (c.filter ? 'push' : c.pageNo)) };
  }

  it('re-reads long-running syncs of many pushes by reading pages back, and notes each re-checked', async () => {
    const watched = [...at3, ...at4].map((t) => watching(t, { stuck: true }));
    const { pages, report, chunks } = await backRun(watched, T0);
    // The scan's page, then back from the page it stopped on.
    expect(pages).toEqual([1, 1, 2, 3]);
    expect(report.rechecks).toBe(3);
    expect(report.recheckBehindMs).toBe(0);
    expect(watchedAfter(watched, chunks).map((w) => w.checkedAt)).toEqual(watched.map(() => T0));
  });

  it('goes on from the page where the last read-back stopped, rather than from the top', async () => {
    const watched = [...at3, ...at4].map((t) => watching(t, { stuck: true }));
    // Time for three calls of 2 s a run: the scan's page, then two read back.
    const first = await backRun(watched, T0, { fetchMs: 7_000 });
    expect(first.pages).toEqual([1, 1, 2]);
    expect(first.report.cursor?.readBack).toEqual({ below: at3[4]!.createTime, page: 2, at: T0 });
    const reached = watchedAfter(watched, first.chunks);
    expect(reached.filter((w) => w.checkedAt === T0).map((w) => w.task.taskId)).toEqual(at3.map((t) => t.taskId));
    expect(first.report.recheckBehindMs).toBeGreaterThan(0);

    const second = await backRun(reached, T0 + 5 * MIN, { prev: first.report.cursor, fetchMs: 7_000 });
    expect(second.pages).toEqual([1, 2, 3]);
    // Page 2 is read again (where the last read-back stopped): the syncs on it are not due, so no row is written again.
    expect(watchedAfter(reached, second.chunks).map((w) => w.checkedAt)).toEqual([
      ...at3.map(() => T0),
      ...at4.map(() => T0 + 5 * MIN),
    ]);
    expect(second.report.recheckBehindMs).toBe(0);
  });

  it('leaves a sync known in full that it passed without finding to a call for its push to declare missing', async () => {
    // A page read while the list shifts can skip a task, so only a targeted call (or, for a carried-over sync, which
    // has nothing to target, the read back) counts a miss.
    const gone = task('gone', T0 - 3 * H - 2 * MIN, 'SYNCHRONIZING');
    const watched = [...at3, gone].map((t) => watching(t, { stuck: true }));
    const { pages, chunks, report } = await backRun(watched, T0);
    expect(pages).toEqual([1, 1, 2]);
    expect(watchedAfter(watched, chunks).map((w) => [w.task.taskId, w.misses, w.checkedAt])).toEqual([
      ...at3.map((t) => [t.taskId, undefined, T0]),
      ['gone', undefined, undefined],
    ]);
    expect(report.recheckBehindMs).toBeGreaterThan(0);
  });

  it('starts over from the top once it read to the end of the list', async () => {
    const watched = at4.map((t) => watching(t, { stuck: true }));
    const { report, pages } = await backRun(watched, T0, {
      prev: prev({ readBack: { below: at4[0]!.createTime + 1, page: 3, at: T0 - 5 * MIN } }),
    });
    expect(pages).toEqual([1, 3, 4]);
    expect(report.cursor?.readBack).toBeUndefined();
  });
});

describe('watched syncs carried over from an earlier version (known only by id and time)', () => {
  it('counts a miss for one the list was read past without finding it, and none for one below what was read', async () => {
    const passed = watching(task('gone-p', T0 - 20 * MIN, 'SYNCHRONIZING'), { partial: true });
    const deeper = watching(task('deep-p', T0 - 30 * H, 'SYNCHRONIZING'), { partial: true });
    const { watchedNow } = await run([], [passed, deeper], { recheckedAt: T0 - MIN });
    expect(Object.fromEntries(watchedNow.map((w) => [w.task.taskId, w.misses]))).toEqual({
      'gone-p': 1,
      'deep-p': undefined,
    });
  });

  it('counts no miss for one the list was read down to and found, still running or finished', async () => {
    const running = watching(task('run-p', T0 - 20 * MIN, 'SYNCHRONIZING'), { partial: true });
    const finished = watching(task('done-p', T0 - 25 * MIN, 'SYNCHRONIZING'), { partial: true });
    const { watchedNow, report } = await run(
      [{ ...running.task }, { ...finished.task, status: 'SUCCESS' }],
      [running, finished],
      { recheckedAt: T0 - MIN },
    );
    expect(report.error).toBeUndefined();
    expect(watchedNow.map((w) => [w.task.taskId, w.misses, w.partial])).toEqual([['run-p', undefined, undefined]]);
  });

  it('counts a miss for one as old as the oldest task of the list, which was read to its end', async () => {
    const edge = watching(task('edge-p', T0 - 40 * MIN, 'SYNCHRONIZING'), { partial: true });
    const { watchedNow } = await run([], [edge], { recheckedAt: T0 - MIN });
    expect(watchedNow.map((w) => [w.task.taskId, w.misses])).toEqual([['edge-p', 1]]);
  });

  it('counts no miss when the list could not be read at all this run', async () => {
    const passed = watching(task('gone-p', T0 - 20 * MIN, 'SYNCHRONIZING'), { partial: true });
    const { store } = fakeStore({ watched: [passed] });
    const { chunks } = await observeRun(fakeCr(newest).api, T0, {
      prev: cursor({ watching: 1 }),
      store,
      fetchMs: 1_000,
    });
    expect(watchedAfter([passed], chunks)[0]?.misses).toBeUndefined();
  });
});

describe('long-running syncs the scan itself reads', () => {
  // A short list, read whole in one page: every watched sync in it is seen as it stands.
  const prev = (over: Partial<Cursor> = {}): Cursor => ({ top: T0 - 10 * MIN, gaps: [], order: 'desc', ...over });
  const o1 = task('o1', T0 - 3 * H, 'SYNCHRONIZING');
  const o2 = task('o2', T0 - 4 * H, 'SYNCHRONIZING');
  const fresh = task('fresh', T0 - MIN);
  /** A run over the short list; `first` for an instance never read before. */
  async function shortRun(listed: SyncTask[], watched: WatchedSync[], first = false) {
    const { store } = fakeStore({ watched });
    const cr = fakeCr([...listed, task('older', T0 - 20 * H)]);
    const out = await observeRun(cr.api, T0, { prev: first ? undefined : prev({ watching: watched.length }), store });
    return { ...out, cr, watchedNow: watchedAfter(watched, out.chunks) };
  }

  it('count as re-checked when due, with no call of their own', async () => {
    const { watchedNow, cr, report } = await shortRun(
      [fresh, o1, o2],
      [watching(o1, { stuck: true }), watching(o2, { stuck: true, checkedAt: T0 - 5 * MIN })],
    );
    expect(cr.taskCalls).toHaveLength(1);
    // o2 is not due yet: its row is not written again.
    expect(watchedNow.map((w) => [w.task.taskId, w.checkedAt])).toEqual([
      ['o1', T0],
      ['o2', T0 - 5 * MIN],
    ]);
    expect(report.recheckBehindMs).toBe(0);
  });

  it('write no row for a young one the scan read', async () => {
    const y = task('y', T0 - H, 'SYNCHRONIZING');
    const { chunks } = await shortRun([fresh, y], [watching(y)]);
    expect(chunks.flatMap((c) => c.changes.watch)).toEqual([]);
  });
});
