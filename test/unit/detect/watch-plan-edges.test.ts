import { describe, expect, it } from 'vitest';
import { planRechecks, type DueSync, type RecheckBudget } from '../../../src/detect/watch.js';
import type { WatchedSync } from '../../../src/model/state.js';
import { syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const MIN = 60_000;
/** No push and no full image: only reading the list back finds it (a targeted call has nothing to filter on). */
const untargetable = {
  batchId: undefined,
  from: { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'api', tag: '' },
};
const d = (
  id: string,
  agoH: number,
  o: { waitedMin?: number; partial?: boolean; task?: Partial<WatchedSync['task']> } = {},
): DueSync => ({
  w: {
    task: syncTask({ taskId: id, status: 'SYNCHRONIZING', createTime: NOW - agoH * H, batchId: `b-${id}`, ...o.task }),
    firstSeen: NOW - agoH * H,
    ...(o.partial ? { partial: true } : {}),
  },
  dueAt: NOW - (o.waitedMin ?? 0) * MIN,
});
// 100 tasks an hour in pages of 100: a sync n hours down is 1 + ceil(n) pages from where a read-back starts.
const budget = (over: Partial<RecheckBudget> = {}): RecheckBudget => ({
  calls: 1_000,
  maxBackPages: 1_000,
  top: NOW,
  ratePerHour: 100,
  pageSize: 100,
  canReadBack: true,
  ...over,
});

describe('planning the re-checks of watched syncs, at the edges', () => {
  it('never reads back when the list order does not allow it, even towards a sync known only by id', () => {
    const p = planRechecks([d('p', 2, { partial: true })], budget({ canReadBack: false }));
    expect(p).toEqual({ from: NOW, backPages: 0, back: [], targeted: [] });
  });

  it('never reads back when no page is left, and then keeps the read-back where the scan stopped', () => {
    const p = planRechecks([d('p', 6, { partial: true })], budget({ maxBackPages: 0, resume: NOW - 5 * H }));
    expect(p).toEqual({ from: NOW, backPages: 0, back: [], targeted: [] });
  });

  it('goes on from where the last read-back stopped when the only sync left lies exactly there', () => {
    const p = planRechecks([d('a', 5, { task: untargetable })], budget({ resume: NOW - 5 * H }));
    expect(p).toMatchObject({ from: NOW - 5 * H, backPages: 1, back: ['a'] });
  });

  it('goes on below where the last read-back stopped when the longest-waiting sync lies above it', () => {
    const p = planRechecks(
      [d('a', 1, { waitedMin: 10 }), d('e', 6, { task: untargetable })],
      budget({ resume: NOW - 5 * H }),
    );
    expect(p).toMatchObject({ from: NOW - 5 * H, backPages: 2, back: ['e'] });
  });

  it('reads back towards a sync known only by id from where the last read-back stopped when it lies below', () => {
    const p = planRechecks([d('p', 6, { partial: true, waitedMin: 9 }), d('a', 1)], budget({ resume: NOW - 5 * H }));
    expect(p).toMatchObject({ from: NOW - 5 * H, backPages: 2, back: ['p'] });
  });

  it('without a rate of tasks, reads back towards a sync known only by id as far as the pages allow', () => {
    const p = planRechecks([d('p', 6, { partial: true })], budget({ ratePerHour: undefined, calls: 7 }));
    expect(p).toEqual({ from: NOW, backPages: 7, back: [], targeted: [] });
  });

  it('reads back the one page a sync created at the very top of the scan is on', () => {
    const p = planRechecks([d('a', 0, { task: untargetable })], budget());
    expect(p).toMatchObject({ from: NOW, backPages: 1, back: ['a'] });
  });

  it('of two plans that re-read as many syncs for as many calls, takes the shorter read-back', () => {
    const p = planRechecks([d('b', 1.5, { waitedMin: 30 }), d('a', 0.5, { task: untargetable })], budget());
    expect(p).toMatchObject({ from: NOW, backPages: 2, back: ['a'] });
    expect(p.targeted.flatMap((r) => r.taskIds)).toEqual(['b']);
  });

  it('among many syncs due alike and created together, takes them in the order of their ids', () => {
    const at = { createTime: NOW - 30 * H };
    const ids = ['e', 'c', 'a', 'd', 'b'];
    const p = planRechecks(
      ids.map((id) => d(id, 30, { task: at })),
      budget({ canReadBack: false }),
    );
    expect(p.targeted.flatMap((r) => r.taskIds)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
