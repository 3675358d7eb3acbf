import { describe, expect, it } from 'vitest';
import { updateHealth } from '../../../src/detect/health.js';
import type { InstanceHealth } from '../../../src/model/state.js';

const I = 'cn-hangzhou:cri-x';
const T0 = 1_800_000_000_000;
const MIN = 60_000;
const H = 60 * MIN;
const DENIED = 'ListRepoSyncTask refused (NoPrivilege) [cr config NoPrivilege HTTP 403]';

/** Runs `results` in a row, a run every 5 minutes from T0, threading health as the cursor would. */
function runs(results: ({ ok: true } | { ok: false; error: string })[], blindAfterRuns = 3, start?: InstanceHealth) {
  let health = start;
  return results.map((r, i) => {
    const out = updateHealth({ instance: I, prev: health, result: r, now: T0 + i * 5 * MIN, blindAfterRuns });
    health = out.health;
    return out;
  });
}
const fail = (error = DENIED) => ({ ok: false as const, error });
const ok = { ok: true as const };

describe('alerting telling the channels it cannot see an instance', () => {
  it('keeps nothing and says nothing while an instance is read', () => {
    expect(updateHealth({ instance: I, prev: undefined, result: ok, now: T0, blindAfterRuns: 3 })).toEqual({});
  });

  it('counts failing runs from the first, with the latest error, and says nothing before the threshold', () => {
    const [first, second] = runs([fail('first error'), fail('second error')]);
    expect(first).toEqual({ health: { since: T0, runs: 1, lastError: 'first error', announced: false } });
    expect(second).toEqual({ health: { since: T0, runs: 2, lastError: 'second error', announced: false } });
  });

  it('raises one blind notice on the run that reaches the threshold, naming since when, how many runs and the error', () => {
    const third = runs([fail(), fail(), fail()])[2]!;
    expect(third.notice).toEqual({
      kind: 'blind',
      id: `${I}/blind/${T0}`,
      instance: I,
      since: T0,
      at: T0 + 10 * MIN,
      runs: 3,
      error: DENIED,
    });
    expect(third.health).toEqual({ since: T0, runs: 3, lastError: DENIED, announced: true });
  });

  it('does not repeat the blind notice while the instance stays unreadable, and keeps counting', () => {
    const later = runs([fail(), fail(), fail(), fail('timeout'), fail()]);
    expect(later.map((r) => r.notice?.kind)).toEqual([undefined, undefined, 'blind', undefined, undefined]);
    expect(later[3]!.health).toEqual({ since: T0, runs: 4, lastError: 'timeout', announced: true });
    expect(later[4]!.health).toMatchObject({ since: T0, runs: 5, announced: true });
  });

  it('says once that it sees the instance again after a blind notice, and forgets the failures', () => {
    const seq = runs([fail(), fail(), fail(), fail(), ok, ok]);
    expect(seq[4]).toEqual({
      notice: {
        kind: 'restored',
        id: `${I}/restored/${T0 + 20 * MIN}`,
        instance: I,
        since: T0,
        at: T0 + 20 * MIN,
        runs: 4,
      },
    });
    expect(seq[5]).toEqual({});
  });

  it('says nothing when an instance is read again before the threshold, and starts counting afresh', () => {
    const seq = runs([fail(), fail(), ok, fail(), fail()]);
    expect(seq.map((r) => r.notice)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(seq[2]).toEqual({});
    expect(seq[4]!.health).toEqual({ since: T0 + 15 * MIN, runs: 2, lastError: DENIED, announced: false });
  });

  it('announces on the first failing run when the threshold is one', () => {
    const [first] = runs([fail()], 1);
    expect(first!.notice).toMatchObject({ kind: 'blind', since: T0, at: T0, runs: 1 });
    expect(first!.health?.announced).toBe(true);
  });

  it('never announces twice for a blindness announced by an earlier run', () => {
    const announced: InstanceHealth = { since: T0 - H, runs: 7, lastError: 'old', announced: true };
    const [next] = runs([fail('new')], 3, announced);
    expect(next).toEqual({ health: { since: T0 - H, runs: 8, lastError: 'new', announced: true } });
  });
});
