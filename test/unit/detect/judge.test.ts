import { describe, expect, it } from 'vitest';
import { imageKey, type Batch } from '../../../src/detect/detect.js';
import { joinBatch, judge, missedChunk, releaseHeld, type Judged } from '../../../src/detect/judge.js';
import type { ScanBatch } from '../../../src/detect/list.js';
import { fakeStore, H, MIN, recordingLog, T0, task, watching } from '../../support/observe-fakes.js';
import { observation } from '../../support/observation.js';

const LO = T0 - 6 * H;
const batch = (tasks: ReturnType<typeof task>[], lo = LO, watchOnly = false): Batch => ({ tasks, lo, watchOnly });

describe('judging a chunk', () => {
  it('asks the store nothing about a chunk that needs no row', async () => {
    const o = observation();
    const { store, lookups } = fakeStore();
    const j = await judge(o, batch([task('r1', T0 - MIN, 'SYNCHRONIZING')]), { store, log: recordingLog() });
    expect(lookups).toEqual([]);
    expect(j.changes.watch.map((w) => w.task.taskId)).toEqual(['r1']);
  });

  it('looks up what the chunk needs, and does not announce a failure the store says was claimed', async () => {
    const o = observation({ prev: { top: T0, gaps: [] } });
    const failed = task('f1', T0 - MIN, 'ERROR');
    const { store, lookups } = fakeStore({ handled: ['f1'] });
    const j = await judge(o, batch([failed]), { store, log: recordingLog() });
    expect(lookups).toEqual([{ taskIds: ['f1'], imageKeys: [imageKey(failed)] }]);
    expect(j.changes.failures).toEqual([]);
    expect(o.found.reasons['already-announced']).toBe(1);
  });

  it('adds what each chunk decided to what the instance found', async () => {
    const o = observation();
    const deps = { store: fakeStore().store, log: recordingLog() };
    await judge(o, batch([task('f1', T0 - MIN, 'ERROR'), task('s1', T0 - 2 * MIN)]), deps);
    await judge(o, batch([task('f2', T0 - 3 * MIN, 'ERROR')]), deps);
    expect(o.found.newFailures).toBe(2);
    expect(o.found.reasons).toMatchObject({ 'new-failure': 2, succeeded: 1 });
  });

  it('hands back the instance and its rules with the changes', async () => {
    const o = observation();
    const j = await judge(o, batch([]), { store: fakeStore().store, log: recordingLog() });
    expect(j.inst).toBe(o.inst);
    expect(j.rules).toBe(o.rules);
  });

  it('warns about undocumented statuses, naming them', async () => {
    const log = recordingLog();
    await judge(observation(), batch([task('x', T0 - MIN, 'PAUSED')]), { store: fakeStore().store, log });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        msg: 'tasks with an undocumented TaskStatus are watched like running ones',
        fields: { instance: 'cn-hangzhou:cri-x', statuses: ['PAUSED'] },
      },
    ]);
  });
});

describe('gathering the scan into chunks', () => {
  const b = (n: number, lo = LO, watchOnly = false): ScanBatch => ({
    tasks: Array.from({ length: n }, (_, i) => task(`t${lo}-${i}`, T0 - i)),
    lo,
    watchOnly,
  });
  const sizes = (r: { ready?: Batch; chunk: Batch }) => [r.ready?.tasks.length, r.chunk.tasks.length];
  it.each<[string, Batch | undefined, ScanBatch, (number | undefined)[]]>([
    ['starts a chunk with the first batch', undefined, b(3), [undefined, 3]],
    ['adds a batch of the same stretch', b(3), b(4), [undefined, 7]],
    ['fills a chunk up to the limit exactly', b(6), b(4), [undefined, 10]],
    ['starts the next chunk with a batch that does not fit', b(7), b(4), [7, 4]],
    ['starts the next chunk for another stretch', b(3), b(2, LO - H), [3, 2]],
    ['starts the next chunk where only unfinished syncs are wanted', b(3), b(2, LO, true), [3, 2]],
  ])('%s', (_, chunk, next, want) => {
    expect(sizes(joinBatch(chunk, next, 10))).toEqual(want);
  });

  it('keeps the stretch of the chunk it starts', () => {
    expect(joinBatch(b(3), b(2, LO - H, true), 10).chunk).toMatchObject({ lo: LO - H, watchOnly: true });
  });
});

describe('watched syncs a re-check did not find', () => {
  it('marks a miss, and stops watching one gone after the limit, with a warning naming it', () => {
    const w1 = watching(task('w1', T0 - H, 'PENDING'));
    const w2 = watching(task('w2', T0 - H, 'PENDING'), { misses: 2 });
    const o = observation({ watched: [w1, w2] });
    const log = recordingLog();
    const j: Judged = missedChunk(o, ['w1', 'w2'], 3, log);
    expect(j.changes.watch.map((w) => [w.task.taskId, w.misses])).toEqual([['w1', 1]]);
    expect(j.changes.unwatch).toEqual(['w2']);
    expect(o.found.gone).toEqual(['w2']);
    expect(log.lines.map((l) => [l.msg, l.fields?.tasks])).toEqual([
      ['stopped watching syncs the API no longer returns', ['w2']],
    ]);
  });
});

describe('held transient failures now due', () => {
  const held = { stuckAfterMs: 100 * H, transient: { minFailures: 3, windowMs: H, persistMs: H } };
  const drain = async (gen: AsyncGenerator<Judged, void>) => {
    const out: Judged[] = [];
    for await (const j of gen) out.push(j);
    return out;
  };

  it('asks nothing and yields nothing when none is due', async () => {
    const { store, lookups } = fakeStore();
    const o = observation({ prev: { gaps: [], held: { k: T0 - MIN } }, opts: held });
    expect(await drain(releaseHeld(o, { store, log: recordingLog() }))).toEqual([]);
    expect(lookups).toEqual([]);
  });

  it('announces one still held, once it has persisted, and counts it', async () => {
    const f = task('f1', T0 - 2 * H, 'ERROR', { issue: 'NETWORK_ERROR' });
    const key = imageKey(f);
    const row = { since: f.createTime, lastFailure: f.createTime, taskId: 'f1', issue: 'NETWORK_ERROR', held: f };
    const { store, lookups } = fakeStore({ failing: new Map([[key, row]]) });
    const o = observation({ prev: { gaps: [], held: { [key]: f.createTime } }, opts: held });
    const out = await drain(releaseHeld(o, { store, log: recordingLog() }));
    expect(lookups).toEqual([{ taskIds: [], imageKeys: [key] }]);
    expect(out.map((j) => j.changes.failures.map((t) => t.taskId))).toEqual([['f1']]);
    expect(o.found.newFailures).toBe(1);
  });

  it('yields nothing for a due one whose row is no longer held', async () => {
    const { store } = fakeStore();
    const o = observation({ prev: { gaps: [], held: { k: T0 - 2 * H } }, opts: held });
    expect(await drain(releaseHeld(o, { store, log: recordingLog() }))).toEqual([]);
    expect(o.found.newFailures).toBe(0);
  });
});
