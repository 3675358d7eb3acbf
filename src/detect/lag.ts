import type { LagCondition, MonitorAlert } from '../model/alert.js';
import type { Lag } from '../model/state.js';

/** Runs in a row an instance may go unread before the channels are told: 30 min at the 5-minute timer. */
export const NOT_REACHED_AFTER_RUNS = 6;
/**
 * How long a due re-check may wait past its time before the channels are told. Cleared once the longest wait is under
 * half of it, so a wait hovering around the threshold does not raise and clear by turns.
 */
export const RECHECKS_BEHIND_MS = 3_600_000;
/** A backlog whose unread history is not smaller than this many runs ago is not being worked down (30 min). */
export const BACKLOG_RUNS = 6;
/**
 * Unread history below this is not a backlog worth a notice: a busy list read in budgeted runs leaves a few minutes
 * unread each run and reads them the next, so the measure wanders up and down at that scale without anything held up.
 */
export const BACKLOG_MIN_MS = 30 * 60_000;
/** Runs in a row the task list may stop short of its end for a reason a backlog does not explain (30 min). */
export const LIST_UNFINISHED_RUNS = 6;

/** What one run's report says about the work it could not do on an instance. */
export interface LagSignals {
  /** Consecutive runs that did not reach the instance; 0 or absent when it was read this run. */
  unreachedRuns?: number;
  /** How long the longest-waiting due re-check has waited past its time; absent when not known this run. */
  recheckBehindMs?: number;
  /** Unread task history within the window (0 when caught up). */
  behindMs: number;
  scan?: { pagesRead: number; tasksRead: number; complete: boolean; stoppedBecause: string };
}

/** One instance's lags as the cursor carries them, what this run observed, and when. */
export interface LagInput {
  instance: string;
  prev: Readonly<Record<string, Lag>> | undefined;
  signals: LagSignals;
  now: number;
}

/** What a condition says this run: it holds (and since when, how far), it is over, or nothing is known. */
type Verdict =
  | { holds: true; due: boolean; since?: number; behindMs?: number; stoppedBecause?: string; recent?: Lag['recent'] }
  | { holds: false }
  | undefined;

/**
 * Tracks each condition that keeps runs from their work on an instance (see `LagCondition`). Pure. A condition that
 * has held for its threshold raises one `blind` notice naming it; when it stops holding after that, one `restored`
 * notice; one that clears before its threshold raises nothing. A condition this run says nothing about (the instance
 * was not read, the input is absent) is kept as it was. Returns the lags to keep (undefined when none holds) and the
 * notices. Ids name the condition and when it began, so a run that claims a notice and dies before saving its cursor
 * raises the same id again and the claim finds it claimed.
 */
export function updateLags(input: LagInput): { lags?: Record<string, Lag>; notices: MonitorAlert[] } {
  const { instance, now, signals } = input;
  const prev = input.prev ?? {};
  const next: Record<string, Lag> = {};
  const notices: MonitorAlert[] = [];
  const list = listUnfinished(prev['list-unfinished'], signals, now);
  // A list stopped short by itself is told as such, not also as a backlog: the backlog check waits meanwhile.
  const backlog = list?.holds
    ? { verdict: undefined, recent: [] }
    : backlogVerdict(prev['backlog-growing'], signals, now);
  const verdicts: [LagCondition, Verdict][] = [
    ['not-reached', notReached(signals)],
    ['rechecks-behind', rechecksBehind(signals, now)],
    ['backlog-growing', backlog.verdict],
    ['list-unfinished', list],
  ];
  // What the backlog and list checks compare with next run, kept with their lags.
  const measures: Partial<Record<LagCondition, Lag['recent']>> = {
    'backlog-growing': backlog.recent,
    'list-unfinished': list?.holds ? list.recent : undefined,
  };
  for (const [condition, verdict] of verdicts) {
    const was = prev[condition];
    const { lag, notice } = step({ condition, instance, now, was, verdict });
    const recent = measures[condition];
    const kept = recent ? withRecent(lag, recent, now) : lag;
    if (kept) next[condition] = kept;
    if (notice) notices.push(notice);
  }
  return { ...(Object.keys(next).length > 0 ? { lags: next } : {}), notices };
}

/** Not reached for NOT_REACHED_AFTER_RUNS runs in a row; over once it was read. */
function notReached(s: LagSignals): Verdict {
  if (!s.unreachedRuns) return s.scan && s.scan.pagesRead > 0 ? { holds: false } : undefined;
  return { holds: true, due: s.unreachedRuns >= NOT_REACHED_AFTER_RUNS };
}

/** A due re-check waited RECHECKS_BEHIND_MS past its time; over once the longest wait is under half of it. */
function rechecksBehind(s: LagSignals, now: number): Verdict {
  const ms = s.recheckBehindMs;
  if (ms === undefined) return undefined;
  if (ms >= RECHECKS_BEHIND_MS) return { holds: true, due: true, since: now - ms, behindMs: ms };
  return ms < RECHECKS_BEHIND_MS / 2 ? { holds: false } : undefined;
}

/**
 * A backlog (unread history of at least BACKLOG_MIN_MS) not smaller than BACKLOG_RUNS runs ago; over once it is
 * caught up, smaller than then, or under BACKLOG_MIN_MS. Keeps this run's measure and the BACKLOG_RUNS before it to
 * compare with; a run that read nothing adds none.
 */
function backlogVerdict(
  was: Lag | undefined,
  s: LagSignals,
  now: number,
): { verdict: Verdict; recent: { at: number; ms: number }[] } {
  const recent = was?.recent ?? [];
  if (!s.scan || s.scan.pagesRead === 0) return { verdict: undefined, recent };
  if (s.behindMs <= 0) return { verdict: { holds: false }, recent: [] };
  const kept = [...recent, { at: now, ms: s.behindMs }].slice(-(BACKLOG_RUNS + 1));
  const then = kept.length > BACKLOG_RUNS ? kept[0]! : undefined;
  const shrinking = !then || s.behindMs < then.ms || s.behindMs < BACKLOG_MIN_MS;
  if (shrinking) return { verdict: { holds: false }, recent: kept };
  return { verdict: { holds: true, due: true, since: then.at, behindMs: s.behindMs }, recent: kept };
}

/** Why a scan stops short of its end that is the list's doing or the page cap's, not the run's time. */
const LIST_STOPS: ReadonlySet<string> = new Set(['max-pages', 'repeated-page']);

/**
 * The list stopped short of its end, and no nearer to it than the run before, for a reason that is not the run's time
 * (that is the backlog check's): the page cap, a repeated page, pages that held no task, or nothing left unread to
 * measure (the order is unknown, so no stretch was kept). A backlog being worked down (its unread history smaller
 * each run) is quiet. Over once a scan reads the list to its end, or gets nearer to it, or stops for time.
 */
function listUnfinished(was: Lag | undefined, s: LagSignals, now: number): Verdict {
  const scan = s.scan;
  if (!scan || scan.pagesRead === 0) return undefined;
  const short = !scan.complete && (LIST_STOPS.has(scan.stoppedBecause) || scan.tasksRead === 0 || s.behindMs <= 0);
  const last = was?.recent?.[0]?.ms;
  if (!short || (last !== undefined && s.behindMs < last)) return { holds: false };
  return {
    holds: true,
    due: (was?.runs ?? 0) + 1 >= LIST_UNFINISHED_RUNS,
    stoppedBecause: scan.stoppedBecause,
    recent: [{ at: now, ms: s.behindMs }],
  };
}

/** One condition's next lag and notice, from what it was and this run's verdict. */
function step(o: { condition: LagCondition; instance: string; now: number; was: Lag | undefined; verdict: Verdict }): {
  lag?: Lag;
  notice?: MonitorAlert;
} {
  const { condition, instance, now, was, verdict } = o;
  if (verdict === undefined) return was ? { lag: was } : {};
  if (!verdict.holds) {
    if (!was?.announced) return {};
    const id = `${instance}/${condition}/${was.since}/cleared`;
    return { notice: { kind: 'restored', id, instance, condition, since: was.since, at: now, runs: was.runs } };
  }
  const lag = held(was, verdict.since ?? now);
  if (lag.announced || !verdict.due) return { lag };
  const notice: MonitorAlert = {
    kind: 'blind',
    id: `${instance}/${condition}/${lag.since}`,
    instance,
    condition,
    since: lag.since,
    at: now,
    runs: lag.runs,
    ...(verdict.behindMs !== undefined ? { behindMs: verdict.behindMs } : {}),
    ...(verdict.stoppedBecause !== undefined ? { stoppedBecause: verdict.stoppedBecause } : {}),
  };
  return { lag: { ...lag, announced: true }, notice };
}

/** A condition's lag after one more run it held; a new one began at `since`. */
function held(was: Lag | undefined, since: number): Lag {
  // A backlog's lag is kept before it holds, with no run counted: it begins when it first holds.
  if (!was || was.runs === 0) return { since, runs: 1, announced: false };
  return { since: was.since, runs: was.runs + 1, announced: was.announced };
}

/** A lag with the measures its check compares next run; the backlog's is kept before it holds, with no run counted. */
function withRecent(lag: Lag | undefined, recent: { at: number; ms: number }[], now: number): Lag | undefined {
  if (recent.length === 0) return lag;
  return { ...(lag ?? { since: recent[0]?.at ?? now, runs: 0, announced: false }), recent };
}
