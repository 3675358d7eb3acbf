import type { FailingImage } from '../model/state.js';
import type { SyncTask } from '../model/task.js';

/** How transient causes are held back (DetectOptions.transient). */
export interface Transient {
  minFailures: number;
  windowMs: number;
  persistMs: number;
}

/**
 * The failing-image row after a failure `t` of the image, given its row so far (`f`, absent for a first failure):
 * since when it has been failing and its latest failure (named, whichever order failures are read in), the route it
 * was announced to, and the labels a digest shows, taken from `t`. Pure.
 */
export function failingAfter(f: FailingImage | undefined, t: SyncTask): FailingImage {
  const latest = t.createTime >= (f?.lastFailure ?? 0);
  return {
    since: Math.min(f?.since ?? t.createTime, t.createTime),
    lastFailure: Math.max(f?.lastFailure ?? t.createTime, t.createTime),
    taskId: latest ? t.taskId : f!.taskId,
    issue: latest ? t.issue : f!.issue,
    ...(f?.route ? { route: f.route } : {}),
    ...(f?.silenced ? { silenced: true } : {}),
    image: imageOf(t.from),
    target: targetOf(t),
    ...(t.ruleId ? { ruleId: t.ruleId } : {}),
  };
}

/**
 * Whether a transient failure `t` of an image failing since `since` is due to be announced: the image failed
 * `minFailures` times within `windowMs` (counting its latest failures whatever order they are read in), or has been
 * failing for `persistMs`. `recent`: the times of its latest failures, as many as the threshold counts; `newest`: the
 * newest failure held back, the one to announce. Pure.
 */
export function transientVerdict(
  f: FailingImage | undefined,
  t: SyncTask,
  since: number,
  tr: Transient,
): { due: boolean; recent: number[]; newest: SyncTask } {
  const recent = [...(f?.recent ?? (f ? [f.lastFailure] : [])), t.createTime]
    .sort((a, b) => a - b)
    .slice(-tr.minFailures);
  const latest = recent[recent.length - 1]!;
  const repeated = recent.length >= tr.minFailures && latest - recent[0]! <= tr.windowMs;
  const persisted = latest - since >= tr.persistMs;
  const newest = f?.held && f.held.createTime > t.createTime ? f.held : t;
  return { due: repeated || persisted, recent, newest };
}

/**
 * A failing image as later batches of the run read it: its row without the labels only a digest shows. A burst's run
 * keeps one for every image it saw fail until the run ends, and its rows are written with labels taken from the task
 * each time, so the labels need not be kept. A held failure keeps them: releasing it writes the row as it is.
 */
export function withoutLabels(f: FailingImage): FailingImage {
  const { image: _image, target: _target, ruleId: _ruleId, ruleName: _ruleName, ...rest } = f;
  return rest;
}

const imageOf = (i: SyncTask['from']): string => `${i.namespace}/${i.repo}:${i.tag}`;

/** Where a failing image goes, as a digest shows it: the target instance, and the target image when it is renamed. */
function targetOf(t: SyncTask): string {
  const where = [t.to.regionId, t.to.instanceId].filter(Boolean).join(':');
  const to = imageOf(t.to);
  return to !== imageOf(t.from) && t.to.repo ? `${where} ${to}` : where;
}
