import { describe, expect, it } from 'vitest';
import type { WatchedSync } from '../../../src/model/state.js';
import { dueAt, SLOW_RECHECK_MS } from '../../../src/detect/watch.js';
import { syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const MIN = 60_000;
const w = (agoH: number, firstSeenAgoH = agoH): WatchedSync => ({
  task: syncTask({ taskId: 'a', status: 'SYNCHRONIZING', createTime: NOW - agoH * H }),
  firstSeen: NOW - firstSeenAgoH * H,
});

describe('when the re-check of a watched sync falls due', () => {
  it.each<[string, WatchedSync, number, number]>([
    ['a young one: at every run, since it was last checked', w(0.5), NOW - 5 * MIN, NOW - 5 * MIN],
    ['one exactly at the stuck threshold is still young', w(1), NOW - MIN, NOW - MIN],
    ['a long-running one: a quarter hour after its last re-check', w(24), NOW - 5 * MIN, NOW + 10 * MIN],
    [
      'a long-running one checked last while young: when it passed the stuck threshold',
      w(3),
      NOW - 2.9 * H,
      NOW - 2 * H,
    ],
  ])('%s', (_, sync, lastChecked, want) => {
    expect(dueAt(sync, lastChecked, H, NOW)).toBe(want);
  });

  it('re-checks a long-running one at most every SLOW_RECHECK_MS', () => {
    expect(dueAt(w(24), NOW - SLOW_RECHECK_MS, H, NOW)).toBe(NOW);
    expect(dueAt(w(24), NOW - SLOW_RECHECK_MS + 1, H, NOW)).toBeGreaterThan(NOW);
  });
});
