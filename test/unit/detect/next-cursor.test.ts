import { describe, expect, it } from 'vitest';
import { MAX_GAPS } from '../../../src/detect/list.js';
import {
  mergeGaps,
  newTop,
  nextCursor,
  rateOf,
  type ReadSummary,
  type Trusted,
} from '../../../src/detect/next-cursor.js';
import type { Gap } from '../../../src/model/state.js';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const MIN = 60_000;
const none: Trusted = { count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
const times = (...ts: number[]): Trusted => ({ count: ts.length, min: Math.min(...ts), max: Math.max(...ts) });
/** A first run's read of one page of 10, newest first: two trusted times nine minutes apart (6.67 an hour). */
const read = (over: Partial<ReadSummary> = {}): ReadSummary => ({
  now: NOW,
  pageSize: 10,
  order: 'desc',
  size: 10,
  total: 10,
  trusted: times(NOW - 10 * MIN, NOW - MIN),
  gaps: [],
  overlapReadWhole: false,
  ...over,
});

describe('the newest time read', () => {
  it.each([
    ['stays unset when nothing trusted was read on a first run', undefined, none, undefined],
    ['stays where it was when nothing trusted was read', NOW - H, none, NOW - H],
    ['moves up to the newest trusted time read', NOW - H, times(NOW - 2 * H, NOW - MIN), NOW - MIN],
    ['never moves down when only older tasks were read', NOW - H, times(NOW - 3 * H, NOW - 2 * H), NOW - H],
    ['is the newest trusted time on a first run', undefined, times(NOW - 2 * H, NOW - MIN), NOW - MIN],
  ])('%s', (_, prevTop, trusted, want) => {
    expect(newTop(prevTop, trusted)).toBe(want);
  });
});

describe('the rate of tasks an hour', () => {
  it.each([
    ['is measured over the trusted times: n - 1 intervals over their span', undefined, times(0, 6 * MIN, 12 * MIN), 10],
    ['is averaged with the last measure', 20, times(0, 6 * MIN, 12 * MIN), 15],
    ['keeps the last measure when a single task was read', 20, times(NOW), 20],
    ['keeps the last measure when the tasks were all created at one moment', 20, times(NOW, NOW, NOW), 20],
    ['stays unknown when nothing could be measured on a first run', undefined, none, undefined],
  ])('%s', (_, prevRate, trusted, want) => {
    expect(rateOf(prevRate, trusted)).toBe(want);
  });
});

describe('the next cursor from what a scan read', () => {
  const cases: [string, Partial<ReadSummary>, Record<string, unknown>][] = [
    [
      'a first run keeps the newest time, the order seen, TotalCount and the rate to a tenth',
      {},
      { top: NOW - MIN, gaps: [], order: 'desc', total: 10, rate: 6.7 },
    ],
    [
      'keeps the order the last run saw when no page showed one',
      { order: 'flat', prev: { gaps: [], order: 'asc' } },
      { order: 'asc' },
    ],
    ['reads a list newest first until a page shows otherwise', { order: 'flat' }, { order: 'desc' }],
    ['keeps a list in no order as such', { order: 'unknown' }, { order: 'unknown' }],
    ['keeps the page size the service served when it is not the one asked for', { size: 7 }, { pageSize: 7 }],
    ['keeps no page size when the service served the one asked for', { size: 10 }, { pageSize: undefined }],
    [
      'keeps the last TotalCount when no page was read',
      { total: undefined, prev: { gaps: [], total: 77 } },
      { total: 77 },
    ],
    ['keeps the newest TotalCount read', { total: 12, prev: { gaps: [], total: 77 } }, { total: 12 }],
    [
      'notes when the overlap was read whole',
      { overlapReadWhole: true, prev: { gaps: [], readAt: NOW - H } },
      { readAt: NOW },
    ],
    [
      'keeps when the overlap was last read whole otherwise',
      { prev: { gaps: [], readAt: NOW - H } },
      { readAt: NOW - H },
    ],
    ['keeps no time of a whole read that never happened', {}, { readAt: undefined }],
    [
      'keeps the gaps as given',
      { gaps: [{ hi: NOW - H, lo: NOW - 2 * H, depth: 40 }] },
      { gaps: [{ hi: NOW - H, lo: NOW - 2 * H, depth: 40 }] },
    ],
    [
      'keeps what it knew when it read nothing',
      {
        trusted: none,
        total: undefined,
        order: 'flat',
        prev: { top: NOW - H, gaps: [], rate: 12, total: 5, order: 'asc' },
      },
      { top: NOW - H, rate: 12, total: 5, order: 'asc' },
    ],
  ];
  it.each(cases)('%s', (_, over, want) => {
    const c = nextCursor(read(over));
    for (const [k, v] of Object.entries(want)) {
      if (v === undefined) expect(c, k).not.toHaveProperty(k);
      else expect(c[k as keyof typeof c], k).toEqual(v);
    }
  });
});

describe('merging gaps', () => {
  const gap = (hiH: number, loH: number, extra: Partial<Gap> = {}): Gap => ({
    hi: NOW - hiH * H,
    lo: NOW - loH * H,
    ...extra,
  });
  it.each<[string, Gap[], Gap[]]>([
    ['sorts them newest first', [gap(5, 6), gap(1, 2)], [gap(1, 2), gap(5, 6)]],
    [
      `keeps ${MAX_GAPS} as they are`,
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 8)],
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 8)],
    ],
    [
      "merges the two oldest into one spanning both, with the newer one's position, beyond the limit",
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 8, { depth: 70, total: 90 }), gap(9, 10, { depth: 90, total: 95 })],
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 10, { depth: 70, total: 90 })],
    ],
    [
      'does not count or merge a watch-only stretch',
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 8), gap(9, 12, { watchOnly: true })],
      [gap(1, 2), gap(3, 4), gap(5, 6), gap(7, 8), gap(9, 12, { watchOnly: true })],
    ],
  ])('%s', (_, gaps, want) => {
    expect(mergeGaps(gaps)).toStrictEqual(want);
  });
});
