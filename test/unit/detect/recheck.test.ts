import { describe, expect, it } from 'vitest';
import { FETCH_FLOOR_MS } from '../../../src/detect/cr-call.js';
import type { Judged } from '../../../src/detect/judge.js';
import { recheck, RECHECK_PAGES, recheckPlanFor, recheckTargeted, sweptMissing } from '../../../src/detect/recheck.js';
import { SLOW_RECHECK_MS, type Recheck } from '../../../src/detect/watch.js';
import { Budget } from '../../../src/lib/budget.js';
import type { Cursor, WatchedSync } from '../../../src/model/state.js';
import {
  fakeCr,
  fakeStore,
  H,
  INST,
  MIN,
  movableClock,
  recordingLog,
  T0,
  task,
  watching,
} from '../../support/observe-fakes.js';
import { observation } from '../../support/observation.js';

const STUCK = 2 * H;
const young = watching(task('young', T0 - H, 'SYNCHRONIZING'));
const slow = watching(task('slow', T0 - 5 * H, 'SYNCHRONIZING'));
const plan = (watched: WatchedSync[], prev: Cursor) =>
  recheckPlanFor(watched, { prev, now: T0, stuckAfterMs: STUCK, pageSize: 10 });
const planned = (p: ReturnType<typeof plan>) => [...p.plan.swept, ...p.plan.targeted.flatMap((r) => r.taskIds)];

describe('planning the re-checks of an instance', () => {
  it('re-checks a young sync every run, and one past the stuck threshold only when the slow re-checks are due', () => {
    const recent = plan([young, slow], { gaps: [], recheckedAt: T0 - MIN });
    expect(planned(recent)).toEqual(['young']);
    expect(recent.slowChecked).toBe(false);
    const due = plan([young, slow], { gaps: [], recheckedAt: T0 - SLOW_RECHECK_MS });
    expect(planned(due).sort()).toEqual(['slow', 'young']);
  });

  it('counts the slow re-checks done when a targeted call re-reads a slow sync', () => {
    expect(plan([slow], { gaps: [] }).slowChecked).toBe(true);
  });

  it('does not count them done when the slow sync is re-read by the top of the list at no extra cost', () => {
    // One task an hour: the slow sync is on the first page, which the scan reads anyway.
    const p = plan([slow], { top: T0 - 2 * H, rate: 1, gaps: [] });
    expect(p.plan.swept).toEqual(['slow']);
    expect(p.slowChecked).toBe(false);
  });

  it('counts them done when reading back to a slow sync costs pages beyond the first', () => {
    // Known only by id, it can only be re-read by reading back: 100 tasks down at 20 an hour.
    const p = plan([{ ...slow, partial: true }], { top: T0 - MIN, rate: 20, gaps: [] });
    expect(p.plan).toMatchObject({ swept: ['slow'], extraPages: 9 });
    expect(p.slowChecked).toBe(true);
  });
});

const callDeps = (o: { fetchMs?: number } = {}) => {
  const clock = movableClock(T0);
  return { budget: new Budget(clock, T0 + (o.fetchMs ?? 60_000) + 5_000, 5_000), log: recordingLog(), pageSize: 2 };
};

describe('one targeted re-check', () => {
  const push = (n: number) =>
    Array.from({ length: n }, (_, i) => task(`p${i}`, T0 - i * MIN, 'SUCCESS', { batchId: 'b1' }));
  const filter = { syncRecordId: 'b1' };

  it('reads with the filter until it found every sync wanted', async () => {
    const cr = fakeCr(push(6));
    const found = await recheck({ inst: INST, cr: cr.api, filter, wanted: ['p0', 'p3'] }, callDeps());
    expect(found.tasks.map((t) => t.taskId)).toEqual(['p0', 'p3']);
    expect(found.calls).toBe(2);
    expect(cr.taskCalls.map((c) => [c.pageNo, c.pageSize, c.filter])).toEqual([
      [1, 2, filter],
      [2, 2, filter],
    ]);
  });

  it('stops at a short page, whatever it did not find', async () => {
    const cr = fakeCr(push(3));
    const found = await recheck({ inst: INST, cr: cr.api, filter, wanted: ['p0', 'gone'] }, callDeps());
    expect(found).toMatchObject({ calls: 2 });
    expect(found.tasks.map((t) => t.taskId)).toEqual(['p0']);
  });

  it(`reads at most ${RECHECK_PAGES} pages`, async () => {
    const cr = fakeCr(push(20));
    const found = await recheck({ inst: INST, cr: cr.api, filter, wanted: ['p19'] }, callDeps());
    expect(found).toEqual({ tasks: [], calls: RECHECK_PAGES });
  });
});

describe('re-checking the due watched syncs the scan did not read', () => {
  const a = watching(task('a', T0 - H, 'SYNCHRONIZING'));
  const b = watching(task('b', T0 - H, 'SYNCHRONIZING'));
  const c = watching(task('c', T0 - H, 'SYNCHRONIZING'));
  const targeted: Recheck[] = [
    { filter: { syncRecordId: 'rsbt-a' }, taskIds: ['a'] },
    { filter: { syncRecordId: 'rsbt-b' }, taskIds: ['b'] },
    { filter: { syncRecordId: 'rsbt-c' }, taskIds: ['c'] },
  ];
  async function run(seen: string[], o: { fetchMs?: number } = {}) {
    const cr = fakeCr([{ ...a.task, status: 'ERROR', issue: 'TAG_CONFLICT' }, b.task]);
    const obs = observation({ prev: { top: T0, gaps: [] }, watched: [a, b, c], cr });
    const deps = { ...callDeps(o), store: fakeStore().store, pageSize: 10 };
    const gen = recheckTargeted(obs, targeted, new Set(seen), deps);
    const chunks: Judged[] = [];
    for (;;) {
      const r = await gen.next();
      if (r.done) return { missing: r.value, chunks, cr, obs };
      chunks.push(r.value);
    }
  }

  it('calls once per push not read by the scan, judges what it found, and returns the syncs not found', async () => {
    const { missing, chunks, cr, obs } = await run(['b']);
    expect(cr.taskCalls.map((x) => x.filter)).toEqual([{ syncRecordId: 'rsbt-a' }, { syncRecordId: 'rsbt-c' }]);
    expect(chunks.map((j) => j.changes.failures.map((t) => t.taskId))).toEqual([['a']]);
    expect(missing).toEqual(['c']);
    expect(obs.found.rechecks).toBe(2);
  });

  it('makes no call once the time for fetching is spent', async () => {
    const { missing, cr } = await run([], { fetchMs: FETCH_FLOOR_MS });
    expect(cr.taskCalls).toEqual([]);
    expect(missing).toEqual([]);
  });

  it('makes a call with a moment more than the floor left', async () => {
    const { cr } = await run(['b', 'c'], { fetchMs: FETCH_FLOOR_MS + 1 });
    expect(cr.taskCalls).toHaveLength(1);
  });
});

describe('watched syncs known only by id that reading back passed', () => {
  const w = (id: string, createTime: number, partial = true): [string, WatchedSync] => [
    id,
    watching(task(id, createTime, 'PENDING'), partial ? { partial: true } : {}),
  ];
  const watched = new Map([w('p1', T0 - H), w('p2', T0 - 3 * H), w('full', T0 - H, false)]);
  it.each<[string, string[], string[], number | undefined, string[]]>([
    ['are missing when the sweep reached them and did not read them', ['p1'], [], T0 - 2 * H, ['p1']],
    ['are not missing when the sweep read them', ['p1'], ['p1'], T0 - 2 * H, []],
    ['are not missing when the sweep stopped above them', ['p1', 'p2'], [], T0 - 2 * H, ['p1']],
    ['are missing when created exactly where the sweep stopped', ['p2'], [], T0 - 3 * H, ['p2']],
    ['are none when the top pass read nothing', ['p1'], [], undefined, []],
    ['do not include a sync with its whole row', ['full'], [], T0 - 2 * H, []],
    ['do not include one no longer watched', ['other'], [], T0 - 2 * H, []],
  ])('%s', (_, swept, seen, coveredTo, want) => {
    expect(sweptMissing(swept, watched, new Set(seen), coveredTo)).toEqual(want);
  });
});
