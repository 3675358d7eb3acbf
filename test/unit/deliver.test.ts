import { describe, expect, it } from 'vitest';
import { Budget, type Clock } from '../../src/lib/budget.js';
import { IntegrationError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/log.js';
import type { ChannelPause } from '../../src/model/checkpoint.js';
import { deliver, idempotencyKey, OUTBOX_MAX_AGE_MS, PAUSE_AFTER_REFUSAL_MS, planDelivery, type Target } from '../../src/notify/deliver.js';
import type { Notifier } from '../../src/notify/types.js';
import { defaultRoute, entry, failureAlert, route, syncTask } from '../support/build.js';

const NOW = 1_800_000_000_000;
const clock: Clock = { now: () => NOW };
const budget = new Budget(clock, NOW + 60_000, 0);

/** A notifier that accepts, or throws `fail` for every post, and keeps what it was sent. */
function fake(channel: 'dingtalk' | 'slack', fingerprint = 'fp', fail?: Error) {
  const sent: { payload: unknown; key: string }[] = [];
  const notifier: Notifier = {
    channel,
    fingerprint,
    async send(payload, o) {
      if (fail) throw fail;
      sent.push({ payload, key: o.idempotencyKey });
    },
  };
  return { notifier, sent };
}
const target = (id: string, notifier: Notifier, r = defaultRoute()): Target => ({ id, route: r, notifier });
const a1 = failureAlert(syncTask({ taskId: 'rst-1' }));
const a2 = failureAlert(syncTask({ taskId: 'rst-2', issue: 'NETWORK_ERROR' }));
const pause = (until: number, fingerprint = 'fp'): ChannelPause => ({ until, error: 'refused', fingerprint });

describe('delivery decisions (planDelivery)', () => {
  it('owes each target the entries pending for it, in target order', () => {
    const ding = target('dingtalk', fake('dingtalk').notifier);
    const team = target('team/slack', fake('slack').notifier, route('team', ['slack']));
    const plan = planDelivery([entry(a1, ['dingtalk', 'team/slack']), entry(a2, ['team/slack'])], [ding, team], undefined, NOW);
    expect(plan.due.map((d) => [d.target.id, d.entries.map((e) => e.alert.id), d.paused])).toEqual([
      ['dingtalk', [a1.id], undefined],
      ['team/slack', [a1.id, a2.id], undefined],
    ]);
    expect(plan.actionable).toBe(true);
    expect(plan.unroutable).toEqual([]);
  });

  it('holds what a paused target is owed while its pause runs and its webhook is unchanged; nothing else to do is not actionable', () => {
    const slack = target('slack', fake('slack', 'fp').notifier);
    const plan = planDelivery([entry(a1, ['slack'])], [slack], { slack: pause(NOW + 1) }, NOW);
    expect(plan.due).toHaveLength(1);
    expect(plan.due[0]!.paused?.until).toBe(NOW + 1);
    expect(plan.pauses).toEqual({ slack: pause(NOW + 1) });
    expect(plan.actionable).toBe(false);
  });

  it('lifts a pause that ran out, or whose webhook or secret changed since (that may be the fix)', () => {
    const slack = target('slack', fake('slack', 'new-fp').notifier);
    expect(planDelivery([entry(a1, ['slack'])], [slack], { slack: pause(NOW + 60_000, 'old-fp') }, NOW).actionable).toBe(true);
    const same = target('slack', fake('slack', 'fp').notifier);
    const ranOut = planDelivery([entry(a1, ['slack'])], [same], { slack: pause(NOW) }, NOW);
    expect(ranOut.due[0]!.paused).toBeUndefined();
    expect(ranOut.pauses).toEqual({});
  });

  it('drops targets no longer configured from each entry, removes an entry left with none, and counts that as work', () => {
    const ding = target('dingtalk', fake('dingtalk').notifier);
    const plan = planDelivery([entry(a1, ['dingtalk', 'gone/slack']), entry(a2, ['gone/slack'])], [ding], undefined, NOW);
    expect(plan.outbox.map((e) => [e.alert.id, e.pending])).toEqual([[a1.id, ['dingtalk']]]);
    expect(plan.unroutable.map((e) => e.alert.id)).toEqual([a2.id]);
    const onlyGone = planDelivery([entry(a2, ['gone/slack'])], [], undefined, NOW);
    expect(onlyGone.due).toEqual([]);
    expect(onlyGone.actionable).toBe(true);
  });

  it('has nothing to do for an empty outbox', () => {
    const plan = planDelivery([], [target('slack', fake('slack').notifier)], undefined, NOW);
    expect(plan.due).toEqual([]);
    expect(plan.actionable).toBe(false);
  });
});

describe('delivery (deliver)', () => {
  const run = (targets: Target[], entries = [entry(a1, targets.map((t) => t.id))], pauses?: Record<string, ChannelPause>, now = NOW) =>
    deliver(planDelivery(entries, targets, pauses, now), { now, budget, log: silentLogger, previousPauses: pauses, retries: 0 });

  it('sends each target one message with everything it is owed, and clears what was accepted', async () => {
    const d = fake('dingtalk');
    const s = fake('slack');
    const out = await run([target('dingtalk', d.notifier), target('slack', s.notifier)], [entry(a1, ['dingtalk', 'slack']), entry(a2, ['slack'])]);
    expect(d.sent).toHaveLength(1);
    expect(s.sent).toHaveLength(1);
    expect(JSON.stringify(s.sent[0]!.payload)).toContain('rst-2');
    expect(out.outbox).toEqual([]);
    expect(out.report.channels).toEqual({ dingtalk: { delivered: 1, pending: 0 }, slack: { delivered: 2, pending: 0 } });
    expect(s.sent[0]!.key).toBe(idempotencyKey('slack', [a2.id, a1.id]));
  });

  it('keeps a failed target\'s alerts pending with the attempt counted, and does not send them again to the one that took them', async () => {
    const d = fake('dingtalk');
    const down = fake('slack', 'fp', new IntegrationError('Slack answered HTTP 503', { service: 'slack', kind: 'retryable', status: 503 }));
    const out = await run([target('dingtalk', d.notifier), target('slack', down.notifier)]);
    expect(out.outbox.map((e) => [e.pending, e.attempts, e.lastError?.startsWith('slack: Slack answered HTTP 503')])).toEqual([[['slack'], 1, true]]);
    expect(out.report.channels.slack).toMatchObject({ delivered: 0, pending: 1, errorKind: 'retryable' });
    expect(out.report.channels.slack?.pausedUntil).toBeUndefined();
    expect(out.pauses).toEqual({});
  });

  it('pauses a target that refused for good for 30 minutes, and one that asked to wait for as long as it asked', async () => {
    const refused = fake('slack', 'fp-s', new IntegrationError('no_service', { service: 'slack', kind: 'config', status: 404 }));
    const throttled = fake('dingtalk', 'fp-d', new IntegrationError('too fast', { service: 'dingtalk', kind: 'retryable', retryAfterMs: 600_000 }));
    const out = await run([target('slack', refused.notifier), target('dingtalk', throttled.notifier)]);
    expect(out.pauses.slack).toMatchObject({ until: NOW + PAUSE_AFTER_REFUSAL_MS, fingerprint: 'fp-s' });
    expect(out.pauses.dingtalk).toMatchObject({ until: NOW + 600_000, fingerprint: 'fp-d' });
    expect(PAUSE_AFTER_REFUSAL_MS).toBe(30 * 60_000);
  });

  it('does not post to a paused target, and keeps its pause', async () => {
    const s = fake('slack');
    const out = await run([target('slack', s.notifier)], undefined, { slack: pause(NOW + 5_000) });
    expect(s.sent).toEqual([]);
    expect(out.report.channels.slack).toMatchObject({ delivered: 0, pending: 1, pausedUntil: NOW + 5_000 });
    expect(out.pauses.slack?.until).toBe(NOW + 5_000);
  });

  it('gives up an alert still owed after 7 days, and not an hour sooner', async () => {
    const down = fake('slack', 'fp', new IntegrationError('down', { service: 'slack', kind: 'retryable' }));
    const t = [target('slack', down.notifier)];
    const young = await run(t, [entry(a1, ['slack'], NOW - OUTBOX_MAX_AGE_MS + 3_600_000)]);
    expect(young.outbox).toHaveLength(1);
    expect(young.report.expired).toBe(0);
    const old = await run(t, [entry(a1, ['slack'], NOW - OUTBOX_MAX_AGE_MS - 60_000)]);
    expect(old.outbox).toEqual([]);
    expect(old.report.expired).toBe(1);
    expect(OUTBOX_MAX_AGE_MS).toBe(7 * 24 * 3_600_000);
  });

  it('derives the same key for the same alerts in any order, and another for another target or set', () => {
    expect(idempotencyKey('slack', ['b', 'a'])).toBe(idempotencyKey('slack', ['a', 'b']));
    expect(idempotencyKey('dingtalk', ['a', 'b'])).not.toBe(idempotencyKey('slack', ['a', 'b']));
    expect(idempotencyKey('slack', ['a'])).not.toBe(idempotencyKey('slack', ['a', 'b']));
  });
});
