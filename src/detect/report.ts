import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { MonitorAlert } from '../model/alert.js';
import type { Cursor } from '../model/state.js';
import type { InstanceRef } from '../model/task.js';
import type { Reason } from './detect.js';
import { updateHealth } from './health.js';
import { updateLags } from './lag.js';
import type { Findings, Observation } from './judge.js';
import type { ScanResult } from './scan.js';

/** What a run learned about one instance, once all its chunks were judged. */
export interface InstanceReport {
  inst: InstanceRef;
  /** The cursor to store, when it changed. */
  cursor?: Cursor;
  scan?: Pick<ScanResult, 'pagesRead' | 'tasksRead' | 'complete' | 'stoppedBecause' | 'anomalies'> & { order?: string };
  /** Time since the oldest task still unread within the window (0 when caught up). */
  behindMs: number;
  reasons: Record<Reason, number>;
  newFailures: number;
  watched: number;
  /** CR calls spent re-checking watched syncs: targeted calls and pages read back. */
  rechecks: number;
  /**
   * How long the longest-waiting due re-check of a watched sync has waited past the time it fell due, in ms: 0 when
   * every due re-check was made; absent when the instance was not read.
   */
  recheckBehindMs?: number;
  /** Watched syncs no longer found, so no longer watched. */
  gone: string[];
  /** Alerting's own sight of the instance changed: blind, or restored. */
  notice?: MonitorAlert;
  /** Consecutive runs that did not reach the instance; 0 or absent when it was read this run. */
  unreachedRuns?: number;
  /** Conditions that keep runs from their work here began or ended (see `updateLags`): one notice each. */
  lagNotices?: MonitorAlert[];
  error?: unknown;
}

/** What the run's settings say about reporting on an instance. */
export interface ReportSettings {
  /** Consecutive runs that cannot read an instance before the channels are told alerting is blind there. */
  blindAfterRuns: number;
  stuckAfterMs: number;
}

/**
 * How much task history inside the window is still unread (the spans of the cursor's gaps), in ms: it shrinks run by
 * run while a backlog is worked down, and is 0 when caught up. (A gap ends at the window's start when where the list
 * ends is not known yet, so this is an upper bound.)
 */
export const unreadMs = (c: Cursor | undefined): number =>
  (c?.gaps ?? []).filter((g) => !g.watchOnly).reduce((n, g) => n + Math.max(0, g.hi - g.lo), 0);

/**
 * Runs in a row the cursor's instance was not reached: a cursor written before the count was kept says only that the
 * last run did not reach it (one run).
 */
export const unreachedRuns = (c: Cursor | undefined): number => c?.unreachedRuns ?? (c?.starved ? 1 : 0);

/**
 * An instance's rank in the reading order (highest first): the place it kept when last read in part, plus its runs not
 * reached since.
 */
export const readingRank = (c: Cursor | undefined): number => (c?.keptPlace ?? 0) + unreachedRuns(c);

/** The cursor's hints that only new tasks move. */
const hints = (c: Cursor | undefined): Partial<Cursor> => ({
  ...(c?.rate !== undefined ? { rate: c.rate } : {}),
  ...(c?.total !== undefined ? { total: c.total } : {}),
  ...(c?.pageSize !== undefined ? { pageSize: c.pageSize } : {}),
  ...(c?.order !== undefined ? { order: c.order } : {}),
});

/** What a read of an instance leaves for its next cursor. */
export interface AfterRead {
  prev?: Cursor;
  scan: Pick<ScanResult, 'cursor' | 'pagesRead'> & Partial<Pick<ScanResult, 'stoppedBecause'>>;
  /** Where the next read-back for re-checks goes on: null to start over, undefined to keep the last one's. */
  readBack?: Cursor['readBack'] | null;
  /** What detection keeps in the cursor, given its newest time read. */
  detection(top: number | undefined): Pick<Cursor, 'held' | 'watching' | 'seen'>;
}

/**
 * The cursor to store after an instance was read. An instance not reached at all (out of time before its first
 * page) keeps everything it knew, is marked starved and counts one more run not reached, so it goes first next run,
 * before those reached more recently (see `readingOrder`); one reached drops both. Rate and size hints move only with
 * new tasks, so a quiet run leaves the cursor as it was and writes nothing. The previous release's `recheckedAt` is
 * kept as it was (watched syncs it wrote have no time of their own), and where the re-checks' read-back stopped. A
 * read carries no health: it clears the failing-run count. Pure.
 */
export function cursorAfterRead(r: AfterRead): Cursor {
  const prev = r.prev;
  const reading: Cursor = r.scan.pagesRead > 0 ? { ...r.scan.cursor, ...keptPlaceAfter(r) } : notReached(prev);
  const readBack = r.readBack === undefined ? prev?.readBack : (r.readBack ?? undefined);
  return {
    ...reading,
    ...(reading.top === prev?.top ? hints(prev) : {}),
    ...r.detection(reading.top),
    ...(prev?.recheckedAt !== undefined ? { recheckedAt: prev.recheckedAt } : {}),
    ...(readBack ? { readBack } : {}),
  };
}

/**
 * The cursor of an instance the run did not reach: all it knew, marked to go first next run (its place kept).
 */
function notReached(prev: Cursor | undefined): Cursor {
  return {
    ...(prev?.top !== undefined ? { top: prev.top } : {}),
    gaps: prev?.gaps ?? [],
    ...hints(prev),
    starved: true,
    unreachedRuns: unreachedRuns(prev) + 1,
    ...(prev?.keptPlace ? { keptPlace: prev.keptPlace } : {}),
  };
}

/**
 * The place a read keeps in the reading order: none when the instance was read to its end (or stopped for another
 * reason than time); its rank before the read, at least 1, when the run's time ran out with history still unread.
 */
function keptPlaceAfter(r: Pick<AfterRead, 'prev' | 'scan'>): Pick<Cursor, 'keptPlace'> {
  if (r.scan.stoppedBecause !== 'budget' || unreadMs(r.scan.cursor) === 0) return {};
  return { keptPlace: Math.max(1, readingRank(r.prev)) };
}

/**
 * The report of an instance read to the end: its next cursor, what the scan read, and a `restored` notice when
 * alerting had told the channels it was blind there.
 */
export function readReport(
  o: Observation,
  read: { scan: ScanResult; readBack?: Cursor['readBack'] | null; recheckBehindMs: number },
  s: ReportSettings,
): InstanceReport {
  const { notice } = updateHealth({
    instance: o.inst.key,
    prev: o.prev?.health,
    result: { ok: true },
    now: o.now,
    blindAfterRuns: s.blindAfterRuns,
  });
  const next = cursorAfterRead({
    prev: o.prev,
    scan: read.scan,
    ...(read.readBack !== undefined ? { readBack: read.readBack } : {}),
    detection: (top) => o.detector.cursorPart(top),
  });
  const { pagesRead, tasksRead, complete, stoppedBecause, anomalies } = read.scan;
  const report: InstanceReport = {
    inst: o.inst,
    cursor: next,
    scan: { pagesRead, tasksRead, complete, stoppedBecause, anomalies, order: next.order },
    behindMs: unreadMs(next),
    ...counts(o.found, o.detector.watched.size),
    recheckBehindMs: read.recheckBehindMs,
    ...(notice ? { notice } : {}),
    ...(next.unreachedRuns ? { unreachedRuns: next.unreachedRuns } : {}),
  };
  return withLags(report, o.prev, o.now);
}

/**
 * The report with what it says about the work its run could not do (`updateLags` over its unread history, scan,
 * `unreachedRuns` and `recheckBehindMs`): the lags go in its cursor, in place of the ones `prev` had, and a notice for
 * each condition that began or ended in `lagNotices`. A report without a cursor is returned as it is. Pure.
 */
export function withLags(r: InstanceReport, prev: Cursor | undefined, now: number): InstanceReport {
  if (!r.cursor) return r;
  const { lags, notices } = updateLags({
    instance: r.inst.key,
    prev: prev?.lags,
    signals: { unreachedRuns: r.unreachedRuns, recheckBehindMs: r.recheckBehindMs, behindMs: r.behindMs, scan: r.scan },
    now,
  });
  const { lags: _, ...cursor } = r.cursor;
  return {
    ...r,
    cursor: lags ? { ...cursor, lags } : cursor,
    ...(notices.length > 0 ? { lagNotices: notices } : {}),
  };
}

/**
 * The report of an instance that could not be read: its cursor unchanged but for its read health (a `blind` notice
 * once it has failed `blindAfterRuns` runs in a row), and the error, logged as an error when it is a setting's fault.
 */
export function failedReport(
  r: { inst: InstanceRef; prev?: Cursor; now: number; found: Findings; watched: number; error: unknown },
  s: Pick<ReportSettings, 'blindAfterRuns'>,
  log: Logger,
): InstanceReport {
  const level = r.error instanceof IntegrationError && r.error.kind === 'config' ? 'error' : 'warn';
  log[level]('could not read sync tasks; this instance is retried next run', {
    instance: r.inst.key,
    error: describeError(r.error),
  });
  const h = updateHealth({
    instance: r.inst.key,
    prev: r.prev?.health,
    result: { ok: false, error: describeError(r.error) },
    now: r.now,
    blindAfterRuns: s.blindAfterRuns,
  });
  return {
    inst: r.inst,
    cursor: { ...(r.prev ?? { gaps: [] }), health: h.health },
    behindMs: unreadMs(r.prev),
    ...counts(r.found, r.watched),
    ...(h.notice ? { notice: h.notice } : {}),
    error: r.error,
  };
}

/**
 * The report of an instance whose observation was stopped (the run aborted it) between chunks: no cursor, so nothing
 * is stored and the next run reads again from where this one began; what was claimed before the stop is found
 * claimed then. Its read health is left as it was.
 */
export function stoppedReport(r: {
  inst: InstanceRef;
  prev?: Cursor;
  found: Findings;
  watched: number;
}): InstanceReport {
  return { inst: r.inst, behindMs: unreadMs(r.prev), ...counts(r.found, r.watched) };
}

const counts = (found: Findings, watched: number) => ({
  reasons: found.reasons,
  newFailures: found.newFailures,
  watched,
  rechecks: found.rechecks,
  gone: found.gone,
});

/** Logs what a scan could not do: malformed tasks skipped, an incomplete read, and times the list got wrong. */
export function logScan(inst: InstanceRef, scan: ScanResult, log: Logger): void {
  for (const d of scan.dropped) log.warn('skipped a malformed sync task', { instance: inst.key, problem: d });
  if (!scan.complete)
    log.warn('the scan stopped before reading everything new; the next run continues where it stopped', {
      instance: inst.key,
      because: scan.stoppedBecause,
      pages: scan.pagesRead,
    });
  const a = scan.anomalies;
  if (a.futureTimes + a.secondsTimes + a.repeatedPages > 0)
    log.warn('the task list said something it cannot mean; those times never move the watermark', {
      instance: inst.key,
      ...a,
    });
}
