import { describe, expect, it } from 'vitest';
import { imageKey } from '../../../src/detect/detect.js';
import { MAX_RECENT, seenHash } from '../../../src/detect/overlap.js';
import { CLOCK_SKEW_MS, OVERLAP_MS } from '../../../src/detect/list.js';
import type { WatchedSync } from '../../../src/model/state.js';
import { batch, detector, H, ids, MIN, none, NOW, t } from '../../support/detect-tasks.js';

/** The ids a cursor's `seen` holds, among `candidates`. */
const kept = (seen: string | undefined, candidates: string[]) =>
  candidates.filter((id) => (seen ?? '').match(/.{8}/g)?.includes(seenHash(id)));

describe('the overlap the next run reads again', () => {
  it('remembers settled tasks down to exactly the overlap below the newest one, in whatever order they are read', () => {
    const newest = t('rst-top', 'SUCCESS', MIN);
    const edge = t('rst-edge', 'ERROR', MIN + OVERLAP_MS);
    const below = t('rst-below', 'CANCELED', MIN + OVERLAP_MS + 1);
    for (const order of [
      [edge, below, newest],
      [newest, edge, below],
    ]) {
      const d = detector({ top: NOW - 10 * MIN, gaps: [] });
      for (const task of order) d.take(batch([task]), none);
      expect(kept(d.cursorPart(NOW - MIN - OVERLAP_MS - 1).seen, ['rst-top', 'rst-edge', 'rst-below'])).toEqual([
        'rst-top',
        'rst-edge',
      ]);
    }
  });

  it('makes room for the newest tasks after a burst of older ones filled what it remembers', () => {
    const d = detector({ top: NOW - H, gaps: [] });
    d.take(batch(Array.from({ length: MAX_RECENT }, (_, i) => t(`rst-old${i}`, 'SUCCESS', 30 * MIN))), none);
    d.take(batch([t('rst-newer', 'SUCCESS', MIN)]), none);
    expect(kept(d.cursorPart(NOW - MIN).seen, ['rst-newer', 'rst-old0'])).toEqual(['rst-newer']);
  });

  it('remembers neither unfinished syncs nor tasks whose time it does not trust', () => {
    const d = detector({ top: NOW - H, gaps: [] });
    d.take(
      batch([
        t('rst-ok', 'SUCCESS', MIN),
        t('rst-run', 'PENDING', MIN),
        t('rst-secs', 'SUCCESS', MIN, '', 's', { timeInSeconds: true }),
        t('rst-future', 'SUCCESS', -CLOCK_SKEW_MS - 1),
      ]),
      none,
    );
    expect(kept(d.cursorPart(NOW - MIN).seen, ['rst-ok', 'rst-run', 'rst-secs', 'rst-future'])).toEqual(['rst-ok']);
    // Nothing is kept for an instance whose list has no trusted newest time yet.
    expect(d.cursorPart(undefined).seen).toBeUndefined();
  });

  it('counts a canceled task the last run judged as canceled, without judging it again', () => {
    const d = detector({ top: NOW, gaps: [], seen: seenHash('rst-c') });
    const c = d.take(batch([t('rst-c', 'CANCELED', MIN)]), none);
    expect(c.reasons).toMatchObject({ canceled: 1, 'new-failure': 0 });
  });

  it('judges a watched sync again even when the last run knew its id', () => {
    const w: WatchedSync = { task: t('rst-w', 'SYNCHRONIZING', H), firstSeen: NOW - H };
    const d = detector({ top: NOW, gaps: [], seen: seenHash('rst-w') }, [w]);
    expect(d.needs(batch([t('rst-w', 'ERROR', H)])).taskIds).toEqual(['rst-w']);
    const c = d.take(batch([t('rst-w', 'ERROR', H)]), none);
    expect(ids(c.failures)).toEqual(['rst-w']);
    expect(c.unwatch).toEqual(['rst-w']);
  });

  it('asks the store about a failure at the newest time read or with a time ahead of the clock, not one just newer', () => {
    const d = detector({ top: NOW - H, gaps: [] });
    const need = d.needs(
      batch([
        t('rst-at-top', 'ERROR', H),
        t('rst-after', 'ERROR', H - 1),
        t('rst-ahead', 'ERROR', -CLOCK_SKEW_MS - 1),
        t('rst-skew', 'ERROR', -CLOCK_SKEW_MS),
      ]),
    );
    expect(need.taskIds.sort()).toEqual(['rst-ahead', 'rst-at-top']);
  });

  it('asks about images only for failures and successes it judges, once per image', () => {
    const d = detector({ top: NOW, gaps: [] });
    const need = d.needs(
      batch([
        t('rst-f', 'ERROR', MIN, '', 'a'),
        t('rst-s', 'SUCCESS', 2 * MIN, '', 'a'),
        t('rst-c', 'CANCELED', MIN, '', 'b'),
        t('rst-p', 'PENDING', MIN, '', 'c'),
        t('rst-old', 'ERROR', 30 * H, '', 'd'),
      ]),
    );
    expect(need.imageKeys).toEqual([imageKey(t('x', 'ERROR', 0, '', 'a'))]);
    expect(need.taskIds).toEqual(['rst-f']);
  });

  it('asks nothing about settled tasks below the look-back, where only unfinished syncs are wanted', () => {
    const d = detector();
    const need = d.needs(
      batch(
        [t('rst-f', 'ERROR', 40 * H), t('rst-s', 'SUCCESS', 40 * H), t('rst-p', 'PENDING', 40 * H)],
        NOW - 72 * H,
        true,
      ),
    );
    expect(need).toEqual({ taskIds: [], imageKeys: [] });
  });
});
