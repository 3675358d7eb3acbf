import * as v from 'valibot';
import type { Checkpoint, Versioned } from '../model/checkpoint.js';
import { DEFAULT_ROUTE } from '../model/route.js';

/** Reads and writes done, for the run summary. */
export interface StoreCounter {
  reads: number;
  writes: number;
}

/**
 * Where the checkpoint lives. Writes are conditional on the version read, so two runs can never both act on the
 * same state: the second writer gets `CheckpointConflictError` and must stop without sending.
 */
export interface StateStore {
  /** A missing checkpoint reads as an empty one at version 0. */
  load(timeoutMs: number): Promise<Versioned>;
  /** Stores `next` if the stored version is still `expected`; returns the new version. */
  save(next: Checkpoint, expected: number, timeoutMs: number): Promise<number>;
  readonly counter: StoreCounter;
  /** Where, for log lines ("file .acr-sync-alert/checkpoint.json", "tablestore inst/table/key"). */
  readonly where: string;
}

// "dingtalk" or "slack" on the default route, "route/channel" on the others.
const TARGET = /^([A-Za-z0-9][A-Za-z0-9_-]{0,31}\/)?(dingtalk|slack)$/;
const mutedTally = v.object({ since: v.number(), byCause: v.record(v.string(), v.number()) });
const digestStats = v.object({ since: v.number(), byCause: v.record(v.string(), v.number()), byRepo: v.record(v.string(), v.number()), recoveries: v.number(), recoveryMs: v.number() });
const openTask = v.object({ createTime: v.number(), status: v.string(), firstSeen: v.number(), stuck: v.optional(v.boolean()) });
const failingImage = v.object({
  since: v.number(), lastFailure: v.number(), taskId: v.string(), issue: v.string(),
  count: v.optional(v.number()), windowStart: v.optional(v.number()), held: v.optional(v.looseObject({ taskId: v.string(), createTime: v.number() })),
  route: v.optional(v.string()),
});
const cursor = v.object({
  watermark: v.number(),
  order: v.optional(v.picklist(['desc', 'asc', 'unknown'])),
  total: v.optional(v.number()),
  open: v.record(v.string(), openTask),
  handled: v.record(v.string(), v.number()),
  failing: v.optional(v.record(v.string(), failingImage)),
});
const failureAlert = v.looseObject({ kind: v.optional(v.literal('failure')), id: v.string(), instance: v.string(), task: v.looseObject({ taskId: v.string(), createTime: v.number() }) });
const monitorAlert = v.looseObject({ kind: v.picklist(['blind', 'restored']), id: v.string(), instance: v.string(), since: v.number(), at: v.number(), runs: v.number() });
const taskAlert = v.looseObject({ kind: v.picklist(['stuck', 'unstuck', 'recovered']), id: v.string(), instance: v.string(), task: v.looseObject({ taskId: v.string(), createTime: v.number() }) });
const digestAlert = v.looseObject({ kind: v.literal('digest'), id: v.string(), instance: v.string(), since: v.number(), at: v.number() });
const outboxEntry = v.object({
  alert: v.union([failureAlert, monitorAlert, taskAlert, digestAlert]),
  pending: v.array(v.pipe(v.string(), v.regex(TARGET, 'not a delivery target'))),
  detectedAt: v.number(),
  attempts: v.number(),
  lastError: v.optional(v.string()),
});
const checkpointSchema = v.object({
  schema: v.literal(1),
  instances: v.record(v.string(), cursor),
  outbox: v.array(outboxEntry),
  lease: v.optional(v.object({ owner: v.string(), until: v.number() })),
  health: v.optional(v.record(v.string(), v.object({ since: v.number(), runs: v.number(), lastError: v.string(), announced: v.boolean() }))),
  // Before routes, the one digest and muted tally were top-level; they are the default route's.
  muted: v.optional(mutedTally),
  digest: v.optional(v.object({ stats: digestStats, lastSentAt: v.optional(v.number()) })),
  digests: v.optional(v.record(v.string(), v.object({ stats: digestStats, lastSentAt: v.optional(v.number()), muted: v.optional(mutedTally) }))),
  channels: v.optional(v.record(v.pipe(v.string(), v.regex(TARGET, 'not a delivery target')), v.object({ until: v.number(), error: v.string(), fingerprint: v.string() }))),
});

/**
 * Validates a stored checkpoint. Throws with the path of the first problems: a damaged checkpoint must stop the run
 * rather than be silently replaced, which would repeat or lose announcements.
 */
export function parseCheckpoint(raw: unknown, where: string): Checkpoint {
  const r = v.safeParse(checkpointSchema, raw);
  if (!r.success) {
    const why = r.issues.slice(0, 3).map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`).join('; ');
    throw new Error(`the checkpoint in ${where} is damaged (${why}); move it aside to start from the look-back window`);
  }
  const { digest, muted, ...rest } = r.output;
  if (digest || muted) {
    const old = digest ?? { stats: { since: muted!.since, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 } };
    rest.digests = { [DEFAULT_ROUTE]: { ...old, muted }, ...rest.digests };
  }
  return rest as unknown as Checkpoint;
}
