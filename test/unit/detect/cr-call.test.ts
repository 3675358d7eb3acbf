import { describe, expect, it } from 'vitest';
import {
  ASSUMED_CALL_MS,
  callCr,
  callsLeft,
  CR_CALL_TIMEOUT_MS,
  FETCH_FLOOR_MS,
  hasFetchTime,
  msPerCall,
} from '../../../src/detect/cr-call.js';
import { Budget } from '../../../src/lib/budget.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import { movableClock, recordingLog, T0 } from '../../support/observe-fakes.js';

const RESERVE = 5_000;
const budget = (fetchMs: number) => new Budget(movableClock(T0), T0 + fetchMs + RESERVE, RESERVE);

describe('a CR call', () => {
  it('is retried while the service says to retry, and logged under its label', async () => {
    const log = recordingLog();
    let attempts = 0;
    const out = await callCr({ budget: budget(60_000), log }, 'ListRepoSyncTask x page 1', async () => {
      attempts += 1;
      if (attempts < 2)
        throw new IntegrationError('throttled', { service: 'cr', kind: 'retryable', code: 'Throttling' });
      return 'page';
    });
    expect(out).toBe('page');
    expect(log.lines.map((l) => [l.msg, l.fields?.what])).toEqual([['retrying', 'ListRepoSyncTask x page 1']]);
  });

  it('throws a refusal at once', async () => {
    let attempts = 0;
    const refused = new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'Forbidden' });
    await expect(
      callCr({ budget: budget(60_000), log: recordingLog() }, 'call', async () => {
        attempts += 1;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(attempts).toBe(1);
  });

  it(`waits ${CR_CALL_TIMEOUT_MS / 1000} s at most for an attempt, less when less fetch time is left`, async () => {
    const timeouts: number[] = [];
    const record = async (t: number) => void timeouts.push(t);
    await callCr({ budget: budget(60_000), log: recordingLog() }, 'call', record);
    await callCr({ budget: budget(3_000), log: recordingLog() }, 'call', record);
    expect(timeouts).toEqual([CR_CALL_TIMEOUT_MS, 3_000]);
  });
});

describe('time to start another call for reading', () => {
  it.each([
    [FETCH_FLOOR_MS + 1, true],
    [FETCH_FLOOR_MS, false],
    [0, false],
  ])('with %d ms of fetch time left: %s', (fetchMs, want) => {
    expect(hasFetchTime(budget(fetchMs))).toBe(want);
  });
});

describe('the calls a run can still afford', () => {
  /** A budget with `fetchMs` of fetch time, whose CR calls each take `callMs` of its clock. */
  async function after(calls: number, callMs: number, fetchMs: number) {
    const clock = movableClock(T0);
    const b = new Budget(clock, T0 + fetchMs + RESERVE, RESERVE);
    for (let i = 0; i < calls; i++)
      await callCr({ budget: b, log: recordingLog() }, 'call', async () => void (clock.t += callMs));
    return b;
  }

  it('divides the fetch time left above the floor by the time calls took in this run', async () => {
    const b = await after(2, 2_000, 14_000);
    expect(msPerCall(b)).toBe(2_000);
    // 10 s left, 9 s above the floor: calls can start at 10, 8, 6, 4 and 2 s left.
    expect(callsLeft(b)).toBe(5);
  });

  it(`assumes ${ASSUMED_CALL_MS} ms a call before the run has timed one`, async () => {
    const b = await after(0, 0, 6_000);
    expect(msPerCall(b)).toBe(ASSUMED_CALL_MS);
    expect(callsLeft(b)).toBe(5);
  });

  it('counts the time of a call that failed, retries included', async () => {
    const clock = movableClock(T0);
    const b = new Budget(clock, T0 + 60_000 + RESERVE, RESERVE);
    const refused = new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'Forbidden' });
    await expect(
      callCr({ budget: b, log: recordingLog() }, 'call', async () => {
        clock.t += 3_000;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(msPerCall(b)).toBe(3_000);
  });

  it('is none once the fetch time is down to the floor', async () => {
    expect(callsLeft(await after(1, 1_000, FETCH_FLOOR_MS + 1_000))).toBe(0);
  });
});
