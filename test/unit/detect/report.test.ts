import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../../../src/detect/scan.js';
import {
  cursorAfterRead,
  failedReport,
  logScan,
  readReport,
  stoppedReport,
  withLags,
  type AfterRead,
} from '../../../src/detect/report.js';
import { LIST_UNFINISHED_RUNS } from '../../../src/detect/lag.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { Cursor } from '../../../src/model/state.js';
import { H, INST, MIN, recordingLog, T0, task, watching } from '../../support/observe-fakes.js';
import { observation } from '../../support/observation.js';

const PREV: Cursor = {
  top: T0 - H,
  gaps: [{ hi: T0 - 5 * H, lo: T0 - 6 * H }],
  order: 'asc',
  pageSize: 7,
  rate: 12,
  total: 300,
  recheckedAt: T0 - H,
  readAt: T0 - 2 * H,
};
/** What a run that reads no page of PREV's instance keeps of it. */
const STARVED = {
  top: T0 - H,
  gaps: PREV.gaps,
  order: 'asc',
  rate: 12,
  total: 300,
  pageSize: 7,
  starved: true,
  watching: 2,
  recheckedAt: T0 - H,
} as const;
const read = (cursor: ScanResult['cursor'], pagesRead = 1) => ({ cursor, pagesRead });
/** The cursor after the default read (new tasks moved the newest time). */
const NEXT: Cursor = { top: T0 - MIN, gaps: [], order: 'desc', rate: 30, total: 310, watching: 2, recheckedAt: T0 - H };
const after = (over: Partial<AfterRead>): AfterRead => ({
  prev: PREV,
  scan: read({ top: T0 - MIN, gaps: [], order: 'desc', rate: 30, total: 310 }),
  detection: (top) => ({ watching: top === undefined ? -1 : 2 }),
  ...over,
});

describe('the cursor stored after a read', () => {
  it.each<[string, Partial<AfterRead>, Cursor]>([
    [
      'is the scan’s when new tasks moved the newest time, with what detection keeps',
      {},
      { top: T0 - MIN, gaps: [], order: 'desc', rate: 30, total: 310, watching: 2, recheckedAt: T0 - H },
    ],
    [
      'keeps the rate and size hints of the last run when the newest time did not move',
      { scan: read({ top: T0 - H, gaps: [], order: 'desc', rate: 30, total: 310 }) },
      { top: T0 - H, gaps: [], order: 'asc', rate: 12, total: 300, pageSize: 7, watching: 2, recheckedAt: T0 - H },
    ],
    [
      'keeps everything it knew, marked starved, when not even a page was read',
      { scan: read({ gaps: [] }, 0) },
      { ...STARVED, unreachedRuns: 1 },
    ],
    [
      'notes where the read-back for re-checks stopped',
      { readBack: { below: T0 - 5 * H, page: 7, at: T0 } },
      { ...NEXT, readBack: { below: T0 - 5 * H, page: 7, at: T0 } },
    ],
    [
      'keeps where the last read-back stopped when none was made',
      { prev: { ...PREV, readBack: { below: T0 - 9 * H, page: 2, at: T0 - H } } },
      { ...NEXT, readBack: { below: T0 - 9 * H, page: 2, at: T0 - H } },
    ],
    [
      'drops it once a read-back read to the end of the list',
      { prev: { ...PREV, readBack: { below: T0 - 9 * H, page: 2, at: T0 - H } }, readBack: null },
      NEXT,
    ],
    [
      'hands detection the newest time, absent on a first run that read nothing',
      { prev: undefined, scan: read({ gaps: [] }, 0) },
      { gaps: [], starved: true, unreachedRuns: 1, watching: -1 },
    ],
    [
      'counts one more run not reached',
      { prev: { ...PREV, starved: true, unreachedRuns: 4 }, scan: read({ gaps: [] }, 0) },
      { ...STARVED, unreachedRuns: 5 },
    ],
    [
      'counts a run not reached after a cursor that only said starved (written before the count) as the second',
      { prev: { ...PREV, starved: true }, scan: read({ gaps: [] }, 0) },
      { ...STARVED, unreachedRuns: 2 },
    ],
    [
      'keeps its place in the reading order when the run’s time ran out with history still unread (at least 1)',
      {
        prev: { ...PREV, starved: true, unreachedRuns: 4 },
        scan: { ...read({ ...NEXT, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }] }), stoppedBecause: 'budget' },
      },
      { ...NEXT, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }], keptPlace: 4 },
    ],
    [
      'keeps a place of 1 when read in part straight after a read to its end',
      { scan: { ...read({ ...NEXT, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }] }), stoppedBecause: 'budget' } },
      { ...NEXT, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }], keptPlace: 1 },
    ],
    [
      'keeps no place when it stopped for its page cap, or for time with nothing of the window left unread',
      { prev: { ...PREV, keptPlace: 3 }, scan: { ...read({ ...NEXT, gaps: [] }), stoppedBecause: 'budget' } },
      NEXT,
    ],
    [
      'carries the place it kept through the runs that do not reach it',
      { prev: { ...PREV, keptPlace: 3, starved: true, unreachedRuns: 2 }, scan: read({ gaps: [] }, 0) },
      { ...STARVED, unreachedRuns: 3, keptPlace: 3 },
    ],
    [
      'drops both marks once a page is read',
      { prev: { ...PREV, starved: true, unreachedRuns: 4 } },
      { top: T0 - MIN, gaps: [], order: 'desc', rate: 30, total: 310, watching: 2, recheckedAt: T0 - H },
    ],
  ])('%s', (_, over, want) => {
    expect(cursorAfterRead(after(over))).toStrictEqual(want);
  });
});

const scan = (over: Partial<ScanResult> = {}): ScanResult => ({
  cursor: { top: T0 - MIN, gaps: [{ hi: T0 - 2 * H, lo: T0 - 3 * H }], order: 'desc' },
  pagesRead: 3,
  tasksRead: 30,
  complete: false,
  stoppedBecause: 'max-pages',
  dropped: [],
  anomalies: { futureTimes: 0, secondsTimes: 0, repeatedPages: 0 },
  ...over,
});
const settings = { blindAfterRuns: 3, stuckAfterMs: 2 * H };
const blind = { since: T0 - H, runs: 4, lastError: 'denied', announced: true };

describe('the report of an instance read to the end', () => {
  it('carries the next cursor, what the scan read, how far behind it is, and what was found', () => {
    const o = observation({ watched: [watching(task('w', T0 - H, 'PENDING'))] });
    o.found.newFailures = 2;
    const r = readReport(o, { scan: scan(), recheckBehindMs: 0 }, settings);
    expect(r).toMatchObject({
      inst: INST,
      scan: { pagesRead: 3, tasksRead: 30, complete: false, stoppedBecause: 'max-pages', order: 'desc' },
      behindMs: H,
      newFailures: 2,
      watched: 1,
      rechecks: 0,
      gone: [],
    });
    expect(r.cursor).toMatchObject({ top: T0 - MIN, watching: 1 });
    expect(r.notice).toBeUndefined();
  });

  it('says alerting sees the instance again after it had told the channels it was blind', () => {
    const r = readReport(
      observation({ prev: { gaps: [], health: blind } }),
      { scan: scan(), recheckBehindMs: 0 },
      settings,
    );
    expect(r.notice).toMatchObject({ kind: 'restored', since: T0 - H, runs: 4 });
    expect(r.cursor).not.toHaveProperty('health');
  });

  it('says how far behind the re-checks are', () => {
    const r = readReport(observation(), { scan: scan(), recheckBehindMs: 7 * MIN }, settings);
    expect(r.recheckBehindMs).toBe(7 * MIN);
  });
});

describe('what a report says about the work its run could not do', () => {
  const cannot = scan({ stoppedBecause: 'repeated-page', cursor: { top: T0 - MIN, gaps: [], order: 'desc' } });
  const lagging = { since: T0 - H, runs: LIST_UNFINISHED_RUNS - 1, announced: false };

  it('raises the notice of a condition that reached its threshold, and keeps it in the cursor as announced', () => {
    const o = observation({ prev: { gaps: [], lags: { 'list-unfinished': lagging } } });
    const r = readReport(o, { scan: cannot, recheckBehindMs: 0 }, settings);
    expect(r.lagNotices).toEqual([
      expect.objectContaining({
        kind: 'blind',
        condition: 'list-unfinished',
        since: T0 - H,
        stoppedBecause: 'repeated-page',
      }),
    ]);
    expect(r.cursor?.lags).toEqual({
      'list-unfinished': { ...lagging, runs: LIST_UNFINISHED_RUNS, announced: true, recent: [{ at: T0, ms: 0 }] },
    });
  });

  it('reads the fields other stages set on the report: not reached, re-checks waiting', () => {
    const r = withLags(
      { ...stoppedReport({ inst: INST, found: observation().found, watched: 0 }), cursor: { gaps: [] } },
      { gaps: [], lags: { 'rechecks-behind': { since: T0 - 2 * H, runs: 3, announced: true } } },
      T0,
    );
    expect(r.lagNotices).toBeUndefined();
    const back = withLags({ ...r, recheckBehindMs: 0, unreachedRuns: 0 }, { gaps: [], lags: r.cursor?.lags }, T0);
    expect(back.lagNotices).toEqual([expect.objectContaining({ kind: 'restored', condition: 'rechecks-behind' })]);
    expect(back.cursor).toEqual({ gaps: [] });
  });

  it('writes no lag into the cursor of an instance read to its end', () => {
    const o = observation({ prev: { gaps: [] } });
    const done = scan({ complete: true, stoppedBecause: 'reached-window', cursor: { top: T0, gaps: [] } });
    const r = readReport(o, { scan: done, recheckBehindMs: 0 }, settings);
    expect(r.cursor).not.toHaveProperty('lags');
    expect(r).not.toHaveProperty('lagNotices');
  });

  it('keeps the lags of an instance that could not be read as they were (its blind notice speaks for it)', () => {
    const prev: Cursor = { gaps: [], lags: { 'list-unfinished': lagging } };
    const o = observation();
    const r = failedReport(
      { inst: INST, prev, now: T0, found: o.found, watched: 0, error: new Error('x') },
      settings,
      recordingLog(),
    );
    expect(r.cursor?.lags).toEqual(prev.lags);
    expect(r.lagNotices).toBeUndefined();
  });
});

describe('the report of an instance that could not be read', () => {
  const failed = (error: unknown, prev?: Cursor) => {
    const log = recordingLog();
    const o = observation();
    const r = failedReport({ inst: INST, prev, now: T0, found: o.found, watched: 4, error }, settings, log);
    return { r, log: log.lines };
  };

  it('keeps the cursor as it was but for its read health, and carries the error', () => {
    const err = new Error('socket hang up');
    const { r, log } = failed(err, PREV);
    expect(r.cursor).toEqual({
      ...PREV,
      health: { since: T0, runs: 1, lastError: 'Error: socket hang up', announced: false },
    });
    expect(r).toMatchObject({ error: err, watched: 4, behindMs: H });
    expect(log.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'could not read sync tasks; this instance is retried next run'],
    ]);
  });

  it('logs an error when a setting is at fault', () => {
    const { log } = failed(new IntegrationError('no such instance', { service: 'cr', kind: 'config' }));
    expect(log.map((l) => l.level)).toEqual(['error']);
  });

  it('tells the channels alerting is blind there on the failing run that reaches the threshold', () => {
    const { r } = failed(new Error('denied'), { gaps: [], health: { ...blind, runs: 2, announced: false } });
    expect(r.notice).toMatchObject({ kind: 'blind', runs: 3 });
    expect(r.cursor?.health).toMatchObject({ runs: 3, announced: true });
  });
});

describe('the report of an instance whose observation was stopped', () => {
  it('has no cursor to store, and keeps what was found before the stop', () => {
    const o = observation();
    o.found.newFailures = 1;
    const r = stoppedReport({ inst: INST, prev: PREV, found: o.found, watched: 3 });
    expect(r).toStrictEqual({
      inst: INST,
      behindMs: H,
      reasons: o.found.reasons,
      newFailures: 1,
      watched: 3,
      rechecks: 0,
      gone: [],
    });
  });
});

describe('what a scan logs', () => {
  it('says nothing of a complete read of a sound list', () => {
    const log = recordingLog();
    logScan(INST, scan({ complete: true }), log);
    expect(log.lines).toEqual([]);
  });

  it('warns of each malformed task, of an incomplete read, and of times it cannot trust', () => {
    const log = recordingLog();
    logScan(
      INST,
      scan({ dropped: ['no TaskId'], anomalies: { futureTimes: 1, secondsTimes: 0, repeatedPages: 0 } }),
      log,
    );
    expect(log.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'skipped a malformed sync task'],
      ['warn', 'the scan stopped before reading everything new; the next run continues where it stopped'],
      ['warn', 'the task list said something it cannot mean; those times never move the watermark'],
    ]);
    expect(log.lines[1]!.fields).toEqual({ instance: INST.key, because: 'max-pages', pages: 3 });
  });
});
