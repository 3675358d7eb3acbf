import { scanTasks, type ScanInput, type ScanResult } from '../../src/detect/scan.js';
import type { Cursor } from '../../src/model/state.js';
import type { Page, SyncTask } from '../../src/model/task.js';

export const NOW = 1_800_000_000_000;
export const MIN = 60_000;
export const H = 3_600_000;
const img = { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: 't' };
export const mk = (id: string, createTime: number, status = 'SUCCESS', extra: Partial<SyncTask> = {}): SyncTask => ({
  taskId: id,
  status,
  issue: '',
  trigger: 'PASSIVE',
  createTime,
  crossUser: false,
  from: img,
  to: img,
  ...extra,
});
/** `n` tasks one minute apart, the newest `newestAgo` ms before NOW. */
export const history = (n: number, prefix = 't', newestAgo = MIN) =>
  Array.from({ length: n }, (_, i) => mk(`rst-${prefix}${i}`, NOW - newestAgo - i * MIN));

/**
 * A fake ListRepoSyncTask over a changing list, in the given order, that can lie about TotalCount, repeat pages, and
 * serve its last page again past the end.
 */
export function api(
  initial: SyncTask[],
  order: 'desc' | 'asc' | 'random' = 'desc',
  o: { cap?: number; total?: (n: number) => number; repeat?: number[]; pastEnd?: 'last-page' } = {},
) {
  let list = [...initial];
  const sorted = () => {
    const s = [...list].sort((a, b) => (order === 'asc' ? a.createTime - b.createTime : b.createTime - a.createTime));
    if (order === 'random')
      s.sort((a, b) => (((a.createTime / MIN) * 7919) % 101) - (((b.createTime / MIN) * 7919) % 101));
    return s;
  };
  const asked: number[] = [];
  return {
    asked,
    add: (more: SyncTask[]) => (list = [...list, ...more]),
    fetchPage: async (pageNo: number, size: number): Promise<Page<SyncTask>> => {
      asked.push(pageNo);
      const s = Math.min(size, o.cap ?? 1000);
      const all = sorted();
      // A service that serves its last page again for any page past the end.
      const last = Math.max(1, Math.ceil(all.length / s));
      const shown = o.pastEnd === 'last-page' ? Math.min(pageNo, last) : pageNo;
      const served = o.repeat?.includes(pageNo) ? shown - 1 : shown;
      return {
        items: all.slice((served - 1) * s, served * s),
        pageNo,
        pageSize: s,
        totalCount: o.total ? o.total(all.length) : all.length,
        dropped: [],
      };
    },
  };
}

/** Runs a scan to its end, collecting what it yielded. */
export async function run(
  a: Pick<ReturnType<typeof api>, 'fetchPage'>,
  over: Partial<ScanInput> & { cursor?: Cursor } = {},
  size = 10,
) {
  const gen = scanTasks({
    now: NOW,
    lookbackMs: 6 * H,
    discoveryMs: 0,
    pageSize: size,
    maxPages: 1000,
    hasTime: () => true,
    fetchPage: (n) => a.fetchPage(n, size),
    ...over,
  });
  const seen: { id: string; lo: number; watchOnly: boolean }[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { result: r.value as ScanResult, seen, ids: seen.map((s) => s.id) };
    for (const t of r.value.tasks) seen.push({ id: t.taskId, lo: r.value.lo, watchOnly: r.value.watchOnly });
  }
}
export const cursorAfter = (r: ScanResult): Cursor => ({ ...r.cursor });
