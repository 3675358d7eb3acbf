import type { Changes } from '../detect/detect.js';
import type { Judged } from '../detect/observe.js';
import type { Logger } from '../lib/log.js';
import { aboutTask, type Alert } from '../model/alert.js';
import type { SyncRule } from '../model/task.js';
import { alertsOf, completeFailing } from '../plan/alerts.js';
import type { Planned, RunPlanner } from '../plan/plan.js';
import type { ClaimRows, StateStore } from '../state/store.js';
import type { ControlLease } from './lease.js';
import { addClaim, type Tally } from './tally.js';

/** What claiming reads and adds to: the store, the run's lease, planner and tally, its log and its moment. */
export interface ClaimContext {
  store: Pick<StateStore, 'claim'>;
  lease: ControlLease;
  planner: RunPlanner;
  tally: Tally;
  log: Logger;
  now: number;
  /** Adds the silences kept in the state to the planner (see `silenceReader`). */
  readSilences: () => Promise<void>;
}

/**
 * Reads the silences kept in the state into `planner` the first time it is called, and only then: a run reads them
 * only when it has something they could mute or a digest to list. Later calls wait for that one read.
 */
export function silenceReader(store: Pick<StateStore, 'silences'>, planner: RunPlanner): () => Promise<void> {
  let read: Promise<void> | undefined;
  return () => (read ??= store.silences().then((rows) => planner.addSilences(rows.map((r) => r.value))));
}

/** One batch to claim: the rows it changes, the alerts it raises, and its instance's rules when they were read. */
export interface Batch {
  /** The instance's key, or '~' for what concerns the deployment (notices, digests). */
  instance: string;
  changes: Pick<Changes, 'handled' | 'watch' | 'unwatch' | 'failing'>;
  alerts: readonly Alert[];
  rules?: ReadonlyMap<string, SyncRule>;
}

/** A batch that changes no row of an instance: notices and digests. */
export const noRows = (): Batch['changes'] => ({ handled: [], watch: [], unwatch: [], failing: new Map() });

/**
 * Claims a batch: plans its alerts (silences, routes), then takes the lease, records the targets about to be owed,
 * and writes the owed alerts, then the claimed failures, watched syncs and failing images (`StateStore.claim`), so a
 * run killed anywhere leaves nothing half-known. What was claimed now (not by an earlier run) is added to the route
 * statistics and the run's tally. A batch with nothing to write writes nothing. Throws LostRace when another run took
 * the lease first, ChunkNotClaimedError when the owed alerts could not be written (nothing of the batch counted).
 */
export async function claim(ctx: ClaimContext, b: Batch): Promise<void> {
  if (b.alerts.some(aboutTask)) await ctx.readSilences();
  const planned = ctx.planner.plan(b.alerts);
  const { owner } = planned;
  const { handled, watch, unwatch } = b.changes;
  const muted = planned.muted.map((m) => m.alert);
  const mutedIds = new Set(muted.map((a) => a.id));
  const failing = completeFailing(b.changes.failing, { rules: b.rules, alerts: b.alerts, owner, muted: mutedIds });
  const rows: ClaimRows = { owed: planned.owed, handled, watch, unwatch, failing };
  logPlanned(ctx.log, planned);
  if (rows.owed.length + handled.length + watch.length + unwatch.length + failing.size === 0) return;
  await ctx.lease.take();
  await ctx.lease.owe(new Set(planned.owed.map((o) => o.target)), ctx.now);
  const { alreadyClaimed, owedWritten } = await ctx.store.claim(b.instance, rows);
  const mutedNow = new Set(muted);
  const claimed = b.alerts.filter((a) => !alreadyClaimed.has(a.id) && !mutedNow.has(a));
  ctx.planner.count(claimed, muted, owner);
  addClaim(ctx.tally, { claimed, muted, alreadyClaimed, owedWritten });
}

/** Claims one judged chunk of `instance`, reading its rules only when the chunk raises an alert that names one. */
export async function claimJudged(ctx: ClaimContext, instance: string, j: Judged): Promise<void> {
  const c = j.changes;
  const tasks = [...c.failures, ...c.recoveries.map((r) => r.success), ...c.stuck, ...c.unstuck];
  const named = [...new Set(tasks.flatMap((t) => (t.ruleId ? [t.ruleId] : [])))];
  const rules = named.length > 0 ? await j.rules(named) : undefined;
  await claim(ctx, { instance, changes: c, alerts: alertsOf(instance, c, rules, ctx.now), rules });
}

function logPlanned(log: Logger, planned: Planned): void {
  for (const m of planned.muted)
    log.info('muted by a silence', { id: m.alert.id, silence: m.silence.comment ?? JSON.stringify(m.silence) });
  if (planned.unroutable.length > 0)
    log.error('no route can send these alerts; check ROUTES', {
      count: planned.unroutable.length,
      ids: planned.unroutable.slice(0, 20).map((a) => a.id),
    });
}
