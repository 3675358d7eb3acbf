import { describe, expect, it } from 'vitest';
import { Budget, systemClock, type Clock } from '../../../src/lib/budget.js';
import { BudgetExhaustedError, IntegrationError } from '../../../src/lib/errors.js';
import { createLogger, silentLogger, type Level } from '../../../src/lib/log.js';
import { withRetry, type RetryOptions } from '../../../src/lib/retry.js';

const START = 1_800_000_000_000;
function manualClock(start = START) {
  let t = start;
  const clock: Clock = { now: () => t };
  return { clock, advance: (ms: number) => (t += ms) };
}
const retryable = (retryAfterMs?: number) =>
  new IntegrationError('busy', { service: 'cr', kind: 'retryable', code: 'Throttling', retryAfterMs });
const opts = (budget: Budget, over: Partial<RetryOptions> = {}): RetryOptions => ({
  budget,
  log: silentLogger,
  label: 'ListRepoSyncTask page 2',
  attemptTimeoutMs: 5_000,
  minDelayMs: 1,
  maxDelayMs: 2,
  ...over,
});

describe('retries within the run budget', () => {
  it('retry four times when not told how often', async () => {
    const { clock } = manualClock();
    let calls = 0;
    await expect(
      withRetry(async () => (calls++, Promise.reject(retryable())), opts(new Budget(clock, START + 60_000, 0))),
    ).rejects.toBeInstanceOf(IntegrationError);
    expect(calls).toBe(5);
  });

  it("do not retry once the budget ran out during an attempt: the attempt's own error is thrown", async () => {
    const c = manualClock();
    let calls = 0;
    const err = retryable();
    await expect(
      withRetry(
        async () => {
          calls++;
          c.advance(9_800);
          throw err;
        },
        opts(new Budget(c.clock, START + 10_000, 0)),
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('give up, naming what was being attempted, when the backoff used up the budget before the next attempt', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => (calls++, Promise.reject(retryable())),
      opts(new Budget(systemClock, Date.now() + 700, 0), { minDelayMs: 500, maxDelayMs: 500 }),
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(BudgetExhaustedError);
    expect((err as Error).message).toBe('time budget exhausted before ListRepoSyncTask page 2');
  });

  it('refuse to start with less than a useful attempt left, naming what was to be attempted', async () => {
    const { clock } = manualClock();
    await expect(withRetry(async () => 'ok', opts(new Budget(clock, START + 249, 0)))).rejects.toThrow(
      'time budget exhausted before ListRepoSyncTask page 2',
    );
  });

  it('keep the reserve on every retry when asked to, and only then', async () => {
    const run = async (keepReserve: boolean) => {
      const c = manualClock();
      const timeouts: number[] = [];
      await withRetry(
        async (t) => {
          timeouts.push(t);
          c.advance(1_000);
          throw retryable();
        },
        opts(new Budget(c.clock, START + 12_000, 10_000), { keepReserve, retries: 3 }),
      ).catch(() => undefined);
      return timeouts;
    };
    // 2 s outside the reserve: an attempt, one more in the second left, then too little for a useful one.
    expect(await run(true)).toEqual([2_000, 1_000]);
    expect(await run(false)).toEqual([5_000, 5_000, 5_000, 5_000]);
  });

  it('sit out a server-requested wait that leaves exactly one useful attempt, and not one that leaves less', async () => {
    const { clock } = manualClock();
    const waits: number[] = [];
    let calls = 0;
    const attempt = (wait: number) => async () => (++calls === 1 ? Promise.reject(retryable(wait)) : 'ok');
    await expect(
      withRetry(attempt(59_750), opts(new Budget(clock, START + 60_000, 0), { sleep: async (ms) => waits.push(ms) })),
    ).resolves.toBe('ok');
    expect(waits).toEqual([59_750]);
    calls = 0;
    const e = await withRetry(
      attempt(59_751),
      opts(new Budget(clock, START + 60_000, 0), { sleep: async (ms) => waits.push(ms) }),
    ).catch((x: unknown) => x);
    expect(e).toMatchObject({ retryAfterMs: 59_751 });
    expect(waits).toEqual([59_750]);
  });

  it('sit out no server wait when the server asked for none, only the backoff', async () => {
    const { clock } = manualClock();
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => (++calls < 3 ? Promise.reject(retryable(calls === 1 ? undefined : 0)) : 'ok'),
      opts(new Budget(clock, START + 60_000, 0), { sleep: async (ms) => waits.push(ms) }),
    );
    expect(calls).toBe(3);
    expect(waits).toEqual([]);
  });

  it('sit out a server-requested wait on the real clock when no sleep is given', async () => {
    let calls = 0;
    const t0 = Date.now();
    await withRetry(
      async () => (++calls === 1 ? Promise.reject(retryable(150)) : 'ok'),
      opts(new Budget(systemClock, Date.now() + 60_000, 0)),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('log each retry with what is retried, the error, the retries left and the wait asked for', async () => {
    const lines: [Level, Record<string, unknown>][] = [];
    const log = createLogger({
      sink: (level, line) => lines.push([level, JSON.parse(line) as Record<string, unknown>]),
    });
    const { clock } = manualClock();
    let calls = 0;
    await withRetry(
      async () => (++calls === 1 ? Promise.reject(retryable(2_000)) : calls === 2 ? Promise.reject(retryable()) : 'ok'),
      opts(new Budget(clock, START + 60_000, 0), { log, retries: 3, sleep: async () => undefined }),
    );
    expect(lines).toEqual([
      [
        'warn',
        {
          level: 'warn',
          msg: 'retrying',
          what: 'ListRepoSyncTask page 2',
          error: 'busy [cr retryable Throttling]',
          retriesLeft: 3,
          waitMs: 2_000,
        },
      ],
      [
        'warn',
        {
          level: 'warn',
          msg: 'retrying',
          what: 'ListRepoSyncTask page 2',
          error: 'busy [cr retryable Throttling]',
          retriesLeft: 2,
        },
      ],
    ]);
  });

  it('wait between attempts when the server asked for nothing (backoff), not at once', async () => {
    const { clock } = manualClock();
    const stamps: number[] = [];
    await withRetry(
      async () => (stamps.push(Date.now()), stamps.length < 2 ? Promise.reject(retryable()) : 'ok'),
      opts(new Budget(clock, START + 60_000, 0), { minDelayMs: 100, maxDelayMs: 100 }),
    );
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(90);
  });
});
