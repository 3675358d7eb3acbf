import { isFailure, type Alert } from '../model/alert.js';

/** The run's counts of what it claimed, for its summary, and the rows owed it wrote (what delivery must look at). */
export interface Tally {
  failures: number;
  recovered: number;
  stuck: number;
  muted: number;
  /** Rows of owed alerts this run wrote, by target. */
  owedNow: Map<string, number>;
}

export const emptyTally = (): Tally => ({ failures: 0, recovered: 0, stuck: 0, muted: 0, owedNow: new Map() });

/** What one claim took: alerts claimed now, alerts a silence muted, alerts an earlier run had claimed, rows owed. */
export interface ClaimCount {
  claimed: readonly Alert[];
  muted: readonly Alert[];
  alreadyClaimed: ReadonlySet<string>;
  owedWritten: ReadonlyMap<string, number>;
}

/**
 * Adds one claim to `tally`. An alert whose every row was already there was claimed by an earlier run (one killed
 * before it recorded more): it is counted once, by that run. Failures found count muted ones too: a silence keeps
 * them from the channels, not from the summary.
 */
export function addClaim(tally: Tally, c: ClaimCount): void {
  for (const [target, n] of c.owedWritten) tally.owedNow.set(target, (tally.owedNow.get(target) ?? 0) + n);
  tally.failures += c.muted.filter((a) => isFailure(a) && !c.alreadyClaimed.has(a.id)).length;
  for (const a of c.claimed) {
    if (isFailure(a)) tally.failures += 1;
    else if (a.kind === 'recovered') tally.recovered += 1;
    else if (a.kind === 'stuck' || a.kind === 'unstuck') tally.stuck += 1;
  }
  tally.muted += c.muted.length;
}
