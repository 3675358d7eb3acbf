import type { SyncRule, SyncTask } from './task.js';

/** What an alert keeps of its sync rule: what a message names, not its filters (thousands may be owed at once). */
export type AlertRule = Pick<SyncRule, 'ruleId' | 'name' | 'scope' | 'trigger'>;

/** One failed sync task to announce. `rule` is absent when the rule could not be read. */
export interface FailureAlert {
  /** Absent in state written before other kinds existed. */
  kind?: 'failure';
  /** `regionId:instanceId/taskId`: unique across instances. */
  id: string;
  instance: string;
  task: SyncTask;
  rule?: AlertRule;
}

/**
 * What keeps a run from doing its work on an instance, short of not being able to read it at all (that is `blind`):
 * it was not reached for runs in a row; due re-checks of watched syncs wait too long; the unread backlog does not
 * shrink; the task list cannot be read to its end.
 */
export type LagCondition = 'not-reached' | 'rechecks-behind' | 'backlog-growing' | 'list-unfinished';

/**
 * A notice about alerting itself. Without `condition`: the function cannot read an instance (`blind`), or can again
 * (`restored`). With one: the run cannot do its work there for that reason (`blind`), or can again (`restored`). A
 * notice stored before conditions existed has none and reads as before.
 */
export interface MonitorAlert {
  kind: 'blind' | 'restored';
  id: string;
  instance: string;
  /** When reading the instance started failing, or when the condition began. */
  since: number;
  /** When this notice was raised. */
  at: number;
  /** Consecutive runs that could not read the instance, or that the condition held. */
  runs: number;
  /** The last error, secret-free (for `blind`). */
  error?: string;
  condition?: LagCondition;
  /** How far behind, in ms: unread task history (`backlog-growing`), the longest re-check wait (`rechecks-behind`). */
  behindMs?: number;
  /** Why the last scan stopped (`list-unfinished`). */
  stoppedBecause?: string;
}

/** A sync task that ran too long (`stuck`) or finished after being announced stuck (`unstuck`). */
export interface StuckAlert {
  kind: 'stuck' | 'unstuck';
  id: string;
  instance: string;
  task: SyncTask;
  rule?: AlertRule;
  at: number;
}

/** An image announced as failing synced fine again; or failed and recovered between two runs. */
export interface RecoveryAlert {
  kind: 'recovered';
  id: string;
  instance: string;
  /** The successful task. */
  task: SyncTask;
  rule?: AlertRule;
  failedTaskId: string;
  issue: string;
  /** CreateTime of the first failure. */
  since: number;
  /** True when the failure itself was never announced: it failed and recovered between two runs. */
  unannounced: boolean;
}

/** A periodic summary: what failed since the last digest, what recovered, what is still failing. */
export interface DigestAlert {
  kind: 'digest';
  id: string;
  instance: string;
  /** The route it summarises; absent for the default route. */
  route?: string;
  since: number;
  at: number;
  byCause: Record<string, number>;
  topRepos: [string, number][];
  recoveries: number;
  meanRecoveryMs?: number;
  /** Images still failing whose failure was announced. */
  stillFailing: number;
  /** Images still failing whose every failure a silence muted: never announced, so counted apart. */
  silencedFailing?: number;
  /** Oldest first: where, since when, why, and (when the state knows them) which image and which target. */
  oldestFailing: {
    instance: string;
    since: number;
    issue: string;
    taskId: string;
    image?: string;
    target?: string;
    rule?: string;
  }[];
  muted: Record<string, number>;
  /** Silences not expired when it was built (at most a few listed), and how many there are in all. */
  silences?: SilenceNote[];
  silencesTotal?: number;
}

/** A silence as a digest lists it: what it matches, until when or in which daily window, who added it and why. */
export interface SilenceNote {
  /** Stored silences only: the id `silence expire` takes. */
  id?: string;
  /** Matcher fields and their patterns, in a fixed order. */
  matches: [string, string[]][];
  comment?: string;
  createdBy?: string;
  until?: number;
  daily?: string;
  timezone?: string;
}

export type Alert = FailureAlert | MonitorAlert | StuckAlert | RecoveryAlert | DigestAlert;

export const isFailure = (a: Alert): a is FailureAlert => a.kind === undefined || a.kind === 'failure';

/** Alerts about one sync task (failure, recovery, stuck); the others are about the function itself or a period. */
export type TaskAlert = Exclude<Alert, MonitorAlert | DigestAlert>;
export const aboutTask = (a: Alert): a is TaskAlert =>
  a.kind !== 'blind' && a.kind !== 'restored' && a.kind !== 'digest';
