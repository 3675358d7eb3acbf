import { describe, expect, it } from 'vitest';
import { CHUNK_TASKS } from '../../../src/detect/observe.js';
import { unreadMs } from '../../../src/detect/report.js';
import { imageKey } from '../../../src/detect/detect.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { Cursor, FailingImage } from '../../../src/model/state.js';
import {
  failuresOf,
  fakeCr,
  fakeStore,
  H,
  MIN,
  observeRun,
  T0,
  task,
  watchedAfter,
  watching,
} from '../../support/observe-fakes.js';

/** `n` settled syncs, one a minute from `newest` down. */
const quiet = (prefix: string, n: number, newest: number) =>
  Array.from({ length: n }, (_, i) => task(`${prefix}${i}`, newest - i * MIN));
const warnings = (log: { level: string; msg: string }[]) => log.filter((l) => l.level === 'warn').map((l) => l.msg);

describe('a first run over an instance', () => {
  it('announces the failures inside the look-back, watches what still runs, and reports what it read', async () => {
    const cr = fakeCr([
      task('f1', T0 - 10 * MIN, 'ERROR'),
      task('s1', T0 - 20 * MIN),
      task('r1', T0 - 30 * MIN, 'SYNCHRONIZING'),
      task('old', T0 - 7 * H, 'ERROR'),
    ]);
    const { chunks, report } = await observeRun(cr.api, T0);
    expect(failuresOf(chunks)).toEqual(['f1']);
    expect(watchedAfter([], chunks).map((w) => w.task.taskId)).toEqual(['r1']);
    expect(report.newFailures).toBe(1);
    expect(report.reasons).toMatchObject({ 'new-failure': 1, succeeded: 1, 'still-running': 1, 'before-window': 1 });
    expect(report.watched).toBe(1);
    expect(report.scan).toMatchObject({ tasksRead: 4, complete: true, order: 'desc' });
    expect(report.cursor).toMatchObject({ top: T0 - 10 * MIN, gaps: [], watching: 1, order: 'desc' });
    expect(report).toMatchObject({ behindMs: 0, rechecks: 0, gone: [] });
    expect(report.error).toBeUndefined();
    expect(report.notice).toBeUndefined();
  });

  it('adds up what every chunk of the run decided', async () => {
    const cr = fakeCr(
      Array.from({ length: 2_500 }, (_, i) => task(`t${i}`, T0 - i * 1_000, i % 1_000 === 0 ? 'ERROR' : 'SUCCESS')),
    );
    const { chunks, report } = await observeRun(cr.api, T0, { settings: { pageSize: 1_000 } });
    expect(chunks.length).toBeGreaterThan(1);
    expect(report.newFailures).toBe(3);
    expect(report.reasons).toMatchObject({ 'new-failure': 3, succeeded: 2_497 });
  });
});

describe('judging a burst a chunk at a time', () => {
  it('judges and claims at most CHUNK_TASKS tasks at once, filling each chunk before starting the next', async () => {
    const cr = fakeCr(Array.from({ length: 4_500 }, (_, i) => task(`t${i}`, T0 - i * 1_000)));
    const { chunks, report } = await observeRun(cr.api, T0, { settings: { pageSize: 1_000, maxPages: 6 } });
    const full = Math.floor(4_500 / CHUNK_TASKS);
    expect(chunks.map((c) => c.changes.reasons.succeeded)).toEqual([
      ...Array.from({ length: full }, () => CHUNK_TASKS),
      ...(4_500 % CHUNK_TASKS > 0 ? [4_500 % CHUNK_TASKS] : []),
    ]);
    expect(report.scan?.tasksRead).toBe(4_500);
  });

  it('announces a second failure of an image already failing from an earlier chunk, without asking the store again', async () => {
    const to = { instanceId: 'cri-y', regionId: 'cn-shanghai', namespace: 'ns', repo: 'api', tag: 'v1' };
    // One whole chunk, then the second failure on the page after it.
    const burst = Array.from({ length: CHUNK_TASKS }, (_, i) =>
      i === 10 ? task('f1', T0 - i * 1_000, 'ERROR', { to }) : task(`t${i}`, T0 - i * 1_000),
    );
    const cr = fakeCr([...burst, task('f2', T0 - H, 'ERROR', { to })]);
    const { store, lookups } = fakeStore();
    const { chunks } = await observeRun(cr.api, T0, { store, settings: { pageSize: 1_000 } });
    expect(chunks.map((c) => c.changes.failures.map((t) => t.taskId))).toEqual([['f1'], ['f2']]);
    expect(lookups).toHaveLength(1);
  });

  it("announces a failure found in a stretch an earlier run left unread, judged by that stretch's own bounds", async () => {
    // The last run read down to T0 - 2h and ran out of pages; T0 - 2h .. T0 - 4h is still to read.
    const read = Array.from({ length: 10 }, (_, i) => task(`r${i}`, T0 - H - i * 6 * MIN));
    const unread = [task('g0', T0 - 150 * MIN), task('gf', T0 - 3 * H, 'ERROR'), task('g1', T0 - 210 * MIN)];
    const below = Array.from({ length: 10 }, (_, i) => task(`b${i}`, T0 - 5 * H - i * MIN, 'ERROR'));
    const cr = fakeCr([task('n0', T0 - MIN), task('n1', T0 - 2 * MIN), ...read, ...unread, ...below]);
    const prev: Cursor = {
      top: T0 - H,
      gaps: [{ hi: T0 - 2 * H, lo: T0 - 4 * H, depth: 10, total: 23 }],
      order: 'desc',
      total: 23,
    };
    const { chunks, report } = await observeRun(cr.api, T0, { prev });
    expect(failuresOf(chunks)).toEqual(['gf']);
    expect(report.cursor?.gaps).toEqual([]);
    expect(report.behindMs).toBe(0);
  });

  it('on a first run, watches a sync still running from before the look-back but does not announce old failures', async () => {
    // A page of new syncs, a page of settled ones just below the look-back (where the top pass stops), then older ones.
    const cr = fakeCr([
      ...quiet('n', 10, T0 - MIN),
      ...quiet('b', 10, T0 - 6 * H - MIN),
      task('lr', T0 - 10 * H, 'SYNCHRONIZING'),
      task('lf', T0 - 11 * H, 'ERROR'),
      task('ls', T0 - 30 * H),
    ]);
    const { chunks } = await observeRun(cr.api, T0, { settings: { discoveryMs: 24 * H } });
    expect(failuresOf(chunks)).toEqual([]);
    expect(watchedAfter([], chunks).map((w) => w.task.taskId)).toEqual(['lr']);
  });
});

describe('what observing asks of the store', () => {
  const top = T0 - 10 * MIN;
  const prev: Cursor = { top, gaps: [], order: 'desc' };

  it('does not announce again a failure an earlier run claimed, and announces one it did not', async () => {
    const cr = fakeCr([
      task('new', T0 - MIN, 'ERROR'),
      task('claimed', top, 'ERROR'),
      task('unclaimed', top - MIN, 'ERROR'),
      ...quiet('q', 10, top - 10 * MIN),
    ]);
    const { store } = fakeStore({ handled: ['claimed'] });
    const { chunks, report } = await observeRun(cr.api, T0, { prev, store });
    expect(failuresOf(chunks).sort()).toEqual(['new', 'unclaimed']);
    expect(report.reasons['already-announced']).toBe(1);
  });

  it('tells of the recovery of an image the store remembers failing', async () => {
    const ok = task('ok', T0 - MIN);
    const row: FailingImage = { since: T0 - 3 * H, lastFailure: T0 - 2 * H, taskId: 'bad', issue: 'TAG_CONFLICT' };
    const { store } = fakeStore({ failing: new Map([[imageKey(ok), row]]) });
    const { chunks } = await observeRun(fakeCr([ok, ...quiet('q', 10, top - 10 * MIN)]).api, T0, { prev, store });
    expect(chunks.flatMap((c) => c.changes.recoveries.map((r) => [r.success.taskId, r.failure.taskId]))).toEqual([
      ['ok', 'bad'],
    ]);
  });

  it('asks the store nothing for a chunk of syncs that are still running', async () => {
    const cr = fakeCr([task('r0', T0 - MIN, 'PENDING'), task('r1', T0 - 2 * MIN, 'SYNCHRONIZING')]);
    const { store, lookups } = fakeStore();
    const { report } = await observeRun(cr.api, T0, { store });
    expect(report.watched).toBe(2);
    expect(lookups).toEqual([]);
  });

  it('reads the watched syncs only when the cursor says some are watched', async () => {
    const w = watching(task('w', T0 - 30 * MIN, 'SYNCHRONIZING'));
    const cr = fakeCr([w.task, ...quiet('q', 10, T0 - MIN)]);
    const { store } = fakeStore({ watched: [w] });
    const none = await observeRun(cr.api, T0, { prev: { ...prev, watching: 0 }, store });
    expect(none.report.watched).toBe(0);
    const some = await observeRun(cr.api, T0, { prev: { ...prev, watching: 1 }, store });
    expect(some.report.watched).toBe(1);
  });
});

describe('what observing tells the operator', () => {
  it('warns of tasks with an undocumented status, naming the statuses', async () => {
    const cr = fakeCr([task('u1', T0 - MIN, 'PAUSED'), task('u2', T0 - 2 * MIN, '')]);
    const { log, report } = await observeRun(cr.api, T0);
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'tasks with an undocumented TaskStatus are watched like running ones',
      fields: { instance: 'cn-hangzhou:cri-x', statuses: ['(empty)', 'PAUSED'] },
    });
    expect(report.watched).toBe(2);
  });

  it('says nothing of statuses, malformed tasks, stops or anomalies on a clean full read', async () => {
    const { log } = await observeRun(fakeCr(quiet('q', 5, T0 - MIN)).api, T0);
    expect(warnings(log)).toEqual([]);
  });

  it('warns of each malformed task the list held', async () => {
    const cr = fakeCr(quiet('q', 3, T0 - MIN), { dropped: ['item 4: no TaskId', 'item 5: CreateTime not a time'] });
    const { log } = await observeRun(cr.api, T0);
    expect(log.filter((l) => l.msg === 'skipped a malformed sync task').map((l) => l.fields)).toEqual([
      { instance: 'cn-hangzhou:cri-x', problem: 'item 4: no TaskId' },
      { instance: 'cn-hangzhou:cri-x', problem: 'item 5: CreateTime not a time' },
    ]);
  });

  it('warns when the scan stops before reading everything new, and reports how far behind it is', async () => {
    const cr = fakeCr(quiet('q', 30, T0 - MIN));
    const { log, report } = await observeRun(cr.api, T0, { settings: { maxPages: 1 } });
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'the scan stopped before reading everything new; the next run continues where it stopped',
      fields: { instance: 'cn-hangzhou:cri-x', because: 'max-pages', pages: 1 },
    });
    expect(report.scan).toMatchObject({ complete: false, stoppedBecause: 'max-pages', pagesRead: 1 });
    expect(report.behindMs).toBe(unreadMs(report.cursor));
    expect(report.behindMs).toBe(T0 - 10 * MIN - (T0 - 6 * H));
  });

  it('warns when the list gives times it cannot mean: ahead of the clock, or in seconds', async () => {
    const cr = fakeCr([
      task('future', T0 + H),
      task('secs', T0 - 2 * MIN, 'SUCCESS', { timeInSeconds: true }),
      ...quiet('q', 3, T0 - 3 * MIN),
    ]);
    const { log } = await observeRun(cr.api, T0);
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'the task list said something it cannot mean; those times never move the watermark',
      fields: { instance: 'cn-hangzhou:cri-x', futureTimes: 1, secondsTimes: 1, repeatedPages: 0 },
    });
  });

  it('warns when the list serves the same page twice', async () => {
    const cr = fakeCr(quiet('q', 25, T0 - MIN), {
      page: (call, items) => (call.pageNo === 2 ? quiet('q', 10, T0 - MIN) : items),
    });
    const { log } = await observeRun(cr.api, T0);
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'the task list said something it cannot mean; those times never move the watermark',
      fields: { instance: 'cn-hangzhou:cri-x', futureTimes: 0, secondsTimes: 0, repeatedPages: 1 },
    });
  });
});

describe('transient failures held back', () => {
  const transient = { minFailures: 3, windowMs: H, persistMs: 30 * MIN };
  const heldTask = task('h1', T0 - 40 * MIN, 'ERROR', { issue: 'NETWORK_ERROR' });
  const key = imageKey(heldTask);
  const prev = (since: number): Cursor => ({ top: T0 - MIN, gaps: [], order: 'desc', held: { [key]: since } });
  const row: FailingImage = {
    since: T0 - 40 * MIN,
    lastFailure: T0 - 40 * MIN,
    taskId: 'h1',
    issue: 'NETWORK_ERROR',
    held: heldTask,
  };

  it('announces a held failure once it has persisted, in a run that reads nothing new', async () => {
    const { store } = fakeStore({ failing: new Map([[key, row]]) });
    const { chunks, report } = await observeRun(fakeCr([]).api, T0, {
      prev: prev(T0 - 40 * MIN),
      store,
      settings: { transient },
    });
    expect(failuresOf(chunks)).toEqual(['h1']);
    expect(report.newFailures).toBe(1);
    expect(report.cursor?.held).toBeUndefined();
  });

  it('keeps holding one that has not persisted long enough', async () => {
    const { store } = fakeStore({ failing: new Map([[key, { ...row, since: T0 - 20 * MIN }]]) });
    const { chunks, report } = await observeRun(fakeCr([]).api, T0, {
      prev: prev(T0 - 20 * MIN),
      store,
      settings: { transient },
    });
    expect(failuresOf(chunks)).toEqual([]);
    expect(report.cursor?.held).toEqual({ [key]: T0 - 20 * MIN });
  });

  it('forgets one whose image recovered meanwhile, with nothing to claim', async () => {
    const { held: _, ...recoveredRow } = row;
    const { store } = fakeStore({ failing: new Map([[key, recoveredRow]]) });
    const { chunks, report } = await observeRun(fakeCr([]).api, T0, {
      prev: prev(T0 - 40 * MIN),
      store,
      settings: { transient },
    });
    expect(chunks).toEqual([]);
    expect(report.newFailures).toBe(0);
    expect(report.cursor?.held).toBeUndefined();
  });
});

describe('an instance that cannot be read', () => {
  const hangUp = () => new Error('socket hang up');
  const prev: Cursor = {
    top: T0 - H,
    gaps: [{ hi: T0 - 2 * H, lo: T0 - 3 * H }],
    order: 'desc',
    rate: 12,
    watching: 3,
  };

  it('keeps its cursor as it was, counts the failing run, and says how far behind it stays', async () => {
    const err = new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'InvalidParameter' });
    const cr = fakeCr([], {
      before: () => {
        throw err;
      },
    });
    const { store } = fakeStore({
      watched: [watching(task('w1', T0 - 90 * MIN, 'SYNCHRONIZING')), watching(task('w2', T0 - 95 * MIN, 'PENDING'))],
    });
    const { report, log } = await observeRun(cr.api, T0, { prev, store });
    expect(report.error).toBe(err);
    expect(report.cursor).toEqual({
      ...prev,
      health: { since: T0, runs: 1, lastError: 'refused [cr permanent InvalidParameter]', announced: false },
    });
    expect(report.behindMs).toBe(H);
    expect(report.watched).toBe(2);
    expect(report.notice).toBeUndefined();
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'could not read sync tasks; this instance is retried next run',
      fields: { instance: 'cn-hangzhou:cri-x', error: 'refused [cr permanent InvalidParameter]' },
    });
  });

  it('logs an error an operator must act on (a permission, a wrong instance) as an error', async () => {
    const cr = fakeCr([], {
      before: () => {
        throw new IntegrationError('refused', { service: 'cr', kind: 'config', code: 'NoPrivilege' });
      },
    });
    const { log } = await observeRun(cr.api, T0);
    expect(log.filter((l) => l.msg.startsWith('could not read sync tasks')).map((l) => l.level)).toEqual(['error']);
  });

  it('logs any other failure as a warning', async () => {
    const cr = fakeCr([], {
      before: () => {
        throw hangUp();
      },
    });
    const { log, report } = await observeRun(cr.api, T0);
    expect(log.filter((l) => l.msg.startsWith('could not read sync tasks')).map((l) => l.level)).toEqual(['warn']);
    expect(report.cursor).toEqual({
      gaps: [],
      health: { since: T0, runs: 1, lastError: 'Error: socket hang up', announced: false },
    });
    expect(report.watched).toBe(0);
    expect(report.behindMs).toBe(0);
  });

  it('reports the watched count the cursor gave when even the watched syncs cannot be read', async () => {
    const { store } = fakeStore({ watchedFails: hangUp() });
    const { report } = await observeRun(fakeCr([]).api, T0, { prev, store });
    expect(report.error).toBeDefined();
    expect(report.watched).toBe(3);
  });

  it('tells the channels it is blind on the third failing run in a row, and that it sees again on the first read after', async () => {
    const cr = fakeCr(quiet('q', 3, T0 - MIN), {
      before: () => {
        if (failing) throw hangUp();
      },
    });
    let failing = true;
    let cursor: Cursor | undefined;
    const notices: (string | undefined)[] = [];
    for (let run = 0; run < 5; run++) {
      failing = run < 4;
      const { report } = await observeRun(cr.api, T0 + run * 5 * MIN, { prev: cursor });
      cursor = report.cursor;
      notices.push(report.notice?.kind);
    }
    expect(notices).toEqual([undefined, undefined, 'blind', undefined, 'restored']);
    expect(cursor?.health).toBeUndefined();
  });

  it('forgets failing runs once it reads the instance again before the threshold', async () => {
    const cr = fakeCr(quiet('q', 3, T0 - MIN));
    const prevFailing: Cursor = {
      gaps: [],
      health: { since: T0 - 10 * MIN, runs: 2, lastError: 'x', announced: false },
    };
    const { report } = await observeRun(cr.api, T0, { prev: prevFailing });
    expect(report.cursor?.health).toBeUndefined();
    expect(report.notice).toBeUndefined();
  });
});

describe('a run out of time before reading an instance', () => {
  const prev: Cursor = {
    top: T0 - H,
    gaps: [{ hi: T0 - 2 * H, lo: T0 - 3 * H }],
    order: 'asc',
    rate: 12,
    total: 140,
    pageSize: 5,
    recheckedAt: T0 - H,
  };

  it('reads nothing once only a second of fetch time is left, and keeps all it knew, marked to go first next run', async () => {
    const cr = fakeCr(quiet('q', 3, T0 - MIN));
    const { report } = await observeRun(cr.api, T0, { prev, fetchMs: 1_000 });
    expect(cr.taskCalls).toEqual([]);
    // The run not reaching it starts the count toward the "not reached" notice (announced only after a few runs).
    const lags = { 'not-reached': { since: T0, runs: 1, announced: false } };
    expect(report.cursor).toEqual({ ...prev, starved: true, unreachedRuns: 1, watching: 0, lags });
    expect(report.unreachedRuns).toBe(1);
    expect(report.scan).toMatchObject({ pagesRead: 0, complete: false, stoppedBecause: 'budget' });
  });

  it('on a first run, keeps nothing but that it is still to be read', async () => {
    const { report } = await observeRun(fakeCr(quiet('q', 3, T0 - MIN)).api, T0, { fetchMs: 1_000 });
    const lags = { 'not-reached': { since: T0, runs: 1, announced: false } };
    expect(report.cursor).toEqual({ gaps: [], starved: true, unreachedRuns: 1, watching: 0, lags });
  });

  it('is no longer marked once a run reads it', async () => {
    const cr = fakeCr(quiet('q', 3, T0 - MIN));
    const { report } = await observeRun(cr.api, T0, {
      prev: { ...prev, starved: true, unreachedRuns: 3 },
      fetchMs: 1_001,
    });
    expect(cr.taskCalls.length).toBeGreaterThan(0);
    expect(report.cursor?.starved).toBeUndefined();
    expect(report.cursor?.unreachedRuns).toBeUndefined();
    expect(report.unreachedRuns).toBeUndefined();
  });
});

describe('a run that finds nothing new', () => {
  it('leaves the cursor exactly as it was, so that nothing need be written', async () => {
    // Spaced unevenly: a rate measured from one page differs from one measured from two.
    const cr = fakeCr(Array.from({ length: 12 }, (_, i) => task(`q${i}`, T0 - MIN - i * i * 30_000)));
    const first = await observeRun(cr.api, T0);
    const prev = { ...first.report.cursor!, recheckedAt: T0 - 3 * MIN };
    const again = await observeRun(cr.api, T0 + 2 * MIN, { prev });
    expect(again.report.cursor).toEqual(prev);
  });

  it('moves the hints once new tasks are read', async () => {
    const cr = fakeCr(Array.from({ length: 12 }, (_, i) => task(`q${i}`, T0 - MIN - i * i * 30_000)));
    const first = await observeRun(cr.api, T0);
    cr.tasks.push(...Array.from({ length: 6 }, (_, i) => task(`n${i}`, T0 + 10 * MIN - i * 10_000)));
    const again = await observeRun(cr.api, T0 + 10 * MIN, { prev: first.report.cursor });
    expect(again.report.cursor?.top).toBe(T0 + 10 * MIN);
    expect(again.report.cursor?.rate).not.toBe(first.report.cursor?.rate);
    expect(again.report.cursor?.total).toBe(18);
    expect(again.report.scan?.order).toBe('desc');
  });
});
