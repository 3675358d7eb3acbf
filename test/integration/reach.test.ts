import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/handler/run.js';
import type { SimInstance } from '../../src/sim/cr-server.js';
import { rawRule, rawTask } from '../../src/sim/seed.js';
import { closeWorlds, failureCounts, startWorld } from '../support/world.js';

// 80 instances behind a CR API answering in 2 s, time scaled down 100 times as bench/run.ts's backlog part does:
// 20 ms a call, and a function timeout that leaves a hundredth of a deployed run's reading time (a 120 s run reads
// until 1 s is left of the 95.2 s not reserved for delivery: 94.2 s; a short run keeps half its time in reserve and
// stops reading 1 s before it, so the timeout is 2 × (0.942 s + 1 s) + 1 s). One call at a time: 47 calls a run.
const SCALE = 100;
const TIMEOUT_S = (2 * ((119_000 * 0.8 - 1_000) / SCALE + 1_000) + 1_000) / 1_000;
const INSTANCES = 80;
const MIN = 60_000;

afterEach(closeWorlds);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A failure of its own image on `inst`, named for the rule crsr-1. */
const failure = (inst: SimInstance, n: number) =>
  rawTask({
    id: `rst-${inst.instanceId.slice(4)}x${n}`,
    status: 'ERROR',
    issue: 'TAG_CONFLICT',
    createTime: Date.now() - MIN,
    ruleId: 'crsr-1',
    from: { instanceId: inst.instanceId, regionId: inst.regionId, namespace: 'ns', repo: `app${n}`, tag: 'v1' },
    to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
  });

describe('80 instances behind a slow CR API, through the handler against the local servers (issue 25, case 2)', () => {
  it('reads every instance within ⌈80 / reach⌉ runs, announces all 400 failures, and reads each one’s rules once', async () => {
    const instances: SimInstance[] = Array.from({ length: INSTANCES }, (_, i) => {
      const inst = { instanceId: `cri-reach${String(i + 1).padStart(2, '0')}`, regionId: 'cn-hangzhou' };
      const rule = rawRule({
        id: 'crsr-1',
        name: 'to shanghai',
        scope: 'NAMESPACE',
        namespace: 'ns',
        local: inst,
        target: { instanceId: 'cri-target00', regionId: 'cn-shanghai', namespace: 'ns' },
      });
      return { ...inst, tasks: [], rules: [rule] };
    });
    for (const inst of instances) inst.tasks = [failure(inst, 0)];
    const w = await startWorld({
      instances,
      cr: { latencyMs: 2_000 / SCALE },
      env: { FETCH_CONCURRENCY: '1' },
    });
    const summaries: RunSummary[] = [];
    const lastRead = new Map<string, number>();
    let longestGap = 0;
    for (let run = 0; run < 16; run++) {
      // A failure on every instance in every other run, 5 in all.
      if (run > 0 && run % 2 === 0 && run <= 8)
        for (const inst of instances) inst.tasks = [failure(inst, run / 2), ...inst.tasks];
      const s = await w.run({ timeout: TIMEOUT_S });
      summaries.push(s);
      for (const i of s.instances.filter((x) => x.pages > 0)) {
        longestGap = Math.max(longestGap, run - (lastRead.get(i.instance) ?? -1));
        lastRead.set(i.instance, run);
      }
      if (run >= 8 && lastRead.size === INSTANCES && sum(failureCounts(w.hooks, 'slack')) === 5 * INSTANCES) break;
    }
    const reach = summaries.map((s) => s.instances.filter((x) => x.pages > 0).length);
    const bound = Math.ceil(INSTANCES / Math.min(...reach));
    expect(lastRead.size).toBe(INSTANCES);
    expect(longestGap).toBeLessThanOrEqual(bound);
    expect(sum(failureCounts(w.hooks, 'slack'))).toBe(5 * INSTANCES);
    expect(sum(failureCounts(w.hooks, 'dingtalk'))).toBe(5 * INSTANCES);
    // Counted at the CR server: each instance's rules read once, however many of its runs found a failure.
    const ruleCalls = new Map<string, number>();
    for (const c of w.cr.calls.filter((x) => x.action === 'ListRepoSyncRule'))
      ruleCalls.set(c.params.InstanceId!, (ruleCalls.get(c.params.InstanceId!) ?? 0) + 1);
    expect(new Set(ruleCalls.values())).toEqual(new Set([1]));
    expect(ruleCalls.size).toBe(INSTANCES);
    // The reach is in each summary and logged once a run.
    expect(summaries.map((s) => s.reach)).toEqual(reach.map((read) => ({ read, configured: INSTANCES })));
    const logged = w.logs.filter((l) => l.includes('"msg":"read the instances this run could reach"'));
    expect(logged).toHaveLength(summaries.length);
  }, 240_000);
});
