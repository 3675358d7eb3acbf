import type { Alert } from './alert.js';
import type { SyncTask } from './task.js';

/** The order the API returned tasks in, by CreateTime. The API does not document one, so it is observed. */
export type Order = 'desc' | 'asc' | 'unknown';

/**
 * A stretch of an instance's task list not read yet: every task created after `lo` and up to `hi` (epoch ms).
 * `depth` is how many tasks stood above `hi` when the gap was left, and `total` the list's size then: together a
 * guess of where to start reading next time, which the pages read must confirm.
 */
export interface Gap {
  hi: number;
  lo: number;
  depth?: number;
  total?: number;
  /** Only unfinished syncs are wanted here: older than the first look-back, to be watched, never announced. */
  watchOnly?: boolean;
}

/** Consecutive runs that could not read an instance's tasks. */
export interface InstanceHealth {
  since: number;
  runs: number;
  lastError: string;
  /** Whether the blind notice went into the outbox. */
  announced: boolean;
}

/** Per instance: how far its task list has been read, and what else a run must look at. */
export interface Cursor {
  /** Newest CreateTime read (a time ahead of the clock never counts); the next scan reads down to a little below it. */
  top?: number;
  /** What is still unread below `top`, newest first. */
  gaps: Gap[];
  order?: Order;
  /** Tasks per page the service actually serves, when smaller than asked. */
  pageSize?: number;
  /** Tasks created per hour, as last measured from the pages read: to place a page and to price reading back. */
  rate?: number;
  /** TotalCount at the last read: a hint for placing pages, never for completeness. */
  total?: number;
  health?: InstanceHealth;
  /** Watched syncs (rows of their own), and whether a re-check can be due. */
  watching?: number;
  /** Transient failures held back, by image key, with when each began failing (announced once it persists). Bounded. */
  held?: Record<string, number>;
  /** When long-running watched syncs were last re-checked (they are re-checked every SLOW_RECHECK_MS). */
  recheckedAt?: number;
  /**
   * The settled tasks judged within the overlap below `top`: the next scan reads them again, and knows them without a
   * lookup; a task that shows up there late is looked up. A 48-bit hash of each id, 8 characters each, one string:
   * at MAX_RECENT ids that is 8 KB where the ids themselves took 23 KB (a row written on every busy run). Two ids
   * sharing a hash would hide a late task: with 1,000 kept, about one chance in 3·10^11 per task read.
   */
  seen?: string;
  /** The same as ids, as the previous layout kept them: read, never written. */
  recent?: string[];
  /**
   * When a scan last read the overlap below `top` whole (more than its first page): a task that had not shown up by
   * then was created less than OVERLAP_MS + CLOCK_SKEW_MS before it, so once the list has been quiet that long the
   * overlap need not be read again. Not moved by a one-page run, which then writes nothing.
   */
  readAt?: number;
  /** The last run ran out of time before reading any of this instance's tasks: the next run reads it first. */
  starved?: boolean;
}

/** A sync last seen unfinished; re-checked until it settles, so a later failure is still caught. */
export interface WatchedSync {
  task: SyncTask;
  firstSeen: number;
  /** Set once it was announced as stuck. */
  stuck?: boolean;
  /** Re-checks in a row that did not find the task; it stops being watched after a few (it no longer exists). */
  misses?: number;
  /** Known only by id, time and status (carried over from an earlier version): found by reading pages back. */
  partial?: boolean;
  /** When its row was last written: a sync open for weeks is written again before the table's TTL removes it. */
  savedAt?: number;
}

/** An image (rule + target repo:tag) announced as failing, until a later sync of it succeeds. */
export interface FailingImage {
  /** CreateTime of the first failure since it last worked. */
  since: number;
  lastFailure: number;
  taskId: string;
  issue: string;
  /** CreateTimes of the latest failures (transient causes), newest last, as many as the threshold needs. */
  recent?: number[];
  /** A transient failure held back until it repeats or persists; absent once announced. */
  held?: SyncTask;
  /** The route its failure went to, whose digest lists it as still failing; absent for the default route. */
  route?: string;
  /** What a digest shows: the source image, the target and the rule. */
  image?: string;
  target?: string;
  rule?: string;
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

/**
 * A channel that refused for good (a wrong token, a deleted channel) or asked us to back off: what it is owed waits
 * until `until`, or until its configuration changes (`fingerprint` differs), instead of being re-sent every run.
 */
export interface ChannelPause {
  until: number;
  error: string;
  fingerprint: string;
}

/** Held by the run that is writing and sending; others keep away until it is released or expires. */
export interface Lease {
  owner: string;
  until: number;
}

/** The deployment's one small row of shared state: the lease, who is owed alerts since when, and paused channels. */
export interface Control {
  lease?: Lease;
  /**
   * Targets with alerts waiting in the outbox: since when, and how many (as of the last run that wrote or read them;
   * a run killed halfway can leave the count high until the next delivery reads the rows).
   */
  owed: Record<string, { since: number; count: number }>;
  pauses: Record<string, ChannelPause>;
}

/** An alert waiting for one target. */
export interface Owed {
  target: string;
  alert: Alert;
  detectedAt: number;
}

/**
 * Rows a run does not write again are removed by the table this long after their last write (Tablestore's TTL counts
 * from each cell's write). Every logical expiry is far shorter (7 days); rows that must live longer (a sync watched
 * for weeks, a long silence, the meta row) are written again once they are ROW_REFRESH_MS old.
 */
export const ROW_TTL_MS = 30 * 24 * 3_600_000;
export const ROW_REFRESH_MS = 7 * 24 * 3_600_000;
