import { describe, expect, it } from 'vitest';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { Notifier } from '../../../src/notify/types.js';
import { BACKOFF_AFTER_MS } from '../../../src/notify/pause.js';
import { MIN, movableClock, T0, task } from '../../support/observe-fakes.js';
import { runHarness } from '../../support/run-harness.js';

/** A Slack webhook that never answers: each attempt waits out its whole timeout, then fails as retryable. */
function deadSlack(clock: { t: number }): Notifier & { attempts: number } {
  const n = {
    channel: 'slack' as const,
    fingerprint: 'slack',
    attempts: 0,
    async send(_payload: unknown, opts: { timeoutMs: number }) {
      n.attempts += 1;
      clock.t += opts.timeoutMs;
      throw new IntegrationError('timeout', { service: 'slack', kind: 'retryable', code: 'ETIMEDOUT' });
    },
  };
  return n;
}

describe('a channel that stays dead run after run', () => {
  it('stays owed since its first failed run, so the wait between tries starts and grows with how long it is down', async () => {
    const clock = movableClock(T0);
    const slack = deadSlack(clock);
    const h = runHarness({
      clock,
      tasks: [task('rst-dead1', T0 - MIN, 'ERROR')],
      notifiers: { slack },
      // The one attempt a run makes takes all of its time: nothing is retried within a run.
      timeoutMs: 10_000,
      reserveMs: 4_000,
    });
    const first = await h.run(T0);
    expect(first.failuresFound).toBe(1);
    expect(first.notified).toEqual({ slack: 0 });
    // Runs every 5 minutes while it has been down less than BACKOFF_AFTER_MS: each one tries, none pauses.
    for (let at = T0 + 5 * MIN; at < T0 + BACKOFF_AFTER_MS; at += 5 * MIN) {
      const s = await h.run(at);
      expect(s.notified).toEqual({ slack: 0 });
      const c = await h.control();
      expect(c.owed.slack).toEqual({ since: T0, count: 1 });
      expect(c.pauses.slack).toBeUndefined();
    }
    expect(slack.attempts).toBe(4);
    // From then on each failed try rests the channel a quarter of how long it has been owed: 5, then 6.25, then 10 min.
    const waits: number[] = [];
    for (const at of [T0 + 20 * MIN, T0 + 25 * MIN, T0 + 40 * MIN]) {
      await h.run(at);
      const c = await h.control();
      expect(c.owed.slack).toEqual({ since: T0, count: 1 });
      waits.push(c.pauses.slack!.until - at);
    }
    expect(waits).toEqual([5 * MIN, 6.25 * MIN, 10 * MIN]);
    expect(slack.attempts).toBe(7);
  });
});
