import { describe, expect, it } from 'vitest';
import { Budget, type Clock } from '../../../src/lib/budget.js';
import { BudgetExhaustedError, IntegrationError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { withRetry, type RetryOptions } from '../../../src/lib/retry.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_800_000_000_000) {
  let t = start;
  const clock: Clock = { now: () => t };
  return { clock, advance: (ms: number) => (t += ms), at: () => t };
}
const retryable = (retryAfterMs?: number) =>
  new IntegrationError('busy', { service: 'cr', kind: 'retryable', code: 'Throttling', retryAfterMs });

describe('the run budget', () => {
  it('ends 1 s before the platform timeout and keeps 20% of it (5 s to 60 s, never more than half) for delivery and saving', () => {
    const { clock } = manualClock(0);
    const b = Budget.forTimeout(clock, 0, 120);
    expect(b.deadline).toBe(119_000);
    expect(b.reserveMs).toBe(23_800);
    expect(b.remainingForFetch()).toBe(119_000 - 23_800);
    expect(Budget.forTimeout(clock, 0, 8).reserveMs).toBe(3_500); // half of 7 s: 5 s would leave too little to fetch
    expect(Budget.forTimeout(clock, 0, 30).reserveMs).toBe(5_800);
    expect(Budget.forTimeout(clock, 0, 15).reserveMs).toBe(5_000);
    expect(Budget.forTimeout(clock, 0, 600).reserveMs).toBe(60_000);
  });

  it("shortens a call's timeout to what is left and never reports negative time", () => {
    const c = manualClock(0);
    const b = new Budget(c.clock, 10_000, 4_000);
    expect(b.callTimeout(8_000)).toBe(8_000);
    c.advance(7_000);
    expect(b.callTimeout(8_000)).toBe(3_000);
    expect(b.remainingForFetch()).toBe(0);
    c.advance(5_000);
    expect(b.remaining()).toBe(0);
    expect(b.callTimeout(8_000)).toBe(1);
  });
});

describe('withRetry, the one place that retries', () => {
  const opts = (budget: Budget, over: Partial<RetryOptions> = {}): RetryOptions => ({
    budget,
    log: silentLogger,
    label: 'test call',
    attemptTimeoutMs: 5_000,
    minDelayMs: 1,
    maxDelayMs: 2,
    ...over,
  });

  it('retries a retryable failure until it succeeds', async () => {
    const { clock } = manualClock();
    let calls = 0;
    const out = await withRetry(
      async () => (++calls < 3 ? Promise.reject(retryable()) : 'ok'),
      opts(new Budget(clock, clock.now() + 60_000, 0)),
    );
    expect([out, calls]).toEqual(['ok', 3]);
  });

  it('stops after the retries it was given and throws the last error', async () => {
    const { clock } = manualClock();
    let calls = 0;
    const err = await withRetry(
      async () => Promise.reject(retryable()).finally(() => calls++),
      opts(new Budget(clock, clock.now() + 60_000, 0), { retries: 2 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrationError);
    expect(calls).toBe(3);
  });

  it.each([
    ['a permanent refusal', new IntegrationError('bad', { service: 'slack', kind: 'permanent' })],
    ['a configuration problem', new IntegrationError('denied', { service: 'cr', kind: 'config', code: 'NoPrivilege' })],
    ['an error of our own', new TypeError('bug')],
  ])('never retries %s', async (_what, error) => {
    const { clock } = manualClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => Promise.reject(error).finally(() => calls++),
        opts(new Budget(clock, clock.now() + 60_000, 0)),
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('waits as long as the server asked before trying again', async () => {
    const { clock } = manualClock();
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => (++calls === 1 ? Promise.reject(retryable(7_000)) : 'ok'),
      opts(new Budget(clock, clock.now() + 60_000, 0), { sleep: async (ms) => waits.push(ms) }),
    );
    expect(waits).toEqual([7_000]);
    expect(calls).toBe(2);
  });

  it('leaves a wait longer than the budget to the next run instead of sitting it out', async () => {
    const { clock } = manualClock();
    const waits: number[] = [];
    const err = retryable(30_000);
    await expect(
      withRetry(
        async () => Promise.reject(err),
        opts(new Budget(clock, clock.now() + 20_000, 0), { sleep: async (ms) => waits.push(ms) }),
      ),
    ).rejects.toBe(err);
    expect(waits).toEqual([]);
  });

  it('does not start when less than a useful attempt is left, and keeps the reserve when asked to', async () => {
    const { clock } = manualClock();
    let calls = 0;
    const attempt = async () => (calls++, 'ok');
    await expect(withRetry(attempt, opts(new Budget(clock, clock.now() + 200, 0)))).rejects.toBeInstanceOf(
      BudgetExhaustedError,
    );
    await expect(
      withRetry(attempt, opts(new Budget(clock, clock.now() + 10_000, 9_900), { keepReserve: true })),
    ).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(calls).toBe(0);
    await expect(withRetry(attempt, opts(new Budget(clock, clock.now() + 10_000, 9_900)))).resolves.toBe('ok');
    // Exactly one useful attempt left is enough.
    await expect(withRetry(attempt, opts(new Budget(clock, clock.now() + 250, 0)))).resolves.toBe('ok');
  });

  it('gives each attempt the preferred timeout, cut to what the budget has left', async () => {
    const { clock } = manualClock();
    const seen: number[] = [];
    await withRetry(async (t) => seen.push(t), opts(new Budget(clock, clock.now() + 3_000, 0)));
    await withRetry(async (t) => seen.push(t), opts(new Budget(clock, clock.now() + 60_000, 0)));
    await withRetry(
      async (t) => seen.push(t),
      opts(new Budget(clock, clock.now() + 60_000, 58_000), { keepReserve: true }),
    );
    expect(seen).toEqual([3_000, 5_000, 2_000]);
  });
});
