import {
  imageKey,
  InstanceDetector,
  type Batch,
  type Changes,
  type DetectOptions,
  type Known,
} from '../../src/detect/detect.js';
import type { Cursor, FailingImage, WatchedSync } from '../../src/model/state.js';
import type { SyncTask } from '../../src/model/task.js';

export const NOW = 1_800_000_000_000;
export const H = 3_600_000;
export const MIN = 60_000;
export const img = { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: 'r', tag: 't' };
/** A task `ago` ms before NOW; its image is its tag (default: its id), so tasks of one tag are one image. */
export const t = (
  id: string,
  status: string,
  ago: number,
  issue = '',
  tag = id,
  extra: Partial<SyncTask> = {},
): SyncTask => ({
  taskId: id,
  status,
  issue,
  trigger: 'PASSIVE',
  createTime: NOW - ago,
  crossUser: false,
  from: { ...img, tag },
  to: { ...img, tag },
  ...extra,
});
export const batch = (tasks: SyncTask[], lo = NOW - 24 * H, watchOnly = false): Batch => ({ tasks, lo, watchOnly });
export const none: Known = { handled: new Set(), failing: new Map() };
/** The store's rows: claimed failures, and a failing-image row per task (its image, its time), overridden by `f`. */
export const known = (handled: string[] = [], failing: [SyncTask, Partial<FailingImage>][] = []): Known => ({
  handled: new Set(handled),
  failing: new Map(
    failing.map(([task, f]) => [
      imageKey(task),
      { since: task.createTime, lastFailure: task.createTime, taskId: task.taskId, issue: task.issue, ...f },
    ]),
  ),
});
export const opts: DetectOptions = { stuckAfterMs: 100 * H };
export const ids = (xs: readonly SyncTask[]) => xs.map((x) => x.taskId);
export const detector = (cursor?: Cursor, watched: WatchedSync[] = [], o: DetectOptions = opts) =>
  new InstanceDetector(cursor, watched, NOW, o);
/** The failing-image rows a batch wrote, as the store would hold them afterwards (deleted rows gone). */
export const stored = (before: ReadonlyMap<string, FailingImage>, c: Changes): Map<string, FailingImage> => {
  const out = new Map(before);
  for (const [k, f] of c.failing)
    if (f === null) out.delete(k);
    else out.set(k, f);
  return out;
};
