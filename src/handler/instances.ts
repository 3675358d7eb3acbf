import pLimit from 'p-limit';
import type { CallCounter } from '../acr/client.js';
import { observeInstance, readingOrder, type InstanceReport, type ObserveDeps } from '../detect/observe.js';
import { ChunkNotClaimedError } from '../lib/errors.js';
import type { Cursor } from '../model/state.js';
import type { InstanceRef } from '../model/task.js';
import type { Versioned } from '../state/rows.js';
import { claimJudged, type ClaimContext } from './claim.js';
import { LostRace } from './lease.js';
import { reachOf } from './summary.js';

/** What observing every instance reads: how to observe, the cursors the run read, and how to claim what it finds. */
export interface ObserveInput {
  observe: ObserveDeps;
  cursors: ReadonlyMap<string, Versioned<Cursor>>;
  claims: ClaimContext;
  /** The CR calls the run made, for the log line saying how far it reached. */
  counter?: CallCounter;
}

/** Instances named one by one in the reach log line; the rest are counted. */
const LOG_NOT_REACHED = 20;

/**
 * What observing found: every instance's report in configured order; or, when another run took the lease first, that
 * race and the reports of the instances finished by then.
 */
export type Observed = { reports: InstanceReport[]; lost?: undefined } | { reports: InstanceReport[]; lost: LostRace };

/**
 * Observes every instance (in `readingOrder`, `concurrency` at once), claiming each judged chunk as it comes, then logs
 * how far the run reached. When a claim finds another run took the lease, the other instances stop at their next
 * chunk: nothing more of this run is written. Throws what observing or claiming threw otherwise.
 */
export async function observeAndClaim(input: ObserveInput): Promise<Observed> {
  const { instances, concurrency } = input.observe.settings;
  const ordered = readingOrder(instances, (i) => input.cursors.get(i.key)?.value);
  const stop = new AbortController();
  const limit = pLimit(concurrency);
  const settled = await Promise.allSettled(
    ordered.map((inst) =>
      limit(() =>
        observeOne(inst, input, stop.signal).catch((err: unknown) => {
          if (err instanceof LostRace) stop.abort(err);
          throw err;
        }),
      ),
    ),
  );
  const reports: InstanceReport[] = [];
  let lost: LostRace | undefined;
  for (const s of settled) {
    if (s.status === 'fulfilled') reports.push(s.value);
    else if (s.reason instanceof LostRace) lost = s.reason;
    else throw s.reason;
  }
  logReach(input, reports);
  if (lost) return { reports, lost };
  return { reports: instances.map((i) => reports.find((r) => r.inst.key === i.key)!) };
}

/**
 * Logs the run's reach: instances read (at least one page) of those configured, the CR calls made, and those the run
 * ran out of time for, with how many runs in a row each was not reached.
 */
function logReach(input: ObserveInput, reports: readonly InstanceReport[]): void {
  const notReached = reports.flatMap((r) => (r.unreachedRuns ? [`${r.inst.key} (${r.unreachedRuns} runs)`] : []));
  input.observe.log.info('read the instances this run could reach', {
    read: reachOf(reports).read,
    configured: input.observe.settings.instances.length,
    ...(input.counter ? { crCalls: input.counter.cr } : {}),
    notReached: notReached.slice(0, LOG_NOT_REACHED),
    ...(notReached.length > LOG_NOT_REACHED ? { notReachedMore: notReached.length - LOG_NOT_REACHED } : {}),
  });
}

/**
 * One instance's observation, each chunk claimed before the next is read; stops (throwing its reason) once aborted. A
 * chunk that could not be claimed ends the instance as one that could not be read: reported with the error, its cursor
 * where this run found it, so the next run reads that chunk again; the other instances carry on.
 */
async function observeOne(inst: InstanceRef, input: ObserveInput, signal: AbortSignal): Promise<InstanceReport> {
  // The signal stops the reading too (no more pages once another run took the lease); an instance cut short that way
  // ends with the race, like one stopped between chunks, not as one that finished.
  const gen = observeInstance(inst, input.cursors.get(inst.key)?.value, { ...input.observe, signal });
  for (;;) {
    signal.throwIfAborted();
    const r = await gen.next();
    signal.throwIfAborted();
    if (r.done) return r.value;
    try {
      await claimJudged(input.claims, inst.key, r.value);
    } catch (err) {
      if (!(err instanceof ChunkNotClaimedError)) throw err;
      const end = await gen.throw(err);
      if (end.done) return end.value;
      throw err;
    }
  }
}
