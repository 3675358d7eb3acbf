import { describe, expect, it } from 'vitest';
import { planRechecks, type DueSync, type RecheckBudget } from '../../../src/detect/watch.js';
import type { WatchedSync } from '../../../src/model/state.js';
import { syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const MIN = 60_000;
const image = (namespace: string, repo: string, tag: string) => ({
  instanceId: 'cri-x',
  regionId: 'cn-hangzhou',
  namespace,
  repo,
  tag,
});
/**
 * A due watched sync created `agoH` hours before NOW, due since `waitedMin` minutes (0 unless told), re-read by its
 * own push unless told otherwise.
 */
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
// 100 tasks an hour in pages of 100: reading back an hour costs a page, plus the page the read-back starts on (a sync
// 1.1 h down costs 3 pages).
const budget = (over: Partial<RecheckBudget> = {}): RecheckBudget => ({
  calls: 1_000,
  maxBackPages: 1_000,
  top: NOW,
  ratePerHour: 100,
  pageSize: 100,
  canReadBack: true,
  ...over,
});
const targetedIds = (p: ReturnType<typeof planRechecks>) => p.targeted.flatMap((r) => r.taskIds);

describe('planning the re-checks of watched syncs', () => {
  it.each<[string, DueSync[], Partial<RecheckBudget>, { targeted: string[]; back: string[]; backPages: number }]>([
    [
      'targets the longest-waiting first, as many as the calls allow',
      [d('a', 30, { waitedMin: 5 }), d('b', 31, { waitedMin: 50 }), d('c', 32, { waitedMin: 20 })],
      { calls: 2 },
      { targeted: ['b', 'c'], back: [], backPages: 0 },
    ],
    [
      'among syncs due alike, the oldest first',
      [d('new', 3), d('old', 40), d('mid', 20)],
      { calls: 2 },
      { targeted: ['old', 'mid'], back: [], backPages: 0 },
    ],
    ['plans nothing when no call is left', [d('a', 30)], { calls: 0 }, { targeted: [], back: [], backPages: 0 }],
    [
      'reads back when pages reach more syncs than the calls could target',
      [d('a', 1.1), d('b', 1.2), d('c', 1.3), d('d', 1.4)],
      { calls: 3 },
      { targeted: [], back: ['a', 'b', 'c', 'd'], backPages: 3 },
    ],
    [
      'reads back when it costs fewer calls for the same syncs (three pages for four pushes)',
      [d('a', 1.1), d('b', 1.2), d('c', 1.3), d('d', 1.4)],
      {},
      { targeted: [], back: ['a', 'b', 'c', 'd'], backPages: 3 },
    ],
    [
      'targets rather than read back as far as a sync deep down',
      [d('deep', 30), d('deeper', 31)],
      {},
      { targeted: ['deeper', 'deep'], back: [], backPages: 0 },
    ],
    [
      'on a tie between reading back and targeting, targets (it finds a sync wherever the list moved it)',
      [d('a', 0.5), d('b', 0.6)],
      {},
      { targeted: ['b', 'a'], back: [], backPages: 0 },
    ],
    [
      'a read-back the run cannot finish is worth only the syncs it reaches',
      [d('a', 1.1), d('b', 1.2), d('c', 1.3), d('d', 1.4), d('e', 10), d('f', 10.1), d('g', 10.2)],
      { calls: 4 },
      { targeted: ['g'], back: ['a', 'b', 'c', 'd'], backPages: 3 },
    ],
    [
      'does not read back a list whose order is unknown',
      [d('a', 2.1), d('b', 2.2), d('c', 2.3), d('d', 2.4)],
      { calls: 2, canReadBack: false },
      { targeted: ['d', 'c'], back: [], backPages: 0 },
    ],
    [
      'reads back no more pages than the instance has left this run',
      [d('a', 2.1), d('b', 2.2), d('c', 2.3), d('d', 2.4)],
      { calls: 3, maxBackPages: 2 },
      { targeted: ['d', 'c', 'b'], back: [], backPages: 0 },
    ],
    [
      'reads back towards a sync known only by id when it has waited longest, whatever it costs',
      [d('p', 30, { partial: true, waitedMin: 60 }), d('a', 3), d('b', 4)],
      { calls: 10 },
      { targeted: [], back: ['a', 'b'], backPages: 10 },
    ],
    [
      'reaches it once the pages allow, and targets the rest with the calls left',
      [d('p', 5, { partial: true, waitedMin: 60 }), d('a', 30)],
      { calls: 10 },
      { targeted: ['a'], back: ['p'], backPages: 6 },
    ],
    [
      'never targets a sync known only by id',
      [d('p', 5, { partial: true }), d('a', 30, { waitedMin: 10 })],
      { calls: 1, maxBackPages: 0 },
      { targeted: ['a'], back: [], backPages: 0 },
    ],
  ])('%s', (_, due, over, want) => {
    const p = planRechecks(due, budget(over));
    expect({ targeted: targetedIds(p), back: [...p.back].sort(), backPages: p.backPages }).toEqual(want);
  });

  it('plans nothing, and reads nothing back, when nothing is due', () => {
    expect(planRechecks([], budget({ resume: NOW - 5 * H }))).toEqual({
      from: NOW,
      backPages: 0,
      back: [],
      targeted: [],
    });
  });

  it('reads back from the newest time read when no page may be read back, whatever the last read-back left', () => {
    const p = planRechecks([d('a', 5.5), d('b', 6)], budget({ calls: 2, maxBackPages: 0, resume: NOW - 5 * H }));
    expect(p).toMatchObject({ from: NOW, backPages: 0, back: [] });
    expect(targetedIds(p)).toEqual(['b', 'a']);
  });

  it('goes on from where the last read-back stopped for a sync created at that very time', () => {
    const p = planRechecks(
      [d('e', 5), d('f', 5.05), d('g', 5.1), d('h', 5.15)],
      budget({ calls: 3, resume: NOW - 5 * H }),
    );
    expect(p).toMatchObject({ from: NOW - 5 * H, backPages: 2 });
    expect([...p.back].sort()).toEqual(['e', 'f', 'g', 'h']);
  });

  it('reads back a sync created at the newest time read with the page it starts on', () => {
    const p = planRechecks([d('top', 0), d('a', 0.1), d('b', 0.2)], budget({ calls: 2 }));
    expect({ back: [...p.back].sort(), backPages: p.backPages, targeted: targetedIds(p) }).toEqual({
      back: ['a', 'b', 'top'],
      backPages: 2,
      targeted: [],
    });
  });

  it('among syncs due alike and created together, takes them in the order of their ids', () => {
    const at = { createTime: NOW - 30 * H };
    const p = planRechecks([d('y', 30, { task: at }), d('x', 30, { task: at })], budget({ calls: 1 }));
    expect(targetedIds(p)).toEqual(['x']);
  });

  it('re-reads syncs of two images with a call each', () => {
    const p = planRechecks(
      [
        d('a', 30, { task: { batchId: undefined, from: image('ns', 'api', 'v1') } }),
        d('b', 31, { task: { batchId: undefined, from: image('ns', 'web', 'v1') } }),
      ],
      budget({ canReadBack: false }),
    );
    expect(p.targeted.map((r) => r.taskIds)).toEqual([['b'], ['a']]);
  });

  it('goes on below where the last read-back stopped while a due sync lies below it, else starts below the scan', () => {
    const due = [d('a', 1.1), d('b', 1.2), d('c', 1.3), d('d', 1.4), d('e', 5.1), d('f', 5.2), d('g', 5.3)];
    const resumed = planRechecks(due, budget({ calls: 3, resume: NOW - 5 * H }));
    expect(resumed).toMatchObject({ from: NOW - 5 * H, backPages: 2 });
    expect([...resumed.back].sort()).toEqual(['e', 'f', 'g']);
    const over = planRechecks(due, budget({ calls: 3, resume: NOW - 6 * H }));
    expect(over).toMatchObject({ from: NOW, backPages: 3 });
    expect([...over.back].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts over from the top for a sync known only by id above where the last read-back stopped', () => {
    const p = planRechecks([d('p', 2.5, { partial: true, waitedMin: 9 }), d('a', 6)], budget({ resume: NOW - 5 * H }));
    expect(p).toMatchObject({ from: NOW, back: ['p'] });
  });

  it('re-reads syncs of one push, or of one image when the push is not known, with one call', () => {
    const from = image('ns', 'api', 'v1');
    const p = planRechecks(
      [
        d('a', 30, { task: { batchId: 'same' } }),
        d('b', 31, { task: { batchId: 'same' } }),
        d('c', 32, { task: { batchId: undefined, from } }),
        d('e', 33, { task: { batchId: undefined, from } }),
      ],
      budget({ canReadBack: false }),
    );
    expect(p.targeted.map((r) => [r.filter, [...r.taskIds].sort()])).toEqual([
      [{ namespace: 'ns', repo: 'api', tag: 'v1' }, ['c', 'e']],
      [{ syncRecordId: 'same' }, ['a', 'b']],
    ]);
  });

  it('never re-reads by an image without a tag or a namespace (an empty filter would match every tag or namespace)', () => {
    for (const from of [image('ns', 'api', ''), image('', 'api', 'v1')]) {
      const p = planRechecks([d('a', 30, { task: { batchId: undefined, from } })], budget({ canReadBack: false }));
      expect(p.targeted).toEqual([]);
    }
  });
});
