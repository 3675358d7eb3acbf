import type { Reason } from '../detect/detect.js';
import type { InstanceReport } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';

export type Outcome = 'completed' | 'nothing-new' | 'locked' | 'lost-race' | 'dry-run';

export interface InstanceSummary {
  instance: string;
  pages: number;
  tasks: number;
  newFailures: number;
  /** True when everything within the window has been read; otherwise the next run goes on from where this one stopped. */
  complete: boolean;
  /** Minutes of task history inside the window still unread (0 when caught up); shrinks run by run in a backlog. */
  behindMinutes: number;
  order?: string;
  /** Syncs being watched, and the targeted calls that re-checked them. */
  watched: number;
  rechecks: number;
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
  /** Alerts of every kind accepted, by target: "dingtalk" and "slack" on the default route, "route/channel" on others. */
  notified: Record<string, number>;
  /** Alerts still waiting for a channel after this run. */
  pendingDelivery: number;
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

/** The run summary the handler returns and logs; `extra` fills in what only the end of the run knows. */
export function buildSummary(
  run: SummaryContext,
  outcome: Outcome,
  reports: readonly InstanceReport[],
  problems: string[],
  extra: Partial<RunSummary>,
  webhookPosts: number,
): RunSummary {
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
    pendingDelivery: 0,
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
      ...(o.scan && o.scan.anomalies.futureTimes + o.scan.anomalies.secondsTimes + o.scan.anomalies.repeatedPages > 0
        ? { anomalies: o.scan.anomalies }
        : {}),
      ...(o.error === undefined ? {} : { error: describeError(o.error) }),
    })),
    apiCalls: { ...run.calls, webhookPosts },
    problems,
    durationMs: run.now - run.startedAt,
    ...extra,
  };
}
