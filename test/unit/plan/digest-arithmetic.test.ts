import { describe, expect, it } from 'vitest';
import { imageKey } from '../../../src/detect/detect.js';
import { failingAfter } from '../../../src/detect/failing.js';
import type { Alert, FailureAlert, RecoveryAlert } from '../../../src/model/alert.js';
import type { FailingImage } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';
import { completeFailing } from '../../../src/plan/alerts.js';
import { addToStats, buildDigest, stillFailingOf } from '../../../src/plan/digest.js';
import { contentOf } from '../../../src/render/content.js';
import { RUNGS, type Detail } from '../../../src/render/detail.js';
import { renderDingTalk } from '../../../src/render/dingtalk.js';
import { layout } from '../../../src/render/layout.js';
import type { Locale } from '../../../src/render/locale.js';

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const INSTANCE = 'cn-hangzhou:cri-a';
const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const RICH: Detail = { ...RUNGS[0]!, full: 20, lines: 30 };

const task = (i: number, createTime: number): SyncTask => ({
  taskId: `rst-${i}-${createTime}`,
  status: 'ERROR',
  issue: 'TAG_CONFLICT',
  trigger: 'PASSIVE',
  createTime,
  crossUser: false,
  from: { instanceId: 'cri-a', regionId: 'cn-hangzhou', namespace: 'ns', repo: `r${i}`, tag: 'v' },
  to: { instanceId: 'cri-b', regionId: 'cn-shanghai', namespace: 'ns', repo: `r${i}`, tag: 'v' },
});
const failure = (i: number, createTime = NOW - i * MIN): FailureAlert => ({
  id: `${INSTANCE}/rst-${i}-${createTime}`,
  instance: INSTANCE,
  task: task(i, createTime),
});

/** The rows a batch of failures writes, as detect and claim write them: `muted` are the alerts a silence kept. */
function rowsAfter(
  rows: Map<string, FailingImage | null>,
  failures: readonly FailureAlert[],
  muted: readonly Alert[] = [],
): Map<string, FailingImage | null> {
  const next = new Map(rows);
  for (const a of failures) next.set(imageKey(a.task), failingAfter(next.get(imageKey(a.task)) ?? undefined, a.task));
  const owner = new Map(failures.map((a) => [a.id, 'default']));
  return completeFailing(next, { alerts: failures, owner, muted: new Set(muted.map((a) => a.id)) });
}

describe('a digest whose counts add up', () => {
  // The issue's case: 4 failures announced, 1 recovered, and one image failing whose only failure a silence muted.
  const announced = [1, 2, 3, 4].map((i) => failure(i));
  const silenced = failure(5);
  let rows = rowsAfter(new Map(), [...announced, silenced], [silenced]);
  const recovery: RecoveryAlert = {
    kind: 'recovered',
    id: 'r1',
    instance: INSTANCE,
    task: { ...task(1, NOW), status: 'SUCCESS' },
    failedTaskId: announced[0]!.task.taskId,
    issue: 'TAG_CONFLICT',
    since: NOW - MIN,
    unannounced: false,
  };
  rows = new Map([...rows].filter(([k]) => k !== imageKey(announced[0]!.task)));
  const stats = addToStats(addToStats(undefined, announced, NOW - 60 * MIN), [recovery], NOW);
  const still = [...rows.values()].flatMap((f) => (f ? [stillFailingOf(INSTANCE, f, NOW)!] : []));
  const g = buildDigest({ route: 'default', digest: { stats }, stillFailing: still, now: NOW });
  const text = (lang = UTC) => renderDingTalk(layout(contentOf([g]), lang, RICH), lang).markdown.text;

  it('lists as still failing the announced failures that did not recover: 4 failed − 1 recovered = 3', () => {
    const failed = Object.values(g.byCause).reduce((n, x) => n + x, 0);
    expect([failed, g.recoveries, g.stillFailing]).toEqual([4, 1, 3]);
    expect(failed - g.recoveries).toBe(g.stillFailing);
    expect(g.oldestFailing.map((f) => f.image)).toEqual(['ns/r4:v', 'ns/r3:v', 'ns/r2:v']);
    expect(text()).toContain('Failures announced: 4 (TAG_CONFLICT 4)');
    expect(text()).toContain('Recovered: 1');
    expect(text()).toContain('Still failing: 3, oldest first:');
    expect(text()).not.toContain('ns/r5:v');
  });

  it('counts the silenced image apart, in both languages', () => {
    expect(g.silencedFailing).toBe(1);
    expect(text()).toContain('Also failing, never announced (every failure muted by a silence): 1 image');
    expect(text(ZH)).toContain('另有 1 个镜像仍在失败，其每次失败都已被静默，未发出通知');
  });
});

describe('which failing images were never announced', () => {
  const key = imageKey(failure(1).task);

  it('marks an image whose failures were all muted, and keeps it so while later failures are muted too', () => {
    const first = failure(1, NOW - 10 * MIN);
    const second = failure(1, NOW - 5 * MIN);
    let rows = rowsAfter(new Map(), [first], [first]);
    expect(rows.get(key)!.silenced).toBe(true);
    rows = rowsAfter(rows, [second], [second]);
    expect(rows.get(key)!.silenced).toBe(true);
  });

  it('clears the mark once a failure of the image is announced, and does not set it again when a later one is muted', () => {
    const [a, b, c] = [failure(1, NOW - 10 * MIN), failure(1, NOW - 5 * MIN), failure(1, NOW - 2 * MIN)];
    let rows = rowsAfter(new Map(), [a], [a]);
    rows = rowsAfter(rows, [b]);
    expect(rows.get(key)).not.toHaveProperty('silenced');
    rows = rowsAfter(rows, [c], [c]);
    expect(rows.get(key)).not.toHaveProperty('silenced');
    expect(stillFailingOf(INSTANCE, rows.get(key)!, NOW)).not.toHaveProperty('silenced');
  });

  it('reads a row of the previous release (no mark) as announced', () => {
    const row: FailingImage = { since: NOW - MIN, lastFailure: NOW - MIN, taskId: 't', issue: 'TAG_CONFLICT' };
    const g = buildDigest({
      route: 'default',
      digest: { stats: addToStats(undefined, [], NOW) },
      stillFailing: [stillFailingOf(INSTANCE, row, NOW)!],
      now: NOW,
    });
    expect([g.stillFailing, g.silencedFailing]).toEqual([1, undefined]);
  });
});
