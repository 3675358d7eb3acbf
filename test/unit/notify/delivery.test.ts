import { describe, expect, it } from 'vitest';
import { Budget } from '../../../src/lib/budget.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { Control, Owed } from '../../../src/model/state.js';
import { afterDelivery, owedCount } from '../../../src/notify/after-delivery.js';
import type { Target } from '../../../src/notify/deliver.js';
import {
  deliverOwed,
  planDelivery,
  readShare,
  type DeliveryPlan,
  type OwedRows,
} from '../../../src/notify/delivery.js';
import type { Notifier } from '../../../src/notify/types.js';
import { defaultRoute, failureAlert, owed, syncTask } from '../../support/build.js';
import { movableClock, recordingLog } from '../../support/observe-fakes.js';
import { delivered } from '../../support/run-harness.js';

const NOW = 1_800_000_000_000;
const M = 60_000;

/** The owed rows of a store, by target, in pages of `per`; each read of a page may let time pass. */
function owedStore(rows: Record<string, number>, per = 2, onPage?: () => void) {
  const held = new Map<string, Map<string, Owed>>();
  for (const [target, n] of Object.entries(rows)) {
    const m = new Map<string, Owed>();
    for (let i = 0; i < n; i++)
      m.set(`${target}#${i}`, owed(failureAlert(syncTask({ taskId: `rst-${target}-${i}` })), target, NOW - M));
    held.set(target, m);
  }
  const store: OwedRows = {
    async *owed(target) {
      const all = [...(held.get(target) ?? new Map<string, Owed>())].map(([key, o]) => ({ key, owed: o }));
      for (let i = 0; i < all.length; i += per) {
        onPage?.();
        yield all.slice(i, i + per);
      }
    },
    async clearDelivered(target, keys) {
      for (const k of keys) held.get(target)?.delete(k);
    },
    async dropOwed(target, keys) {
      for (const k of keys) held.get(target)?.delete(k);
    },
    delivered: async () => [],
    recordDelivered: async () => {},
    removeDelivered: async () => {},
  };
  return { store, left: (target: string) => held.get(target)?.size ?? 0 };
}

function notifier(channel: 'dingtalk' | 'slack', fail?: Error): Notifier & { sent: number } {
  const n = {
    channel,
    fingerprint: channel,
    sent: 0,
    async send() {
      if (fail) throw fail;
      n.sent += 1;
    },
  };
  return n;
}
const target = (id: 'dingtalk' | 'slack', n: Notifier): Target => ({ id, route: defaultRoute(), notifier: n });
const control = (owed: Control['owed'], pauses: Control['pauses'] = {}): Control => ({ owed, pauses });

/** The delivery phase at NOW over `store`, with a minute left (10 s of it reserve) unless told. */
function deliver(
  plan: DeliveryPlan,
  o: {
    store: OwedRows;
    control: Control;
    added?: Map<string, number>;
    deadline?: number;
    clock?: ReturnType<typeof movableClock>;
  },
) {
  const clock = o.clock ?? movableClock(NOW);
  const log = recordingLog();
  const input = {
    store: o.store,
    control: o.control,
    added: o.added ?? new Map<string, number>(),
    clock,
    budget: new Budget(clock, o.deadline ?? NOW + M, 10_000),
    log,
    now: NOW,
  };
  return deliverOwed(plan, input).then((out) => ({ ...out, log }));
}

describe("each target's share of the time left for reading (readShare)", () => {
  it('leaves the last target only the floor, and keeps back an equal share for each target still to come', () => {
    expect(readShare(30_000, 10_000, 0)).toBe(10_000);
    expect(readShare(30_000, 10_000, 1)).toBe(20_000);
    expect(readShare(40_000, 10_000, 2)).toBe(30_000);
  });

  it('is the floor when the run is already past it', () => {
    expect(readShare(5_000, 10_000, 3)).toBe(10_000);
  });
});

describe('the delivery phase (deliverOwed)', () => {
  it('sends each target not paused what it is owed, clears what it took, and leaves a paused one its rows', async () => {
    const { store, left } = owedStore({ dingtalk: 3, slack: 2 });
    const ding = notifier('dingtalk');
    const slack = notifier('slack');
    const pauses = { slack: { until: NOW + M, error: 'refused', fingerprint: 'slack' } };
    const c = control({ dingtalk: { since: NOW - M, count: 3 }, slack: { since: NOW - M, count: 2 } }, pauses);
    const plan = planDelivery(['dingtalk', 'slack'], [target('dingtalk', ding), target('slack', slack)], pauses, NOW);
    const out = await deliver(plan, { store, control: c });
    expect([ding.sent, slack.sent]).toEqual([1, 0]);
    expect([left('dingtalk'), left('slack')]).toEqual([0, 2]);
    expect([...out.results.keys()]).toEqual(['dingtalk']);
    expect(out.next).toEqual({ owed: { slack: { since: NOW - M, count: 2 } }, pauses });
    expect(out.log.lines).toContainEqual({
      level: 'info',
      msg: 'channel paused; its alerts wait',
      fields: { target: 'slack', until: new Date(NOW + M).toISOString() },
    });
  });

  it('keeps a target whose post failed owed since it was first owed, with what the message covered', async () => {
    const { store, left } = owedStore({ slack: 2 });
    const dead = new IntegrationError('down', { service: 'slack', kind: 'retryable', retryAfterMs: 3_600_000 });
    const slack = notifier('slack', dead);
    const c = control({ slack: { since: NOW - 5 * M, count: 1 } });
    const plan = planDelivery(['slack'], [target('slack', slack)], undefined, NOW);
    const out = await deliver(plan, { store, control: c, added: new Map([['slack', 1]]) });
    expect(left('slack')).toBe(2);
    expect(out.next.owed).toEqual({ slack: { since: NOW - 5 * M, count: 2 } });
    expect(out.next.pauses.slack).toMatchObject({ until: NOW + 3_600_000, fingerprint: 'slack' });
  });

  it('drops what a channel no longer configured is owed until the read floor, and counts what is left', async () => {
    const clock = movableClock(NOW);
    // Each page read takes 1 s; with 14 s left and a floor of 5 s, nine pages of two rows go.
    const { store, left } = owedStore({ 'old/slack': 40 }, 2, () => (clock.t += 1_000));
    const c = control({ 'old/slack': { since: NOW - M, count: 40 } });
    const plan = planDelivery(['old/slack'], [], undefined, NOW);
    const out = await deliver(plan, { store, control: c, clock, deadline: NOW + 14_000 });
    expect(left('old/slack')).toBe(22);
    expect(out.next.owed).toEqual({ 'old/slack': { since: NOW - M, count: 22 } });
    expect(out.log.lines.at(-1)).toEqual({
      level: 'warn',
      msg: 'alerts owed only to a channel no longer configured are being removed; the rest next run',
      fields: { target: 'old/slack', count: 18 },
    });
  });

  it('leaves no count for a channel no longer configured once all it was owed is gone', async () => {
    const { store, left } = owedStore({ 'old/slack': 5 });
    const c = control({ 'old/slack': { since: NOW - M, count: 5 } });
    const out = await deliver(planDelivery(['old/slack'], [], undefined, NOW), { store, control: c });
    expect(left('old/slack')).toBe(0);
    expect(out.next.owed).toEqual({});
    expect(out.log.lines.at(-1)).toMatchObject({
      msg: 'alerts owed only to a channel no longer configured were removed',
    });
  });
});

describe('the control row after delivery (afterDelivery)', () => {
  const since = NOW - 30 * M;
  const base = {
    control: control({ slack: { since, count: 10 } }),
    configured: ['slack'],
    added: new Map<string, number>(),
    inForce: {},
    now: NOW,
    dropping: new Map<string, number>(),
  };

  it('lets a target whose rows were all taken leave the owed list', () => {
    const next = afterDelivery({ ...base, results: new Map([['slack', delivered({ delivered: 10 })]]) });
    expect(next).toEqual({ owed: {}, pauses: {} });
  });

  it('keeps a target whose taken rows could not all be removed owed, counting them, so the next run clears them', () => {
    const next = afterDelivery({ ...base, results: new Map([['slack', delivered({ delivered: 10, uncleared: 10 })]]) });
    expect(next.owed).toEqual({ slack: { since, count: 10 } });
  });

  it('takes rows an earlier message took off what a target with rows past it is owed, less those left in place', () => {
    const results = new Map([['slack', delivered({ delivered: 2, cleared: 5, uncleared: 1, more: true })]]);
    expect(afterDelivery({ ...base, results, added: new Map([['slack', 3]]) }).owed).toEqual({
      slack: { since: NOW, count: 7 },
    });
  });

  it('keeps a target whose post failed owed since it was first owed, counting what the message covered', () => {
    const next = afterDelivery({ ...base, results: new Map([['slack', delivered({ stillOwed: 12 })]]) });
    expect(next.owed).toEqual({ slack: { since, count: 12 } });
  });

  it('owes a target that took a message but has rows past it from now, counting what is left', () => {
    const results = new Map([['slack', delivered({ delivered: 6, more: true })]]);
    expect(afterDelivery({ ...base, results, added: new Map([['slack', 3]]) }).owed).toEqual({
      slack: { since: NOW, count: 7 },
    });
  });

  it('takes what a message delivered, gave up and quarantined off what a target with rows past it is owed', () => {
    const results = new Map([['slack', delivered({ delivered: 4, expired: 1, quarantined: 2, more: true })]]);
    expect(afterDelivery({ ...base, results, added: new Map([['slack', 3]]) }).owed).toEqual({
      slack: { since: NOW, count: 6 },
    });
  });

  it('keeps a target with rows past a failed message owed since it was first owed, at least one more than it read', () => {
    const results = new Map([['slack', delivered({ stillOwed: 15, more: true })]]);
    expect(afterDelivery({ ...base, results }).owed).toEqual({ slack: { since, count: 16 } });
  });

  it('adds what this run wrote to a configured target it did not send to (paused), and forgets a gone one', () => {
    const next = afterDelivery({
      ...base,
      control: control({ slack: { since, count: 10 }, 'old/slack': { since, count: 4 } }),
      results: new Map(),
      added: new Map([['slack', 2]]),
    });
    expect(next.owed).toEqual({ slack: { since, count: 12 } });
  });

  it('keeps a channel no longer configured counted while its rows are being dropped', () => {
    const next = afterDelivery({
      ...base,
      control: control({ 'old/slack': { since, count: 40 } }),
      results: new Map(),
      dropping: new Map([['old/slack', 22]]),
    });
    expect(next.owed).toEqual({ 'old/slack': { since, count: 22 } });
  });

  it('sets the pause a failed post asked for, lifts the pause of a target that took its message, and drops those run out', () => {
    const pause = (until: number) => ({ until, error: 'e', fingerprint: 'f' });
    const next = afterDelivery({
      ...base,
      control: control({ slack: { since, count: 1 }, dingtalk: { since, count: 1 } }),
      configured: ['slack', 'dingtalk', 'team/slack'],
      inForce: { dingtalk: pause(NOW + M), 'team/slack': pause(NOW + M), 'x/slack': pause(NOW) },
      results: new Map([
        ['slack', delivered({ stillOwed: 1, pause: pause(NOW + 2 * M) })],
        ['dingtalk', delivered({ delivered: 1 })],
      ]),
    });
    expect(next.pauses).toEqual({ slack: pause(NOW + 2 * M), 'team/slack': pause(NOW + M) });
  });
});

describe('what the control row counts as owed (owedCount)', () => {
  it('sums the alerts owed to every target', () => {
    expect(owedCount({})).toBe(0);
    expect(owedCount({ slack: { since: 0, count: 3 }, 'team/dingtalk': { since: 0, count: 4 } })).toBe(7);
  });
});
