import type { Budget } from '../lib/budget.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';

/** Preferred timeout for one CR call; pop-core's own default is 3 s. */
export const CR_CALL_TIMEOUT_MS = 8_000;
/** No further CR call is started for reading once less fetch time than this is left. */
export const FETCH_FLOOR_MS = 1_000;

/** What a CR call needs of the run: its budget (timeouts, and the reserve kept for delivery) and its log. */
export interface CallDeps {
  budget: Budget;
  log: Logger;
}

/**
 * Runs one CR call through the run's retry stage: retried while retryable, each attempt's timeout taken from the
 * budget, never into the reserve kept for delivery. Throws what the last attempt threw.
 */
export function callCr<T>(deps: CallDeps, label: string, attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
  return withRetry(attempt, {
    budget: deps.budget,
    log: deps.log,
    label,
    attemptTimeoutMs: CR_CALL_TIMEOUT_MS,
    keepReserve: true,
  });
}

/** Whether there is time left to start another CR call for reading. */
export const hasFetchTime = (budget: Budget): boolean => budget.remainingForFetch() > FETCH_FLOOR_MS;
