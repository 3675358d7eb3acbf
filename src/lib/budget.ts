/** The wall clock, injected so that decisions and tests do not read the real time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The run's time budget: a deadline derived from the function timeout, minus a reserve kept for saving the
 * state and sending what was found. Every network call takes its timeout from here so that none can outlive
 * the function.
 */
export class Budget {
  constructor(
    private readonly clock: Clock,
    /** Epoch ms by which the run must have finished everything. */
    readonly deadline: number,
    /** Ms kept back from fetching for delivery and the final save. */
    readonly reserveMs: number,
  ) {}

  /** Ms left before the hard deadline. */
  remaining(): number {
    return Math.max(0, this.deadline - this.clock.now());
  }

  /** Ms left for fetching: the part of the budget not held back for delivery and saving. */
  remainingForFetch(): number {
    return Math.max(0, this.remaining() - this.reserveMs);
  }

  /** A per-call timeout: `preferredMs`, shortened so the call cannot run past the deadline. */
  callTimeout(preferredMs: number): number {
    return Math.max(1, Math.min(preferredMs, this.remaining()));
  }

  /**
   * Budget for a function whose platform timeout is `timeoutSec`: keep 20% (at least 5 s, at most 60 s, never more
   * than half) for delivery and the final save. Function Compute kills the instance at the timeout, so the deadline
   * sits 1 s before it.
   */
  static forTimeout(clock: Clock, startedAt: number, timeoutSec: number): Budget {
    const totalMs = timeoutSec * 1000 - 1_000;
    const reserve = Math.min(60_000, Math.max(5_000, Math.round(totalMs * 0.2)), Math.round(totalMs / 2));
    return new Budget(clock, startedAt + totalMs, reserve);
  }
}
