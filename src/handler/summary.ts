import type { Reason } from '../detect/detect.js';
import type { InstanceReport } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';
import type { Delivered } from '../notify/after-delivery.js';
import type { DeliveryPlan } from '../notify/delivery.js';

export type Outcome = 'completed' | 'nothing-new' | 'locked' | 'lost-race' | 'dry-run';

export interface InstanceSummary {
  instance: string;
  pages: number;
  tasks: number;
  newFailures: number;
  /**
   * True when everything within the window has been read; otherwise the next run goes on from where this one
   * stopped.
   */
  complete: boolean;
  /** Minutes of task history inside the window still unread (0 when caught up); shrinks run by run in a backlog. */
  behindMinutes: number;
  order?: string;
  /** Syncs being watched, and the CR calls that re-checked them (targeted calls and pages read back). */
  watched: number;
  rechecks: number;
  /** Minutes the longest-waiting due re-check of a watched sync waited past its time (absent when none waited). */
  recheckBehindMinutes?: number;
  /** CreateTimes not trusted (ahead of the clock, in seconds) and pages that repeated the one before. */
  anomalies?: { futureTimes: number; secondsTimes: number; repeatedPages: number };
  error?: string;
}

export interface RunSummary {
  outcome: Outcome;
  runId: string;
  dryRun: boolean;
  tasksScanned: number;
  /** New failed tasks announced by this run (failures that already recovered count under `recovered`). */
  failuresFound: number;
  recovered: number;
  stuck: number;
  /** Alerts a silence kept from the channels (logged and tallied, not sent). */
  muted: number;
  /**
   * Alerts of every kind accepted, by target: "dingtalk" and "slack" on the default route, "route/channel" on
   * others.
   */
  notified: Record<string, number>;
  /** Alerts still owed to a channel after this run. */
  stillOwed: number;
  /**
   * Alerts no rendering could deliver, by target (only targets that had one): taken off what is owed, each told to
   * its channel in a one-line notice and logged with the platform's answer.
   */
  quarantined: Record<string, number>;
  skipped: {
    alreadyAnnounced: number;
    beforeWindow: number;
    stillRunning: number;
    succeeded: number;
    canceled: number;
    unknownStatus: number;
    heldTransient: number;
    watchLimit: number;
  };
  instances: InstanceSummary[];
  /**
   * Instances this run read at least one page of, of those it reports on (every configured one, but in a run that
   * lost the race for the lease): the rest ran out of time and are read first next run.
   */
  reach: { read: number; configured: number };
  /**
   * What keeps runs from their work, per instance and condition, once its notice went out (see `LagCondition`): since
   * when it holds. Absent when nothing does.
   */
  behind?: { instance: string; condition: string; since: string }[];
  apiCalls: {
    cr: number;
    stateReads: number;
    stateWrites: number;
    rowsWritten: number;
    bytesWritten: number;
    webhookPosts: number;
  };
  problems: string[];
  durationMs: number;
}

/** What a summary says about the run itself, and the calls it made so far. */
export interface SummaryContext {
  runId: string;
  dryRun: boolean;
  startedAt: number;
  now: number;
  calls: { cr: number; stateReads: number; stateWrites: number; rowsWritten: number; bytesWritten: number };
}

/** What a summary is built from. */
export interface SummaryParts {
  run: SummaryContext;
  outcome: Outcome;
  reports: readonly InstanceReport[];
  problems: string[];
  /** What only the end of the run knows (counts, deliveries), over the defaults. */
  extra: Partial<RunSummary>;
  webhookPosts: number;
}

/** The run summary the handler returns and logs. Pure. */
export function buildSummary({ run, outcome, reports, problems, extra, webhookPosts }: SummaryParts): RunSummary {
  const reasons = (r: Reason) => reports.reduce((n, o) => n + (o.reasons[r] ?? 0), 0);
  return {
    outcome,
    runId: run.runId,
    dryRun: run.dryRun,
    tasksScanned: reports.reduce((n, o) => n + (o.scan?.tasksRead ?? 0), 0),
    failuresFound: 0,
    recovered: 0,
    stuck: 0,
    muted: 0,
    notified: {},
    stillOwed: 0,
    quarantined: {},
    skipped: {
      alreadyAnnounced: reasons('already-announced'),
      beforeWindow: reasons('before-window'),
      stillRunning: reasons('still-running'),
      succeeded: reasons('succeeded'),
      canceled: reasons('canceled'),
      unknownStatus: reasons('unknown-status'),
      heldTransient: reasons('held-transient'),
      watchLimit: reasons('watch-limit'),
    },
    instances: reports.map((o) => ({
      instance: o.inst.key,
      pages: o.scan?.pagesRead ?? 0,
      tasks: o.scan?.tasksRead ?? 0,
      newFailures: o.newFailures,
      complete: o.scan?.complete ?? false,
      behindMinutes: Math.round(o.behindMs / 60_000),
      order: o.scan?.order,
      watched: o.watched,
      rechecks: o.rechecks,
      ...(o.recheckBehindMs ? { recheckBehindMinutes: Math.round(o.recheckBehindMs / 60_000) } : {}),
      ...(o.scan && o.scan.anomalies.futureTimes + o.scan.anomalies.secondsTimes + o.scan.anomalies.repeatedPages > 0
        ? { anomalies: o.scan.anomalies }
        : {}),
      ...(o.error === undefined ? {} : { error: describeError(o.error) }),
    })),
    reach: reachOf(reports),
    ...behindOf(reports),
    apiCalls: { ...run.calls, webhookPosts },
    problems,
    durationMs: run.now - run.startedAt,
    ...extra,
  };
}

/** How many of the instances reported on were read (at least one page). */
export const reachOf = (reports: readonly InstanceReport[]): RunSummary['reach'] => ({
  read: reports.filter((r) => (r.scan?.pagesRead ?? 0) > 0).length,
  configured: reports.length,
});

/** The conditions announced as keeping runs from their work, by instance, from the cursors the run leaves. */
function behindOf(reports: readonly InstanceReport[]): Pick<RunSummary, 'behind'> {
  const behind = reports.flatMap((r) =>
    Object.entries(r.cursor?.lags ?? {}).flatMap(([condition, lag]) =>
      lag.announced ? [{ instance: r.inst.key, condition, since: new Date(lag.since).toISOString() }] : [],
    ),
  );
  return behind.length > 0 ? { behind } : {};
}

/** A summary's problem line for a channel paused until `until` after `error`. */
export const pausedProblem = (channel: string, until: number, error: string): string =>
  `${channel}: paused until ${new Date(until).toISOString()} after: ${error}`;

/**
 * What a delivery says in the summary: alerts each target accepted, webhook posts that carried a message, and
 * problems (a failed or refused post, a paused channel, alerts given up), in target order.
 */
export function deliverySummary(
  results: ReadonlyMap<string, Delivered>,
  due: DeliveryPlan['due'],
): { notified: Record<string, number>; quarantined: Record<string, number>; posts: number; problems: string[] } {
  const notified: Record<string, number> = {};
  const quarantined: Record<string, number> = {};
  const problems: string[] = [];
  let expired = 0;
  for (const [target, r] of results) {
    notified[target] = r.delivered;
    expired += r.expired;
    if (r.quarantined) {
      quarantined[target] = r.quarantined;
      problems.push(`${target}: ${r.quarantined} alerts no rendering could deliver were quarantined (see the log)`);
    }
    if (r.error) problems.push(r.pause ? pausedProblem(target, r.pause.until, r.error) : `${target}: ${r.error}`);
  }
  for (const d of due) if (d.paused) problems.push(pausedProblem(d.target.id, d.paused.until, d.paused.error));
  if (expired > 0) problems.push(`${expired} alerts were given up after 7 days undelivered`);
  const posts = [...results.values()].reduce((n, r) => n + (r.posts ?? (r.delivered > 0 ? 1 : 0)), 0);
  return { notified, quarantined, posts, problems };
}
