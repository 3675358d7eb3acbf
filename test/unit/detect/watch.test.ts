import { describe, expect, it } from 'vitest';
import type { WatchedSync } from '../../../src/model/state.js';
import { isDue, planRechecks } from '../../../src/detect/watch.js';
import { syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const w = (id: string, agoH: number, over: Partial<WatchedSync['task']> = {}, partial = false): WatchedSync => ({
  task: syncTask({ taskId: id, status: 'SYNCHRONIZING', createTime: NOW - agoH * H, batchId: `rsbt-${id}`, ...over }),
  firstSeen: NOW,
  ...(partial ? { partial: true } : {}),
});

describe('re-checking watched syncs', () => {
  it('re-checks a young sync every run, an old one only when the slow re-checks are due', () => {
    expect(isDue(w('a', 0.5), NOW, false, H)).toBe(true);
    expect(isDue(w('b', 24), NOW, false, H)).toBe(false);
    expect(isDue(w('b', 24), NOW, true, H)).toBe(true);
    expect(isDue(w('c', 24, {}, true), NOW, false, H)).toBe(true);
    // Exactly as old as the threshold is still young.
    expect(isDue(w('d', 1), NOW, false, H)).toBe(true);
    expect(isDue(w('e', 1 + 1 / 3_600_000), NOW, false, H)).toBe(false);
  });

  it('re-reads with one targeted call per push when reading back would cost more pages (300 tasks an hour, syncs open a day)', () => {
    const due = Array.from({ length: 100 }, (_, i) => w(`s${i}`, 24));
    const plan = planRechecks(due, { top: NOW, ratePerHour: 300, pageSize: 50 });
    expect(plan.sweepTo).toBeUndefined();
    expect(plan.targeted).toHaveLength(100);
    expect(plan.targeted[0]!.filter).toEqual({ syncRecordId: 'rsbt-s0' });
  });

  it('reads back instead when the syncs are recent enough to be a page or two down', () => {
    const due = Array.from({ length: 10 }, (_, i) => w(`r${i}`, 0.25));
    const plan = planRechecks(due, { top: NOW, ratePerHour: 300, pageSize: 50 });
    expect(plan.sweepTo).toBe(NOW - 0.25 * H);
    expect(plan.targeted).toEqual([]);
    expect(plan.extraPages).toBe(1);
  });

  it('groups syncs of one push into one call, and syncs without a push id by their image', () => {
    const due = [
      w('a', 20, { batchId: 'rsbt-same' }),
      w('b', 20, { batchId: 'rsbt-same' }),
      w('c', 20, { batchId: undefined }),
    ];
    const plan = planRechecks(due, { pageSize: 50 });
    expect(plan.targeted.map((r) => [r.filter, r.taskIds])).toEqual([
      [{ syncRecordId: 'rsbt-same' }, ['a', 'b']],
      [{ namespace: 'prod', repo: 'api', tag: 'v1' }, ['c']],
    ]);
  });

  it('reads back to a sync known only by id (carried over from an earlier version), whatever it costs', () => {
    const plan = planRechecks([w('new', 1), w('old', 48, {}, true)], { top: NOW, ratePerHour: 300, pageSize: 50 });
    expect(plan.sweepTo).toBe(NOW - 48 * H);
    expect(plan.swept.sort()).toEqual(['new', 'old']);
  });
});
