import type { Alert } from './alert.js';
import type { SyncTask } from './task.js';

/** The order the API returned tasks in, by CreateTime. The API does not document one, so it is observed. */
export type Order = 'desc' | 'asc' | 'unknown';

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

/** Running statistics for the next digest. */
export interface DigestStats {
  since: number;
  byCause: Record<string, number>;
  byRepo: Record<string, number>;
  recoveries: number;
  recoveryMs: number;
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
