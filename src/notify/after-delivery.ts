import type { ChannelPause, Control } from '../model/state.js';
import type { TargetResult } from './deliver.js';

/** What one target's delivery did, once the rows it took are cleared. */
export type Delivered = Omit<TargetResult, 'done' | 'resolved'> & {
  /** Rows it took (delivered, given up or taken before) that could not be removed: the next run removes them. */
  uncleared?: number;
};

/** What the control row after delivery is computed from. */
export interface AfterDelivery {
  /** The control row as the run holds it. */
  control: Control;
  /** Every configured target that was owed something (sent to or paused). */
  configured: readonly string[];
  /** What each target sent to did. */
  results: ReadonlyMap<string, Delivered>;
  /** Rows owed this run wrote, by target. */
  added: ReadonlyMap<string, number>;
  /** Pauses still in force before delivery, by target. */
  inForce: Record<string, ChannelPause>;
  /** The run's moment. */
  now: number;
  /** Channels no longer configured whose rows were not all removed, with how many are left at least. */
  dropping: ReadonlyMap<string, number>;
}

/** Rows a delivery took off what the target is owed: delivered, given up, quarantined or taken before. */
const taken = (r: Delivered): number =>
  r.delivered + r.expired + (r.quarantined ?? 0) + (r.cleared ?? 0) - (r.uncleared ?? 0);

/**
 * The control row after delivery: a target whose rows were all taken leaves the owed list, one delivery could not
 * reach keeps its rows counted (as read, or as before plus what this run added); pauses are kept or set. A target
 * with rows left past its message stays owed: counted as before less what went (at least what is known to be left),
 * and, when the message went, owed from now (the channel works: a later failure starts its backoff afresh). A failed
 * post leaves the target owed since when it was first owed, so the backoff of a channel that stays down grows. A
 * channel no longer configured whose rows were not all removed stays counted (`dropping`), so the next run removes
 * the rest. Pure.
 */
export function afterDelivery(a: AfterDelivery): Omit<Control, 'lease'> {
  const owed: Control['owed'] = {};
  for (const [t, o] of Object.entries(a.control.owed)) {
    const next = owedAfter(a, t, o);
    if (next) owed[t] = next;
  }
  const pauses: Record<string, ChannelPause> = { ...a.inForce };
  for (const [t, r] of a.results) {
    if (r.pause) pauses[t] = r.pause;
    else delete pauses[t];
  }
  for (const [t, p] of Object.entries(pauses)) if (p.until <= a.now) delete pauses[t];
  return { owed, pauses };
}

/** What the control row says `t` is owed after delivery (see afterDelivery); undefined when nothing is. */
function owedAfter(a: AfterDelivery, t: string, o: Control['owed'][string]): Control['owed'][string] | undefined {
  const r = a.results.get(t);
  const left = a.dropping.get(t);
  if (left !== undefined) return { since: o.since, count: left };
  if (r?.more)
    return {
      since: r.delivered > 0 ? a.now : o.since,
      count: Math.max(r.stillOwed + 1, o.count + (a.added.get(t) ?? 0) - taken(r)),
    };
  if (r) {
    // Rows taken but not removed keep the target listed, so the next run reads them (and clears them, unsent).
    const rows = r.stillOwed + (r.uncleared ?? 0);
    return rows > 0 ? { since: o.since, count: rows } : undefined;
  }
  return a.configured.includes(t) ? { since: o.since, count: o.count + (a.added.get(t) ?? 0) } : undefined;
}

/** How many alerts the control row counts as owed, over every target. */
export const owedCount = (owed: Control['owed']): number => Object.values(owed).reduce((n, o) => n + o.count, 0);
