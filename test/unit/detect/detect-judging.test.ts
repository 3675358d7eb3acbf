import { describe, expect, it } from 'vitest';
import { imageKey, type DetectOptions } from '../../../src/detect/detect.js';
import { seenHash } from '../../../src/detect/overlap.js';
import { OVERLAP_MS } from '../../../src/detect/list.js';
import { batch, detector, H, ids, known, MIN, none, NOW, t } from '../../support/detect-tasks.js';

describe('judging a batch', () => {
  it('judges a task created exactly at the bottom of the window, and none created before it', () => {
    const c = detector().take(
      batch(
        [t('rst-at', 'ERROR', 6 * H, 'TAG_CONFLICT'), t('rst-before', 'ERROR', 6 * H + 1, 'TAG_CONFLICT')],
        NOW - 6 * H,
      ),
      none,
    );
    expect(ids(c.failures)).toEqual(['rst-at']);
    expect(c.reasons['before-window']).toBe(1);
  });

  it('reads a batch oldest first: an image that failed again and then recovered, listed newest first, recovers once', () => {
    const earlier = t('rst-f1', 'ERROR', 5 * H, 'TAG_CONFLICT', 'v1');
    const c = detector({ top: NOW - 4 * H, gaps: [] }).take(
      batch([t('rst-s', 'SUCCESS', H, '', 'v1'), t('rst-f2', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v1')]),
      known(['rst-f1'], [[earlier, {}]]),
    );
    expect(c.recoveries.map((r) => r.success.taskId)).toEqual(['rst-s']);
    expect(c.failures).toEqual([]);
    expect(c.failing.get(imageKey(earlier))).toBeNull();
  });

  it('counts each success and cancellation it judges', () => {
    const c = detector().take(
      batch([t('rst-s1', 'SUCCESS', H), t('rst-s2', 'SUCCESS', H), t('rst-c', 'CANCELED', H)]),
      none,
    );
    expect(c.reasons).toMatchObject({ succeeded: 2, canceled: 1, 'new-failure': 0, 'still-running': 0 });
  });

  it('does not take a canceled sync of a failing image for a recovery', () => {
    const fail = t('rst-f', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v1');
    const c = detector({ top: NOW, gaps: [] }).take(
      batch([t('rst-c', 'CANCELED', H, '', 'v1')]),
      known([], [[fail, {}]]),
    );
    expect(c.recoveries).toEqual([]);
    expect(c.failing.size).toBe(0);
  });

  it('reports no undocumented status for pending and synchronizing syncs', () => {
    const c = detector().take(batch([t('rst-p', 'PENDING', H), t('rst-s', 'SYNCHRONIZING', H)]), none);
    expect(c.unknownStatuses).toEqual([]);
    expect(c.reasons).toMatchObject({ 'still-running': 2, 'unknown-status': 0 });
  });

  it('keeps the settled tasks down to exactly the overlap below the newest time read for the next run', () => {
    const d = detector({ top: NOW - H, gaps: [] });
    d.take(batch([t('rst-top', 'SUCCESS', MIN), t('rst-edge', 'SUCCESS', MIN + OVERLAP_MS)]), none);
    expect(d.cursorPart(NOW - MIN).seen).toBe([seenHash('rst-top'), seenHash('rst-edge')].sort().join(''));
    expect(d.cursorPart(NOW - MIN + 1).seen).toBe(seenHash('rst-top'));
  });
});

describe('transient failures read out of order', () => {
  const tr: DetectOptions = {
    stuckAfterMs: 100 * H,
    transient: { minFailures: 2, windowMs: 30 * MIN, persistMs: 4 * H },
  };
  const net = (id: string, ago: number) => t(id, 'ERROR', ago, 'NETWORK_ERROR', 'img');

  it('does not count two failures further apart than the window as a repeat when the older one is read later', () => {
    const newer = net('rst-new', 10 * MIN);
    const d = detector({ top: NOW, gaps: [] }, [], tr);
    const c = d.take(
      batch([net('rst-old', 50 * MIN)]),
      known([], [[newer, { held: newer, recent: [NOW - 10 * MIN] }]]),
    );
    expect(c.failures).toEqual([]);
    expect(c.failing.get(imageKey(newer))).toMatchObject({
      recent: [NOW - 50 * MIN, NOW - 10 * MIN],
      held: { taskId: 'rst-new' },
    });
  });
});
