import { describe, expect, it } from 'vitest';
import { MAX_WATCHED } from '../../../src/detect/detect.js';
import { ROW_REFRESH_MS, type WatchedSync } from '../../../src/model/state.js';
import { batch, detector, H, ids, MIN, none, NOW, t } from '../../support/detect-tasks.js';

describe('unfinished syncs', () => {
  const stuck2h = { stuckAfterMs: 2 * H };

  it('calls a sync stuck only once it has been unfinished longer than the threshold', () => {
    const c = detector(undefined, [], stuck2h).take(
      batch([t('rst-at', 'SYNCHRONIZING', 2 * H), t('rst-past', 'PENDING', 2 * H + 1)]),
      none,
    );
    expect(ids(c.stuck)).toEqual(['rst-past']);
    expect(c.watch.map((w) => [w.task.taskId, w.stuck ?? false])).toEqual([
      ['rst-past', true],
      ['rst-at', false],
    ]);
  });

  it('starts watching a sync with when it was first seen, and keeps that while it stays unfinished', () => {
    const first = detector(undefined, [], stuck2h).take(batch([t('rst-r', 'PENDING', H)]), none);
    expect(first.watch).toEqual([{ task: t('rst-r', 'PENDING', H), firstSeen: NOW, savedAt: NOW }]);
    const was: WatchedSync = { task: t('rst-r', 'PENDING', H), firstSeen: NOW - 30 * MIN, savedAt: NOW - 30 * MIN };
    const moved = detector({ top: NOW, gaps: [] }, [was], stuck2h).take(batch([t('rst-r', 'SYNCHRONIZING', H)]), none);
    expect(moved.watch).toEqual([{ task: t('rst-r', 'SYNCHRONIZING', H), firstSeen: NOW - 30 * MIN, savedAt: NOW }]);
  });

  it('writes a watched sync again when it became stuck, when its row was partial, or when re-checks had missed it', () => {
    const base: WatchedSync = { task: t('rst-r', 'SYNCHRONIZING', 3 * H), firstSeen: NOW - H, savedAt: NOW - MIN };
    const take = (w: WatchedSync) =>
      detector({ top: NOW, gaps: [] }, [w], stuck2h).take(batch([t('rst-r', 'SYNCHRONIZING', 3 * H)]), none);
    const becameStuck = take(base);
    expect(ids(becameStuck.stuck)).toEqual(['rst-r']);
    expect(becameStuck.watch).toEqual([{ ...base, stuck: true, savedAt: NOW }]);
    for (const extra of [{ partial: true }, { misses: 2 }]) {
      const c = take({ ...base, stuck: true, ...extra });
      expect(c.stuck).toEqual([]);
      expect(c.watch).toEqual([{ task: base.task, firstSeen: NOW - H, stuck: true, savedAt: NOW }]);
    }
    expect(take({ ...base, stuck: true }).watch).toEqual([]);
  });

  it('keeps a sync announced as stuck marked so when the threshold is raised, without announcing it again', () => {
    const w: WatchedSync = {
      task: t('rst-r', 'SYNCHRONIZING', 3 * H),
      firstSeen: NOW - H,
      stuck: true,
      savedAt: NOW - ROW_REFRESH_MS,
    };
    const c = detector({ top: NOW, gaps: [] }, [w], { stuckAfterMs: 10 * H }).take(
      batch([t('rst-r', 'SYNCHRONIZING', 3 * H)]),
      none,
    );
    expect(c.stuck).toEqual([]);
    expect(c.watch.map((x) => x.stuck)).toEqual([true]);
  });

  it('at the watch limit still follows the syncs it watches, and counts each new one it cannot watch', () => {
    const full = Array.from({ length: MAX_WATCHED }, (_, i): WatchedSync => ({
      task: t(`rst-w${i}`, 'PENDING', H),
      firstSeen: NOW,
      savedAt: NOW,
    }));
    const d = detector({ top: NOW, gaps: [] }, full);
    const c = d.take(
      batch([t('rst-w0', 'SYNCHRONIZING', H), t('rst-new', 'PENDING', MIN), t('rst-odd', 'PAUSED', MIN)]),
      none,
    );
    expect(c.watch.map((w) => [w.task.taskId, w.task.status])).toEqual([['rst-w0', 'SYNCHRONIZING']]);
    expect(c.reasons).toMatchObject({ 'watch-limit': 2, 'still-running': 2, 'unknown-status': 1 });
    expect(d.cursorPart(NOW).watching).toBe(MAX_WATCHED);
    const roomForOne = detector({ top: NOW, gaps: [] }, full.slice(1)).take(
      batch([t('rst-new', 'PENDING', MIN), t('rst-next', 'PENDING', 30_000)]),
      none,
    );
    expect(roomForOne.watch.map((w) => w.task.taskId)).toEqual(['rst-new']);
    expect(roomForOne.reasons['watch-limit']).toBe(1);
  });

  it('stops watching a sync that was canceled, and says a stuck one finished', () => {
    const w: WatchedSync = { task: t('rst-s', 'SYNCHRONIZING', 3 * H), firstSeen: NOW - 2 * H, stuck: true };
    const quiet: WatchedSync = { task: t('rst-q', 'PENDING', H), firstSeen: NOW - H };
    const d = detector({ top: NOW, gaps: [] }, [w, quiet], stuck2h);
    const c = d.take(batch([t('rst-s', 'CANCELED', 3 * H), t('rst-q', 'CANCELED', H)], NOW), none);
    expect(ids(c.unstuck)).toEqual(['rst-s']);
    expect(c.unwatch.sort()).toEqual(['rst-q', 'rst-s']);
    expect(c.reasons.canceled).toBe(2);
    expect(c.failures).toEqual([]);
    expect(d.cursorPart(NOW).watching).toBe(0);
  });

  it('counts re-checks that miss a watched sync, and ignores syncs it does not watch', () => {
    const w: WatchedSync = { task: t('rst-r', 'PENDING', H), firstSeen: NOW - H, misses: 1, savedAt: NOW - H };
    const d = detector({ top: NOW, gaps: [] }, [w]);
    const c = d.missed(['rst-r', 'rst-unknown'], 3);
    expect(c.watch).toEqual([{ ...w, misses: 2, savedAt: NOW }]);
    expect(c.gone).toEqual([]);
    expect(c.unwatch).toEqual([]);
    const once = detector({ top: NOW, gaps: [] }, [{ task: t('rst-r', 'PENDING', H), firstSeen: NOW }]).missed(
      ['rst-r'],
      1,
    );
    expect(once.gone).toEqual(['rst-r']);
    expect(once.watch).toEqual([]);
  });
});
