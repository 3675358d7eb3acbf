import { tickBefore, type Schedule } from '../config/schedule.js';
import type { StoreConfig } from '../config/config.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Budget, Clock } from '../lib/budget.js';
import type { Target } from '../notify/deliver.js';
import { idempotencyKey, postPayload } from '../notify/post.js';
import { renderStateDown, type StateDownFacts } from '../render/state-down.js';
import { TablestoreError } from '../state/tablestore-errors.js';

export const HOUR_MS = 3_600_000;

/** Whether a run failed because its state could not be read or written (Tablestore or the local file refused). */
export function isStateFailure(err: unknown): err is IntegrationError {
  return err instanceof IntegrationError && (err.service === 'tablestore' || err.service === 'state-file');
}

/**
 * Whether the tick at `at` is the first of its hour: the schedule's tick before it fell in an earlier hour. Every
 * tick of a schedule decides the same way whatever the state, so exactly one tick an hour tells the channels (one per
 * tick for a schedule slower than hourly). A platform retry of that tick would carry the same trigger time and decide
 * the same: DingTalk drops its repeat by msgUuid, Slack has no such key and would get it again. So s.yaml sets
 * `maxAsyncRetryAttempts: 0`: Function Compute runs each tick once, and the next tick is the retry.
 */
export function firstTickOfHour(schedule: Schedule, at: number): boolean {
  return Math.floor(tickBefore(schedule, at) / HOUR_MS) < Math.floor(at / HOUR_MS);
}

/** Where the state is, for the notice and the log: the Tablestore instance and table, or the file. */
export function stateWhere(store: StoreConfig): string {
  return store.kind === 'tablestore' ? `Tablestore ${store.instance}/${store.table}` : `the state file ${store.path}`;
}

/** The notice's facts from the error: the service's code and message when it answered, and what to fix. */
function factsOf(err: IntegrationError, where: string): StateDownFacts {
  if (err instanceof TablestoreError)
    return { where, code: err.code, message: err.serviceMessage ?? err.message, fault: err.fault };
  return { where, code: err.code, message: err.message, fault: err.kind === 'retryable' ? 'unavailable' : 'unknown' };
}

/** What telling the channels needs: the run's targets and time, the tick it runs for, and where the state is. */
export interface StateDownContext {
  targets: readonly Target[];
  budget: Budget;
  log: Logger;
  clock: Clock;
  schedule: Schedule;
  /** The timer's trigger time (the same on a platform retry), else the run's start. */
  tickAt: number;
  where: string;
}

/**
 * Tells every channel, once per hour at most and without reading the state, that alerting is down because the state
 * cannot be read or written: the first tick of each hour sends a notice to each distinct webhook, under a key made
 * of the target and the hour (DingTalk's msgUuid). Other errors, and the hour's other ticks, send nothing. Never
 * throws: a channel that refuses is logged.
 */
export async function tellStateDown(err: unknown, c: StateDownContext): Promise<void> {
  if (!isStateFailure(err)) return;
  const hour = Math.floor(c.tickAt / HOUR_MS);
  if (!firstTickOfHour(c.schedule, c.tickAt)) {
    c.log.info('the state cannot be reached; the channels hear of it from the first run of the hour', {
      hour: new Date(hour * HOUR_MS).toISOString(),
    });
    return;
  }
  const facts = factsOf(err, c.where);
  // Several routes may post to one webhook: that chat hears it once.
  const seen = new Set<string>();
  const told: string[] = [];
  for (const target of c.targets) {
    const { notifier, route, id } = target;
    if (seen.has(`${notifier.channel}/${notifier.fingerprint}`)) continue;
    seen.add(`${notifier.channel}/${notifier.fingerprint}`);
    const payload = renderStateDown(notifier.channel, facts, route.lang);
    const key = idempotencyKey(id, [`state-down/${hour}`]);
    try {
      await postPayload(target, payload, key, { budget: c.budget, log: c.log, retries: 1 });
      told.push(id);
    } catch (e) {
      c.log.warn('could not tell a channel that the state cannot be reached', { target: id, error: describeError(e) });
    }
  }
  c.log.warn('told the channels that the state cannot be reached', { targets: told, ...facts });
}
