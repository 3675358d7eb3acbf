import { describe, expect, it } from 'vitest';
import { planRechecks } from '../../../src/detect/watch.js';
import type { WatchedSync } from '../../../src/model/state.js';
import { syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const image = (namespace: string, repo: string, tag: string) => ({
  instanceId: 'cri-x',
  regionId: 'cn-hangzhou',
  namespace,
  repo,
  tag,
});
/** A watched sync created `agoH` hours before NOW, re-read by its push unless it has none. */
const w = (id: string, agoH: number, over: Partial<WatchedSync['task']> = {}): WatchedSync => ({
  task: syncTask({ taskId: id, status: 'SYNCHRONIZING', createTime: NOW - agoH * H, ...over }),
  firstSeen: NOW,
});
// 100 tasks an hour in pages of 100: reading back one hour costs one page, two hours two.
const hourly = { top: NOW, ratePerHour: 100, pageSize: 100 };

describe('planning the re-checks of watched syncs', () => {
  it('never re-reads by an image without a tag or a namespace (an empty filter would match every tag or namespace)', () => {
    for (const from of [image('ns', 'api', ''), image('', 'api', 'v1')]) {
      const plan = planRechecks([w('a', 30, { from })], { pageSize: 100 });
      expect(plan.targeted).toEqual([]);
    }
  });

  it('re-reads syncs of different images with one call each, and syncs of one image with one call for all', () => {
    const plan = planRechecks(
      [
        w('a1', 30, { from: image('ns', 'api', 'v1') }),
        w('a2', 31, { from: image('ns', 'api', 'v1') }),
        w('b', 32, { from: image('ns', 'web', 'v1') }),
      ],
      { pageSize: 100 },
    );
    expect(plan.targeted).toEqual([
      { filter: { namespace: 'ns', repo: 'api', tag: 'v1' }, taskIds: ['a1', 'a2'] },
      { filter: { namespace: 'ns', repo: 'web', tag: 'v1' }, taskIds: ['b'] },
    ]);
  });

  it('reads back for the newest syncs and targets the old ones, whatever order they come in', () => {
    // Reading back to the 1-hour-old sync costs nothing past the top page; to the 30-hour-old one, 29 pages.
    const plan = planRechecks([w('old', 30, { batchId: 'rsbt-old' }), w('new', 1, { batchId: 'rsbt-new' })], hourly);
    expect(plan.swept).toEqual(['new']);
    expect(plan.targeted).toEqual([{ filter: { syncRecordId: 'rsbt-old' }, taskIds: ['old'] }]);
    expect(plan.extraPages).toBe(0);
  });

  it('reads back rather than calling once per push when three pushes of one image cost fewer pages', () => {
    const plan = planRechecks(
      [w('a', 2.5, { batchId: 'b1' }), w('b', 2.6, { batchId: 'b2' }), w('c', 2.7, { batchId: 'b3' })],
      hourly,
    );
    expect(plan.targeted).toEqual([]);
    expect(plan.swept).toEqual(['a', 'b', 'c']);
    // Two pages past the top page, down to the oldest of them.
    expect(plan.extraPages).toBe(2);
    expect(plan.sweepTo).toBe(NOW - 2.7 * H);
  });

  it('targets several syncs of one image with one call, rather than reading back as many pages', () => {
    const from = image('ns', 'api', 'v1');
    const plan = planRechecks([w('a', 2.5, { from }), w('b', 2.6, { from }), w('c', 2.7, { from })], hourly);
    expect(plan.swept).toEqual([]);
    expect(plan.targeted).toEqual([{ filter: { namespace: 'ns', repo: 'api', tag: 'v1' }, taskIds: ['a', 'b', 'c'] }]);
  });

  it('on a tie between reading back and a targeted call, makes the call (it finds the sync wherever the list has moved it)', () => {
    // One page past the top to reach it, or one call.
    const plan = planRechecks([w('a', 1.5, { batchId: 'b1' })], hourly);
    expect(plan.targeted).toEqual([{ filter: { syncRecordId: 'b1' }, taskIds: ['a'] }]);
    expect(plan.swept).toEqual([]);
    expect(plan.extraPages).toBe(0);
  });
});
