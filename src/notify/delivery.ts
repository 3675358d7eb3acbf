import type { Budget, Clock } from '../lib/budget.js';
import type { Logger } from '../lib/log.js';
import type { ChannelPause, Control, DeliveredRecord } from '../model/state.js';
import { afterDelivery, type Delivered } from './after-delivery.js';
import { CleanUp, type TakenRows } from './clean-up.js';
import { deliverTo, readFloorOf, type OwedPages, type Target } from './deliver.js';
import { pauseInForce } from './pause.js';

/** What delivery will do, decided before anything is read or sent. */
export interface DeliveryPlan {
  /** Every configured target owed something, in target order, with the pause holding it back if one does. */
  due: { target: Target; paused?: ChannelPause }[];
  /** Targets owed alerts that are no longer configured: what they are owed is dropped, with a warning. */
  unroutable: string[];
  /** Pauses still in force, by target id. */
  pauses: Record<string, ChannelPause>;
  /** Whether delivering now would do something: send to a target that is not paused, or drop what the gone are owed. */
  actionable: boolean;
}

/**
 * Decides, without reading or sending, what delivery does: each configured target that is owed something gets a
 * message unless a pause in force holds it; targets owed something but no longer configured lose it. Pure.
 */
export function planDelivery(
  owed: Iterable<string>,
  targets: readonly Target[],
  pauses: Record<string, ChannelPause> | undefined,
  now: number,
): DeliveryPlan {
  const owing = new Set(owed);
  const configured = new Set(targets.map((t) => t.id));
  const inForce: Record<string, ChannelPause> = {};
  for (const t of targets) {
    const p = pauseInForce(pauses?.[t.id], t, now);
    if (p) inForce[t.id] = p;
  }
  const due = targets
    .filter((t) => owing.has(t.id))
    .map((target) => ({ target, ...(inForce[target.id] ? { paused: inForce[target.id] } : {}) }));
  const unroutable = [...owing].filter((id) => !configured.has(id));
  return { due, unroutable, pauses: inForce, actionable: due.some((d) => !d.paused) || unroutable.length > 0 };
}

/**
 * Ms of the run the next target's reading must leave: the read floor, plus the part of the time above it that the
 * `after` targets still to come get (each target reads for its share of the time left, so a channel owed a great
 * deal, or dead and slow to fail, cannot leave the ones after it no time at all). Pure.
 */
export function readShare(remainingMs: number, floorMs: number, after: number): number {
  const spare = Math.max(0, remainingMs - floorMs);
  return floorMs + (spare * after) / (after + 1);
}

/**
 * What delivery needs of the store: what a target is owed and the records of what it accepted before, recording what
 * it accepts, and removing rows by the keys its pages gave.
 */
export interface OwedRows extends TakenRows {
  owed(target: string): OwedPages;
  delivered(target: string): Promise<DeliveredRecord[]>;
  dropOwed(target: string, keys: readonly string[]): Promise<void>;
}

/** What the delivery phase reads. */
export interface DeliveryInput {
  store: OwedRows;
  /** The control row as the run holds it: what each target is owed and since when, and its pause. */
  control: Control;
  /** Rows owed this run wrote, by target. */
  added: ReadonlyMap<string, number>;
  clock: Clock;
  budget: Budget;
  log: Logger;
  /** The run's moment: a target whose message went is owed from it, and pauses run out by it are dropped. */
  now: number;
}

/** What delivery did, and the control row's owed targets and pauses after it. */
export interface DeliveryOutcome {
  /** What each target sent to did, in target order. */
  results: Map<string, Delivered>;
  next: Omit<Control, 'lease'>;
}

/**
 * Delivers what `plan` says: each target not paused in turn, reading for its share of the time left, the rows it took
 * removed before the next one reads; then what channels no longer configured were owed is removed, a page at a time,
 * as far as the time goes. Returns each target's result and the control row to release the lease with.
 */
export async function deliverOwed(plan: DeliveryPlan, input: DeliveryInput): Promise<DeliveryOutcome> {
  for (const d of plan.due)
    if (d.paused)
      input.log.info('channel paused; its alerts wait', {
        target: d.target.id,
        until: new Date(d.paused.until).toISOString(),
      });
  // Reading stops with half the reserve left, and until then each target may read for its share of the time left.
  const floor = readFloorOf(input.budget);
  const results = new Map<string, Delivered>();
  const sending = plan.due.filter((d) => !d.paused);
  for (const [i, d] of sending.entries()) {
    const readFloorMs = readShare(input.budget.remaining(), floor, sending.length - i - 1);
    const r = await deliverOne(d.target, input, readFloorMs);
    results.set(d.target.id, r);
    // What another channel accepted could not be recorded either: it would be sent again. They wait for the next run.
    if (r.uncleared !== undefined) {
      input.log.warn('the state could not be written; the other channels wait for the next run', {
        waiting: sending.slice(i + 1).map((x) => x.target.id),
      });
      break;
    }
  }
  const dropping = new Map<string, number>();
  for (const gone of plan.unroutable) {
    const left = await dropOwedTo(gone, input, floor);
    if (left !== undefined) dropping.set(gone, left);
  }
  const configured = plan.due.map((d) => d.target.id);
  const { control, added, now } = input;
  return { results, next: afterDelivery({ control, configured, results, added, inForce: plan.pauses, now, dropping }) };
}

/**
 * One target's delivery in a function of its own: the row keys it took (100,000 after a burst) go when it returns. A
 * local of the caller's loop would stay in its suspended frame while the next target reads what it is owed. What the
 * channel accepts stands one write after it did (CleanUp); the rest of the clearing follows the message.
 */
async function deliverOne(target: Target, input: DeliveryInput, readFloorMs: number): Promise<Delivered> {
  const standing = await input.store.delivered(target.id);
  const clean = new CleanUp(input.store, target.id, input.log);
  const { done, resolved, ...r } = await deliverTo(target, input.store.owed(target.id), {
    now: input.clock.now(),
    budget: input.budget,
    log: input.log,
    previousPause: input.control.pauses[target.id],
    owedSince: input.control.owed[target.id]?.since,
    readFloorMs,
    reread: () => input.store.owed(target.id),
    standing,
    accepted: clean.accepted,
  });
  const uncleared = await clean.finish(done, resolved ?? []);
  if (r.expired > 0)
    input.log.error('giving up alerts no channel accepted for 7 days', { target: target.id, count: r.expired });
  return uncleared > 0 ? { ...r, uncleared } : r;
}

/**
 * Removes what `gone`, a channel no longer configured, is owed, a page at a time (nothing of it is sent, and a dead
 * channel's week can be 700,000 rows) until the read floor. Returns how many are left at least when time ran out (they
 * stay counted, and the next run goes on), else undefined.
 */
async function dropOwedTo(gone: string, input: DeliveryInput, floor: number): Promise<number | undefined> {
  let count = 0;
  let left: number | undefined;
  for await (const page of input.store.owed(gone)) {
    if (input.budget.remaining() < floor) {
      left = Math.max(1, (input.control.owed[gone]?.count ?? 0) - count);
      break;
    }
    await input.store.dropOwed(
      gone,
      page.map((p) => p.key),
    );
    count += page.length;
  }
  input.log.warn(
    left !== undefined
      ? 'alerts owed only to a channel no longer configured are being removed; the rest next run'
      : 'alerts owed only to a channel no longer configured were removed',
    { target: gone, count },
  );
  return left;
}
