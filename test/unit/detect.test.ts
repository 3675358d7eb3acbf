import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../src/model/task.js';
import { detect } from '../../src/detect/detect.js';
import { OVERLAP_MS } from '../../src/detect/cursor.js';
import { type InstanceCursor } from '../../src/model/checkpoint.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const img = { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: 't' };
const t = (id: string, status: string, ago: number, issue = '', tag = id): SyncTask => ({ taskId: id, status, issue, trigger: 'PASSIVE', createTime: NOW - ago, crossUser: false, from: { ...img, tag }, to: { ...img, tag } });
const scan = (tasks: SyncTask[], complete = true) => ({ tasks, complete, order: 'desc' as const, totalCount: tasks.length });
const ids = (d: { failures: SyncTask[] }) => d.failures.map((f) => f.taskId);
const o = (lookbackMs: number) => ({ lookbackMs, stuckAfterMs: 100 * H });

describe('detect', () => {
  it('on the first run announces failures inside the look-back window only', () => {
    const d = detect(undefined, scan([t('a', 'ERROR', H), t('b', 'ERROR', 30 * H), t('c', 'SUCCESS', H)]), NOW, o(24 * H));
    expect(ids(d)).toEqual(['a']);
    expect(d.reasons).toMatchObject({ 'new-failure': 1, 'before-window': 1, succeeded: 1 });
  });

  it('does not announce a failure twice when it is re-read in the overlap', () => {
    const first = detect(undefined, scan([t('a', 'ERROR', 60_000), t('b', 'SUCCESS', 1_000)]), NOW, o(H));
    const again = detect(first.cursor, scan([t('a', 'ERROR', 60_000), t('b', 'SUCCESS', 1_000)]), NOW + 60_000, o(H));
    expect(ids(again)).toEqual([]);
    expect(again.reasons['already-announced']).toBe(1);
  });

  it('watches a running task and announces it when it later fails, however old it is by then', () => {
    const first = detect(undefined, scan([t('run', 'SYNCHRONIZING', 2 * H)]), NOW, o(24 * H));
    expect(first.cursor.open).toHaveProperty('run');
    const later = detect(first.cursor, scan([t('new', 'SUCCESS', 0), t('run', 'ERROR', 2 * H, 'NETWORK_ERROR')]), NOW + H, o(24 * H));
    expect(ids(later)).toEqual(['run']);
    expect(later.cursor.open).not.toHaveProperty('run');
  });

  it('watches unknown statuses like running ones and reports them', () => {
    const d = detect(undefined, scan([t('w', 'PAUSED', 1_000)]), NOW, o(H));
    expect(d.unknownStatuses).toEqual(['PAUSED']);
    expect(d.cursor.open).toHaveProperty('w');
    expect(ids(detect(d.cursor, scan([t('w', 'ERROR', 1_000)]), NOW + 1, o(H)))).toEqual(['w']);
  });

  it('stops watching a task that a complete scan no longer returns', () => {
    const d = detect(undefined, scan([t('gone', 'PENDING', 1_000)]), NOW, o(H));
    const next = detect(d.cursor, scan([]), NOW + 1_000, o(H));
    expect(next.stoppedWatching).toEqual(['gone']);
  });

  it('does not advance the watermark after an incomplete scan, so the next run reads the same range again', () => {
    const prev: InstanceCursor = { watermark: NOW - H, open: {}, handled: {} };
    const d = detect(prev, scan([t('x', 'ERROR', 0)], false), NOW, o(H));
    expect(ids(d)).toEqual(['x']);
    expect(d.cursor.watermark).toBe(NOW - H);
    expect(d.cursor.handled).toHaveProperty('x');
  });

  it('forgets handled failures once they fall below the next scan bound', () => {
    const d = detect(undefined, scan([t('old', 'ERROR', OVERLAP_MS + 60_000), t('recent', 'ERROR', 1_000), t('top', 'SUCCESS', 0)]), NOW, o(H));
    expect(Object.keys(d.cursor.handled)).toEqual(['recent']);
  });

  it('announces a recovery once when an image that failed syncs fine later', () => {
    const first = detect(undefined, scan([t('f1', 'ERROR', 60_000, 'NETWORK_ERROR', 'v1')]), NOW, o(H));
    expect(ids(first)).toEqual(['f1']);
    const later = detect(first.cursor, scan([t('f1', 'ERROR', 60_000, 'NETWORK_ERROR', 'v1'), t('ok1', 'SUCCESS', 1_000, '', 'v1')]), NOW + 1_000, o(H));
    expect(later.recoveries.map((r) => [r.success.taskId, r.failure.taskId, r.sameRun])).toEqual([['ok1', 'f1', false]]);
    const again = detect(later.cursor, scan([t('ok1', 'SUCCESS', 1_000, '', 'v1')]), NOW + 2_000, o(H));
    expect(again.recoveries).toEqual([]);
  });

  it('reports a failure that recovered before it was announced as recovered only', () => {
    const d = detect(undefined, scan([t('f1', 'ERROR', 120_000, 'TAG_CONFLICT', 'v1'), t('ok', 'SUCCESS', 60_000, '', 'v1'), t('other', 'ERROR', 30_000, 'TAG_CONFLICT', 'v2')]), NOW, o(H));
    expect(ids(d)).toEqual(['other']);
    expect(d.recoveries.map((r) => [r.failure.taskId, r.sameRun])).toEqual([['f1', true]]);
  });

  it('does not take an older success for a recovery', () => {
    const d = detect(undefined, scan([t('ok', 'SUCCESS', 120_000, '', 'v1'), t('f1', 'ERROR', 60_000, 'TAG_CONFLICT', 'v1')]), NOW, o(H));
    expect(ids(d)).toEqual(['f1']);
    expect(d.recoveries).toEqual([]);
  });

  it('announces a task running longer than the threshold once as stuck, and once when it finishes', () => {
    const opts = { lookbackMs: 24 * H, stuckAfterMs: H };
    const early = detect(undefined, scan([t('s', 'SYNCHRONIZING', 30 * 60_000)]), NOW, opts);
    expect(early.stuck).toEqual([]);
    const stuck = detect(early.cursor, scan([t('s', 'SYNCHRONIZING', 30 * 60_000)]), NOW + H, opts);
    expect(stuck.stuck.map((x) => x.taskId)).toEqual(['s']);
    const still = detect(stuck.cursor, scan([t('s', 'SYNCHRONIZING', 30 * 60_000)]), NOW + 2 * H, opts);
    expect(still.stuck).toEqual([]);
    const done = detect(still.cursor, scan([t('s', 'SUCCESS', 30 * 60_000)]), NOW + 3 * H, opts);
    expect(done.unstuck.map((x) => x.taskId)).toEqual(['s']);
  });

  describe('transient causes with a threshold', () => {
    const opts = { lookbackMs: 24 * H, stuckAfterMs: 10 * H, transient: { minFailures: 3, windowMs: H, persistMs: 2 * H } };
    const net = (id: string, ago: number) => t(id, 'ERROR', ago, 'NETWORK_ERROR', 'v1');

    it('holds a NETWORK_ERROR back until the same image fails 3 times within the window, then announces once', () => {
      const a = detect(undefined, scan([net('n1', 30 * 60_000)]), NOW, opts);
      expect(ids(a)).toEqual([]);
      expect(a.reasons['held-transient']).toBe(1);
      const b = detect(a.cursor, scan([net('n1', 30 * 60_000), net('n2', 20 * 60_000)]), NOW + 1, opts);
      expect(ids(b)).toEqual([]);
      const c = detect(b.cursor, scan([net('n1', 30 * 60_000), net('n2', 20 * 60_000), net('n3', 10 * 60_000)]), NOW + 2, opts);
      expect(ids(c)).toEqual(['n3']);
    });

    it('announces a held failure once it has persisted', () => {
      const a = detect(undefined, scan([net('n1', 30 * 60_000)]), NOW, opts);
      const later = detect(a.cursor, scan([]), NOW + 2 * H, opts);
      expect(ids(later)).toEqual(['n1']);
      expect(ids(detect(later.cursor, scan([]), NOW + 3 * H, opts))).toEqual([]);
    });

    it('lets a held failure that recovers pass without any message', () => {
      const a = detect(undefined, scan([net('n1', 30 * 60_000)]), NOW, opts);
      const ok = detect(a.cursor, scan([net('n1', 30 * 60_000), t('ok', 'SUCCESS', 10 * 60_000, '', 'v1')]), NOW + 1, opts);
      expect(ids(ok)).toEqual([]);
      expect(ok.recoveries).toEqual([]);
      expect(ids(detect(ok.cursor, scan([]), NOW + 3 * H, opts))).toEqual([]);
    });

    it('never holds back a cause that is not transient', () => {
      expect(ids(detect(undefined, scan([t('x', 'ERROR', 1_000, 'OSS_POLICY_UNAUTHORIZED', 'v1')]), NOW, opts))).toEqual(['x']);
    });
  });

  it('announces an ERROR task not seen before even when it sorts below older ones', () => {
    const prev = detect(undefined, scan([t('a', 'SUCCESS', 10_000)]), NOW, o(H)).cursor;
    const d = detect(prev, scan([t('late', 'ERROR', 20_000), t('a', 'SUCCESS', 10_000)]), NOW + 5_000, o(H));
    expect(ids(d)).toEqual(['late']);
  });
});
