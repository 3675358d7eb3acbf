import { describe, expect, it } from 'vitest';
import { imageKey, type Changes } from '../../../src/detect/detect.js';
import type { Judged } from '../../../src/detect/observe.js';
import { claim, claimJudged, noRows } from '../../../src/handler/claim.js';
import { LostRace } from '../../../src/handler/lease.js';
import type { FailingImage } from '../../../src/model/state.js';
import type { SyncRule, SyncTask } from '../../../src/model/task.js';
import { write } from '../../../src/state/rows.js';
import { failureAlert, route } from '../../support/build.js';
import { INST, T0, task } from '../../support/observe-fakes.js';
import { claimHarness } from '../../support/run-harness.js';

const failed = (id: string) => task(id, T0 - 60_000, 'ERROR');
const failingRow = (t: SyncTask): FailingImage => ({
  since: t.createTime,
  lastFailure: t.createTime,
  taskId: t.taskId,
  issue: t.issue,
  ruleId: t.ruleId,
});
/** A batch of `instance` claiming `tasks` as failures, with their handled and failing-image rows. */
const failures = (...tasks: SyncTask[]) => ({
  instance: INST.key,
  changes: { ...noRows(), handled: tasks, failing: new Map(tasks.map((t) => [imageKey(t), failingRow(t)])) },
  alerts: tasks.map((t) => failureAlert(t, INST.key)),
});

describe('claiming a batch (claim)', () => {
  it('owes a failure to each channel of its route, records those targets as owed since now, and counts it', async () => {
    const h = claimHarness({ now: T0 });
    await claim(h.ctx, failures(failed('rst-1')));
    const s = await h.state();
    expect(Object.keys(s.owed).sort()).toEqual(['dingtalk', 'slack']);
    expect(s.control.owed).toEqual({ dingtalk: { since: T0, count: 0 }, slack: { since: T0, count: 0 } });
    expect(s.handled[INST.key]).toHaveLength(1);
    expect(h.ctx.tally).toMatchObject({
      failures: 1,
      owedNow: new Map([
        ['dingtalk', 1],
        ['slack', 1],
      ]),
    });
    expect(h.lease.isHeld).toBe(true);
  });

  it('counts an alert an earlier run already claimed once only, and adds no row owed for it', async () => {
    const h = claimHarness({ now: T0 });
    await claim(h.ctx, failures(failed('rst-1')));
    await claim(h.ctx, failures(failed('rst-1'), failed('rst-2')));
    expect(h.ctx.tally).toMatchObject({
      failures: 2,
      owedNow: new Map([
        ['dingtalk', 2],
        ['slack', 2],
      ]),
    });
    expect(h.planner.changed().get('default')!.stats.byCause).toEqual({ TAG_CONFLICT: 2 });
  });

  it('writes nothing and takes no lease for a batch with nothing to write', async () => {
    const h = claimHarness({ now: T0 });
    await claim(h.ctx, { instance: INST.key, changes: noRows(), alerts: [] });
    expect((await h.state()).rows).toBe(0);
    expect(h.lease.isHeld).toBe(false);
  });

  it('keeps a muted failure from the channels, logs it and counts it as found and muted', async () => {
    const h = claimHarness({ now: T0, silences: [{ repo: ['rst-1'], comment: 'known' }] });
    await claim(h.ctx, failures(failed('rst-1')));
    const s = await h.state();
    expect(s.owed).toEqual({});
    expect(s.handled[INST.key]).toHaveLength(1);
    expect(h.ctx.tally).toMatchObject({ failures: 1, muted: 1, owedNow: new Map() });
    expect(h.log.lines).toContainEqual({
      level: 'info',
      msg: 'muted by a silence',
      fields: { id: `${INST.key}/rst-1`, silence: 'known' },
    });
  });

  it('records on a failing image the route its failure went to', async () => {
    const team = route('team', ['slack'], { match: { repo: ['rst-1'] } });
    const h = claimHarness({ now: T0, routes: [team, route('default', ['slack'])] });
    await claim(h.ctx, failures(failed('rst-1'), failed('rst-2')));
    const routes = (await h.state()).failing[INST.key]!.map((f) => [f.taskId, f.route]);
    expect(routes.sort()).toEqual([
      ['rst-1', 'team'],
      ['rst-2', undefined],
    ]);
  });

  it('throws LostRace when another run took the lease first, and writes nothing of the batch', async () => {
    const h = claimHarness({ now: T0 });
    await h.table.writeRows([write.control(h.store.keys, { owed: {}, pauses: {} }, 0)]);
    await expect(claim(h.ctx, failures(failed('rst-1')))).rejects.toBeInstanceOf(LostRace);
    const s = await h.state();
    expect(s.owed).toEqual({});
    expect(s.handled).toEqual({});
    expect(h.ctx.tally.failures).toBe(0);
  });
});

describe('the silences kept in the state (silenceReader)', () => {
  it('are read once a run, the first time a batch has something they could mute', async () => {
    const h = claimHarness({ now: T0 });
    await h.store.saveSilence(
      {
        id: 'sil-1',
        repo: ['rst-1'],
        comment: 'stored',
        createdBy: 'ops',
        createdAt: new Date(T0).toISOString(),
        expires: new Date(T0 + 3_600_000).toISOString(),
      },
      0,
    );
    const reads = h.table.counter.reads;
    await claim(h.ctx, { instance: '~', changes: noRows(), alerts: [] });
    expect(h.table.counter.reads).toBe(reads);
    await claim(h.ctx, failures(failed('rst-1')));
    await claim(h.ctx, failures(failed('rst-2')));
    expect(h.ctx.tally).toMatchObject({ failures: 2, muted: 1 });
    const silenceReads = h.table.counter.reads - reads;
    await h.ctx.readSilences();
    expect(h.table.counter.reads - reads).toBe(silenceReads);
  });
});

describe('claiming a judged chunk (claimJudged)', () => {
  const judged = (changes: Partial<Changes>, rules: Map<string, SyncRule>) => {
    const asked = { n: 0 };
    const j = {
      inst: INST,
      changes: {
        ...noRows(),
        failures: [],
        recoveries: [],
        stuck: [],
        unstuck: [],
        reasons: {},
        unknownStatuses: [],
        ...changes,
      } as Changes,
      rules: async () => {
        asked.n += 1;
        return rules;
      },
    } satisfies Judged;
    return { j, asked };
  };
  const rules = new Map([['crsr-1', { ruleId: 'crsr-1', name: 'prod-to-sh', scope: 'NAMESPACE' } as SyncRule]]);

  it("names each failure's rule in its alert and in its failing image", async () => {
    const h = claimHarness({ now: T0 });
    const t = failed('rst-1');
    const { j } = judged({ failures: [t], handled: [t], failing: new Map([[imageKey(t), failingRow(t)]]) }, rules);
    await claimJudged(h.ctx, INST.key, j);
    const s = await h.state();
    expect(s.owed.slack![0]!.alert).toMatchObject({ rule: { ruleId: 'crsr-1', name: 'prod-to-sh' } });
    expect(s.failing[INST.key]![0]).toMatchObject({ ruleId: 'crsr-1', ruleName: 'prod-to-sh' });
  });

  it('does not read the rules for a chunk that raises no alert', async () => {
    const h = claimHarness({ now: T0 });
    const running = task('rst-run', T0, 'SYNCHRONIZING');
    const { j, asked } = judged({ watch: [{ task: running, firstSeen: T0 }] }, rules);
    await claimJudged(h.ctx, INST.key, j);
    expect(asked.n).toBe(0);
    expect((await h.state()).watched[INST.key]).toHaveLength(1);
  });
});
