import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Budget } from './budget.js';
import { BudgetExhaustedError, IntegrationError, describeError } from './errors.js';
import type { Logger } from './log.js';

export interface RetryOptions {
  budget: Budget;
  log: Logger;
  /** What is being attempted, for log lines ("ListRepoSyncTask cn-hangzhou:cri-abc page 2"). */
  label: string;
  /** Preferred timeout of one attempt; shortened to what the budget has left. */
  attemptTimeoutMs: number;
  /** Retries after the first attempt. */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Whether to stop early enough to leave the budget's reserve untouched (fetching does; delivery may not). */
  keepReserve?: boolean;
  /** How a server-requested wait is sat out; tests pass one that only records it. */
  sleep?: (ms: number) => Promise<unknown>;
}

/** Smallest useful attempt; below this the budget is treated as spent. */
const MIN_ATTEMPT_MS = 250;

/**
 * The single place that retries. Runs `attempt(timeoutMs)` and retries only `IntegrationError`s of kind
 * `retryable`, with exponential backoff and jitter, honouring a server's `retryAfterMs`, and never past the run's
 * budget. Throws the last error (or `BudgetExhaustedError` when there was no time for even one attempt).
 */
export async function withRetry<T>(attempt: (timeoutMs: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const left = () => (opts.keepReserve ? opts.budget.remainingForFetch() : opts.budget.remaining());
  // With less than one attempt's time left the first attempt below aborts with BudgetExhaustedError, unmade.
  return pRetry(
    async () => {
      const timeout = Math.min(opts.attemptTimeoutMs, left());
      if (timeout < MIN_ATTEMPT_MS) throw new AbortError(new BudgetExhaustedError(opts.label));
      return attempt(timeout);
    },
    {
      retries: opts.retries ?? 4,
      minTimeout: opts.minDelayMs ?? 300,
      maxTimeout: opts.maxDelayMs ?? 5_000,
      factor: 2,
      randomize: true,
      maxRetryTime: left(),
      shouldRetry: async ({ error, retriesLeft }) => {
        if (!(error instanceof IntegrationError) || error.kind !== 'retryable') return false;
        const wait = error.retryAfterMs ?? 0;
        // A server-requested wait that does not fit in the budget means: leave it for the next run.
        if (wait + MIN_ATTEMPT_MS > left()) return false;
        opts.log.warn('retrying', {
          what: opts.label,
          error: describeError(error),
          retriesLeft,
          waitMs: wait || undefined,
        });
        if (wait > 0) await (opts.sleep ?? sleep)(wait);
        return true;
      },
    },
  );
}
