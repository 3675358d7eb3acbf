import { describe, expect, it } from 'vitest';
import { scanTasks, type ScanInput, type ScanResult } from '../../../src/detect/scan.js';
import type { Cursor } from '../../../src/model/state.js';
import type { Page, SyncTask } from '../../../src/model/task.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const H = 3_600_000;
const img = { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: 't' };
const mk = (id: string, createTime: number, status = 'SUCCESS'): SyncTask => ({
  taskId: id,
  status,
  issue: status === 'ERROR' ? 'NETWORK_ERROR' : '',
  trigger: 'PASSIVE',
  createTime,
  crossUser: false,
  from: img,
  to: img,
});

/** A newest-first task list served 10 to a page. */
const listOf =
  (tasks: SyncTask[]) =>
  async (pageNo: number): Promise<Page<SyncTask>> => {
    const all = [...tasks].sort((a, b) => b.createTime - a.createTime);
    return {
      items: all.slice((pageNo - 1) * 10, pageNo * 10),
      pageNo,
      pageSize: 10,
      totalCount: all.length,
      dropped: [],
    };
  };

/** Each task's judging bounds as the scan yielded it: a task is judged when one of them is at or below its time. */
async function scan(tasks: SyncTask[], over: Partial<ScanInput>) {
  const gen = scanTasks({
    now: T0,
    lookbackMs: 6 * H,
    discoveryMs: 0,
    pageSize: 10,
    maxPages: 1000,
    hasTime: () => true,
    fetchPage: listOf(tasks),
    ...over,
  });
  const yielded = new Map<string, { lo: number; watchOnly: boolean }[]>();
  for (;;) {
    const r = await gen.next();
    if (r.done) return { result: r.value as ScanResult, yielded };
    for (const t of r.value.tasks)
      yielded.set(t.taskId, [...(yielded.get(t.taskId) ?? []), { lo: r.value.lo, watchOnly: r.value.watchOnly }]);
  }
}
const judged = (y: Map<string, { lo: number; watchOnly: boolean }[]>, t: SyncTask) =>
  (y.get(t.taskId) ?? []).some((b) => b.lo <= t.createTime && !b.watchOnly);

describe('a task the top pass reads below its bound', () => {
  it('is judged as part of the unread stretch it belongs to (a failure there is announced, once)', async () => {
    // A minute apart, newest at T0 - 1 min; the first run reads one page and leaves the rest as a gap.
    const older = Array.from({ length: 40 }, (_, i) =>
      mk(`rst-old${i}`, T0 - MIN - i * MIN, i === 11 ? 'ERROR' : 'SUCCESS'),
    );
    const first = await scan(older, { maxPages: 1 });
    expect(first.result.cursor.gaps.length).toBeGreaterThan(0);
    const failure = older[11]!;
    expect(judged(first.yielded, failure)).toBe(false);

    // Five new tasks: the second run's top pass ends on a page that reaches into that gap, past its own bound.
    const newer = Array.from({ length: 5 }, (_, i) => mk(`rst-new${i}`, T0 + 5 * MIN - i * MIN));
    const second = await scan([...older, ...newer], { now: T0 + 6 * MIN, cursor: first.result.cursor as Cursor });
    expect(judged(second.yielded, failure)).toBe(true);
    // Everything the first run left unread is judged now, once.
    const gap = first.result.cursor.gaps[0]!;
    for (const t of older.filter((x) => x.createTime < gap.hi))
      expect([t.taskId, judged(second.yielded, t), second.yielded.get(t.taskId)?.length]).toEqual([t.taskId, true, 1]);
    expect(second.result.complete).toBe(true);
  });

  it('on the first run, is looked at for watching like the rest below the look-back (a running sync there is watched)', async () => {
    const lookbackMs = 30 * MIN;
    const tasks = Array.from({ length: 40 }, (_, i) =>
      mk(`rst-t${i}`, T0 - MIN - i * MIN, i === 32 ? 'SYNCHRONIZING' : 'SUCCESS'),
    );
    const running = tasks[32]!;
    // Page 4 holds 31..40 minutes back: the top pass reaches below the 30-minute look-back there.
    const { yielded } = await scan(tasks, { lookbackMs, discoveryMs: 2 * H });
    expect((yielded.get(running.taskId) ?? []).some((b) => b.watchOnly && b.lo <= running.createTime)).toBe(true);
  });
});
