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

/** What a call is assumed to take before this run has timed one. */
export const ASSUMED_CALL_MS = 1_000;

/**
 * The time CR calls took in each run, kept by the run's budget (one per run, shared by the instances it reads): the
 * re-checks are planned with what calls cost now, which a slow or throttling API multiplies.
 */
const timings = new WeakMap<Budget, { calls: number; ms: number }>();

/**
 * Runs one CR call through the run's retry stage: retried while retryable, each attempt's timeout taken from the
 * budget, never into the reserve kept for delivery. The time it took, retries included, counts towards the run's
 * measured time per call (`msPerCall`). Throws what the last attempt threw.
 */
export async function callCr<T>(deps: CallDeps, label: string, attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
  // Time read off the budget (what it has left before and after), which reads the run's clock.
  const before = deps.budget.remaining();
  try {
    return await withRetry(attempt, {
      budget: deps.budget,
      log: deps.log,
      label,
      attemptTimeoutMs: CR_CALL_TIMEOUT_MS,
      keepReserve: true,
    });
  } finally {
    const t = timings.get(deps.budget) ?? { calls: 0, ms: 0 };
    t.calls += 1;
    t.ms += Math.max(0, before - deps.budget.remaining());
    timings.set(deps.budget, t);
  }
}

/** The mean time a CR call took in this run so far (ASSUMED_CALL_MS before the first). */
export function msPerCall(budget: Budget): number {
  const t = timings.get(budget);
  return t && t.calls > 0 ? t.ms / t.calls : ASSUMED_CALL_MS;
}

/**
 * How many more CR calls for reading the run can afford at the time calls take now: the fetch time left above the
 * floor over `msPerCall` (at most 10,000, for calls that take no measurable time).
 */
export function callsLeft(budget: Budget): number {
  const left = budget.remainingForFetch() - FETCH_FLOOR_MS;
  if (left <= 0) return 0;
  return Math.min(MAX_CALLS, Math.ceil(left / Math.max(1, msPerCall(budget))));
}
const MAX_CALLS = 10_000;

/** Whether there is time left to start another CR call for reading. */
export const hasFetchTime = (budget: Budget): boolean => budget.remainingForFetch() > FETCH_FLOOR_MS;
