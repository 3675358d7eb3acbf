import { describe, expect, it } from 'vitest';
import { OVERLAP_MS } from '../../../src/detect/list.js';
import { MAX_RECENT, OverlapMemory, seenHash } from '../../../src/detect/overlap.js';
import { MIN, NOW, t } from '../../support/detect-tasks.js';

const settled = (id: string, ago: number) => t(id, 'SUCCESS', ago);

describe('what is remembered of the overlap', () => {
  it('knows the tasks the last run left in the cursor, by hash or by id as the earlier layout kept them', () => {
    const m = new OverlapMemory({ gaps: [], seen: seenHash('rst-a') + seenHash('rst-b'), recent: ['rst-c'] });
    expect(['rst-a', 'rst-b', 'rst-c', 'rst-d'].map((id) => m.knows(settled(id, MIN)))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('knows nothing on a first run', () => {
    expect(new OverlapMemory(undefined).knows(settled('rst-a', MIN))).toBe(false);
  });

  it('keeps the tasks down to exactly the overlap below the newest one, in whatever order they are read', () => {
    const m = new OverlapMemory(undefined);
    for (const x of [
      settled('rst-edge', OVERLAP_MS + MIN),
      settled('rst-below', OVERLAP_MS + MIN + 1),
      settled('rst-top', MIN),
    ])
      m.remember(x);
    expect(m.seen(NOW - MIN)).toBe([seenHash('rst-top'), seenHash('rst-edge')].sort().join(''));
  });

  it('keeps in the cursor only those within the overlap below the newest time it is given, sorted', () => {
    const m = new OverlapMemory(undefined);
    m.remember(settled('rst-b', MIN));
    m.remember(settled('rst-a', 2 * MIN));
    expect(m.seen(NOW + OVERLAP_MS - 2 * MIN)).toBe([seenHash('rst-a'), seenHash('rst-b')].sort().join(''));
    expect(m.seen(NOW + OVERLAP_MS - 2 * MIN + 1)).toBe(seenHash('rst-b'));
    expect(m.seen(undefined)).toBe('');
  });

  it('writes the same string for the same tasks, whatever order they were read in', () => {
    const tasks = ['rst-a', 'rst-b', 'rst-c', 'rst-d', 'rst-e'].map((id, i) => settled(id, (i + 1) * MIN));
    const forward = new OverlapMemory(undefined);
    const backward = new OverlapMemory(undefined);
    for (const x of tasks) forward.remember(x);
    for (const x of [...tasks].reverse()) backward.remember(x);
    expect(forward.seen(NOW - MIN)).toBe(backward.seen(NOW - MIN));
    expect(forward.seen(NOW - MIN)).toHaveLength(5 * 8);
  });

  it(`remembers at most ${MAX_RECENT}, and makes room once newer tasks arrive`, () => {
    const m = new OverlapMemory(undefined);
    for (let i = 0; i < MAX_RECENT + 5; i++) m.remember(settled(`rst-old${i}`, 30 * MIN));
    expect(m.seen(NOW - 30 * MIN).length / 8).toBe(MAX_RECENT);
    m.remember(settled('rst-new', MIN));
    expect(m.seen(NOW - MIN)).toBe(seenHash('rst-new'));
  });
});
