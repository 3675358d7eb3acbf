import { describe, expect, it } from 'vitest';
import type { Alert, RecoveryAlert, StuckAlert } from '../../src/model/alert.js';
import { contentOf, EXAMPLES_PER_GROUP, IMAGES_PER_GROUP, ITEMS_PER_SECTION, MAX_GROUPS } from '../../src/render/content.js';
import { failureAlert, syncTask } from '../support/build.js';

const T0 = 1_800_000_000_000;

describe('message content', () => {
  it('rolls failures up by rule, target and cause, counting each and keeping the newest few', () => {
    const alerts: Alert[] = [];
    for (let i = 0; i < 25_000; i++) {
      const rule = i % 2 === 0 ? 'crsr-a' : 'crsr-b';
      alerts.push(failureAlert(syncTask({ taskId: `rst-${i}`, ruleId: rule, issue: i % 5 === 0 ? 'OSS_POLICY_UNAUTHORIZED' : 'NETWORK_ERROR', createTime: T0 + i * 1000 })));
    }
    const c = contentOf(alerts);
    expect(c.failureCount).toBe(25_000);
    expect(c.groups.map((g) => [g.ruleId, g.cause, g.count])).toEqual([
      ['crsr-a', 'OSS_POLICY_UNAUTHORIZED', 2_500],
      ['crsr-b', 'OSS_POLICY_UNAUTHORIZED', 2_500],
      ['crsr-a', 'NETWORK_ERROR', 10_000],
      ['crsr-b', 'NETWORK_ERROR', 10_000],
    ]);
    const b = c.groups.find((g) => g.ruleId === 'crsr-b' && g.cause === 'NETWORK_ERROR')!;
    expect(b.examples).toHaveLength(EXAMPLES_PER_GROUP);
    expect(b.examples[0]!.task.taskId).toBe('rst-24999');
    expect(b.examples.map((a) => a.task.createTime)).toEqual([...b.examples.map((a) => a.task.createTime)].sort((x, y) => y - x));
    expect([b.firstAt, b.lastAt]).toEqual([T0 + 1_000, T0 + 24_999_000]);
    expect(c.ids).toHaveLength(25_000);
  });

  it('keeps target instances apart and names the rule when any alert of the group could read it', () => {
    const sh = failureAlert(syncTask({ taskId: 'rst-1' }));
    const sg = failureAlert(syncTask({ taskId: 'rst-2', to: { ...sh.task.to, regionId: 'ap-southeast-1', instanceId: 'cri-sg' } }));
    const named = { ...failureAlert(syncTask({ taskId: 'rst-3' })), rule: { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' } };
    const c = contentOf([sh, sg, named]);
    expect(c.groups.map((g) => [g.target.instanceId, g.count, g.rule?.name])).toEqual([['cri-dst', 2, 'prod-to-sh'], ['cri-sg', 1, undefined]]);
  });

  it('keeps a bounded number of recovered, stuck and finished syncs, each kind apart, and counts the rest', () => {
    const task = (i: number) => syncTask({ taskId: `rst-${i}`, status: 'SUCCESS', createTime: T0 + i });
    const recovered: RecoveryAlert[] = Array.from({ length: 30 }, (_, i) => ({ kind: 'recovered', id: `r${i}`, instance: 'i', task: task(i), failedTaskId: 'x', issue: '', since: T0, unannounced: false }));
    const stuck: StuckAlert[] = Array.from({ length: 30 }, (_, i) => ({ kind: 'stuck', id: `s${i}`, instance: 'i', task: task(i), at: T0 }));
    const finished: StuckAlert[] = Array.from({ length: 3 }, (_, i) => ({ kind: 'unstuck', id: `u${i}`, instance: 'i', task: task(i), at: T0 }));
    const c = contentOf([...recovered, ...stuck, ...finished]);
    expect([c.recoveredCount, c.recovered.length, c.recovered[0]!.id]).toEqual([30, ITEMS_PER_SECTION, 'r29']);
    expect([c.stuckCount, c.stuck.length, c.stuck[0]!.id]).toEqual([30, ITEMS_PER_SECTION, 's0']);
    expect([c.finishedCount, c.finished.map((a) => a.id)]).toEqual([3, ['u0', 'u1', 'u2']]);
  });

  it('keeps each group\'s newest distinct images for its re-run loop, only names a shell takes literally', () => {
    const image = (i: number, repo: string, tag = 'v1') => failureAlert(syncTask({ taskId: `rst-${i}`, createTime: T0 + i * 1000, from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo, tag } }));
    const alerts = [image(1, 'api'), image(2, 'api'), image(3, 'web'), image(4, 'bad;rm'), ...Array.from({ length: 40 }, (_, i) => image(10 + i, `svc-${i}`))];
    const g = contentOf(alerts).groups[0]!;
    expect(g.images).toHaveLength(IMAGES_PER_GROUP);
    expect(g.images[0]).toMatchObject({ repo: 'svc-39', at: T0 + 49_000 });
    expect(contentOf(alerts.slice(0, 4)).groups[0]!.images.map((i) => i.repo)).toEqual(['web', 'api']);
  });

  it('counts failures beyond MAX_GROUPS groups without keeping them, and caps a free-text cause', () => {
    const alerts = Array.from({ length: MAX_GROUPS + 50 }, (_, i) => failureAlert(syncTask({ taskId: `rst-${i}`, issue: `ISSUE_${i}_${'X'.repeat(1000)}` })));
    const c = contentOf(alerts);
    expect([c.groups.length, c.ungrouped, c.failureCount]).toEqual([MAX_GROUPS, 50, MAX_GROUPS + 50]);
    expect(Math.max(...c.groups.map((g) => g.cause.length))).toBeLessThanOrEqual(200);
  });
});
