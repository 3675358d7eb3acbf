import type { Reason } from '../detect/detect.js';
import type { InstanceOutcome } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';

export type Outcome = 'completed' | 'nothing-new' | 'locked' | 'lost-race' | 'dry-run';

export interface InstanceSummary {
  instance: string;
  pages: number;
  tasks: number;
  newFailures: number;
  complete: boolean;
  order?: string;
  error?: string;
}

export interface RunSummary {
  outcome: Outcome;
  runId: string;
  dryRun: boolean;
  tasksScanned: number;
  /** New failed tasks found by this run (failures that already recovered count under `recovered`). */
  failuresFound: number;
  recovered: number;
  stuck: number;
  /** Alerts a silence kept from the channels (logged and tallied, not sent). */
  muted: number;
  /** Alerts of every kind accepted, by target: "dingtalk" and "slack" on the default route, "route/channel" on others. */
  notified: Record<string, number>;
  /** Alerts still waiting for some channel after this run. */
  pendingDelivery: number;
  skipped: { alreadyAnnounced: number; beforeWindow: number; stillRunning: number; succeeded: number; canceled: number; unknownStatus: number; heldTransient: number };
  instances: InstanceSummary[];
  apiCalls: { cr: number; stateReads: number; stateWrites: number; webhookPosts: number };
  problems: string[];
  durationMs: number;
}

/** What a summary says about the run itself, and the calls it made so far. */
export interface SummaryContext {
  runId: string;
  dryRun: boolean;
  startedAt: number;
  now: number;
  calls: { cr: number; stateReads: number; stateWrites: number };
}

/** The run summary the handler returns and logs; `extra` fills in what only the end of the run knows. */
export function buildSummary(
  run: SummaryContext,
  outcome: Outcome,
  outcomes: readonly InstanceOutcome[],
  problems: string[],
  extra: Partial<RunSummary>,
  webhookPosts: number,
): RunSummary {
  const reasons = (r: Reason) => outcomes.reduce((n, o) => n + (o.detection?.reasons[r] ?? 0), 0);
  return {
    outcome,
    runId: run.runId,
    dryRun: run.dryRun,
    tasksScanned: outcomes.reduce((n, o) => n + (o.scan?.tasks.length ?? 0), 0),
    failuresFound: 0,
    recovered: outcomes.reduce((n, o) => n + (o.detection?.recoveries.length ?? 0), 0),
    stuck: outcomes.reduce((n, o) => n + (o.detection?.stuck.length ?? 0), 0),
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
    },
    instances: outcomes.map((o) => ({
      instance: o.inst.key,
      pages: o.scan?.pagesRead ?? 0,
      tasks: o.scan?.tasks.length ?? 0,
      newFailures: o.detection?.failures.length ?? 0,
      complete: o.scan?.complete ?? false,
      order: o.scan?.order,
      error: o.error === undefined ? undefined : describeError(o.error),
    })),
    apiCalls: { ...run.calls, webhookPosts },
    problems,
    durationMs: run.now - run.startedAt,
    ...extra,
  };
}
