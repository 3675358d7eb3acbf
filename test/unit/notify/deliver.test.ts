import { describe, expect, it } from 'vitest';
import { Budget, type Clock } from '../../../src/lib/budget.js';
import { IntegrationError, MessageTooLargeError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { ChannelPause, Owed } from '../../../src/model/state.js';
import { deliverTo, idempotencyKey, OWED_MAX_AGE_MS, type Target } from '../../../src/notify/deliver.js';
import { planDelivery } from '../../../src/notify/delivery.js';
import { BACKOFF_MAX_MS, PAUSE_AFTER_REFUSAL_MS, pauseFor } from '../../../src/notify/pause.js';
import { slackOutcome } from '../../../src/notify/slack.js';
import type { Notifier } from '../../../src/notify/types.js';
import { MAX_SHRINK } from '../../../src/render/index.js';
import { defaultRoute, failureAlert, owed, route, syncTask } from '../../support/build.js';

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
/** Owed rows as the store hands them over, in pages. */
async function* pages(rows: Owed[], per = 2) {
  for (let i = 0; i < rows.length; i += per)
    yield rows.slice(i, i + per).map((o, j) => ({ key: `k${i + j}`, owed: o }));
}

describe('delivery decisions (planDelivery)', () => {
  it('delivers to each configured target owed something, in target order', () => {
    const ding = target('dingtalk', fake('dingtalk').notifier);
    const team = target('team/slack', fake('slack').notifier, route('team', ['slack']));
    const plan = planDelivery(['team/slack', 'dingtalk'], [ding, team], undefined, NOW);
    expect(plan.due.map((d) => [d.target.id, d.paused])).toEqual([
      ['dingtalk', undefined],
      ['team/slack', undefined],
    ]);
    expect(plan.actionable).toBe(true);
    expect(planDelivery([], [ding, team], undefined, NOW).actionable).toBe(false);
  });

  it('holds a paused target while its pause runs and its webhook is unchanged; nothing else to do is not actionable', () => {
    const slack = target('slack', fake('slack', 'fp').notifier);
    const plan = planDelivery(['slack'], [slack], { slack: pause(NOW + 1) }, NOW);
    expect(plan.due[0]!.paused?.until).toBe(NOW + 1);
    expect(plan.pauses).toEqual({ slack: pause(NOW + 1) });
    expect(plan.actionable).toBe(false);
  });

  it('lifts a pause that ran out, or whose webhook or secret changed since (that may be the fix)', () => {
    expect(
      planDelivery(
        ['slack'],
        [target('slack', fake('slack', 'new-fp').notifier)],
        { slack: pause(NOW + 60_000, 'old-fp') },
        NOW,
      ).actionable,
    ).toBe(true);
    const ranOut = planDelivery(['slack'], [target('slack', fake('slack', 'fp').notifier)], { slack: pause(NOW) }, NOW);
    expect(ranOut.due[0]!.paused).toBeUndefined();
    expect(ranOut.pauses).toEqual({});
  });

  it('drops what targets no longer configured are owed, and counts that as work', () => {
    const plan = planDelivery(
      ['dingtalk', 'gone/slack'],
      [target('dingtalk', fake('dingtalk').notifier)],
      undefined,
      NOW,
    );
    expect(plan.unroutable).toEqual(['gone/slack']);
    expect(planDelivery(['gone/slack'], [], undefined, NOW).actionable).toBe(true);
  });
});

describe('delivery (deliverTo)', () => {
  const run = (t: Target, rows: Owed[], previousPause?: ChannelPause) =>
    deliverTo(t, pages(rows), { now: NOW, budget, log: silentLogger, previousPause, retries: 0 });

  it('covers at most maxRows rows in one message, says the rest follows, and leaves the rest unread for the next run', async () => {
    const list = Array.from({ length: 7 }, (_, i) => owed(failureAlert(syncTask({ taskId: `rst-${i}` })), 'slack'));
    const s = fake('slack');
    const first = await deliverTo(target('slack', s.notifier), pages(list, 3), {
      now: NOW,
      budget,
      log: silentLogger,
      retries: 0,
      maxRows: 5,
    });
    expect(first).toMatchObject({ delivered: 5, stillOwed: 0, more: true, done: ['k0', 'k1', 'k2', 'k3', 'k4'] });
    const said = JSON.stringify(s.sent[0]!.payload);
    expect(said).toContain('the rest follow in the next one');
    expect(said).toContain('rst-4');
    expect(said).not.toContain('rst-5');
    expect(s.sent[0]!.key).toBe(
      idempotencyKey(
        'slack',
        list.slice(0, 5).map((o) => o.alert.id),
      ),
    );
    // The next run reads what is left: all of it fits, and its message says nothing more follows.
    const rest = await deliverTo(target('slack', s.notifier), pages(list.slice(5), 3), {
      now: NOW,
      budget,
      log: silentLogger,
      retries: 0,
      maxRows: 5,
    });
    expect(rest).toMatchObject({ delivered: 2, more: false });
    expect(JSON.stringify(s.sent[1]!.payload)).not.toContain('follow');
    // Exactly maxRows owed is one whole message.
    const exact = await deliverTo(target('slack', fake('slack').notifier), pages(list.slice(0, 5), 3), {
      now: NOW,
      budget,
      log: silentLogger,
      retries: 0,
      maxRows: 5,
    });
    expect(exact).toMatchObject({ delivered: 5, more: false });
  });

  it('counts rows given up toward the cap too: each is a key kept until it is cleared', async () => {
    const old = Array.from({ length: 4 }, (_, i) =>
      owed(failureAlert(syncTask({ taskId: `rst-old${i}` })), 'slack', NOW - OWED_MAX_AGE_MS - 1),
    );
    const s = fake('slack');
    const r = await deliverTo(target('slack', s.notifier), pages([...old, owed(a1, 'slack')]), {
      now: NOW,
      budget,
      log: silentLogger,
      retries: 0,
      maxRows: 3,
    });
    expect(r).toEqual({ delivered: 0, stillOwed: 0, expired: 3, done: ['k0', 'k1', 'k2'], more: true });
    expect(s.sent).toEqual([]);
  });

  it("stops reading with half the run's reserve left and sends what it read, saying the rest follows", async () => {
    let now = NOW;
    const ticking: Clock = { now: () => now };
    // 40 s left, 20 s of it reserve: reading stops once less than 10 s is left.
    const b = new Budget(ticking, NOW + 40_000, 20_000);
    async function* slowPages() {
      for (let i = 0; i < 5; i++) {
        yield [{ key: `k${i}`, owed: owed(failureAlert(syncTask({ taskId: `rst-${i}` })), 'slack') }];
        now += 12_000;
      }
    }
    const s = fake('slack');
    const r = await deliverTo(target('slack', s.notifier), slowPages(), {
      now: NOW,
      budget: b,
      log: silentLogger,
      retries: 0,
    });
    // Pages at 40, 28 and 16 s left are read; at 4 s left the run keeps the rest for the next one.
    expect(r).toMatchObject({ delivered: 3, more: true, done: ['k0', 'k1', 'k2'] });
    expect(JSON.stringify(s.sent[0]!.payload)).toContain('the rest follow in the next one');
  });

  it('sends one message with everything a target is owed, read page by page, and marks every row read as done', async () => {
    const s = fake('slack');
    const r = await run(target('slack', s.notifier), [
      owed(a1, 'slack'),
      owed(a2, 'slack'),
      owed(failureAlert(syncTask({ taskId: 'rst-3' })), 'slack'),
    ]);
    expect(s.sent).toHaveLength(1);
    expect(JSON.stringify(s.sent[0]!.payload)).toMatch(/rst-1[\s\S]*rst-2|rst-2[\s\S]*rst-1/);
    expect(r).toMatchObject({ delivered: 3, stillOwed: 0, expired: 0, done: ['k0', 'k1', 'k2'] });
    expect(s.sent[0]!.key).toBe(idempotencyKey('slack', [a1.id, a2.id, 'cn-hangzhou:cri-src/rst-3']));
  });

  it("keeps a failed target's rows owed and does not pause it for a failure a retry could pass", async () => {
    const down = fake(
      'slack',
      'fp',
      new IntegrationError('Slack answered HTTP 503', { service: 'slack', kind: 'retryable', status: 503 }),
    );
    const r = await run(target('slack', down.notifier), [owed(a1, 'slack')]);
    expect(r).toMatchObject({ delivered: 0, stillOwed: 1, done: [], errorKind: 'retryable' });
    expect(r.pause).toBeUndefined();
  });

  it('tries a target that keeps failing less often: every run for its first 20 minutes owed, then after a quarter of that, at most hourly', () => {
    const e503 = new IntegrationError('Slack answered HTTP 503', { service: 'slack', kind: 'retryable', status: 503 });
    const M = 60_000;
    expect(pauseFor(e503, NOW, NOW - 19 * M)).toBeUndefined();
    expect(pauseFor(e503, NOW, undefined)).toBeUndefined();
    expect(pauseFor(e503, NOW, NOW - 20 * M)).toBe(NOW + 5 * M);
    expect(pauseFor(e503, NOW, NOW - 120 * M)).toBe(NOW + 30 * M);
    expect(pauseFor(e503, NOW, NOW - 7 * 24 * 60 * M)).toBe(NOW + BACKOFF_MAX_MS);
    expect(BACKOFF_MAX_MS).toBe(60 * M);
    // A wait the service asked for that is longer wins; a shorter one does not cut the backoff.
    const asked = (ms: number) =>
      new IntegrationError('too fast', { service: 'dingtalk', kind: 'retryable', retryAfterMs: ms });
    expect(pauseFor(asked(90 * M), NOW, NOW - 120 * M)).toBe(NOW + 90 * M);
    expect(pauseFor(asked(M), NOW, NOW - 120 * M)).toBe(NOW + 30 * M);
  });

  it('backs off a failing target through delivery: the pause carries the error and the webhook it was for', async () => {
    const down = fake(
      'slack',
      'fp',
      new IntegrationError('Slack answered HTTP 503', { service: 'slack', kind: 'retryable', status: 503 }),
    );
    const r = await deliverTo(target('slack', down.notifier), pages([owed(a1, 'slack')]), {
      now: NOW,
      budget,
      log: silentLogger,
      retries: 0,
      owedSince: NOW - 4 * 3_600_000,
    });
    expect(r).toMatchObject({ delivered: 0, stillOwed: 1, pause: { until: NOW + BACKOFF_MAX_MS, fingerprint: 'fp' } });
  });

  it('pauses a target that refused for good for 30 minutes, and one that asked to wait for as long as it asked', async () => {
    const refused = await run(
      target(
        'slack',
        fake('slack', 'fp-s', new IntegrationError('no_service', { service: 'slack', kind: 'config', status: 404 }))
          .notifier,
      ),
      [owed(a1, 'slack')],
    );
    expect(refused.pause).toMatchObject({ until: NOW + PAUSE_AFTER_REFUSAL_MS, fingerprint: 'fp-s' });
    const throttled = await run(
      target(
        'dingtalk',
        fake(
          'dingtalk',
          'fp-d',
          new IntegrationError('too fast', { service: 'dingtalk', kind: 'retryable', retryAfterMs: 600_000 }),
        ).notifier,
      ),
      [owed(a1, 'dingtalk')],
    );
    expect(throttled.pause).toMatchObject({ until: NOW + 600_000, fingerprint: 'fp-d' });
    expect(PAUSE_AFTER_REFUSAL_MS).toBe(30 * 60_000);
  });

  it('a message refused as too large is rendered smaller and sent again with a new key; the channel is not paused', async () => {
    const sent: { size: number; key: string }[] = [];
    let refusals = 0;
    const limited: Notifier = {
      channel: 'dingtalk',
      fingerprint: 'fp',
      async send(payload, o) {
        const size = JSON.stringify(payload).length;
        if (size > 3_000) {
          refusals++;
          throw new MessageTooLargeError('too large', { service: 'dingtalk', code: '460101', sent: size });
        }
        sent.push({ size, key: o.idempotencyKey });
      },
    };
    const rows = Array.from({ length: 300 }, (_, i) =>
      owed(
        failureAlert(
          syncTask({
            taskId: `rst-${i}`,
            ruleId: `crsr-${i % 30}`,
            issue: i % 2 ? 'NETWORK_ERROR' : 'OSS_NOT_AUTHORIZED',
          }),
        ),
        'dingtalk',
      ),
    );
    const r = await run(target('dingtalk', limited), rows);
    expect(refusals).toBeGreaterThan(0);
    expect(sent).toHaveLength(1);
    expect(r).toMatchObject({ delivered: 300, stillOwed: 0 });
    expect(r.pause).toBeUndefined();
    expect(sent[0]!.key).toBe(
      `${idempotencyKey(
        'dingtalk',
        rows.map((o) => o.alert.id),
      )}-s${refusals}`,
    );
  });

  it('stops shrinking at the smallest rendering: a refusal even then pauses the channel like any other', async () => {
    let tries = 0;
    const never: Notifier = {
      channel: 'slack',
      fingerprint: 'fp',
      async send() {
        tries++;
        throw new MessageTooLargeError('too large', { service: 'slack', code: 'msg_blocks_too_long' });
      },
    };
    const r = await run(target('slack', never), [owed(a1, 'slack')]);
    expect(tries).toBe(MAX_SHRINK + 1);
    expect(r).toMatchObject({ delivered: 0, stillOwed: 1 });
    expect(r.pause?.until).toBe(NOW + PAUSE_AFTER_REFUSAL_MS);
  });

  it('gives up an alert still owed after 7 days, and not an hour sooner', async () => {
    const s = fake('slack');
    const r = await run(target('slack', s.notifier), [
      owed(a1, 'slack', NOW - OWED_MAX_AGE_MS - 60_000),
      owed(a2, 'slack', NOW - OWED_MAX_AGE_MS + 3_600_000),
    ]);
    expect(r).toMatchObject({ delivered: 1, expired: 1 });
    expect(r.done.sort()).toEqual(['k0', 'k1']);
    expect(JSON.stringify(s.sent[0]!.payload)).not.toContain('rst-1');
    expect(OWED_MAX_AGE_MS).toBe(7 * 24 * 3_600_000);
    const onlyOld = await run(target('slack', fake('slack').notifier), [owed(a1, 'slack', NOW - OWED_MAX_AGE_MS - 1)]);
    expect(onlyOld).toMatchObject({ delivered: 0, expired: 1, done: ['k0'] });
  });

  it('still delivers an alert owed for 6 days, and gives up one owed for 8 (days, not hours)', async () => {
    const DAY = 24 * 3_600_000;
    const s = fake('slack');
    const r = await run(target('slack', s.notifier), [
      owed(a1, 'slack', NOW - 8 * DAY),
      owed(a2, 'slack', NOW - 6 * DAY),
    ]);
    expect(r).toMatchObject({ delivered: 1, expired: 1, stillOwed: 0 });
    const text = JSON.stringify(s.sent[0]!.payload);
    expect(text).toContain('rst-2');
    expect(text).not.toContain('rst-1');
  });

  it('sits out a Slack Retry-After within the run, as long as Slack asked, then delivers', async () => {
    for (const [retryAfter, waitMs] of [
      ['2', 2_000],
      [new Date(NOW + 3_000).toUTCString(), 3_000],
    ] as const) {
      const waits: number[] = [];
      const sent: unknown[] = [];
      let answers = 0;
      const throttled: Notifier = {
        channel: 'slack',
        fingerprint: 'fp',
        async send(payload) {
          const refusal =
            answers++ === 0
              ? slackOutcome({ status: 429, body: 'rate_limited', headers: { 'retry-after': retryAfter } }, NOW)
              : undefined;
          if (refusal) throw refusal;
          sent.push(payload);
        },
      };
      const r = await deliverTo(target('slack', throttled), pages([owed(a1, 'slack')]), {
        now: NOW,
        budget,
        log: silentLogger,
        retries: 1,
        sleep: async (ms) => waits.push(ms),
      });
      expect(waits).toEqual([waitMs]);
      expect(sent).toHaveLength(1);
      expect(r).toMatchObject({ delivered: 1, stillOwed: 0 });
      expect(r.pause).toBeUndefined();
    }
  });

  it('pauses a channel whose Retry-After does not fit in the run for that long, without waiting', async () => {
    const waits: number[] = [];
    const throttled: Notifier = {
      channel: 'slack',
      fingerprint: 'fp',
      send: async () =>
        Promise.reject(slackOutcome({ status: 429, body: 'rate_limited', headers: { 'retry-after': '900' } }, NOW)),
    };
    const r = await deliverTo(target('slack', throttled), pages([owed(a1, 'slack')]), {
      now: NOW,
      budget,
      log: silentLogger,
      sleep: async (ms) => waits.push(ms),
    });
    expect(waits).toEqual([]);
    expect(r).toMatchObject({ delivered: 0, stillOwed: 1, pause: { until: NOW + 900_000, fingerprint: 'fp' } });
  });

  it('derives the same key for the same alerts in any order, and another for another target or set', () => {
    expect(idempotencyKey('slack', ['b', 'a'])).toBe(idempotencyKey('slack', ['a', 'b']));
    expect(idempotencyKey('dingtalk', ['a', 'b'])).not.toBe(idempotencyKey('slack', ['a', 'b']));
    expect(idempotencyKey('slack', ['a'])).not.toBe(idempotencyKey('slack', ['a', 'b']));
  });
});
