/**
 * The earlier single document: what releases before the rows kept (one gzip JSON document in one row, or
 * `{version, checkpoint}` in the local file), as the upgrade (upgrade.ts) reads it.
 */
import * as v from 'valibot';
import { DEFAULT_ROUTE } from '../model/route.js';
import {
  ChannelPauseSchema,
  HeldTaskSchema,
  InstanceHealthSchema,
  OrderSchema,
  RouteDigestSchema,
  StoredAlertSchema,
  TallySchema,
} from '../model/state.js';

/** The earlier single document under the deployment's key, with its version. */
export interface LegacyDoc {
  doc: unknown;
  version: number;
  /** An upgrade began (the document was marked and its version moved) but may not have finished. */
  retired: boolean;
  /** When it was marked. */
  retiredAt?: number;
  /** The version the upgrade left it at: a later version means a release from before the upgrade saved it since. */
  movedVersion?: number;
}

// "dingtalk" or "slack" on the default route, "route/channel" on the others.
const TARGET = v.pipe(
  v.string(),
  v.regex(/^([A-Za-z0-9][A-Za-z0-9_-]{0,31}\/)?(dingtalk|slack)$/, 'not a delivery target'),
);
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
  held: v.optional(HeldTaskSchema),
  route: v.optional(v.string()),
});
const instanceState = v.object({
  watermark: v.number(),
  order: v.optional(OrderSchema),
  total: v.optional(v.number()),
  open: v.record(v.string(), openTask),
  handled: v.record(v.string(), v.number()),
  failing: v.optional(v.record(v.string(), failingImage)),
});
const taskRef = v.looseObject({ taskId: v.string(), createTime: v.number() });
/** The kinds of alert the earlier document could owe (a failure from before kinds existed has none). */
const legacyAlert = v.union([
  v.looseObject({ kind: v.optional(v.literal('failure')), id: v.string(), instance: v.string(), task: taskRef }),
  v.looseObject({
    kind: v.picklist(['blind', 'restored']),
    id: v.string(),
    instance: v.string(),
    since: v.number(),
    at: v.number(),
    runs: v.number(),
  }),
  v.looseObject({
    kind: v.picklist(['stuck', 'unstuck', 'recovered']),
    id: v.string(),
    instance: v.string(),
    task: taskRef,
  }),
  v.looseObject({ kind: v.literal('digest'), id: v.string(), instance: v.string(), since: v.number(), at: v.number() }),
]);
const owedEntry = v.object({
  alert: v.pipe(
    StoredAlertSchema,
    v.check((a) => v.is(legacyAlert, a), 'not an alert of a kind it could owe'),
  ),
  pending: v.array(TARGET),
  detectedAt: v.number(),
  attempts: v.number(),
  lastError: v.optional(v.string()),
});
const documentSchema = v.object({
  schema: v.literal(1),
  instances: v.record(v.string(), instanceState),
  outbox: v.array(owedEntry),
  lease: v.optional(v.object({ owner: v.string(), until: v.number() })),
  health: v.optional(v.record(v.string(), InstanceHealthSchema)),
  // Before routes, the one digest and muted tally were top-level; they are the default route's.
  muted: v.optional(TallySchema),
  digest: v.optional(v.omit(RouteDigestSchema, ['muted'])),
  digests: v.optional(v.record(v.string(), RouteDigestSchema)),
  channels: v.optional(v.record(TARGET, ChannelPauseSchema)),
});
export type EarlierDocument = Omit<v.InferOutput<typeof documentSchema>, 'digest' | 'muted'>;

/**
 * Validates the earlier single document. Throws with the path of the first problems: a damaged document must stop
 * the run rather than be silently replaced, which would repeat or lose announcements.
 */
export function parseLegacy(raw: unknown, where: string): EarlierDocument {
  const r = v.safeParse(documentSchema, raw);
  if (!r.success) {
    const why = r.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(
      `the earlier single document in ${where} is damaged (${why}); move it aside to start from the look-back window`,
    );
  }
  const { digest, muted, ...rest } = r.output;
  if (!digest && !muted) return rest;
  const old = digest ?? { stats: { since: muted!.since, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 } };
  return { ...rest, digests: { [DEFAULT_ROUTE]: { ...old, muted }, ...rest.digests } };
}
