import { describe, expect, it } from 'vitest';
import { readingOrder } from '../../../src/detect/observe.js';
import { cursorAfterRead, unreadMs } from '../../../src/detect/report.js';
import type { Cursor } from '../../../src/model/state.js';

const H = 3_600_000;
const T0 = 1_800_000_000_000;

describe('how far behind an instance is reported', () => {
  it('is nothing for an instance never read, or one whose list has no unread stretch', () => {
    expect(unreadMs(undefined)).toBe(0);
    expect(unreadMs({ top: T0, gaps: [] })).toBe(0);
  });

  it('adds up the unread stretches of the task list', () => {
    expect(
      unreadMs({
        top: T0,
        gaps: [
          { hi: T0 - H, lo: T0 - 3 * H },
          { hi: T0 - 5 * H, lo: T0 - 6 * H },
        ],
      }),
    ).toBe(3 * H);
  });

  it('leaves out stretches read only for unfinished syncs, which hold no failure to announce', () => {
    expect(
      unreadMs({
        top: T0,
        gaps: [
          { hi: T0 - H, lo: T0 - 2 * H },
          { hi: T0 - 6 * H, lo: T0 - 30 * H, watchOnly: true },
        ],
      }),
    ).toBe(H);
  });

  it('counts a stretch whose bounds crossed as nothing rather than taking time off the others', () => {
    expect(
      unreadMs({
        top: T0,
        gaps: [
          { hi: T0 - 2 * H, lo: T0 - H },
          { hi: T0 - 3 * H, lo: T0 - 4 * H },
        ],
      }),
    ).toBe(H);
  });
});

describe('the order instances are read in', () => {
  const cursors: Record<string, Cursor | undefined> = {
    caughtUp: { top: T0, gaps: [] },
    smallBacklog: { top: T0, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }] },
    bigBacklog: { top: T0, gaps: [{ hi: T0 - H, lo: T0 - 9 * H }] },
    starved: { top: T0, gaps: [], starved: true },
    starvedBehind: { top: T0, gaps: [{ hi: T0 - H, lo: T0 - 3 * H }], starved: true },
    neverRead: undefined,
  };
  const order = (names: string[]) => readingOrder(names, (n) => cursors[n]);

  it('reads an instance never read before first, then one the last run could not reach, then the biggest backlog', () => {
    expect(order(['caughtUp', 'smallBacklog', 'starved', 'bigBacklog', 'neverRead'])).toEqual([
      'neverRead',
      'starved',
      'bigBacklog',
      'smallBacklog',
      'caughtUp',
    ]);
  });

  it('puts one the last run could not reach ahead of any backlog, and among those the one further behind first', () => {
    expect(order(['bigBacklog', 'starved', 'starvedBehind'])).toEqual(['starvedBehind', 'starved', 'bigBacklog']);
  });

  it('reads first, of those the last run could not reach, the one not read for the most runs', () => {
    cursors.unreached3 = { top: T0, gaps: [], starved: true, unreachedRuns: 3 };
    cursors.unreached1 = { top: T0, gaps: [{ hi: T0 - H, lo: T0 - 9 * H }], starved: true, unreachedRuns: 1 };
    expect(order(['starved', 'unreached1', 'bigBacklog', 'unreached3', 'neverRead'])).toEqual([
      'neverRead',
      'unreached3',
      'unreached1',
      'starved',
      'bigBacklog',
    ]);
  });

  it('reads every one of 80 instances within ⌈80 / reach⌉ runs when each run reaches the first 30 it orders', () => {
    const names = Array.from({ length: 80 }, (_, i) => `i${i}`);
    const state = new Map<string, Cursor | undefined>();
    const lastRead = new Map<string, number>();
    let longest = 0;
    for (let run = 0; run < 12; run++) {
      const reached = new Set(readingOrder(names, (n) => state.get(n)).slice(0, 30));
      for (const n of names) {
        const prev = state.get(n);
        const runs = (prev?.unreachedRuns ?? (prev?.starved ? 1 : 0)) + 1;
        state.set(n, reached.has(n) ? { gaps: [] } : { gaps: [], starved: true, unreachedRuns: runs });
        if (reached.has(n)) {
          longest = Math.max(longest, run - (lastRead.get(n) ?? -1));
          lastRead.set(n, run);
        }
      }
    }
    expect(lastRead.size).toBe(80);
    expect(longest).toBe(Math.ceil(80 / 30));
  });

  it('puts one read only in part ahead of those read to their end, where it was in the queue', () => {
    cursors.partRead = { top: T0, gaps: [{ hi: T0 - H, lo: T0 - 2 * H }], keptPlace: 2 };
    cursors.unreached3 = { top: T0, gaps: [], starved: true, unreachedRuns: 3 };
    cursors.unreached1 = { top: T0, gaps: [], starved: true, unreachedRuns: 1 };
    expect(order(['caughtUp', 'bigBacklog', 'unreached1', 'partRead', 'unreached3'])).toEqual([
      'unreached3',
      'partRead',
      'unreached1',
      'bigBacklog',
      'caughtUp',
    ]);
  });

  it('reads on an instance read only in part in the next runs, and still reads every other within ⌈79 / 9⌉', () => {
    // 80 instances, each run reaching 10 in order; i79 has a backlog no run finishes (it is read in part each time).
    // It keeps the place it had when first read in part, so it is read on run after run (not sent to the back for 8
    // runs); the others share the other 9 places a run, and overtake it once they have waited longer than its place.
    const names = Array.from({ length: 80 }, (_, i) => `i${i}`);
    const state = new Map<string, Cursor | undefined>(names.map((n) => [n, { gaps: [] }]));
    const readAt = new Map<string, number[]>();
    for (let run = 0; run < 40; run++) {
      const reached = new Set(readingOrder(names, (n) => state.get(n)).slice(0, 10));
      for (const n of names) {
        const prev = state.get(n)!;
        const after = cursorAfterRead({
          prev,
          scan: reached.has(n)
            ? {
                cursor: { gaps: n === 'i79' ? [{ hi: T0 - H, lo: T0 - 9 * H }] : [] },
                pagesRead: 1,
                stoppedBecause: n === 'i79' ? 'budget' : 'reached-window',
              }
            : { cursor: { gaps: [] }, pagesRead: 0 },
          detection: () => ({}),
        });
        state.set(n, after);
        if (reached.has(n)) readAt.set(n, [...(readAt.get(n) ?? []), run]);
      }
    }
    const gaps = (n: string) =>
      readAt
        .get(n)!
        .slice(1)
        .map((r, i) => r - readAt.get(n)![i]!);
    expect(Math.max(...gaps('i79'))).toBeLessThanOrEqual(2);
    for (const n of names) expect(Math.max(...gaps(n))).toBeLessThanOrEqual(Math.ceil(79 / 9));
  });

  it('keeps the configured order among instances equally behind', () => {
    cursors.otherCaughtUp = { top: T0 - H, gaps: [] };
    expect(order(['otherCaughtUp', 'caughtUp'])).toEqual(['otherCaughtUp', 'caughtUp']);
    expect(order(['caughtUp', 'otherCaughtUp'])).toEqual(['caughtUp', 'otherCaughtUp']);
  });

  it('does not reorder the list it was given', () => {
    const names = ['caughtUp', 'neverRead'];
    order(names);
    expect(names).toEqual(['caughtUp', 'neverRead']);
  });
});
