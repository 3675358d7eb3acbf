import { describe, expect, it } from 'vitest';
import { failingAfter, transientVerdict, withoutLabels, type Transient } from '../../../src/detect/failing.js';
import type { FailingImage } from '../../../src/model/state.js';
import { H, img, MIN, NOW, t } from '../../support/detect-tasks.js';

const row = (over: Partial<FailingImage> = {}): FailingImage => ({
  since: NOW - 5 * H,
  lastFailure: NOW - 2 * H,
  taskId: 'rst-last',
  issue: 'NETWORK_ERROR',
  ...over,
});

describe('the failing-image row after a failure', () => {
  it('starts with the failure itself and the labels a digest shows', () => {
    const f = t('rst-1', 'ERROR', H, 'TAG_CONFLICT', 'v1', { ruleId: 'crsr-1' });
    expect(failingAfter(undefined, f)).toStrictEqual({
      since: NOW - H,
      lastFailure: NOW - H,
      taskId: 'rst-1',
      issue: 'TAG_CONFLICT',
      image: 'ns/r:v1',
      target: 'cn-hangzhou:cri-x',
      ruleId: 'crsr-1',
    });
  });

  it.each<[string, number, Partial<FailingImage>]>([
    [
      'names a newer failure as the latest, and keeps since when it has been failing',
      H,
      { since: NOW - 5 * H, lastFailure: NOW - H, taskId: 'rst-new', issue: 'TAG_CONFLICT' },
    ],
    [
      'names a failure at the very time of the latest as the latest',
      2 * H,
      { lastFailure: NOW - 2 * H, taskId: 'rst-new' },
    ],
    [
      'keeps the latest when an older failure is read later',
      3 * H,
      { since: NOW - 5 * H, lastFailure: NOW - 2 * H, taskId: 'rst-last', issue: 'NETWORK_ERROR' },
    ],
    ['moves since back for a failure older than it', 9 * H, { since: NOW - 9 * H, taskId: 'rst-last' }],
  ])('%s', (_, ago, want) => {
    expect(failingAfter(row({ route: 'team-a' }), t('rst-new', 'ERROR', ago, 'TAG_CONFLICT', 'v1'))).toMatchObject({
      ...want,
      route: 'team-a',
    });
  });

  it('names the target image only when the sync renames it', () => {
    const renamed = t('rst-1', 'ERROR', H, '', 'v1', { to: { ...img, repo: 'mirror', tag: 'v1' } });
    expect(failingAfter(undefined, renamed).target).toBe('cn-hangzhou:cri-x ns/mirror:v1');
  });

  it('keeps labels out of the row later batches read, but not out of a held one', () => {
    const labelled = failingAfter(undefined, t('rst-1', 'ERROR', H, '', 'v1', { ruleId: 'crsr-1' }));
    expect(withoutLabels(labelled)).toStrictEqual({
      since: NOW - H,
      lastFailure: NOW - H,
      taskId: 'rst-1',
      issue: '',
    });
  });
});

describe('holding a transient failure back', () => {
  const tr: Transient = { minFailures: 3, windowMs: H, persistMs: 2 * H };
  const failure = (ago: number) => t(`rst-${ago}`, 'ERROR', ago, 'NETWORK_ERROR', 'v1');
  it.each<[string, FailingImage | undefined, number, number, boolean, number[]]>([
    ['holds a first failure', undefined, MIN, NOW - MIN, false, [NOW - MIN]],
    [
      'announces the third failure within the window',
      row({ recent: [NOW - 50 * MIN, NOW - 30 * MIN] }),
      MIN,
      NOW - 50 * MIN,
      true,
      [NOW - 50 * MIN, NOW - 30 * MIN, NOW - MIN],
    ],
    [
      'holds three failures spread wider than the window',
      row({ recent: [NOW - 90 * MIN, NOW - 30 * MIN] }),
      MIN,
      NOW - 90 * MIN,
      false,
      [NOW - 90 * MIN, NOW - 30 * MIN, NOW - MIN],
    ],
    [
      'counts an announced failure kept only as the last one',
      row({ lastFailure: NOW - 20 * MIN }),
      MIN,
      NOW - 20 * MIN,
      false,
      [NOW - 20 * MIN, NOW - MIN],
    ],
    [
      'announces failures that repeat exactly within the window',
      row({ recent: [NOW - 61 * MIN, NOW - 30 * MIN] }),
      MIN,
      NOW - 61 * MIN,
      true,
      [NOW - 61 * MIN, NOW - 30 * MIN, NOW - MIN],
    ],
    [
      'announces an image failing for exactly the persistence time',
      row(),
      MIN,
      NOW - 2 * H - MIN,
      true,
      [NOW - 2 * H, NOW - MIN],
    ],
    [
      'keeps only as many latest times as the threshold counts',
      row({ recent: [1, 2, 3] }),
      MIN,
      NOW - H,
      false,
      [2, 3, NOW - MIN],
    ],
  ])('%s', (_, f, ago, since, due, recent) => {
    const v = transientVerdict(f, failure(ago), since, tr);
    expect([v.due, v.recent]).toEqual([due, recent]);
  });

  it('announces the newest failure held back, when an older one read later tips the count', () => {
    const newer = failure(MIN);
    const v = transientVerdict(
      row({ held: newer, recent: [NOW - 20 * MIN, NOW - MIN] }),
      failure(30 * MIN),
      NOW - H,
      tr,
    );
    expect(v.due).toBe(true);
    expect(v.newest).toBe(newer);
  });
});
