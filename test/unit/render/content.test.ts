import { describe, expect, it } from 'vitest';
import type { Alert, RecoveryAlert, StuckAlert } from '../../../src/model/alert.js';
import {
  contentOf,
  EXAMPLES_PER_GROUP,
  IMAGES_PER_GROUP,
  ITEMS_PER_SECTION,
  MAX_GROUPS,
} from '../../../src/render/content.js';
import { failureAlert, syncTask } from '../../support/build.js';

const T0 = 1_800_000_000_000;

describe('message content', () => {
  it('rolls failures up by rule, target and cause, counting each and keeping the newest few', () => {
    const alerts: Alert[] = [];
    for (let i = 0; i < 25_000; i++) {
      const rule = i % 2 === 0 ? 'crsr-a' : 'crsr-b';
      alerts.push(
        failureAlert(
          syncTask({
            taskId: `rst-${i}`,
            ruleId: rule,
            issue: i % 5 === 0 ? 'OSS_POLICY_UNAUTHORIZED' : 'NETWORK_ERROR',
            createTime: T0 + i * 1000,
          }),
        ),
      );
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
    expect(b.examples.map((a) => a.task.createTime)).toEqual(
      [...b.examples.map((a) => a.task.createTime)].sort((x, y) => y - x),
    );
    expect([b.firstAt, b.lastAt]).toEqual([T0 + 1_000, T0 + 24_999_000]);
    expect(c.ids).toHaveLength(25_000);
  });

  it('keeps target instances apart and names the rule when any alert of the group could read it', () => {
    const sh = failureAlert(syncTask({ taskId: 'rst-1' }));
    const sg = failureAlert(
      syncTask({ taskId: 'rst-2', to: { ...sh.task.to, regionId: 'ap-southeast-1', instanceId: 'cri-sg' } }),
    );
    const named = {
      ...failureAlert(syncTask({ taskId: 'rst-3' })),
      rule: { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' },
    };
    const c = contentOf([sh, sg, named]);
    expect(c.groups.map((g) => [g.target.instanceId, g.count, g.rule?.name])).toEqual([
      ['cri-dst', 2, 'prod-to-sh'],
      ['cri-sg', 1, undefined],
    ]);
  });

  it('keeps a bounded number of recovered, stuck and finished syncs, each kind apart, and counts the rest', () => {
    const task = (i: number) => syncTask({ taskId: `rst-${i}`, status: 'SUCCESS', createTime: T0 + i });
    const recovered: RecoveryAlert[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'recovered',
      id: `r${i}`,
      instance: 'i',
      task: task(i),
      failedTaskId: 'x',
      issue: '',
      since: T0,
      unannounced: false,
    }));
    const stuck: StuckAlert[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'stuck',
      id: `s${i}`,
      instance: 'i',
      task: task(i),
      at: T0,
    }));
    const finished: StuckAlert[] = Array.from({ length: 3 }, (_, i) => ({
      kind: 'unstuck',
      id: `u${i}`,
      instance: 'i',
      task: task(i),
      at: T0,
    }));
    const c = contentOf([...recovered, ...stuck, ...finished]);
    expect([c.recoveredCount, c.recovered.length, c.recovered[0]!.id]).toEqual([30, ITEMS_PER_SECTION, 'r29']);
    expect([c.stuckCount, c.stuck.length, c.stuck[0]!.id]).toEqual([30, ITEMS_PER_SECTION, 's0']);
    expect([c.finishedCount, c.finished.map((a) => a.id)]).toEqual([3, ['u0', 'u1', 'u2']]);
  });

  it("keeps each group's newest distinct images for its re-run loop, only names a shell takes literally", () => {
    const image = (i: number, repo: string, tag = 'v1') =>
      failureAlert(
        syncTask({
          taskId: `rst-${i}`,
          createTime: T0 + i * 1000,
          from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo, tag },
        }),
      );
    const alerts = [
      image(1, 'api'),
      image(2, 'api'),
      image(3, 'web'),
      image(4, 'bad;rm'),
      ...Array.from({ length: 40 }, (_, i) => image(10 + i, `svc-${i}`)),
    ];
    const g = contentOf(alerts).groups[0]!;
    expect(g.images).toHaveLength(IMAGES_PER_GROUP);
    expect(g.images[0]).toMatchObject({ repo: 'svc-39', at: T0 + 49_000 });
    expect(contentOf(alerts.slice(0, 4)).groups[0]!.images.map((i) => i.repo)).toEqual(['web', 'api']);
  });

  it('counts failures beyond MAX_GROUPS groups without keeping them, and caps a free-text cause', () => {
    const alerts = Array.from({ length: MAX_GROUPS + 50 }, (_, i) =>
      failureAlert(syncTask({ taskId: `rst-${i}`, issue: `ISSUE_${i}_${'X'.repeat(1000)}` })),
    );
    const c = contentOf(alerts);
    expect([c.groups.length, c.ungrouped, c.failureCount]).toEqual([MAX_GROUPS, 50, MAX_GROUPS + 50]);
    expect(Math.max(...c.groups.map((g) => g.cause.length))).toBeLessThanOrEqual(200);
  });
});

describe('message content, in detail', () => {
  const fail = (i: number, over: Partial<Parameters<typeof syncTask>[0]> = {}) =>
    failureAlert(syncTask({ taskId: `rst-${i}`, createTime: T0 + i * 1000, ...over }));

  it("times a group by each task's last change, else its creation", () => {
    const g = contentOf([fail(1, { modifiedTime: T0 + 50_000 }), fail(2), fail(3, { modifiedTime: T0 - 7_000 })])
      .groups[0]!;
    expect([g.firstAt, g.lastAt]).toEqual([T0 - 7_000, T0 + 50_000]);
  });

  it('keeps examples newest first, ties in task order, and drops the oldest beyond the cap', () => {
    const same = Array.from({ length: EXAMPLES_PER_GROUP + 2 }, (_, i) =>
      failureAlert(syncTask({ taskId: `rst-${String(i).padStart(2, '0')}`, createTime: T0 })),
    );
    const g = contentOf([...same].reverse()).groups[0]!;
    expect(g.examples.map((a) => a.task.taskId)).toEqual(same.slice(0, EXAMPLES_PER_GROUP).map((a) => a.task.taskId));
    const older = contentOf([...Array.from({ length: EXAMPLES_PER_GROUP }, (_, i) => fail(100 + i)), fail(1)])
      .groups[0]!;
    expect(older.examples.map((a) => a.task.taskId)).not.toContain('rst-1');
    expect(older.count).toBe(EXAMPLES_PER_GROUP + 1);
  });

  it('groups causes as ACR means them, whatever their case or spacing', () => {
    const c = contentOf([fail(1, { issue: 'NETWORK_ERROR' }), fail(2, { issue: ' network_error ' })]);
    expect(c.groups.map((g) => [g.cause, g.count])).toEqual([['NETWORK_ERROR', 2]]);
  });

  it('keeps the first rule it could read, and marks a group crossing accounts when any task did', () => {
    const rule = (name: string) => ({ ruleId: 'crsr-1', name, scope: 'NAMESPACE' });
    const c = contentOf([
      fail(1),
      { ...fail(2), rule: rule('first') },
      { ...fail(3, { crossUser: true }), rule: rule('second') },
      fail(4),
    ]);
    expect(c.groups[0]).toMatchObject({ rule: { name: 'first' }, crossUser: true });
    expect(contentOf([fail(1), fail(2)]).groups[0]!.crossUser).toBe(false);
  });

  it('orders groups by severity, then size, then cause, source and rule', () => {
    const c = contentOf([
      fail(1, { issue: 'NETWORK_ERROR', ruleId: 'b' }),
      fail(2, { issue: 'NETWORK_ERROR', ruleId: 'a' }),
      failureAlert(syncTask({ taskId: 'rst-3', issue: 'NETWORK_ERROR', ruleId: 'a' }), 'cn-beijing:cri-x'),
      fail(4, { issue: 'INTERNAL_ERROR', ruleId: 'z' }),
      fail(5, { issue: 'INTERNAL_ERROR', ruleId: 'z' }),
      fail(6, { issue: 'TAG_CONFLICT', ruleId: 'z' }),
      fail(7, { issue: 'OSS_POLICY_UNAUTHORIZED', ruleId: 'z' }),
    ]);
    expect(c.groups.map((g) => `${g.cause} ${g.source} ${g.ruleId} ${g.count}`)).toEqual([
      'OSS_POLICY_UNAUTHORIZED cn-hangzhou:cri-src z 1',
      'TAG_CONFLICT cn-hangzhou:cri-src z 1',
      'INTERNAL_ERROR cn-hangzhou:cri-src z 2',
      'NETWORK_ERROR cn-beijing:cri-x a 1',
      'NETWORK_ERROR cn-hangzhou:cri-src a 1',
      'NETWORK_ERROR cn-hangzhou:cri-src b 1',
    ]);
  });

  it('keeps each image once at its newest failure, apart by target, skipping older ones once the list is full', () => {
    const img = (i: number, repo: string, at: number, to = 'api') =>
      fail(i, {
        createTime: at,
        from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo, tag: 'v1' },
        to: { instanceId: 'cri-dst', regionId: 'cn-shanghai', namespace: 'prod', repo: to, tag: 'v1' },
      });
    const g = contentOf([
      img(1, 'api', T0),
      img(2, 'web', T0 + 1),
      img(3, 'api', T0 + 5),
      img(4, 'api', T0 + 2),
      img(5, 'api', T0 + 3, 'mirror'),
    ]).groups[0]!;
    expect(g.images.map((i) => [i.repo, i.to.repo, i.at])).toEqual([
      ['api', 'api', T0 + 5],
      ['api', 'mirror', T0 + 3],
      ['web', 'api', T0 + 1],
    ]);
    const unsafeTarget = contentOf([
      fail(1, { to: { instanceId: 'cri-dst', regionId: 'cn-shanghai', namespace: 'prod', repo: 'a b', tag: 'v1' } }),
    ]).groups[0]!;
    expect(unsafeTarget.images).toEqual([]);
    const full = Array.from({ length: IMAGES_PER_GROUP }, (_, i) => img(10 + i, `r${i}`, T0 + 100 + i));
    const g2 = contentOf([...full, img(1, 'old', T0 + 100), img(2, 'new', T0 + 200)]).groups[0]!;
    expect(g2.images).toHaveLength(IMAGES_PER_GROUP);
    expect(g2.images.map((i) => i.repo)).not.toContain('old');
    expect(g2.images[0]!.repo).toBe('new');
    expect(g2.images.map((i) => i.repo)).not.toContain('r0');
  });

  it('lists notices by time, then id; keeps digests and alert ids as they came', () => {
    const n = (id: string, at: number) => ({ kind: 'blind' as const, id, instance: 'i', since: 0, at, runs: 1 });
    const d = (id: string) => ({
      kind: 'digest' as const,
      id,
      instance: '',
      since: 0,
      at: 0,
      byCause: {},
      topRepos: [],
      recoveries: 0,
      stillFailing: 0,
      oldestFailing: [],
      muted: {},
    });
    const c = contentOf([n('b', 2), d('d2'), n('c', 1), n('a', 2), d('d1'), fail(1)]);
    expect(c.notices.map((x) => x.id)).toEqual(['c', 'a', 'b']);
    expect(c.digests.map((x) => x.id)).toEqual(['d2', 'd1']);
    expect(c.ids).toEqual(['b', 'd2', 'c', 'a', 'd1', 'cn-hangzhou:cri-src/rst-1']);
  });

  it('keeps stuck syncs oldest first, ties by id, and recoveries newest first', () => {
    const s = (id: string, createTime: number): StuckAlert => ({
      kind: 'stuck',
      id,
      instance: 'i',
      task: syncTask({ taskId: id, createTime }),
      at: T0,
    });
    const r = (id: string, createTime: number): RecoveryAlert => ({
      kind: 'recovered',
      id,
      instance: 'i',
      task: syncTask({ taskId: id, createTime }),
      failedTaskId: 'x',
      issue: '',
      since: T0,
      unannounced: false,
    });
    const c = contentOf([s('s2', T0), s('s3', T0 - 1), s('s1', T0), r('r2', T0), r('r3', T0 + 1), r('r1', T0)]);
    expect(c.stuck.map((a) => a.id)).toEqual(['s3', 's1', 's2']);
    expect(c.recovered.map((a) => a.id)).toEqual(['r3', 'r1', 'r2']);
  });
});
