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

  it('re-reads one running past the stuck threshold only every quarter hour', async () => {
    const w = old('w');
    const early = await run([w], [watching(w, { stuck: true })], { recheckedAt: T0 - 10 * MIN });
    expect(early.pushCalls).toEqual([]);
    expect(early.report.cursor?.recheckedAt).toBe(T0 - 10 * MIN);

    const due = await run([w], [watching(w, { stuck: true })], { recheckedAt: T0 - 15 * MIN });
    expect(due.pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(due.report.cursor?.recheckedAt).toBe(T0);
  });

  it('re-reads a long-running one on the first run that has no record of re-checking it', async () => {
    const w = old('w');
    const { pushCalls, report } = await run([w], [watching(w, { stuck: true })]);
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-w' }, 1]]);
    expect(report.cursor?.recheckedAt).toBe(T0);
  });

  it('does not count the quarter-hour re-check as done when only young syncs were re-read', async () => {
    const y = young('y');
    const { pushCalls, report } = await run([y], [watching(y)], { recheckedAt: T0 - 20 * MIN });
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-y' }, 1]]);
    expect(report.cursor?.recheckedAt).toBe(T0 - 20 * MIN);
  });

  it('counts re-reading a push for a young sync as the quarter-hour re-check of a long-running sync of the same push', async () => {
    const y = young('y', 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const o = old('o', 'SYNCHRONIZING', { batchId: 'rsbt-shared' });
    const { pushCalls, report } = await run([y, o], [watching(y), watching(o, { stuck: true })], {
      recheckedAt: T0 - 20 * MIN,
    });
    expect(pushCalls).toEqual([[{ syncRecordId: 'rsbt-shared' }, 1]]);
    expect(report.cursor?.recheckedAt).toBe(T0);
  });

  it('counts a sync exactly at the stuck threshold as young', async () => {
    const edge = task('edge', T0 - 2 * H, 'SYNCHRONIZING');
    const { pushCalls, report } = await run([edge], [watching(edge)], { recheckedAt: T0 - 20 * MIN });
    expect(pushCalls).toHaveLength(1);
    expect(report.cursor?.recheckedAt).toBe(T0 - 20 * MIN);
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
  // Two long-running syncs of two pushes, three hours down a list of five tasks an hour: reading one page further
  // costs less than a call per push.
  const o1 = task('o1', T0 - 3 * H, 'SYNCHRONIZING');
  const o2 = task('o2', T0 - 3 * H - MIN, 'SYNCHRONIZING');
  const below = task('below', T0 - 4 * H);

  it('counts the quarter-hour re-check as done when reading back cost pages, young syncs read on the way or not', async () => {
    const y = task('y', T0 - H, 'SYNCHRONIZING');
    const watched = [watching(y), watching(o1, { stuck: true }), watching(o2, { stuck: true })];
    const { pushCalls, report, cr, watchedNow } = await run(
      [y, o1, o2, below],
      watched,
      { rate: 5, recheckedAt: T0 - 20 * MIN },
      { settings: { maxPages: 10 } },
    );
    expect(pushCalls).toEqual([]);
    expect(cr.taskCalls.length).toBeGreaterThan(1);
    expect(report.cursor?.recheckedAt).toBe(T0);
    expect(watchedNow.map((w) => [w.task.taskId, w.misses])).toEqual([
      ['y', undefined],
      ['o1', undefined],
      ['o2', undefined],
    ]);
  });

  it('does not count it as done in a quiet run where reading back cost nothing extra', async () => {
    const { pushCalls, report } = await run(
      [o1, o2, below],
      [watching(o1, { stuck: true }), watching(o2, { stuck: true })],
      { rate: 1, recheckedAt: T0 - 20 * MIN },
      { settings: { maxPages: 10 } },
    );
    expect(pushCalls).toEqual([]);
    expect(report.cursor?.top).toBe(prevTop);
    expect(report.cursor?.recheckedAt).toBe(T0 - 20 * MIN);
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

  it('leaves a sync known in full that reading back passed without finding to a call for its push to declare missing', async () => {
    // Reading back is cheaper here than a call per push; a page read while the list shifts can skip a task, so only a
    // targeted call (or, for a carried-over sync, which has nothing to target, the read back) counts a miss.
    const y = task('y', T0 - 30 * MIN, 'SYNCHRONIZING');
    const gone = task('gone', T0 - 31 * MIN, 'SYNCHRONIZING');
    const { watchedNow, pushCalls } = await run([y], [watching(y), watching(gone)], { rate: 5, recheckedAt: T0 - MIN });
    expect(pushCalls).toEqual([]);
    expect(watchedNow.map((w) => [w.task.taskId, w.misses])).toEqual([
      ['y', undefined],
      ['gone', undefined],
    ]);
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
  const prev = (over: Partial<Cursor> = {}): Cursor => ({
    top: T0 - 10 * MIN,
    gaps: [],
    order: 'desc',
    recheckedAt: T0 - 5 * MIN,
    ...over,
  });
  const o1 = task('o1', T0 - 3 * H, 'SYNCHRONIZING');
  const o2 = task('o2', T0 - 4 * H, 'SYNCHRONIZING');
  const fresh = task('fresh', T0 - MIN);
  /** A run over the short list; `first` for an instance never read before. */
  async function shortRun(listed: SyncTask[], watched: WatchedSync[], first = false) {
    const { store } = fakeStore({ watched });
    return observeRun(fakeCr([...listed, task('older', T0 - 20 * H)]).api, T0, {
      prev: first ? undefined : prev({ watching: watched.length }),
      store,
    });
  }

  it('count as re-checked when the run writes the cursor anyway (new tasks were read)', async () => {
    const { report } = await shortRun([fresh, o1], [watching(o1, { stuck: true })]);
    expect(report.cursor?.recheckedAt).toBe(T0);
  });

  it('do not make a quiet run write the cursor', async () => {
    const { report } = await shortRun([o1], [watching(o1, { stuck: true })]);
    expect(report.cursor?.recheckedAt).toBe(T0 - 5 * MIN);
  });

  it('count only when every long-running one was read', async () => {
    const { report } = await shortRun([fresh, o1], [watching(o1, { stuck: true }), watching(o2, { stuck: true })]);
    expect(report.cursor?.recheckedAt).toBe(T0 - 5 * MIN);
  });

  it('count whatever became of the young ones, even one exactly at the stuck threshold', async () => {
    const edge = task('edge', T0 - 2 * H, 'SYNCHRONIZING');
    const { report } = await shortRun([fresh, o1], [watching(o1, { stuck: true }), watching(edge)]);
    expect(report.cursor?.recheckedAt).toBe(T0);
  });

  it('do not count when there are none, only young ones', async () => {
    const y = task('y', T0 - H, 'SYNCHRONIZING');
    const { report } = await shortRun([fresh, y], [watching(y)]);
    expect(report.cursor?.recheckedAt).toBe(T0 - 5 * MIN);
  });

  it('count on a first run that finds one running for hours', async () => {
    const { report } = await shortRun([fresh, o1], [], true);
    expect(report.watched).toBe(1);
    expect(report.cursor?.recheckedAt).toBe(T0);
  });
});
