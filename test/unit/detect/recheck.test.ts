import { describe, expect, it } from 'vitest';
import { FETCH_FLOOR_MS } from '../../../src/detect/cr-call.js';
import type { Judged } from '../../../src/detect/judge.js';
import {
  dueSyncs,
  passedMissing,
  recheck,
  RECHECK_PAGES,
  recheckBehind,
  recheckTargeted,
} from '../../../src/detect/recheck.js';
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
const dueIds = (watched: WatchedSync[], prev?: Cursor) =>
  dueSyncs(watched, { ...(prev ? { prev } : {}), now: T0, stuckAfterMs: STUCK }).map((d) => d.w.task.taskId);

describe('which watched syncs are due a re-check', () => {
  it('a young one at every run; a long-running one a quarter hour after its own last re-check', () => {
    expect(dueIds([young, { ...slow, checkedAt: T0 - MIN }])).toEqual(['young']);
    expect(dueIds([young, { ...slow, checkedAt: T0 - SLOW_RECHECK_MS }])).toEqual(['young', 'slow']);
    expect(dueIds([slow])).toEqual(['slow']);
  });

  it('one with no time of its own as of when it was first seen', () => {
    expect(dueIds([{ ...slow, firstSeen: T0 - 10 * MIN }])).toEqual([]);
    expect(dueIds([{ ...slow, firstSeen: T0 - SLOW_RECHECK_MS }])).toEqual(['slow']);
  });

  it('one with no time of its own by the time the previous release kept for all, when later', () => {
    expect(dueIds([slow], { gaps: [], recheckedAt: T0 - MIN })).toEqual([]);
    expect(dueIds([slow], { gaps: [], recheckedAt: T0 - SLOW_RECHECK_MS })).toEqual(['slow']);
    expect(dueIds([{ ...slow, checkedAt: T0 - SLOW_RECHECK_MS }], { gaps: [], recheckedAt: T0 - MIN })).toEqual([
      'slow',
    ]);
  });
});

describe('how far behind the re-checks are', () => {
  const due = dueSyncs([young, slow, { ...slow, task: { ...slow.task, taskId: 'later' }, checkedAt: T0 - 20 * MIN }], {
    now: T0,
    stuckAfterMs: STUCK,
  });
  const watched = new Map(due.map((d) => [d.w.task.taskId, d.w]));
  it.each<[string, string[], ReadonlyMap<string, WatchedSync>, number]>([
    ['0 when every due re-check was made', ['young', 'slow', 'later'], watched, 0],
    ['the wait past its due time of the longest-waiting one not made', ['young'], watched, 3 * H],
    ['only those not made', ['young', 'slow'], watched, 5 * MIN],
    ['not counting one no longer watched', ['young'], new Map([['later', watched.get('later')!]]), 5 * MIN],
  ])('%s', (_, reread, w, want) => {
    expect(recheckBehind(due, new Set(reread), w, T0)).toBe(want);
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
      if (r.done) return { missing: r.value.missing, read: r.value.read, chunks, cr, obs };
      chunks.push(r.value);
    }
  }

  it('calls once per push not read by the scan, judges what it found, and returns the syncs read and not found', async () => {
    const { missing, read, chunks, cr, obs } = await run(['b']);
    expect(cr.taskCalls.map((x) => x.filter)).toEqual([{ syncRecordId: 'rsbt-a' }, { syncRecordId: 'rsbt-c' }]);
    expect(chunks.map((j) => j.changes.failures.map((t) => t.taskId))).toEqual([['a']]);
    expect(missing).toEqual(['c']);
    expect(read).toEqual(['a', 'c']);
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

describe('watched syncs known only by id that a read passed', () => {
  const d = (id: string, createTime: number, partial = true) => ({
    w: watching(task(id, createTime, 'PENDING'), partial ? { partial: true } : {}),
    dueAt: T0,
  });
  const due = [d('p1', T0 - H), d('p2', T0 - 3 * H), d('full', T0 - H, false)];
  const span = (lo: number, hi = Number.POSITIVE_INFINITY) => ({ lo, hi });
  it.each<[string, string[], { lo?: number; hi?: number }[], string[]]>([
    ['are missing when a read covered them and did not read them', [], [span(T0 - 2 * H)], ['p1']],
    ['are not missing when it read them', ['p1'], [span(T0 - 2 * H)], []],
    ['are missing when created exactly where a read stopped', [], [span(T0 - 3 * H)], ['p1', 'p2']],
    ['are missing when a second span covered them', [], [span(T0 - 2 * H), span(T0 - 4 * H, T0 - 3 * H)], ['p1', 'p2']],
    ['are none when no read covered them', [], [span(T0 - 50 * MIN), { hi: T0 }], []],
    ['do not include a sync with its whole row', ['p1', 'p2'], [span(T0 - 4 * H)], []],
  ])('%s', (_, seen, spans, want) => {
    expect(passedMissing(due, new Set(seen), spans)).toEqual(want);
  });
});
