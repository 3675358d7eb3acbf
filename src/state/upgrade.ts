/**
 * The upgrade: moving the earlier single document (earlier-document.ts) into rows, once, when a deployment first
 * runs this release.
 *
 * The order protects what the document holds: the document is marked first (conditional on its version, so a release
 * from before the upgrade still running can no longer save over it), then every row is written, and the meta row,
 * which says the upgrade is done, last and alone. A run killed anywhere before that leaves no meta row, and the next
 * run moves the document again (every row is written unconditionally, so writing one twice is harmless).
 */
import type { Control, Cursor, FailingImage } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import { LAYOUT, unconditional, write, type Keys } from './rows.js';
import { parseLegacy, type EarlierDocument, type LegacyDoc } from './earlier-document.js';
import type { Call, RowTable, WriteOp } from './table.js';

/** A table that may hold the earlier single document. */
export interface LegacySource {
  legacy(key: string, timeoutMs: number): Promise<LegacyDoc | undefined>;
  /** Marks the document as moved, conditional on its version; throws UpgradeConflictError if it changed. */
  retireLegacy(key: string, version: number, timeoutMs: number): Promise<void>;
}

/** What the upgrade uses of the store: its table and keys, and the run's way of sending requests. */
export interface UpgradeDeps {
  table: RowTable & Partial<LegacySource>;
  deployment: string;
  keys: Keys;
  call: Call;
  now: () => number;
  /** Writes in order, in requests within the service's limits (StateStore.apply). */
  apply: (ops: readonly WriteOp[], label: string) => Promise<string[]>;
}

/** The meta row's `from` after an upgrade. Stored (and shown by `inspect-state`): the words rows were written with. */
export const FROM_EARLIER_DOCUMENT = 'single-document checkpoint';

/** A document marked as moved less than this ago may be an upgrade killed halfway: it is moved again. */
const LEGACY_RESUME_MS = 24 * 3_600_000;

/** Saved since it was moved: a release from before the upgrade ran again (a rollback). */
const savedSinceMove = (l: Pick<LegacyDoc, 'version' | 'movedVersion'>): boolean =>
  l.movedVersion !== undefined && l.version > l.movedVersion;

const readLegacy = (d: Pick<UpgradeDeps, 'table' | 'deployment' | 'call'>): Promise<LegacyDoc | undefined> =>
  d.table.legacy
    ? d.call('read the earlier single document', (t) => d.table.legacy!(d.deployment, t))
    : Promise.resolve(undefined);

/**
 * Moves the earlier single document into rows if the table holds one still to move, and writes the meta row either
 * way (last, alone). `existing` is the control row this release already wrote (after a rollback), whose owed targets
 * and pauses are kept. Returns how many rows the document became, or undefined when there was none to move. Throws
 * when the document is damaged (nothing marked or written) or changed meanwhile (UpgradeConflictError).
 */
export async function upgrade(d: UpgradeDeps, existing?: Control): Promise<{ rows: number } | undefined> {
  const found = await readLegacy(d);
  const savedSince = found !== undefined && savedSinceMove(found);
  // A document moved long ago (its meta row since removed by the TTL) is not moved again: its items are long gone.
  // After a rollback, what the earlier release did is moved too, however long ago.
  const legacy =
    found?.retired && !savedSince && d.now() - (found.retiredAt ?? 0) > LEGACY_RESUME_MS ? undefined : found;
  let ops: WriteOp[] = [];
  if (legacy) {
    const doc = parseLegacy(legacy.doc, `${d.table.where}/${d.deployment}`);
    if (!legacy.retired || savedSince)
      await d.call('mark the earlier single document as moved', (t) =>
        d.table.retireLegacy!(d.deployment, legacy.version, t),
      );
    ops = legacyRows(doc, d.keys, existing);
    // The meta row goes in a request of its own once every row is written: the service applies each row of a request
    // on its own, and could apply the meta row beside a row it refused.
    await d.apply(ops, 'write the rows of the earlier document');
  }
  const now = d.now();
  const from = legacy ? { from: FROM_EARLIER_DOCUMENT } : {};
  await d.apply(
    [write.meta(d.keys, { layout: LAYOUT, since: now, savedAt: now, ...from })],
    'write the upgraded state',
  );
  return legacy ? { rows: ops.length } : undefined;
}

/** The earlier single document as `inspect-state` shows it: its version, whether and when it was moved. */
export interface LegacyStatus {
  version: number;
  movedVersion?: number;
  retiredAt?: number;
  /** A release from before the upgrade saved it since it was moved (a rollback): `--move-again` is needed. */
  savedSince: boolean;
}

/** The earlier single document's status (without its content), or undefined when the table holds none. */
export async function legacyStatus(d: Pick<UpgradeDeps, 'table' | 'deployment' | 'call'>) {
  const l = await readLegacy(d);
  if (!l) return undefined;
  const status: LegacyStatus = {
    version: l.version,
    movedVersion: l.movedVersion,
    retiredAt: l.retiredAt,
    savedSince: savedSinceMove(l),
  };
  return status;
}

/** A task the earlier document watched, known only by id, time and status: the first re-check reads the rest. */
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

type InstanceState = EarlierDocument['instances'][string];

/** A failing image as the earlier document kept it, as a row holds it. */
function failingRow(f: NonNullable<InstanceState['failing']>[string]): FailingImage {
  // The earlier count within a window becomes that many failure times, which the transient rule reads the same.
  const recent =
    f.count && f.count > 1 ? [...Array<number>(f.count - 1).fill(f.windowStart ?? f.since), f.lastFailure] : undefined;
  return {
    since: f.since,
    lastFailure: f.lastFailure,
    taskId: f.taskId,
    issue: f.issue,
    ...(recent ? { recent } : {}),
    ...(f.held ? { held: f.held } : {}),
    ...(f.route ? { route: f.route } : {}),
  };
}

/** One instance's rows (claimed failures, watched syncs, failing images) and its cursor, kept apart to go last. */
function instanceRows(k: Keys, instance: string, c: InstanceState, doc: EarlierDocument) {
  const rows: WriteOp[] = [];
  for (const [taskId, createTime] of Object.entries(c.handled))
    rows.push(write.handled(k, instance, taskId, createTime));
  for (const [taskId, o] of Object.entries(c.open)) {
    const task = partialTask(taskId, o.createTime, o.status);
    rows.push(
      write.watch(k, instance, { task, firstSeen: o.firstSeen, ...(o.stuck ? { stuck: true } : {}), partial: true }),
    );
  }
  const held: Record<string, number> = {};
  for (const [imageKey, f] of Object.entries(c.failing ?? {})) {
    rows.push(write.failing(k, instance, imageKey, failingRow(f)));
    if (f.held) held[imageKey] = f.since;
  }
  const cursor: Cursor = {
    top: c.watermark,
    gaps: [],
    ...(c.order ? { order: c.order } : {}),
    ...(c.total !== undefined ? { total: c.total } : {}),
    ...(doc.health?.[instance] ? { health: doc.health[instance] } : {}),
    watching: Object.keys(c.open).length,
    ...(Object.keys(held).length > 0 ? { held } : {}),
  };
  return { rows, cursor: unconditional(write.cursor(k, instance, cursor, 0)) };
}

/**
 * Every row the earlier document becomes, in the order a run writes them (owed alerts first, cursors and the control
 * row last), none conditional, since an upgrade killed halfway writes them again: alerts still owed, one row per
 * target; failures claimed while re-readable; watched syncs; failing images; digest statistics; cursors with each
 * instance's read health; paused channels and who is owed what. `existing` is a control row this release wrote.
 */
export function legacyRows(doc: EarlierDocument, k: Keys, existing?: Control): WriteOp[] {
  const ops: WriteOp[] = [];
  // Moving again after a rollback: what this release still owed stays owed beside what the document owes.
  const control: Control = { owed: { ...existing?.owed }, pauses: { ...existing?.pauses, ...doc.channels } };
  for (const e of doc.outbox) {
    for (const target of e.pending) {
      ops.push(unconditional(write.owed(k, { target, alert: e.alert, detectedAt: e.detectedAt })));
      const o = control.owed[target];
      control.owed[target] = { since: Math.min(o?.since ?? e.detectedAt, e.detectedAt), count: (o?.count ?? 0) + 1 };
    }
  }
  const cursors: WriteOp[] = [];
  for (const [instance, c] of Object.entries(doc.instances)) {
    const r = instanceRows(k, instance, c, doc);
    ops.push(...r.rows);
    cursors.push(r.cursor);
  }
  for (const [route, d] of Object.entries(doc.digests ?? {})) ops.push(write.digest(k, route, d));
  for (const [instance, h] of Object.entries(doc.health ?? {})) {
    if (!doc.instances[instance]) cursors.push(unconditional(write.cursor(k, instance, { gaps: [], health: h }, 0)));
  }
  return [...ops, ...cursors, unconditional(write.control(k, control, 0))];
}
