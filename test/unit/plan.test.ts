import { describe, expect, it } from 'vitest';
import { detect } from '../../src/detect/detect.js';
import type { InstanceOutcome } from '../../src/detect/observe.js';
import { emptyCheckpoint, type Checkpoint } from '../../src/model/checkpoint.js';
import type { SyncTask } from '../../src/model/task.js';
import { planRun, type PlanSettings } from '../../src/plan/plan.js';
import { defaultRoute, entry, failureAlert, route, syncTask } from '../support/build.js';

const NOW = 1_800_000_000_000;
const HZ = { regionId: 'cn-hangzhou', instanceId: 'cri-src', key: 'cn-hangzhou:cri-src' };
const SG = { regionId: 'ap-southeast-1', instanceId: 'cri-sg', key: 'ap-southeast-1:cri-sg' };

/** What observing an instance yields when it reads `tasks` completely. */
function read(tasks: SyncTask[], prev?: Checkpoint, inst = HZ): InstanceOutcome {
  const scan = { tasks, complete: true, order: 'desc' as const, totalCount: tasks.length, pagesRead: 1, stoppedBecause: 'reached-window' as const, dropped: [] };
  return { inst, scan, detection: detect(prev?.instances[inst.key], scan, NOW, { lookbackMs: 3_600_000, stuckAfterMs: 3_600_000 }) };
}
const unreadable = (inst = HZ): InstanceOutcome => ({ inst, error: new Error('NoPrivilege') });
const settings = (over: Partial<PlanSettings> = {}): PlanSettings => ({ routes: [defaultRoute()], silences: [], blindAfterRuns: 2, ...over });
const fail = (taskId: string, over: Partial<SyncTask> = {}) => syncTask({ taskId, createTime: NOW - 60_000, ...over });

describe('planning a run (planRun)', () => {
  it('addresses each new failure to the first route that matches, and the rest to the default route', () => {
    const team = route('team', ['slack'], { match: { namespace: ['team-*'] } });
    const tasks = [fail('rst-a', { from: { ...fail('x').from, namespace: 'team-pay' } }), fail('rst-b')];
    const plan = planRun(emptyCheckpoint(), [read(tasks)], settings({ routes: [team, defaultRoute()] }), NOW, false);
    expect(plan.fresh.map((e) => [e.alert.id, e.pending])).toEqual([
      ['cn-hangzhou:cri-src/rst-a', ['team/slack']],
      ['cn-hangzhou:cri-src/rst-b', ['dingtalk', 'slack']],
    ]);
    expect(plan.fresh.every((e) => e.detectedAt === NOW && e.attempts === 0)).toBe(true);
    expect(plan.next.instances[HZ.key]?.watermark).toBe(NOW - 60_000);
  });

  it('keeps muted alerts out of the outbox but counts them for the digest of the route they would have gone to', () => {
    const silences = [{ cause: ['TAG_CONFLICT'], comment: 'known' }];
    const plan = planRun(emptyCheckpoint(), [read([fail('rst-m'), fail('rst-n', { issue: 'NETWORK_ERROR', to: { ...fail('x').to, tag: 'v2' }, from: { ...fail('x').from, tag: 'v2' } })])], settings({ silences }), NOW, false);
    expect(plan.muted.map((m) => [m.alert.id, m.silence.comment])).toEqual([['cn-hangzhou:cri-src/rst-m', 'known']]);
    expect(plan.fresh.map((e) => e.alert.id)).toEqual(['cn-hangzhou:cri-src/rst-n']);
    expect(plan.next.digests?.default?.muted?.byCause).toEqual({ TAG_CONFLICT: 1 });
    expect(plan.next.digests?.default?.stats.byCause).toEqual({ NETWORK_ERROR: 1 });
  });

  it('keeps what earlier runs still owe and appends what is new; an instance it could not read keeps its cursor', () => {
    const first = planRun(emptyCheckpoint(), [read([fail('rst-1')]), read([], undefined, SG)], settings(), NOW, false);
    const owed = entry(failureAlert(fail('rst-0')), ['slack'], NOW - 1_000);
    const prev: Checkpoint = { ...first.next, outbox: [owed] };
    const second = planRun(prev, [read([fail('rst-1'), fail('rst-2', { createTime: NOW - 30_000 })], prev), unreadable(SG)], settings(), NOW, false);
    expect(second.fresh.map((e) => e.alert.id)).toEqual(['cn-hangzhou:cri-src/rst-2']);
    expect(second.next.outbox.map((e) => e.alert.id)).toEqual(['cn-hangzhou:cri-src/rst-0', 'cn-hangzhou:cri-src/rst-2']);
    expect(second.next.instances[SG.key]).toBe(first.next.instances[SG.key]);
    expect(second.next.health?.[SG.key]).toMatchObject({ runs: 1, announced: false });
  });

  it('tells every route that covers an instance, once, after the set number of runs that could not read it', () => {
    const sgTeam = route('sg', ['dingtalk'], { match: { instance: ['ap-southeast-1:*'] } });
    const other = route('other', ['slack'], { match: { instance: ['cn-beijing:*'] } });
    const s = settings({ routes: [sgTeam, other, defaultRoute(['slack'])] });
    const one = planRun(emptyCheckpoint(), [unreadable(SG)], s, NOW, false);
    expect(one.fresh).toEqual([]);
    const two = planRun(one.next, [unreadable(SG)], s, NOW + 300_000, false);
    expect(two.fresh.map((e) => [e.alert.kind, e.pending])).toEqual([['blind', ['sg/dingtalk', 'slack']]]);
    const three = planRun(two.next, [unreadable(SG)], s, NOW + 600_000, false);
    expect(three.fresh).toEqual([]);
    const back = planRun(three.next, [read([], three.next, SG)], s, NOW + 900_000, false);
    expect(back.fresh.map((e) => [e.alert.kind, e.pending])).toEqual([['restored', ['sg/dingtalk', 'slack']]]);
    expect(back.next.health).toBeUndefined();
  });

  it('on request builds the digest of every route that can send, and starts its statistics afresh', () => {
    const team = route('team', ['slack'], { match: { namespace: ['team'] } });
    const quiet = route('quiet', [], { match: { namespace: ['quiet'] } });
    const plan = planRun(emptyCheckpoint(), [read([fail('rst-d')])], settings({ routes: [team, quiet, defaultRoute()] }), NOW, true);
    const digests = plan.fresh.filter((e) => e.alert.kind === 'digest');
    expect(digests.map((e) => [e.alert.id, e.pending])).toEqual([
      [`digest/team/${NOW}`, ['team/slack']],
      [`digest/${NOW}`, ['dingtalk', 'slack']],
    ]);
    expect(plan.next.digests?.default).toEqual({ stats: { since: NOW, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 }, lastSentAt: NOW });
  });

  it('records an alert no route can send with no target, so the run can say so', () => {
    const plan = planRun(emptyCheckpoint(), [read([fail('rst-x')])], settings({ routes: [defaultRoute([])] }), NOW, false);
    expect(plan.fresh.map((e) => e.pending)).toEqual([[]]);
  });
});
