import { describe, expect, it } from 'vitest';
import type { Cursor, WatchedSync } from '../../src/model/state.js';
import type { SyncTask } from '../../src/model/task.js';
import { write } from '../../src/state/rows.js';
import { SLOW_RECHECK_MS } from '../../src/detect/watch.js';
import { bannersTotal } from '../support/banner.js';
import { H, INST, MIN, movableClock, T0, task } from '../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../support/run-harness.js';

/** A CR call takes 2 s of the run's (virtual) time. */
const CALL_MS = 2_000;
/** Runs every 5 minutes. */
const EVERY = 5 * MIN;
/** 90 s of fetch time a run: 45 calls at 2 s. */
const TIMEOUT_MS = 102_000;
const RESERVE_MS = 12_000;

const id = (prefix: string, i: number) => `rst-${prefix}-${String(i).padStart(4, '0')}`;

/** Background syncs that finished, `perHour` an hour over `hours` below T0: what makes the list long. */
const busy = (perHour: number, hours: number): SyncTask[] =>
  Array.from({ length: Math.floor(perHour * hours) }, (_, i) =>
    task(id('bg', i), T0 - Math.round(((i + 0.5) * H) / perHour), 'SUCCESS'),
  );

/**
 * A deployment whose earlier runs watch `watched` on one instance (rows as the store writes them) and read its list
 * down to a minute before T0; its CR API takes 2 s a call. Counts the failures each channel received, as its messages
 * say ("ACR: 30× network → … · 42 syncs failed in all"; a message names a few of them, not all).
 */
async function world(o: {
  tasks: SyncTask[];
  watched: WatchedSync[];
  cursor?: Partial<Cursor>;
  maxPages?: number;
  slow?: () => boolean;
}) {
  const clock = movableClock(T0);
  const dingtalk = acceptingNotifier('dingtalk');
  const slack = acceptingNotifier('slack');
  const h = runHarness({
    clock,
    tasks: o.tasks,
    notifiers: { dingtalk, slack },
    timeoutMs: TIMEOUT_MS,
    reserveMs: RESERVE_MS,
    settings: { maxPages: o.maxPages ?? 400 },
    cr: {
      before: () => {
        if (o.slow?.() ?? true) clock.t += CALL_MS;
      },
    },
  });
  const k = h.store.keys;
  const cursor: Cursor = { top: T0 - MIN, gaps: [], order: 'desc', watching: o.watched.length, ...o.cursor };
  const rows = [write.cursor(k, INST.key, cursor, 0), ...o.watched.map((w) => write.watch(k, INST.key, w))];
  for (let i = 0; i < rows.length; i += 200) await h.table.writeRows(rows.slice(i, i + 200));
  /** Failures each channel was told of, by channel. */
  const announced = () => Object.fromEntries([dingtalk, slack].map((n) => [n.channel, bannersTotal(n.sent)]));
  return { h, announced, dingtalk, slack };
}

/** Runs every 5 minutes from T0 until `done` or `max` runs; the number of runs it took (max + 1: never). */
async function runsUntil(h: { run(at: number): Promise<unknown> }, done: () => boolean, max: number) {
  for (let n = 1; n <= max; n++) {
    await h.run(T0 + (n - 1) * EVERY);
    if (done()) return n;
  }
  return max + 1;
}

const watched = (t: SyncTask, over: Partial<WatchedSync> = {}): WatchedSync => ({
  task: { ...t, status: 'SYNCHRONIZING', issue: '' },
  firstSeen: t.createTime,
  savedAt: t.createTime,
  stuck: true,
  ...over,
});

describe('re-checks of watched syncs behind a CR API that takes 2 s a call', () => {
  it('announces the failures of the 50 oldest of 100 syncs open 1-48 h, the 50 newest still running, within 3 runs', async () => {
    // One sync every 28 minutes from 1 h to 48 h old, in a list of 100 other tasks an hour.
    const open = Array.from({ length: 100 }, (_, i) => task(id('open', i), T0 - H - Math.round(i * 0.475 * H), 'X'));
    const failing = open.slice(50).map((t) => ({ ...t, status: 'ERROR', issue: 'TAG_CONFLICT' }));
    const running = open.slice(0, 50).map((t) => ({ ...t, status: 'SYNCHRONIZING' }));
    const { h, announced } = await world({
      tasks: [...busy(100, 49), ...running, ...failing],
      watched: open.map((t) => watched(t)),
    });
    // About 40 targeted calls a run (45 calls, less the scan's pages and the rules): ⌈50 / 40⌉ + 1 runs.
    const runs = await runsUntil(h, () => announced().slack === 50 && announced().dingtalk === 50, 36);
    expect(announced()).toEqual({ dingtalk: 50, slack: 50 });
    expect(runs).toBeLessThanOrEqual(3);
  });

  it('announces every failure of 1,000 open syncs it reads back, going on where the last run stopped, within 4 runs', async () => {
    // 1,000 syncs open 1-48 h, dense in a list of 5 other tasks an hour: reading back takes ~125 pages of 10, a
    // targeted call per sync 1,000 calls.
    const open = Array.from({ length: 1_000 }, (_, i) =>
      task(id('many', i), T0 - H - Math.round((i * 47 * H) / 1_000), 'ERROR'),
    );
    const { h, announced } = await world({
      tasks: [...busy(5, 49), ...open.map((t) => ({ ...t, issue: 'TAG_CONFLICT' }))],
      watched: open.map((t) => watched(t)),
      cursor: { rate: 26 },
    });
    // ~125 pages at ~42 a run: ⌈125 / 42⌉ + 1 runs.
    const runs = await runsUntil(h, () => announced().slack === 1_000 && announced().dingtalk === 1_000, 36);
    expect(announced()).toEqual({ dingtalk: 1_000, slack: 1_000 });
    expect(runs).toBeLessThanOrEqual(4);
  });

  it('reaches a sync known only by id 40 h down a busy list, and announces its failure within 11 runs', async () => {
    // 100 tasks an hour in pages of 10: 400 pages down, ~42 pages a run: ⌈400 / 42⌉ + 1 runs.
    const deep = task(id('deep', 0), T0 - 40 * H, 'ERROR');
    const others = Array.from({ length: 60 }, (_, i) => task(id('run', i), T0 - 3 * H - i * MIN, 'SYNCHRONIZING'));
    const partial: WatchedSync = {
      task: { ...deep, status: 'SYNCHRONIZING', batchId: undefined, from: { ...deep.from, tag: '' } },
      firstSeen: T0 - 40 * H,
      partial: true,
    };
    const { h, announced } = await world({
      tasks: [...busy(100, 49), ...others, { ...deep, issue: 'TAG_CONFLICT' }],
      watched: [partial, ...others.map((t) => watched(t))],
      cursor: { rate: 100 },
    });
    const runs = await runsUntil(h, () => announced().slack === 1 && announced().dingtalk === 1, 36);
    expect(announced()).toEqual({ dingtalk: 1, slack: 1 });
    expect(runs).toBeLessThanOrEqual(11);
  });

  it('reports re-checks behind while the budget cannot cover them, and 0 once it can', async () => {
    // 300 syncs running for a day, each its own push, far down a busy list, each re-checked last a quarter hour ago:
    // a targeted call each, 300 due every quarter hour where a run affords ~42 calls (126 a quarter hour).
    const open = Array.from({ length: 300 }, (_, i) => task(id('slow', i), T0 - 24 * H - i * MIN, 'SYNCHRONIZING'));
    let slow = true;
    const { h } = await world({
      tasks: [...busy(100, 49), ...open],
      watched: open.map((t) => watched(t, { checkedAt: T0 - SLOW_RECHECK_MS })),
      slow: () => slow,
    });
    const behind: number[] = [];
    for (let n = 0; n < 6; n++) {
      const s = (await h.run(T0 + n * EVERY)) as { instances: { recheckBehindMinutes?: number }[] };
      behind.push(s.instances[0]!.recheckBehindMinutes ?? 0);
    }
    // Due at T0; each run later the longest-waiting has waited 5 minutes more.
    expect(behind).toEqual([0, 5, 10, 15, 20, 25]);
    slow = false;
    const after: number[] = [];
    for (let n = 6; n < 9; n++) {
      const s = (await h.run(T0 + n * EVERY)) as { instances: { recheckBehindMinutes?: number }[] };
      after.push(s.instances[0]!.recheckBehindMinutes ?? 0);
    }
    // Calls that take no time: every due re-check is made in the first fast run.
    expect(after).toEqual([0, 0, 0]);
  });
});
