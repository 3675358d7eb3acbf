import { describe, expect, it } from 'vitest';
import {
  FAILING_MAX_AGE_MS,
  imageKey,
  InstanceDetector,
  MAX_WATCHED,
  type DetectOptions,
  type Known,
} from '../../../src/detect/detect.js';
import { OVERLAP_MS } from '../../../src/detect/list.js';
import { MAX_RECENT, seenHash } from '../../../src/detect/overlap.js';
import { ROW_REFRESH_MS, type Cursor, type FailingImage, type WatchedSync } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';

import { batch, H, img, MIN, NOW, t } from '../../support/detect-tasks.js';
const none: Known = { handled: new Set(), failing: new Map() };
const known = (handled: string[] = [], failing: [SyncTask, Partial<FailingImage>][] = []): Known => ({
  handled: new Set(handled),
  failing: new Map(
    failing.map(([task, f]) => [
      imageKey(task),
      { since: task.createTime, lastFailure: task.createTime, taskId: task.taskId, issue: task.issue, ...f },
    ]),
  ),
});
const opts: DetectOptions = { stuckAfterMs: 100 * H };
const ids = (xs: SyncTask[]) => xs.map((x) => x.taskId);
const detector = (cursor?: Cursor, watched: WatchedSync[] = [], o: DetectOptions = opts) =>
  new InstanceDetector(cursor, watched, NOW, o);

describe('the detector', () => {
  it('announces failures inside the window only, and claims each', () => {
    const c = detector().take(batch([t('rst-new', 'ERROR', H), t('rst-old', 'ERROR', 30 * H)]), none);
    expect(ids(c.failures)).toEqual(['rst-new']);
    expect(ids(c.handled)).toEqual(['rst-new']);
    expect(c.reasons).toMatchObject({ 'new-failure': 1, 'before-window': 1 });
  });

  it('remembers a failing image by its source image, target instance (and target image when renamed) and rule', () => {
    const same = t('rst-same', 'ERROR', H, 'TAG_CONFLICT', 'v1', {
      ruleId: 'crsr-1',
      to: { ...img, regionId: 'cn-shanghai', instanceId: 'cri-y', tag: 'v1' },
    });
    const renamed = t('rst-ren', 'ERROR', H, 'TAG_CONFLICT', 'v2', {
      to: { ...img, regionId: 'cn-shanghai', instanceId: 'cri-y', repo: 'mirror', tag: 'v2' },
    });
    const c = detector().take(batch([same, renamed]), none);
    expect(c.failing.get(imageKey(same))).toMatchObject({
      image: 'ns/r:v1',
      target: 'cn-shanghai:cri-y',
      ruleId: 'crsr-1',
    });
    expect(c.failing.get(imageKey(renamed))).toMatchObject({
      image: 'ns/r:v2',
      target: 'cn-shanghai:cri-y ns/mirror:v2',
    });
    expect(c.failing.get(imageKey(renamed))!.ruleId).toBeUndefined();
  });

  it('does not announce a failure claimed before, nor one claimed earlier in the same run', () => {
    const d = detector({ top: NOW, gaps: [] });
    expect(d.take(batch([t('rst-a', 'ERROR', H)]), known(['rst-a'])).failures).toEqual([]);
    expect(ids(d.take(batch([t('rst-b', 'ERROR', H)]), none).failures)).toEqual(['rst-b']);
    const again = d.take(batch([t('rst-b', 'ERROR', H)]), none);
    expect(again.failures).toEqual([]);
    expect(again.reasons['already-announced']).toBe(1);
  });

  it('asks the store only about what an earlier read could have seen: failures up to the newest time read, or with times it does not trust', () => {
    const d = detector({ top: NOW - H, gaps: [] }, [{ task: t('rst-w', 'SYNCHRONIZING', 50 * H), firstSeen: NOW }]);
    const need = d.needs(
      batch([
        t('rst-old', 'ERROR', 2 * H),
        t('rst-new', 'ERROR', MIN),
        t('rst-secs', 'ERROR', MIN, '', 's', { timeInSeconds: true }),
        t('rst-w', 'ERROR', 50 * H),
        t('rst-ok', 'SUCCESS', MIN),
        t('rst-run', 'PENDING', MIN),
      ]),
    );
    expect(need.taskIds.sort()).toEqual(['rst-old', 'rst-secs', 'rst-w']);
    expect(need.imageKeys).toHaveLength(5);
    expect(detector().needs(batch([t('rst-x', 'ERROR', H)])).taskIds).toEqual([]);
  });

  it('watches an unfinished sync and announces it when it fails, however old it is by then', () => {
    const d = detector();
    const first = d.take(batch([t('rst-r', 'SYNCHRONIZING', H)]), none);
    expect(first.watch.map((w) => w.task.taskId)).toEqual(['rst-r']);
    expect(first.reasons['still-running']).toBe(1);
    const later = detector({ top: NOW, gaps: [] }, first.watch);
    const failed = later.take(batch([t('rst-r', 'ERROR', 80 * H, 'NETWORK_ERROR')], NOW - MIN), none);
    expect(ids(failed.failures)).toEqual(['rst-r']);
    expect(failed.unwatch).toEqual(['rst-r']);
    expect(later.cursorPart(NOW).watching).toBe(0);
  });

  it('writes nothing for a watched sync that has not changed', () => {
    const w: WatchedSync = { task: t('rst-r', 'SYNCHRONIZING', H), firstSeen: NOW - H };
    const c = detector({ top: NOW, gaps: [] }, [w]).take(batch([t('rst-r', 'SYNCHRONIZING', H)]), none);
    expect(c.watch).toEqual([]);
    expect(c.unwatch).toEqual([]);
  });

  it('writes an unchanged watched sync again once its row is a week old, so a sync open for weeks outlives the TTL', () => {
    const watched = (savedAt: number): WatchedSync => ({
      task: t('rst-r', 'SYNCHRONIZING', 20 * 24 * H),
      firstSeen: NOW - 20 * 24 * H,
      stuck: true,
      savedAt,
    });
    const take = (w: WatchedSync) =>
      detector({ top: NOW, gaps: [] }, [w]).take(batch([t('rst-r', 'SYNCHRONIZING', 20 * 24 * H)]), none);
    expect(take(watched(NOW - ROW_REFRESH_MS + MIN)).watch).toEqual([]);
    const again = take(watched(NOW - ROW_REFRESH_MS));
    expect(again.watch).toEqual([{ ...watched(NOW), firstSeen: NOW - 20 * 24 * H }]);
    expect(again.stuck).toEqual([]);
  });

  it('watches undocumented statuses like running ones, and reports them', () => {
    const c = detector().take(batch([t('rst-p', 'PAUSED', H), t('rst-e', '', H)]), none);
    expect(c.watch).toHaveLength(2);
    expect(c.unknownStatuses.sort()).toEqual(['(empty)', 'PAUSED']);
  });

  it('announces a sync unfinished longer than the threshold once as stuck, and once when it finishes', () => {
    const d = detector(undefined, [], { stuckAfterMs: 2 * H });
    const first = d.take(batch([t('rst-s', 'SYNCHRONIZING', 3 * H)]), none);
    expect(ids(first.stuck)).toEqual(['rst-s']);
    expect(first.watch[0]!.stuck).toBe(true);
    const again = detector({ top: NOW, gaps: [] }, first.watch, { stuckAfterMs: 2 * H }).take(
      batch([t('rst-s', 'SYNCHRONIZING', 3 * H)], NOW),
      none,
    );
    expect(again.stuck).toEqual([]);
    const done = detector({ top: NOW, gaps: [] }, first.watch, { stuckAfterMs: 2 * H }).take(
      batch([t('rst-s', 'SUCCESS', 3 * H)], NOW),
      none,
    );
    expect(ids(done.unstuck)).toEqual(['rst-s']);
    expect(done.unwatch).toEqual(['rst-s']);
  });

  it('on a first run, below the look-back, only watches unfinished syncs and announces one long unfinished as stuck', () => {
    const c = detector(undefined, [], { stuckAfterMs: H }).take(
      batch([t('rst-run', 'SYNCHRONIZING', 40 * H), t('rst-err', 'ERROR', 40 * H)], NOW - 72 * H, true),
      none,
    );
    expect(ids(c.stuck)).toEqual(['rst-run']);
    expect(c.failures).toEqual([]);
    expect(c.reasons['before-window']).toBe(1);
  });

  it('announces a recovery once when a failing image syncs fine later, and not for an older success', () => {
    const fail = t('rst-f', 'ERROR', 3 * H, 'NETWORK_ERROR', 'v1');
    const d = detector({ top: NOW, gaps: [] });
    const older = d.take(batch([t('rst-s0', 'SUCCESS', 4 * H, '', 'v1')]), known([], [[fail, {}]]));
    expect(older.recoveries).toEqual([]);
    const c = d.take(batch([t('rst-s1', 'SUCCESS', H, '', 'v1')]), known([], [[fail, {}]]));
    expect(c.recoveries.map((r) => [r.success.taskId, r.failure.taskId, r.sameRun])).toEqual([
      ['rst-s1', 'rst-f', false],
    ]);
    expect(c.failing.get(imageKey(fail))).toBeNull();
  });

  it('reports a failure that recovered before any run announced it as recovered only, in one batch or read newest first', () => {
    const c = detector().take(
      batch([t('rst-f', 'ERROR', 2 * H, 'NETWORK_ERROR', 'v1'), t('rst-s', 'SUCCESS', H, '', 'v1')]),
      none,
    );
    expect(c.failures).toEqual([]);
    expect(c.recoveries.map((r) => [r.failure.taskId, r.sameRun])).toEqual([['rst-f', true]]);
    // A newest-first scan reads the success in an earlier batch than the failure.
    const d = detector();
    d.take(batch([t('rst-s', 'SUCCESS', H, '', 'v1')]), none);
    const later = d.take(batch([t('rst-f', 'ERROR', 2 * H, 'NETWORK_ERROR', 'v1')]), none);
    expect(later.failures).toEqual([]);
    expect(later.recoveries.map((r) => [r.success.taskId, r.failure.taskId, r.sameRun])).toEqual([
      ['rst-s', 'rst-f', true],
    ]);
  });

  it('forgets a failing image a week after its last failure: a success then is no recovery', () => {
    const fail = t('rst-f', 'ERROR', FAILING_MAX_AGE_MS + H, '', 'v1');
    const c = detector({ top: NOW, gaps: [] }).take(
      batch([t('rst-s', 'SUCCESS', MIN, '', 'v1')]),
      known([], [[fail, {}]]),
    );
    expect(c.recoveries).toEqual([]);
  });

  it("knows the settled tasks of the overlap the last run read, without a lookup, and remembers this run's", () => {
    const d = detector({ top: NOW - MIN, gaps: [], recent: ['rst-a', 'rst-b'] });
    const tasks = [t('rst-a', 'ERROR', MIN), t('rst-b', 'SUCCESS', 2 * MIN), t('rst-late', 'ERROR', 3 * MIN)];
    expect(d.needs(batch(tasks)).taskIds).toEqual(['rst-late']);
    const c = d.take(batch(tasks), none);
    expect(ids(c.failures)).toEqual(['rst-late']);
    expect(c.reasons).toMatchObject({ 'already-announced': 1, succeeded: 1, 'new-failure': 1 });
    expect(d.cursorPart(NOW - MIN).seen).toBe(['rst-a', 'rst-b', 'rst-late'].map(seenHash).sort().join(''));
    expect(d.cursorPart(NOW + 2 * MIN + OVERLAP_MS).seen).toBeUndefined();
    // What this run keeps is known to the next one the same way, and a task it did not judge is not.
    const next = detector({ top: NOW - MIN, gaps: [], seen: d.cursorPart(NOW - MIN).seen! });
    expect(next.needs(batch([...tasks, t('rst-other', 'ERROR', 4 * MIN)])).taskIds).toEqual(['rst-other']);
  });

  it("keeps the overlap's settled tasks in at most 8 KB of the cursor row at the limit", () => {
    const d = detector({ top: NOW, gaps: [] });
    const many = Array.from({ length: MAX_RECENT + 50 }, (_, i) =>
      t(`rst-${String(i).padStart(16, '0')}`, 'SUCCESS', 1_000 + i),
    );
    d.take(batch(many), none);
    const seen = d.cursorPart(NOW).seen!;
    expect(seen.length).toBe(MAX_RECENT * 8);
    expect(new Set(seen.match(/.{8}/g)).size).toBe(MAX_RECENT);
  });

  it('stops watching beyond the limit and counts what it could not watch', () => {
    const full = Array.from({ length: MAX_WATCHED }, (_, i): WatchedSync => ({
      task: t(`rst-w${i}`, 'PENDING', H),
      firstSeen: NOW,
    }));
    const c = detector({ top: NOW, gaps: [] }, full).take(batch([t('rst-one-more', 'PENDING', MIN)]), none);
    expect(c.watch).toEqual([]);
    expect(c.reasons['watch-limit']).toBe(1);
  });

  it('stops watching a sync after three re-checks in a row do not find it', () => {
    const w: WatchedSync = { task: t('rst-gone', 'PENDING', H), firstSeen: NOW };
    let watched = [w];
    const misses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const d = detector({ top: NOW, gaps: [] }, watched);
      const m = d.missed(['rst-gone'], 3);
      if (m.gone.length > 0) break;
      watched = m.watch;
      misses.push(watched[0]!.misses!);
    }
    expect(misses).toEqual([1, 2]);
    const d = detector({ top: NOW, gaps: [] }, watched);
    expect(d.missed(['rst-gone'], 3)).toMatchObject({ gone: ['rst-gone'], unwatch: ['rst-gone'] });
  });

  describe('transient causes with a threshold', () => {
    const tr: DetectOptions = { stuckAfterMs: 100 * H, transient: { minFailures: 3, windowMs: H, persistMs: 4 * H } };
    const net = (id: string, ago: number) => t(id, 'ERROR', ago, 'NETWORK_ERROR', 'img');

    it('holds a NETWORK_ERROR back until the same image fails 3 times within the window, in whatever order they are read', () => {
      for (const order of [
        ['a', 'b', 'c'],
        ['c', 'b', 'a'],
      ]) {
        const d = detector(undefined, [], tr);
        const tasks = { a: net('rst-a', 50 * MIN), b: net('rst-b', 40 * MIN), c: net('rst-c', 30 * MIN) } as Record<
          string,
          SyncTask
        >;
        let failing = new Map<string, FailingImage>();
        const announced: string[] = [];
        for (const k of order) {
          const c = d.take(batch([tasks[k]!]), { handled: new Set(), failing });
          announced.push(...ids(c.failures));
          failing = new Map([...c.failing].filter((e): e is [string, FailingImage] => e[1] !== null));
        }
        expect(announced).toEqual(['rst-c']);
      }
    });

    it('announces a held failure once it has persisted, given its row', () => {
      const d = detector({ top: NOW, gaps: [], held: { k: NOW - 5 * H } }, [], tr);
      const held = net('rst-h', 5 * H);
      expect(d.dueHeld()).toEqual(['k']);
      const c = d.release(
        new Map([
          ['k', { since: NOW - 5 * H, lastFailure: NOW - 5 * H, taskId: 'rst-h', issue: 'NETWORK_ERROR', held }],
        ]),
      );
      expect(ids(c.failures)).toEqual(['rst-h']);
      expect(c.failing.get('k')).not.toHaveProperty('held');
      expect(d.cursorPart(NOW).held).toBeUndefined();
    });

    it('lets a held failure that recovers pass without any message', () => {
      const d = detector(undefined, [], tr);
      const c = d.take(batch([net('rst-a', 50 * MIN), t('rst-ok', 'SUCCESS', 10 * MIN, '', 'img')]), none);
      expect(c.failures).toEqual([]);
      expect(c.recoveries).toEqual([]);
      expect(d.cursorPart(NOW).held).toBeUndefined();
    });

    it('never holds back a cause that is not transient', () => {
      const c = detector(undefined, [], tr).take(batch([t('rst-t', 'ERROR', H, 'TAG_CONFLICT')]), none);
      expect(ids(c.failures)).toEqual(['rst-t']);
    });
  });
});
