/**
 * The row layout: one row per item, under keys that keep each instance's rows in one contiguous range (read with a
 * range scan) and spread instances over the table's partitions (a short hash leads each key).
 *
 *   <h>|<deployment>|<instance>|c               the instance's cursor (one small row)
 *   <h>|<deployment>|<instance>|w|<task>        a watched sync
 *   <h>|<deployment>|<instance>|f|<image>       a failing image
 *   <h>|<deployment>|<instance>|h|<task>        a failure already claimed, while it can still be re-read
 *   <h>|<deployment>|<instance>|r               the instance's sync rules, kept for a while
 *   <h>|<deployment>|~|ctl                      lease, targets owed alerts, paused channels
 *   <h>|<deployment>|~|meta                     the layout's version and where it came from
 *   <h>|<deployment>|~|d|<route>                a route's digest statistics
 *   <h>|<deployment>|~|o|<target>|<alert>       an alert owed to one target (column g: the generation that wrote it)
 *   <h>|<deployment>|~|r|<target>|<message>     a message a target accepted whose owed rows are being removed
 *   <h>|<deployment>|~|s|<silence>              a silence added from the command line
 *
 * `<h>` is 4 hex digits of a hash of deployment and scope. Parts that are not plain identifiers (the API's task ids
 * could hold anything) are hashed, so every key is printable ASCII well under Tablestore's 1 KB.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { Alert } from '../model/alert.js';
import type { Silence } from '../model/silence.js';
import {
  ControlSchema,
  CursorSchema,
  DeliveredRecordSchema,
  FailingImageSchema,
  KeptRulesSchema,
  OwedSchema,
  RouteDigestSchema,
  WatchedSyncSchema,
  type Control,
  type Cursor,
  type DeliveredRecord,
  type FailingImage,
  type KeptRules,
  type Owed,
  type RouteDigest,
  type WatchedSync,
} from '../model/state.js';
import type { Cols, WriteOp } from './table.js';

const hash = (s: string, n: number) => createHash('sha256').update(s).digest('base64url').slice(0, n);
const PLAIN = /^[A-Za-z0-9._:/@-]{1,160}$/;
/** A key part as it is when plain, else a hash of it (marked with #, which no plain part holds). */
export const part = (s: string): string => (PLAIN.test(s) ? s : `#${hash(s, 22)}`);

/** The keys of one deployment's rows. */
export function keysFor(deployment: string) {
  const prefix = (scope: string) =>
    `${createHash('sha256').update(`${deployment}|${scope}`).digest('hex').slice(0, 4)}|${part(deployment)}|${scope}|`;
  // '}' follows '|' in byte order: [p, p with its last '|' as '}') holds exactly the keys that start with p.
  const range = (p: string): [string, string] => [p, `${p.slice(0, -1)}}`];
  const g = prefix('~');
  const inst = (i: string) => prefix(part(i));
  return {
    /** Every row of one scope: an instance key, or '~' for the deployment's own rows. */
    scopeRange: (scope: string) => range(scope === '~' ? g : inst(scope)),
    control: `${g}ctl`,
    meta: `${g}meta`,
    digest: (route: string) => `${g}d|${part(route)}`,
    owed: (target: string, alertId: string) => `${g}o|${part(target)}|${part(alertId)}`,
    owedRange: (target: string) => range(`${g}o|${part(target)}|`),
    delivered: (target: string, message: string) => `${g}r|${part(target)}|${part(message)}`,
    deliveredRange: (target: string) => range(`${g}r|${part(target)}|`),
    silence: (id: string) => `${g}s|${part(id)}`,
    silenceRange: range(`${g}s|`),
    cursor: (i: string) => `${inst(i)}c`,
    watch: (i: string, taskId: string) => `${inst(i)}w|${part(taskId)}`,
    watchRange: (i: string) => range(`${inst(i)}w|`),
    failing: (i: string, imageKey: string) => `${inst(i)}f|${part(imageKey)}`,
    failingRange: (i: string) => range(`${inst(i)}f|`),
    handled: (i: string, taskId: string) => `${inst(i)}h|${part(taskId)}`,
    rules: (i: string) => `${inst(i)}r`,
  };
}
export type Keys = ReturnType<typeof keysFor>;

/** The layout's version, in the meta row: a table with it holds rows, not the earlier single document. */
export const LAYOUT = 2;

// An alert row stays far below Tablestore's 2 MB per value: a hostile API field cannot make one unwritable.
export const MAX_ALERT_JSON = 16 * 1024;
const TRIM_TO = 256;

/** The alert as stored: whole, or with its free-text fields cut (and a note saying so) when it would not fit. */
export function fitAlert(alert: Alert): Alert {
  const json = JSON.stringify(alert);
  if (json.length <= MAX_ALERT_JSON) return alert;
  const cut = (x: unknown): unknown =>
    typeof x === 'string'
      ? x.length > TRIM_TO
        ? `${x.slice(0, TRIM_TO)}…`
        : x
      : Array.isArray(x)
        ? x.slice(0, 20).map(cut)
        : x && typeof x === 'object'
          ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, cut(y)]))
          : x;
  const trimmed = { ...(cut(alert) as Alert), trimmed: true };
  if (JSON.stringify(trimmed).length > MAX_ALERT_JSON)
    throw new Error(`alert ${alert.id.slice(0, 80)} does not fit a state row even trimmed`);
  return trimmed;
}

/** The meta row: the layout's version, since when, and when the row was last written (it is kept from the TTL). */
const MetaSchema = v.object({
  layout: v.number(),
  since: v.number(),
  /** Where the rows came from: FROM_EARLIER_DOCUMENT when the upgrade moved them. */
  from: v.optional(v.string()),
  savedAt: v.optional(v.number()),
});
export type Meta = v.InferOutput<typeof MetaSchema>;

/**
 * A stored silence as its row holds it, with when the row was last written. Its matchers are the configuration's
 * (config/ checked them when the silence was added, and state/ cannot import them): the row is checked for its id and
 * lifetime.
 */
const SilenceRowSchema = v.intersect([
  v.custom<Silence>((x) => typeof x === 'object' && x !== null),
  v.object({
    id: v.string(),
    expires: v.string(),
    comment: v.string(),
    createdBy: v.string(),
    createdAt: v.string(),
    savedAt: v.optional(v.number()),
  }),
]);
export type SilenceRow = v.InferOutput<typeof SilenceRowSchema>;

/** How each kind of row is checked when read: its shape (model/state.ts), with any field it does not know allowed. */
const rowSchemas = {
  cursor: v.looseObject(CursorSchema.entries),
  watch: v.looseObject(WatchedSyncSchema.entries),
  failing: v.looseObject(FailingImageSchema.entries),
  control: v.looseObject(ControlSchema.entries),
  digest: v.looseObject(RouteDigestSchema.entries),
  owed: v.looseObject(OwedSchema.entries),
  rules: v.looseObject(KeptRulesSchema.entries),
  delivered: v.looseObject(DeliveredRecordSchema.entries),
  meta: v.looseObject(MetaSchema.entries),
  silence: SilenceRowSchema,
};

// A damaged row stops the run with its key named, rather than being read as something else (which could repeat or
// lose announcements).
function decode<S extends v.GenericSchema>(schema: S, key: string, cols: Cols | undefined): v.InferOutput<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(String(cols?.j ?? ''));
  } catch {
    throw new Error(`the state row ${key} is damaged (not JSON); delete it to start that item afresh`);
  }
  const r = v.safeParse(schema, raw);
  if (!r.success)
    throw new Error(
      `the state row ${key} is damaged (${r.issues
        .slice(0, 2)
        .map((i) => `${v.getDotPath(i) ?? '(row)'}: ${i.message}`)
        .join('; ')}); delete it to start that item afresh`,
    );
  // The row as stored, not the schema's copy of it: a field this release does not know, at any depth, is kept, so a
  // row a later release wrote keeps what that release added when this one writes it back.
  return raw as v.InferOutput<S>;
}

/** A row with a version: its content and the `ver` its next conditional write must match (0: no row yet). */
export interface Versioned<T> {
  value: T;
  version: number;
}

/** The control row of a deployment that has none yet. */
export const emptyControl = (): Control => ({ owed: {}, pauses: {} });

/**
 * A failing-image row from a release before `ruleId`/`ruleName` kept one `rule`: the rule's name where that run had
 * read the rules, else its id. It is what a digest showed, so it is read as the name the digest shows.
 */
function fromEarlierFailing(f: FailingImage & { rule?: unknown }): FailingImage {
  if (typeof f.rule !== 'string') return f;
  const { rule, ...rest } = f;
  return rest.ruleName === undefined ? { ...rest, ruleName: rule } : rest;
}

/**
 * Each kind of row as read: a versioned row with the version its next write must match (a missing one at version 0),
 * the others as their value. Throws, naming the key, when a row is damaged.
 */
export const read = {
  cursor: (key: string, c: Cols | undefined): Versioned<Cursor> | undefined =>
    c ? { value: decode(rowSchemas.cursor, key, c), version: Number(c.ver) } : undefined,
  control: (key: string, c: Cols | undefined): Versioned<Control> =>
    c ? { value: decode(rowSchemas.control, key, c), version: Number(c.ver) } : { value: emptyControl(), version: 0 },
  watch: (key: string, c: Cols): WatchedSync => decode(rowSchemas.watch, key, c),
  failing: (key: string, c: Cols): FailingImage => fromEarlierFailing(decode(rowSchemas.failing, key, c)),
  digest: (key: string, c: Cols): RouteDigest => decode(rowSchemas.digest, key, c),
  owed: (key: string, c: Cols): Owed => decode(rowSchemas.owed, key, c),
  rules: (key: string, c: Cols): KeptRules => decode(rowSchemas.rules, key, c),
  delivered: (key: string, c: Cols): DeliveredRecord => decode(rowSchemas.delivered, key, c),
  meta: (key: string, c: Cols): Meta => decode(rowSchemas.meta, key, c),
  silence: (key: string, c: Cols): Versioned<SilenceRow> => ({
    value: decode(rowSchemas.silence, key, c),
    version: Number(c.ver),
  }),
};

/** The generation an owed row was written at; undefined for a row an earlier release wrote. */
export const genOf = (c: Cols): number | undefined => (c.g === undefined ? undefined : Number(c.g));

const put = (key: string, value: unknown, when?: 'absent' | { version: number }, extra: Cols = {}): WriteOp => ({
  op: 'put',
  key,
  cols: { j: JSON.stringify(value), ...extra },
  ...(when ? { when } : {}),
});
/** A conditional write of a versioned row: created if it never was, else only over the version read. */
const versioned = (key: string, value: unknown, version: number): WriteOp =>
  put(key, value, version === 0 ? 'absent' : { version }, { ver: version + 1 });

/** Each kind of row as written: its key, its JSON, and its condition (conditional for claims and versioned rows). */
export const write = {
  cursor: (k: Keys, instance: string, cursor: Cursor, version: number) =>
    versioned(k.cursor(instance), cursor, version),
  control: (k: Keys, control: Control, version: number) => versioned(k.control, control, version),
  watch: (k: Keys, instance: string, w: WatchedSync) => put(k.watch(instance, w.task.taskId), w),
  failing: (k: Keys, instance: string, imageKey: string, f: FailingImage) => put(k.failing(instance, imageKey), f),
  handled: (k: Keys, instance: string, taskId: string, createTime: number) =>
    put(k.handled(instance, taskId), { createTime }),
  digest: (k: Keys, route: string, d: RouteDigest) => put(k.digest(route), d),
  /**
   * The claim of an alert for a target: written only if no run claimed it before; `gen`, the control row's version as
   * the claiming run holds it, tells it from the rows a message accepted earlier covered (see DeliveredRecord).
   */
  owed: (k: Keys, o: Owed, gen?: number) =>
    put(
      k.owed(o.target, o.alert.id),
      { ...o, alert: fitAlert(o.alert) },
      'absent',
      gen === undefined ? {} : { g: gen },
    ),
  delivered: (k: Keys, d: DeliveredRecord) => put(k.delivered(d.target, d.message), d),
  meta: (k: Keys, meta: Meta) => put(k.meta, meta),
  rules: (k: Keys, instance: string, kept: KeptRules) => put(k.rules(instance), kept),
  /** A silence: added only under a new id, changed (expired, kept from the TTL) only over the version read. */
  silence: (k: Keys, s: SilenceRow, version: number) => versioned(k.silence(s.id), s, version),
  remove: (key: string): WriteOp => ({ op: 'delete', key }),
};

/** The same write without its condition: for writing again what a run killed halfway may already have written. */
export const unconditional = (op: WriteOp): WriteOp =>
  op.op === 'put' ? { op: 'put', key: op.key, cols: op.cols } : op;
