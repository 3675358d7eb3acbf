import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/handler/run.js';
import { bannersTotal } from '../support/banner.js';
import { INST, MIN, T0, task } from '../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../support/run-harness.js';
import { readState } from '../support/state.js';

/**
 * Whole runs (runOnce) against a CR list whose TotalCount lies, behind an API answering in 2 s (a virtual clock each
 * call moves), with the deployed run's budget (120 s timeout: 95 s of reading, about 47 calls) and the default page
 * size and page limit. Counted where the calls land: the fake CR's calls and the messages the notifier took.
 */
const CALL_MS = 2_000;
const RUN_EVERY = 5 * MIN;
const HISTORY = 100;

/** `n` tasks `spacingMs` apart, the newest `newestAgo` before `at`, one in `failEvery` failing (all one group). */
const tasks = (o: {
  n: number;
  prefix: string;
  at: number;
  newestAgo: number;
  spacingMs: number;
  failEvery?: number;
}) =>
  Array.from({ length: o.n }, (_, i) =>
    task(
      `rst-${o.prefix}${i}`,
      o.at - o.newestAgo - i * o.spacingMs,
      o.failEvery && i % o.failEvery === 0 ? 'ERROR' : 'SUCCESS',
    ),
  );

/** Failures a channel was told of, by the banners of the messages it took ("… · 17 syncs failed in all"). */
const announced = (sent: unknown[]) => bannersTotal(sent);

/**
 * An instance read once (its history), then `backlog` tasks arriving at once: runs every 5 minutes until every
 * failure is announced or `maxRuns` ran. Returns what each run did and what the channel and the CR API saw.
 */
async function workDown(o: {
  order?: 'asc';
  totalCount: (n: number) => number;
  backlog: number;
  failEvery: number;
  maxRuns: number;
}) {
  const list = tasks({ n: HISTORY, prefix: 'h', at: T0, newestAgo: 60 * MIN, spacingMs: 30_000 });
  const ding = acceptingNotifier('dingtalk');
  let calls = 0;
  const h = runHarness({
    tasks: list,
    notifiers: { dingtalk: ding },
    timeoutMs: 119_000,
    reserveMs: 23_800,
    settings: { pageSize: 50, maxPages: 400, lookbackMs: 24 * 60 * MIN },
    cr: {
      ...(o.order ? { order: o.order } : {}),
      totalCount: o.totalCount,
      before: () => {
        calls += 1;
        h.clock.t += CALL_MS;
      },
    },
  });
  await h.run(T0);
  const start = T0 + RUN_EVERY;
  // Spread over the 45 minutes before the next run, as a burst of pushes would.
  const burst = tasks({
    n: o.backlog,
    prefix: 'b',
    at: start,
    newestAgo: 1_000,
    spacingMs: Math.floor((45 * MIN) / o.backlog),
    failEvery: o.failEvery,
  });
  list.push(...burst);
  const failures = burst.filter((t) => t.status === 'ERROR').length;
  const runs: (Pick<RunSummary, 'failuresFound'> & { calls: number; behindMinutes: number; complete: boolean })[] = [];
  for (let i = 0; i < o.maxRuns && announced(ding.sent) < failures; i++) {
    const before = calls;
    const s = await h.run(start + i * RUN_EVERY);
    const inst = s.instances[0]!;
    runs.push({
      failuresFound: s.failuresFound,
      calls: calls - before,
      behindMinutes: inst.behindMinutes,
      complete: inst.complete,
    });
  }
  const state = await readState(h.table, 'harness', [INST.key]);
  const claimed = new Set(state.handled[INST.key] ?? []).size;
  return { runs, failures, announced: announced(ding.sent), claimed };
}

/** Whether `behindMinutes` only ever shrank from the first run on (and ended at 0). */
const shrinking = (runs: { behindMinutes: number }[]) =>
  runs.every((r, i) => i === 0 || r.behindMinutes <= runs[i - 1]!.behindMinutes) && runs.at(-1)!.behindMinutes === 0;

describe('a list whose TotalCount lies, behind an API answering in 2 s', () => {
  // 20,000 tasks at 50 a page are 400 pages; a run reads about 47: 9 runs at the least.
  const BOUND = 14;

  for (const order of ['desc', 'asc'] as const)
    for (const [lie, totalCount] of [
      ['capped at 1,000', (n: number) => Math.min(n, 1_000)],
      ['always 0', () => 0],
    ] as const)
      it(`works a 20,000-task backlog down, every failure announced once within ${BOUND} runs (${order}, TotalCount ${lie})`, async () => {
        const r = await workDown({
          ...(order === 'asc' ? { order } : {}),
          totalCount,
          backlog: 20_000,
          failEvery: 45,
          maxRuns: BOUND,
        });
        expect(r.failures).toBe(445);
        expect({ announced: r.announced, claimed: r.claimed }).toEqual({ announced: 445, claimed: 445 });
        expect(r.runs.length).toBeLessThanOrEqual(BOUND);
        expect(shrinking(r.runs)).toBe(true);
        // Each run stays within what the budget allows: 47 calls of 2 s.
        expect(Math.max(...r.runs.map((x) => x.calls))).toBeLessThanOrEqual(48);
      });

  it('reads an oldest-first list whose TotalCount is 10 times the truth, and announces every failure', async () => {
    const r = await workDown({ order: 'asc', totalCount: (n) => 10 * n, backlog: 2_000, failEvery: 40, maxRuns: 6 });
    expect(r.failures).toBe(50);
    expect({ announced: r.announced, claimed: r.claimed }).toEqual({ announced: 50, claimed: 50 });
    // 42 pages: found by a galloping search of about 2·log2(420) + 2 = 20 reads, then read back to the last run's top.
    expect(r.runs.length).toBeLessThanOrEqual(2);
    expect(r.runs.reduce((n, x) => n + x.calls, 0)).toBeLessThanOrEqual(42 + 20 + 2);
  });
});
