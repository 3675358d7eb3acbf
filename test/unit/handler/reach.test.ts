import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../src/handler/run.js';
import type { InstanceRef, SyncRule, SyncTask } from '../../../src/model/task.js';
import { MIN, movableClock, recordingLog, T0, task } from '../../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../../support/run-harness.js';

const instancesOf = (n: number): InstanceRef[] =>
  Array.from({ length: n }, (_, i) => {
    const instanceId = `cri-${String(i + 1).padStart(2, '0')}`;
    return { regionId: 'cn-hangzhou', instanceId, key: `cn-hangzhou:${instanceId}` };
  });
const rule = (n: number): SyncRule => ({ ruleId: `crsr-${n}`, name: `rule ${n}`, scope: 'REPO', trigger: 'PASSIVE' });

/** A task of `inst`, its own image, created at `at`. */
const taskOf = (inst: InstanceRef, id: string, at: number, status: string, ruleId = 'crsr-1'): SyncTask =>
  task(id, at, status, {
    ruleId,
    from: { instanceId: inst.instanceId, regionId: inst.regionId, namespace: 'ns', repo: id, tag: 'v1' },
  });

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The failures each message announced, from its banner ("ACR: 30× network → … · 30 syncs failed"). */
const failuresIn = (sent: unknown[]): number[] =>
  sent.map((m) => Number((/ACR: [^"]*?([\d,]+) syncs? failed/.exec(JSON.stringify(m))?.[1] ?? '0').replace(/,/g, '')));

/**
 * Runs of a deployment watching `instances` behind a CR API that takes 2 s a call, two calls at once
 * (FETCH_CONCURRENCY's default): the virtual clock moves 1 s a call. Each run has Function Compute's 120 s (s.yaml),
 * its budget as `Budget.forTimeout` makes it: 119 s, 23.8 s of it kept for delivery.
 */
function slowDeployment(instances: readonly InstanceRef[], rules: () => SyncRule[]) {
  const clock = movableClock(T0);
  const slack = acceptingNotifier('slack');
  const log = recordingLog();
  const h = runHarness({
    clock,
    tasks: [],
    instances,
    notifiers: { slack },
    settings: { concurrency: 2 },
    timeoutMs: 119_000,
    reserveMs: 23_800,
    log,
    cr: { rules, before: () => void (clock.t += 1_000) },
  });
  return { h, slack, log, listOf: (inst: InstanceRef) => h.crs.get(inst.instanceId)!.tasks };
}

describe('instances beyond a run’s reach behind a slow CR API (issue 25, case 2)', () => {
  it('reads each of 80 busy instances within ⌈80 / reach⌉ runs, and announces all 400 failures once', async () => {
    const instances = instancesOf(80);
    const { h, slack, log, listOf } = slowDeployment(instances, () => [rule(1)]);
    // Each instance syncs every minute (a read costs pages), and fails every 15 minutes for an hour: 5 times.
    let upTo = T0 - 10 * MIN;
    const arrive = (to: number) => {
      for (const [n, inst] of instances.entries())
        for (let t = upTo + MIN, k = (t - T0) / MIN; t <= to; t += MIN, k++) {
          const failing = k >= 0 && k % 15 === 0 && k <= 60;
          listOf(inst).push(taskOf(inst, `rst-${n + 1}x${k + 20}`, t, failing ? 'ERROR' : 'SUCCESS'));
        }
      upTo = to;
    };
    const RUNS = 18;
    const lastRead = new Map<string, number>();
    const reach: number[] = [];
    const summaries: RunSummary[] = [];
    let longestGap = 0;
    let runsToAll = 0;
    for (let run = 0; run < RUNS; run++) {
      const at = T0 + run * 5 * MIN;
      arrive(at);
      const s = await h.run(at);
      summaries.push(s);
      const read = s.instances.filter((x) => x.pages > 0);
      reach.push(read.length);
      for (const i of read) {
        longestGap = Math.max(longestGap, run - (lastRead.get(i.instance) ?? -1));
        lastRead.set(i.instance, run);
      }
      if (!runsToAll && sum(failuresIn(slack.sent)) === 400) runsToAll = run + 1;
    }
    const bound = Math.ceil(80 / Math.min(...reach));
    expect(lastRead.size).toBe(80);
    expect(longestGap).toBeLessThanOrEqual(bound);
    expect(sum(failuresIn(slack.sent))).toBe(400);
    // Every failure is announced once each instance was read after the last failure came (in the 13th run's window).
    expect(runsToAll).toBeGreaterThan(0);
    expect(runsToAll).toBeLessThanOrEqual(13 + bound);
    // The reach is in each run's summary and its log.
    expect(summaries.map((x) => x.reach)).toEqual(reach.map((read) => ({ read, configured: 80 })));
    const lines = log.lines.filter((l) => l.msg === 'read the instances this run could reach');
    expect(lines.map((l) => l.fields?.read)).toEqual(reach);
    expect(lines[0]!.fields).toMatchObject({ configured: 80, notReachedMore: 80 - reach[0]! - 20 });
    expect((lines[0]!.fields!.notReached as string[])[0]).toBe(`${instances[reach[0]!]!.key} (1 runs)`);
  });
});

describe('the sync rules kept between runs', () => {
  it('are read once an hour per instance while failures keep coming, and again when a task names a new rule', async () => {
    const instances = instancesOf(3);
    let rules = [rule(1)];
    const { h, slack, listOf } = slowDeployment(instances, () => rules);
    const ruleCalls = () => instances.map((i) => h.crs.get(i.instanceId)!.ruleCalls.length);
    // A failure on every instance in every run, for 2 h 5 min: 26 runs.
    for (let run = 0; run <= 25; run++) {
      const at = T0 + run * 5 * MIN;
      for (const inst of instances) listOf(inst).push(taskOf(inst, `rst-${inst.instanceId}x${run}`, at - MIN, 'ERROR'));
      const s = await h.run(at);
      expect(s.failuresFound).toBe(3);
    }
    expect(ruleCalls()).toEqual([3, 3, 3]); // at 0, 60 and 120 min
    // A rule created since, named by a failure of the first instance: read again there, at once, and named.
    rules = [rule(1), rule(2)];
    listOf(instances[0]!).push(taskOf(instances[0]!, 'rst-newrule', T0 + 129 * MIN, 'ERROR', 'crsr-2'));
    await h.run(T0 + 130 * MIN);
    expect(ruleCalls()).toEqual([4, 3, 3]);
    expect(JSON.stringify(slack.sent.at(-1))).toContain('rule 2');
    // Kept from then on.
    listOf(instances[0]!).push(taskOf(instances[0]!, 'rst-newrule2', T0 + 134 * MIN, 'ERROR', 'crsr-2'));
    await h.run(T0 + 135 * MIN);
    expect(ruleCalls()).toEqual([4, 3, 3]);
    expect(JSON.stringify(slack.sent.at(-1))).toContain('rule 2');
  });
});
