/**
 * What the function keeps between runs, one shape per kind of row, each declared once as a schema its type comes
 * from: the state layer checks every row it reads against these, so a damaged row stops the run with its key named
 * rather than being read as something else (which could repeat or lose announcements).
 */
import * as v from 'valibot';
import type { Alert } from './alert.js';
import type { SyncTask } from './task.js';

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * A sync task inside a row, as this code wrote it from a parsed API answer (the adapter checked the whole): a row is
 * checked for what identifies the task, cheaply, since a busy deployment reads thousands of such rows a run.
 */
export const StoredTaskSchema = v.custom<SyncTask>(
  (x) =>
    isRecord(x) && typeof x.taskId === 'string' && typeof x.createTime === 'number' && typeof x.status === 'string',
  'not a sync task (taskId, createTime and status)',
);

/**
 * A failure held back: rows moved from the earlier single document hold only its id and time (the first re-check
 * reads the rest), so only those are checked.
 */
export const HeldTaskSchema = v.custom<SyncTask>(
  (x) => isRecord(x) && typeof x.taskId === 'string' && typeof x.createTime === 'number',
  'not a sync task (taskId and createTime)',
);

/**
 * An alert inside a row, as this code built it: checked for its id and instance, what its key and delivery rely on.
 * An owed row is read for every alert a target is owed (100,000 after a burst): a full parse of every alert kind would
 * cost far more than this check, for alerts this code wrote.
 */
export const StoredAlertSchema = v.custom<Alert>(
  (x) => isRecord(x) && typeof x.id === 'string' && typeof x.instance === 'string',
  'not an alert (id and instance)',
);

/** The order the API returned tasks in, by CreateTime. The API does not document one, so it is observed. */
export const OrderSchema = v.picklist(['desc', 'asc', 'unknown']);
export type Order = v.InferOutput<typeof OrderSchema>;

/**
 * A stretch of an instance's task list not read yet: every task created after `lo` and up to `hi` (epoch ms).
 * `depth` is how many tasks stood above `hi` when the gap was left, and `total` the list's size then: together a
 * guess of where to start reading next time, which the pages read must confirm.
 */
export const GapSchema = v.object({
  hi: v.number(),
  lo: v.number(),
  depth: v.optional(v.number()),
  total: v.optional(v.number()),
  /** Only unfinished syncs are wanted here: older than the first look-back, to be watched, never announced. */
  watchOnly: v.optional(v.boolean()),
});
export type Gap = v.InferOutput<typeof GapSchema>;

/** Consecutive runs that could not read an instance's tasks. */
export const InstanceHealthSchema = v.object({
  since: v.number(),
  runs: v.number(),
  lastError: v.string(),
  /** Whether the blind notice was claimed for delivery. */
  announced: v.boolean(),
});
export type InstanceHealth = v.InferOutput<typeof InstanceHealthSchema>;

/**
 * How long one condition that keeps a run from its work (a `LagCondition`) has held on an instance: since when, for
 * how many runs, and whether its notice was claimed. `recent` is what the backlog check compares: the unread history
 * (ms) of the last runs, oldest first, each with its run's time.
 */
export const LagSchema = v.object({
  since: v.number(),
  runs: v.number(),
  announced: v.boolean(),
  recent: v.optional(v.array(v.object({ at: v.number(), ms: v.number() }))),
});
export type Lag = v.InferOutput<typeof LagSchema>;

/** Per instance: how far its task list has been read, and what else a run must look at. */
export const CursorSchema = v.object({
  /** Newest CreateTime read (a time ahead of the clock never counts); the next scan reads down to a little below it. */
  top: v.optional(v.number()),
  /** What is still unread below `top`, newest first. */
  gaps: v.array(GapSchema),
  order: v.optional(OrderSchema),
  /** Tasks per page the service actually serves, when smaller than asked. */
  pageSize: v.optional(v.number()),
  /** Tasks created per hour, as last measured from the pages read: to place a page and to price reading back. */
  rate: v.optional(v.number()),
  /** The list's size at the last read (TotalCount, held to what the pages showed): a hint for placing pages only. */
  total: v.optional(v.number()),
  health: v.optional(InstanceHealthSchema),
  /** Conditions that keep runs from their work here, by `LagCondition` (absent while none holds). */
  lags: v.optional(v.record(v.string(), LagSchema)),
  /** Watched syncs (rows of their own), and whether a re-check can be due. */
  watching: v.optional(v.number()),
  /** Transient failures held back, by image key, with when each began failing (announced once it persists). Bounded. */
  held: v.optional(v.record(v.string(), v.number())),
  /**
   * When long-running watched syncs were last re-checked, as the previous release kept it (one time for all): read as
   * the last re-check of a watched sync that has no `checkedAt` of its own, never written.
   */
  recheckedAt: v.optional(v.number()),
  /**
   * Where reading the list back for re-checks stopped, so the next read-back goes on from there rather than from the
   * top: the oldest CreateTime it read (`below`), the page it was on (`page`) and when (`at`, to allow for the tasks
   * created since, which push a newest-first list down). Absent: the next read-back starts below the scan.
   */
  readBack: v.optional(v.object({ below: v.number(), page: v.number(), at: v.number() })),
  /**
   * The settled tasks judged within the overlap below `top`: the next scan reads them again, and knows them without a
   * lookup; a task that shows up there late is looked up. A 48-bit hash of each id, 8 characters each, one string:
   * at MAX_RECENT ids that is 8 KB where the ids themselves took 23 KB (a row written on every busy run). Two ids
   * sharing a hash would hide a late task: with 1,000 kept, about one chance in 3·10^11 per task read.
   */
  seen: v.optional(v.string()),
  /** The same as ids, as the previous layout kept them: read, never written. */
  recent: v.optional(v.array(v.string())),
  /**
   * When a scan last read the overlap below `top` whole (more than its first page): a task that had not shown up by
   * then was created less than OVERLAP_MS + CLOCK_SKEW_MS before it, so once the list has been quiet that long the
   * overlap need not be read again. Not moved by a one-page run, which then writes nothing.
   */
  readAt: v.optional(v.number()),
  /** The last run ran out of time before reading any of this instance's tasks: the next run reads it first. */
  starved: v.optional(v.boolean()),
  /**
   * Runs in a row that ran out of time before reading any of this instance's tasks (absent once one reads a page):
   * the instance not read for the most runs is read first.
   */
  unreachedRuns: v.optional(v.number()),
  /**
   * The place in the reading order kept by an instance the last run read only in part, out of time with history still
   * unread (its runs not reached by then, at least 1): it goes before those read to their end and keeps rising with
   * the runs that do not reach it, so a part-read instance is not sent to the back of the queue behind every one the
   * runs have not reached. Absent once a run reads it to its end.
   */
  keptPlace: v.optional(v.number()),
});
export type Cursor = v.InferOutput<typeof CursorSchema>;

/** A sync rule as a message names it: what alerts keep of a rule (model/alert.ts `AlertRule`). */
export const KeptRuleSchema = v.object({
  ruleId: v.string(),
  name: v.string(),
  scope: v.string(),
  trigger: v.optional(v.string()),
});
export type KeptRule = v.InferOutput<typeof KeptRuleSchema>;

/**
 * An instance's sync rules, kept for a while (rules change rarely) so that not every run that announces a failure
 * reads them again: when they were read from the API, and what a message names of each.
 */
export const KeptRulesSchema = v.object({
  readAt: v.number(),
  rules: v.array(KeptRuleSchema),
  /** Rule ids alerts named that the API did not list then (a rule deleted since): not a reason to read them again. */
  absent: v.optional(v.array(v.string())),
});
export type KeptRules = v.InferOutput<typeof KeptRulesSchema>;

/** A sync last seen unfinished; re-checked until it settles, so a later failure is still caught. */
export const WatchedSyncSchema = v.object({
  task: StoredTaskSchema,
  firstSeen: v.number(),
  /** Set once it was announced as stuck. */
  stuck: v.optional(v.boolean()),
  /** Re-checks in a row that did not find the task; it stops being watched after a few (it no longer exists). */
  misses: v.optional(v.number()),
  /** Known only by id, time and status (carried over from an earlier version): found by reading pages back. */
  partial: v.optional(v.boolean()),
  /** When its row was last written: a sync open for weeks is written again before the table's TTL removes it. */
  savedAt: v.optional(v.number()),
  /** When it was last re-checked (found, or counted as a miss); absent: not since it was first seen. */
  checkedAt: v.optional(v.number()),
});
export type WatchedSync = v.InferOutput<typeof WatchedSyncSchema>;

/** An image (rule + target repo:tag) announced as failing, until a later sync of it succeeds. */
export const FailingImageSchema = v.object({
  /** CreateTime of the first failure since it last worked. */
  since: v.number(),
  lastFailure: v.number(),
  taskId: v.string(),
  issue: v.string(),
  /** CreateTimes of the latest failures (transient causes), newest last, as many as the threshold needs. */
  recent: v.optional(v.array(v.number())),
  /** A transient failure held back until it repeats or persists; absent once announced. */
  held: v.optional(HeldTaskSchema),
  /** The route its failure went to, whose digest lists it as still failing; absent for the default route. */
  route: v.optional(v.string()),
  /** What a digest shows: the source image, the target and the rule. */
  image: v.optional(v.string()),
  target: v.optional(v.string()),
  /** The rule's id, from the failed task. */
  ruleId: v.optional(v.string()),
  /** The rule's name, where the run that wrote the row had read the rules. */
  ruleName: v.optional(v.string()),
  /**
   * Every failure of the image so far was muted by a silence: nobody was told, so a digest counts it apart from the
   * announced failures still failing. Absent once a failure of it is announced (and in rows of earlier releases).
   */
  silenced: v.optional(v.boolean()),
});
export type FailingImage = v.InferOutput<typeof FailingImageSchema>;

/** Counts by cause since a time. */
export const TallySchema = v.object({ since: v.number(), byCause: v.record(v.string(), v.number()) });

/** Running statistics for the next digest. */
export const DigestStatsSchema = v.object({
  since: v.number(),
  byCause: v.record(v.string(), v.number()),
  byRepo: v.record(v.string(), v.number()),
  recoveries: v.number(),
  recoveryMs: v.number(),
});
export type DigestStats = v.InferOutput<typeof DigestStatsSchema>;

/** A route's statistics since its last digest, and what silences kept from it in that time, by cause. */
export const RouteDigestSchema = v.object({
  stats: DigestStatsSchema,
  lastSentAt: v.optional(v.number()),
  muted: v.optional(TallySchema),
});
export type RouteDigest = v.InferOutput<typeof RouteDigestSchema>;

/**
 * A channel that refused for good (a wrong token, a deleted channel) or asked us to back off: what it is owed waits
 * until `until`, or until its configuration changes (`fingerprint` differs), instead of being re-sent every run.
 */
export const ChannelPauseSchema = v.object({ until: v.number(), error: v.string(), fingerprint: v.string() });
export type ChannelPause = v.InferOutput<typeof ChannelPauseSchema>;

/** Held by the run that is writing and sending; others keep away until it is released or expires. */
export const LeaseSchema = v.object({ owner: v.string(), until: v.number() });
export type Lease = v.InferOutput<typeof LeaseSchema>;

/** The deployment's one small row of shared state: the lease, who is owed alerts since when, and paused channels. */
export const ControlSchema = v.object({
  lease: v.optional(LeaseSchema),
  /**
   * Targets owed alerts: since when, and how many (as of the last run that wrote or read them; a run killed halfway
   * can leave the count high until the next delivery reads the rows).
   */
  owed: v.record(v.string(), v.object({ since: v.number(), count: v.number() })),
  pauses: v.record(v.string(), ChannelPauseSchema),
});
export type Control = v.InferOutput<typeof ControlSchema>;

/** An alert a target has not received yet: its row is written when the alert is claimed, removed once delivered. */
export const OwedSchema = v.object({ target: v.string(), alert: StoredAlertSchema, detectedAt: v.number() });
export type Owed = v.InferOutput<typeof OwedSchema>;

/**
 * What a channel accepted, written in one row right after it accepted a message, so a run killed while the message's
 * rows are being removed (one request per 200) does not send them again. It covers the owed rows of `target` whose
 * key is within [`from`, `to`] (in key order, as the message read them) and that were written at generation `gen` or
 * before; rows with no generation (written by an earlier release) only when detected at or before `at`. Removed once
 * those rows are gone.
 */
export const DeliveredRecordSchema = v.object({
  target: v.string(),
  /** The first and last key of the owed rows the message covered. */
  from: v.string(),
  to: v.string(),
  /** The control row's version when it was written: every owed row written later carries a greater one. */
  gen: v.number(),
  /** When the channel accepted the message. */
  at: v.number(),
  /** Alerts the message held. */
  alerts: v.number(),
  /** The message's idempotency key (DingTalk's msgUuid); it names the row. */
  message: v.string(),
});
export type DeliveredRecord = v.InferOutput<typeof DeliveredRecordSchema>;

/**
 * Rows a run does not write again are removed by the table this long after their last write (Tablestore's TTL counts
 * from each cell's write). Every logical expiry is far shorter (7 days); rows that must live longer (a sync watched
 * for weeks, a long silence, the meta row) are written again once they are ROW_REFRESH_MS old.
 */
export const ROW_TTL_MS = 30 * 24 * 3_600_000;
export const ROW_REFRESH_MS = 7 * 24 * 3_600_000;
