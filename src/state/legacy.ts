/**
 * The single-document checkpoint earlier versions kept (one gzip JSON document in one row), read once to move what
 * it holds into rows when a deployment upgrades.
 */
import * as v from 'valibot';
import type { Alert } from '../model/alert.js';
import { DEFAULT_ROUTE } from '../model/route.js';
import type { Control, Cursor, FailingImage, RouteDigest } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import { unconditional, write, type Keys } from './rows.js';
import type { WriteOp } from './table.js';

// "dingtalk" or "slack" on the default route, "route/channel" on the others.
const TARGET = /^([A-Za-z0-9][A-Za-z0-9_-]{0,31}\/)?(dingtalk|slack)$/;
const mutedTally = v.object({ since: v.number(), byCause: v.record(v.string(), v.number()) });
const digestStats = v.object({
  since: v.number(),
  byCause: v.record(v.string(), v.number()),
  byRepo: v.record(v.string(), v.number()),
  recoveries: v.number(),
  recoveryMs: v.number(),
});
const openTask = v.object({
  createTime: v.number(),
  status: v.string(),
  firstSeen: v.number(),
  stuck: v.optional(v.boolean()),
});
const failingImage = v.object({
  since: v.number(),
  lastFailure: v.number(),
  taskId: v.string(),
  issue: v.string(),
  count: v.optional(v.number()),
  windowStart: v.optional(v.number()),
  held: v.optional(v.looseObject({ taskId: v.string(), createTime: v.number() })),
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
const failureAlert = v.looseObject({
  kind: v.optional(v.literal('failure')),
  id: v.string(),
  instance: v.string(),
  task: v.looseObject({ taskId: v.string(), createTime: v.number() }),
});
const monitorAlert = v.looseObject({
  kind: v.picklist(['blind', 'restored']),
  id: v.string(),
  instance: v.string(),
  since: v.number(),
  at: v.number(),
  runs: v.number(),
});
const taskAlert = v.looseObject({
  kind: v.picklist(['stuck', 'unstuck', 'recovered']),
  id: v.string(),
  instance: v.string(),
  task: v.looseObject({ taskId: v.string(), createTime: v.number() }),
});
const digestAlert = v.looseObject({
  kind: v.literal('digest'),
  id: v.string(),
  instance: v.string(),
  since: v.number(),
  at: v.number(),
});
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
  health: v.optional(
    v.record(
      v.string(),
      v.object({ since: v.number(), runs: v.number(), lastError: v.string(), announced: v.boolean() }),
    ),
  ),
  // Before routes, the one digest and muted tally were top-level; they are the default route's.
  muted: v.optional(mutedTally),
  digest: v.optional(v.object({ stats: digestStats, lastSentAt: v.optional(v.number()) })),
  digests: v.optional(
    v.record(
      v.string(),
      v.object({ stats: digestStats, lastSentAt: v.optional(v.number()), muted: v.optional(mutedTally) }),
    ),
  ),
  channels: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(TARGET, 'not a delivery target')),
      v.object({ until: v.number(), error: v.string(), fingerprint: v.string() }),
    ),
  ),
});
export type LegacyCheckpoint = v.InferOutput<typeof checkpointSchema> & { digests?: Record<string, RouteDigest> };

/**
 * Validates an earlier version's checkpoint. Throws with the path of the first problems: a damaged checkpoint must
 * stop the run rather than be silently replaced, which would repeat or lose announcements.
 */
export function parseLegacy(raw: unknown, where: string): LegacyCheckpoint {
  const r = v.safeParse(checkpointSchema, raw);
  if (!r.success) {
    const why = r.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(
      `the earlier checkpoint in ${where} is damaged (${why}); move it aside to start from the look-back window`,
    );
  }
  const { digest, muted, ...rest } = r.output;
  const out: LegacyCheckpoint = rest;
  if (digest || muted) {
    const old = digest ?? { stats: { since: muted!.since, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 } };
    out.digests = { [DEFAULT_ROUTE]: { ...old, muted }, ...rest.digests };
  }
  return out;
}

/** A task the earlier checkpoint watched, known only by id, time and status: the first re-check reads the rest. */
const partialTask = (taskId: string, createTime: number, status: string): SyncTask => ({
  taskId,
  createTime,
  status,
  issue: '',
  trigger: '',
  crossUser: false,
  from: { instanceId: '', regionId: '', namespace: '', repo: '', tag: '' },
  to: { instanceId: '', regionId: '', namespace: '', repo: '', tag: '' },
});

/**
 * Every row the earlier checkpoint becomes, in the order a run writes them (owed alerts first, cursors and the
 * control row last): alerts still owed, one row per target; failures claimed while re-readable; watched syncs; failing
 * images; digest statistics; cursors with each instance's read health; paused channels and who is owed what.
 */
export function legacyRows(cp: LegacyCheckpoint, k: Keys, existing?: Control): WriteOp[] {
  const ops: WriteOp[] = [];
  // Moving again after a rollback: what this release still owed stays owed beside what the document owes.
  const control: Control = { owed: { ...existing?.owed }, pauses: { ...existing?.pauses, ...cp.channels } };
  for (const e of cp.outbox) {
    for (const target of e.pending) {
      ops.push(unconditional(write.owed(k, { target, alert: e.alert as unknown as Alert, detectedAt: e.detectedAt })));
      const o = control.owed[target];
      control.owed[target] = { since: Math.min(o?.since ?? e.detectedAt, e.detectedAt), count: (o?.count ?? 0) + 1 };
    }
  }
  const cursors: WriteOp[] = [];
  for (const [instance, c] of Object.entries(cp.instances)) {
    for (const [taskId, createTime] of Object.entries(c.handled))
      ops.push(write.handled(k, instance, taskId, createTime));
    for (const [taskId, o] of Object.entries(c.open))
      ops.push(
        write.watch(k, instance, {
          task: partialTask(taskId, o.createTime, o.status),
          firstSeen: o.firstSeen,
          ...(o.stuck ? { stuck: true } : {}),
          partial: true,
        }),
      );
    const held: Record<string, number> = {};
    for (const [imageKey, f] of Object.entries(c.failing ?? {})) {
      // The earlier count within a window becomes that many failure times, which the transient rule reads the same.
      const recent =
        f.count && f.count > 1
          ? [...Array<number>(f.count - 1).fill(f.windowStart ?? f.since), f.lastFailure]
          : undefined;
      const image: FailingImage = {
        since: f.since,
        lastFailure: f.lastFailure,
        taskId: f.taskId,
        issue: f.issue,
        ...(recent ? { recent } : {}),
        ...(f.held ? { held: f.held as unknown as SyncTask } : {}),
        ...(f.route ? { route: f.route } : {}),
      };
      ops.push(write.failing(k, instance, imageKey, image));
      if (f.held) held[imageKey] = f.since;
    }
    const cursor: Cursor = {
      top: c.watermark,
      gaps: [],
      ...(c.order ? { order: c.order } : {}),
      ...(c.total !== undefined ? { total: c.total } : {}),
      ...(cp.health?.[instance] ? { health: cp.health[instance] } : {}),
      watching: Object.keys(c.open).length,
      ...(Object.keys(held).length > 0 ? { held } : {}),
    };
    // Written unconditionally: a run killed halfway through the upgrade writes the same rows again.
    cursors.push(unconditional(write.cursor(k, instance, cursor, 0)));
  }
  for (const [route, d] of Object.entries(cp.digests ?? {})) ops.push(write.digest(k, route, d));
  for (const [instance, h] of Object.entries(cp.health ?? {})) {
    if (!cp.instances[instance]) cursors.push(unconditional(write.cursor(k, instance, { gaps: [], health: h }, 0)));
  }
  return [...ops, ...cursors, unconditional(write.control(k, control, 0))];
}
