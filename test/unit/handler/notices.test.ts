import { describe, expect, it } from 'vitest';
import { zeroReasons } from '../../../src/detect/detect.js';
import type { InstanceReport } from '../../../src/detect/observe.js';
import { claim, noRows } from '../../../src/handler/claim.js';
import { raiseNoticesAndDigests } from '../../../src/handler/notices.js';
import type { DigestAlert } from '../../../src/model/alert.js';
import type { FailingImage } from '../../../src/model/state.js';
import { failureAlert, route } from '../../support/build.js';
import { H, INST, movableClock, T0, task } from '../../support/observe-fakes.js';
import { claimHarness } from '../../support/run-harness.js';

const report = (over: Partial<InstanceReport> = {}): InstanceReport => ({
  inst: INST,
  behindMs: 0,
  reasons: zeroReasons(),
  newFailures: 0,
  watched: 0,
  rechecks: 0,
  gone: [],
  ...over,
});
const row = (taskId: string, over: Partial<FailingImage> = {}): FailingImage => ({
  since: T0 - 2 * H,
  lastFailure: T0 - H,
  taskId,
  issue: 'TAG_CONFLICT',
  ...over,
});

describe('notices and digests (raiseNoticesAndDigests)', () => {
  it('claims a blind notice for the channels and logs it as an error', async () => {
    const h = claimHarness({ now: T0 });
    const blind = {
      kind: 'blind' as const,
      id: `${INST.key}/blind/${T0}`,
      instance: INST.key,
      since: T0,
      at: T0,
      runs: 3,
    };
    const input = { claims: h.ctx, reports: [report({ notice: blind })], store: h.store, instances: [INST] };
    await raiseNoticesAndDigests({ ...input, forceDigest: false, clock: movableClock(T0) });
    expect((await h.state()).owed.slack!.map((o) => o.alert.id)).toEqual([blind.id]);
    expect(h.log.lines).toContainEqual({
      level: 'error',
      msg: 'alerting is blind for an instance; telling the channels',
      fields: { instance: INST.key, runs: 3 },
    });
  });

  it('claims the notices of lag conditions begun and ended, logging each with its instance, condition and start', async () => {
    const h = claimHarness({ now: T0 });
    const since = T0 - H;
    const base = { instance: INST.key, since, at: T0, runs: 6 };
    const behind = { ...base, kind: 'blind' as const, id: `${INST.key}/list-unfinished/${since}` };
    const cleared = { ...base, kind: 'restored' as const, id: `${INST.key}/not-reached/${since}/cleared` };
    const lagNotices = [
      { ...behind, condition: 'list-unfinished' as const },
      { ...cleared, condition: 'not-reached' as const },
    ];
    const input = { claims: h.ctx, reports: [report({ lagNotices })], store: h.store, instances: [INST] };
    await raiseNoticesAndDigests({ ...input, forceDigest: false, clock: movableClock(T0) });
    expect((await h.state()).owed.slack!.map((o) => o.alert.id).sort()).toEqual([behind.id, cleared.id].sort());
    const fields = (condition: string) => ({ instance: INST.key, condition, since: new Date(since).toISOString() });
    expect(h.log.lines).toContainEqual({
      level: 'error',
      msg: 'alerting is behind for an instance; telling the channels',
      fields: fields('list-unfinished'),
    });
    expect(h.log.lines).toContainEqual({
      level: 'info',
      msg: 'alerting works again for an instance; telling the channels',
      fields: fields('not-reached'),
    });
  });

  it('claims the digests due, listing the images still failing; held ones and those quiet for a week are left out', async () => {
    const h = claimHarness({ now: T0 });
    await h.store.claim(INST.key, {
      ...noRows(),
      owed: [],
      failing: new Map([
        ['a', row('rst-a', { route: 'gone-route' })],
        ['b', row('rst-b', { held: task('rst-b', T0, 'ERROR') })],
        ['c', row('rst-c', { lastFailure: T0 - 8 * 24 * H })],
      ]),
    });
    const input = { claims: h.ctx, reports: [report()], store: h.store, instances: [INST] };
    await raiseNoticesAndDigests({ ...input, forceDigest: true, clock: movableClock(T0) });
    const s = await h.state();
    const d = s.owed.slack![0]!.alert as DigestAlert;
    expect(d.kind).toBe('digest');
    expect(d.stillFailing).toBe(1);
    expect(d.oldestFailing).toEqual([expect.objectContaining({ instance: INST.key, taskId: 'rst-a' })]);
    expect(s.digests.default!.lastSentAt).toBe(T0);
  });

  it("lists in each route's digest the images it owns; one owned by a route since removed is the default route's", async () => {
    const h = claimHarness({ now: T0, routes: [route('team', ['slack']), route('default', ['slack'])] });
    await h.store.claim(INST.key, {
      ...noRows(),
      owed: [],
      failing: new Map([
        ['a', row('rst-a', { route: 'gone-route' })],
        ['d', row('rst-d', { route: 'team' })],
      ]),
    });
    const input = { claims: h.ctx, reports: [report()], store: h.store, instances: [INST] };
    await raiseNoticesAndDigests({ ...input, forceDigest: true, clock: movableClock(T0) });
    const listed = async (target: string) =>
      ((await h.state()).owed[target]![0]!.alert as DigestAlert).oldestFailing.map((f) => f.taskId);
    expect(await listed('slack')).toEqual(['rst-a']);
    expect(await listed('team/slack')).toEqual(['rst-d']);
  });

  it('saves the digest statistics only in a run that holds the lease', async () => {
    const idle = claimHarness({ now: T0 });
    const input = { reports: [report()], instances: [INST], forceDigest: false, clock: movableClock(T0) };
    // Nothing claimed: the run holds no lease, and what it counted is not written.
    idle.planner.count(
      [failureAlert(task('rst-x', T0, 'ERROR'), INST.key)],
      [],
      new Map([[`${INST.key}/rst-x`, 'default']]),
    );
    await raiseNoticesAndDigests({ ...input, claims: idle.ctx, store: idle.store });
    expect((await idle.state()).digests).toEqual({});

    const busy = claimHarness({ now: T0 });
    await claim(busy.ctx, {
      instance: INST.key,
      changes: noRows(),
      alerts: [failureAlert(task('rst-1', T0, 'ERROR'), INST.key)],
    });
    await raiseNoticesAndDigests({ ...input, claims: busy.ctx, store: busy.store });
    expect((await busy.state()).digests.default!.stats.byCause).toEqual({ TAG_CONFLICT: 1 });
  });
});
