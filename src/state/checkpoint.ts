import type { Order } from '../acr/scan.js';
import type { SyncRule, SyncTask } from '../acr/types.js';

/** A task last seen not finished; it is re-read until it settles, so a later failure is still caught. */
export interface OpenTask {
  createTime: number;
  status: string;
  firstSeen: number;
  /** Set once it was announced as stuck. */
  stuck?: boolean;
}

/** An image (rule + target repo:tag) announced as failing, until a later sync of it succeeds. */
export interface FailingImage {
  /** CreateTime of the first failure since it last worked. */
  since: number;
  lastFailure: number;
  taskId: string;
  issue: string;
  /** Failures counted in the current window (transient causes), and when that window opened. */
  count?: number;
  windowStart?: number;
  /** A transient failure held back until it repeats or persists; absent once announced. */
  held?: SyncTask;
  /** The route its failure went to, whose digest lists it as still failing; absent for the default route. */
  route?: string;
}

/** Per instance: how far the task list has been read, and what in it still needs watching. */
export interface InstanceCursor {
  /** Newest CreateTime read with a complete scan. */
  watermark: number;
  /** The order the API returned tasks in last time, and the list's size: lets the next run read one page. */
  order?: Order;
  total?: number;
  open: Record<string, OpenTask>;
  /** Failed tasks already taken into the outbox (task id -> CreateTime), kept while they can be re-read. */
  handled: Record<string, number>;
  /** Images announced as failing, by `imageKey`, to announce their recovery. */
  failing?: Record<string, FailingImage>;
}

/** One failed sync task to announce. `rule` is absent when the rule could not be read. */
export interface FailureAlert {
  /** Absent in checkpoints written before other kinds existed. */
  kind?: 'failure';
  /** `regionId:instanceId/taskId`: unique across instances. */
  id: string;
  instance: string;
  task: SyncTask;
  rule?: SyncRule;
}

/** The function itself cannot see an instance (`blind`), or can again (`restored`). */
export interface MonitorAlert {
  kind: 'blind' | 'restored';
  id: string;
  instance: string;
  /** When reading the instance started failing. */
  since: number;
  /** When this notice was raised. */
  at: number;
  /** Consecutive runs that could not read the instance. */
  runs: number;
  /** The last error, secret-free (for `blind`). */
  error?: string;
}

/** A sync task that ran too long (`stuck`) or finished after being announced stuck (`unstuck`). */
export interface StuckAlert {
  kind: 'stuck' | 'unstuck';
  id: string;
  instance: string;
  task: SyncTask;
  rule?: Pick<SyncRule, 'ruleId' | 'name' | 'scope'>;
  at: number;
}

/** An image announced as failing synced fine again; or failed and recovered between two runs. */
export interface RecoveryAlert {
  kind: 'recovered';
  id: string;
  instance: string;
  /** The successful task. */
  task: SyncTask;
  rule?: Pick<SyncRule, 'ruleId' | 'name' | 'scope'>;
  failedTaskId: string;
  issue: string;
  /** CreateTime of the first failure. */
  since: number;
  /** True when the failure itself was never announced: it failed and recovered between two runs. */
  unannounced: boolean;
}

/** Running statistics for the next digest. */
export interface DigestStats {
  since: number;
  byCause: Record<string, number>;
  byRepo: Record<string, number>;
  recoveries: number;
  recoveryMs: number;
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
  stillFailing: number;
  oldestFailing: { instance: string; since: number; issue: string; taskId: string }[];
  muted: Record<string, number>;
}

export type Alert = FailureAlert | MonitorAlert | StuckAlert | RecoveryAlert | DigestAlert;

export const isFailure = (a: Alert): a is FailureAlert => a.kind === undefined || a.kind === 'failure';

/** Consecutive runs that could not read an instance's tasks. */
export interface InstanceHealth {
  since: number;
  runs: number;
  lastError: string;
  /** Whether the blind notice went into the outbox. */
  announced: boolean;
}

/**
 * A channel that refused for good (a wrong token, a deleted channel) or asked us to back off: its alerts wait until
 * `until`, or until its configuration changes (`fingerprint` differs), instead of being re-sent every run.
 */
export interface ChannelPause {
  until: number;
  error: string;
  fingerprint: string;
}

/** An alert with the targets (route channels, see `targetId`) it has not reached yet; it leaves when all took it. */
export interface OutboxEntry {
  alert: Alert;
  pending: string[];
  detectedAt: number;
  attempts: number;
  lastError?: string;
}

/** Held by the run that is sending; others keep away until it is released or expires. */
export interface Lease {
  owner: string;
  until: number;
}

export interface Checkpoint {
  schema: 1;
  instances: Record<string, InstanceCursor>;
  outbox: OutboxEntry[];
  lease?: Lease;
  health?: Record<string, InstanceHealth>;
  /** Paused delivery targets, by target id. */
  channels?: Record<string, ChannelPause>;
  /** Per route: what its next digest will report, and when it last sent one. */
  digests?: Record<string, RouteDigest>;
}

/** A route's statistics since its last digest, and what silences kept from it in that time, by cause. */
export interface RouteDigest {
  stats: DigestStats;
  lastSentAt?: number;
  muted?: { since: number; byCause: Record<string, number> };
}

/** A checkpoint as stored, with the version its next conditional write must match (0: never written). */
export interface Versioned {
  checkpoint: Checkpoint;
  version: number;
}

export const emptyCheckpoint = (): Checkpoint => ({ schema: 1, instances: {}, outbox: [] });

/** Tasks can show up in the list after newer ones; re-read this far below the newest time seen. */
export const OVERLAP_MS = 5 * 60_000;
/** A task unfinished for longer than this stops being watched (it is logged). */
export const OPEN_MAX_AGE_MS = 3 * 24 * 3_600_000;
/** An alert no channel accepted for this long is given up, with an error log and a count in the summary. */
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 3_600_000;

/**
 * The oldest CreateTime the next scan must reach: a little below the newest task seen, and low enough to re-read
 * every task still being watched. Without a cursor (first run) it is the look-back window.
 */
export function lowerBound(cursor: InstanceCursor | undefined, now: number, lookbackMs: number): number {
  if (!cursor) return now - lookbackMs;
  let lb = cursor.watermark - OVERLAP_MS;
  for (const t of Object.values(cursor.open)) lb = Math.min(lb, t.createTime);
  return lb;
}

/** True when a lease held by someone else is still in force. */
export function heldByOther(lease: Lease | undefined, me: string, now: number): boolean {
  return lease !== undefined && lease.owner !== me && lease.until > now;
}

/** JSON with object keys sorted: equal for equal data however it was built or parsed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
