import { describe, expect, it } from 'vitest';
import { Budget, type Clock } from '../../../src/lib/budget.js';
import { IntegrationError, MessageTooLargeError } from '../../../src/lib/errors.js';
import { createLogger, type Level } from '../../../src/lib/log.js';
import type { ChannelPause, Owed } from '../../../src/model/state.js';
import { deliverTo, idempotencyKey, OWED_MAX_AGE_MS, type Target } from '../../../src/notify/deliver.js';
import { planDelivery } from '../../../src/notify/delivery.js';
import { BACKOFF_AFTER_MS, pauseFor, PAUSE_AFTER_REFUSAL_MS } from '../../../src/notify/pause.js';
import type { Notifier, SendOptions } from '../../../src/notify/types.js';
import { defaultRoute, failureAlert, owed, syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const clock: Clock = { now: () => NOW };
const M = 60_000;

/** A logger whose lines a test reads back: level, message and fields. */
function recordingLog() {
  const lines: { level: Level; msg: string; fields: Record<string, unknown> }[] = [];
  const log = createLogger({
    minLevel: 'debug',
    sink: (level, line) => {
      const { level: _l, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
      lines.push({ level, msg: msg as string, fields });
    },
  });
  return { log, lines };
}

/** A notifier that answers each send with the next of `answers` (undefined: accepted), recording what it was given. */
function scripted(answers: (Error | undefined)[], fingerprint = 'fp') {
  const calls: SendOptions[] = [];
  const notifier: Notifier = {
    channel: 'slack',
    fingerprint,
    async send(_payload, o) {
      calls.push(o);
      const a = answers.shift();
      if (a) throw a;
    },
  };
  return { notifier, calls };
}
const target = (notifier: Notifier, id = 'team/slack'): Target => ({ id, route: defaultRoute(['slack']), notifier });
const rows = (n: number, detectedAt = NOW): Owed[] =>
  Array.from({ length: n }, (_, i) => owed(failureAlert(syncTask({ taskId: `rst-${i}` })), 'team/slack', detectedAt));
async function* pages(list: Owed[]) {
  yield list.map((o, i) => ({ key: `k${i}`, owed: o }));
}
const refused = () =>
  new IntegrationError('Slack refused the webhook (HTTP 404 no_service)', {
    service: 'slack',
    kind: 'config',
    status: 404,
  });
const busy = (retryAfterMs?: number) =>
  new IntegrationError('Slack answered HTTP 503', { service: 'slack', kind: 'retryable', status: 503, retryAfterMs });

describe('what delivery tells the operator', () => {
  it('a delivery is logged with its target and the number of alerts', async () => {
    const { log, lines } = recordingLog();
    const s = scripted([]);
    const r = await deliverTo(target(s.notifier), pages(rows(2)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log,
      retries: 0,
    });
    expect(r.delivered).toBe(2);
    expect(lines).toEqual([{ level: 'info', msg: 'delivered', fields: { target: 'team/slack', alerts: 2 } }]);
  });

  it('a message that covers only part of what is owed says so, with the target and the rows it covers (given up ones too)', async () => {
    const { log, lines } = recordingLog();
    const list = [...rows(1, NOW - OWED_MAX_AGE_MS - 1), ...rows(3)];
    const r = await deliverTo(target(scripted([]).notifier), pages(list), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log,
      retries: 0,
      maxRows: 3,
    });
    expect(r).toMatchObject({ delivered: 2, expired: 1, more: true });
    expect(lines[0]).toEqual({
      level: 'info',
      msg: 'more is owed than one message covers; the rest follows next run',
      fields: { target: 'team/slack', rows: 3 },
    });
    expect(lines.filter((l) => l.msg.startsWith('more is owed'))).toHaveLength(1);
    const whole = recordingLog();
    await deliverTo(target(scripted([]).notifier), pages(rows(3)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: whole.log,
      retries: 0,
      maxRows: 3,
    });
    expect(whole.lines.map((l) => l.msg)).toEqual(['delivered']);
  });

  it("reading goes on with exactly half the run's reserve left, and stops a millisecond later, saying there was no time", async () => {
    const half = await deliverTo(target(scripted([]).notifier), pages(rows(2)), {
      now: NOW,
      budget: new Budget(clock, NOW + 10_000, 20_000),
      log: recordingLog().log,
      retries: 0,
    });
    expect(half).toMatchObject({ delivered: 2, more: false });
    const { log, lines } = recordingLog();
    const s = scripted([]);
    const less = await deliverTo(target(s.notifier), pages(rows(2)), {
      now: NOW,
      budget: new Budget(clock, NOW + 9_999, 20_000),
      log,
      retries: 0,
    });
    expect(less).toMatchObject({ delivered: 0, more: true, done: [] });
    expect(s.calls).toEqual([]);
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'no time left in this run to read what the target is owed; it waits for the next run',
        fields: { target: 'team/slack' },
      },
    ]);
  });

  it("reading that runs out of the time given to it says how many rows the message covers; the time given is the caller's", async () => {
    let now = NOW;
    const ticking: Clock = { now: () => now };
    async function* slow() {
      for (const [i, o] of rows(4).entries()) {
        yield [{ key: `k${i}`, owed: o }];
        now += 1_000;
      }
    }
    const { log, lines } = recordingLog();
    // 60 s left and no reserve: the caller gives this target until 58 s are left.
    const r = await deliverTo(target(scripted([]).notifier), slow(), {
      now: NOW,
      budget: new Budget(ticking, NOW + 60_000, 0),
      log,
      retries: 0,
      readFloorMs: 58_000,
    });
    expect(r).toMatchObject({ delivered: 3, more: true });
    expect(lines[0]).toEqual({
      level: 'warn',
      msg: "the run's time to read for this target ran out; the rest follows next run",
      fields: { target: 'team/slack', rows: 3 },
    });
  });

  it('a refusal is an error line naming the pause; the same refusal after that pause only a warning', async () => {
    const first = recordingLog();
    const r = await deliverTo(target(scripted([refused()]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: first.log,
      retries: 0,
    });
    expect(first.lines).toEqual([
      {
        level: 'error',
        msg: 'delivery refused; the channel is paused and its alerts wait',
        fields: {
          target: 'team/slack',
          alerts: 1,
          error: r.error,
          pausedUntil: new Date(NOW + PAUSE_AFTER_REFUSAL_MS).toISOString(),
        },
      },
    ]);
    expect(r.error).toMatch(/Slack refused the webhook/);

    const again = recordingLog();
    await deliverTo(target(scripted([refused()]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: again.log,
      retries: 0,
      previousPause: r.pause,
    });
    expect(again.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'delivery refused; the channel is paused and its alerts wait'],
    ]);

    // Another refusal than the one paused for is news again.
    const other = recordingLog();
    const previousPause: ChannelPause = { until: NOW, error: 'something else', fingerprint: 'fp' };
    await deliverTo(target(scripted([refused()]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: other.log,
      retries: 0,
      previousPause,
    });
    expect(other.lines.map((l) => l.level)).toEqual(['error']);
  });

  it('a failure that leaves the alerts for the next run says so, with no pause', async () => {
    const { log, lines } = recordingLog();
    const r = await deliverTo(target(scripted([busy()]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log,
      retries: 0,
    });
    expect(r.pause).toBeUndefined();
    expect(lines).toEqual([
      {
        level: 'error',
        msg: 'delivery failed; alerts stay owed for the next run',
        fields: { target: 'team/slack', alerts: 1, error: r.error },
      },
    ]);
  });

  it('a retry is logged naming the target it posts to', async () => {
    const { log, lines } = recordingLog();
    await deliverTo(target(scripted([busy(1)]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log,
      retries: 1,
      sleep: async () => undefined,
    });
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'retrying', fields: { what: 'post to team/slack' } });
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'delivered' });
  });

  it('a message delivered only in a smaller rendering is a warning saying how much smaller', async () => {
    const { log, lines } = recordingLog();
    const tooLarge = () => new MessageTooLargeError('too large', { service: 'slack', code: 'msg_blocks_too_long' });
    const s = scripted([tooLarge(), tooLarge()]);
    const r = await deliverTo(target(s.notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log,
      retries: 0,
    });
    expect(r).toMatchObject({ delivered: 1, stillOwed: 0 });
    expect(lines.map((l) => [l.level, l.msg, l.fields])).toEqual([
      ['warn', 'message refused as too large; delivered a smaller rendering', { target: 'team/slack', shrink: 2 }],
      ['info', 'delivered', { target: 'team/slack', alerts: 1 }],
    ]);
  });
});

describe('what a target is owed', () => {
  it('an alert owed exactly 7 days is still delivered; a millisecond more and it is given up', async () => {
    const s = scripted([]);
    const list = [
      ...rows(1, NOW - OWED_MAX_AGE_MS),
      owed(failureAlert(syncTask({ taskId: 'rst-old' })), 'team/slack', NOW - OWED_MAX_AGE_MS - 1),
    ];
    const r = await deliverTo(target(s.notifier), pages(list), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: createLogger({ sink: () => {} }),
    });
    expect(r).toMatchObject({ delivered: 1, expired: 1, done: ['k0', 'k1'] });
  });

  it('nothing is posted when all a target is owed was given up', async () => {
    const s = scripted([]);
    const r = await deliverTo(target(s.notifier), pages(rows(2, NOW - OWED_MAX_AGE_MS - 1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: createLogger({ sink: () => {} }),
    });
    expect(s.calls).toEqual([]);
    expect(r).toEqual({ delivered: 0, stillOwed: 0, expired: 2, done: ['k0', 'k1'], more: false });
  });
});

describe('the key a message is sent with', () => {
  it('is 32 hex characters', () => {
    expect(idempotencyKey('team/slack', ['a', 'b'])).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the target apart from the alerts, and the alerts apart from each other', () => {
    expect(idempotencyKey('ab', ['c'])).not.toBe(idempotencyKey('a', ['bc']));
    expect(idempotencyKey('t', ['ab'])).not.toBe(idempotencyKey('t', ['a', 'b']));
  });
});

describe('how a message is posted', () => {
  it('each attempt may take 10 s when the run has the time, less when it has not', async () => {
    const roomy = scripted([]);
    await deliverTo(target(roomy.notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: createLogger({ sink: () => {} }),
    });
    expect(roomy.calls.map((c) => c.timeoutMs)).toEqual([10_000]);
    const tight = scripted([]);
    await deliverTo(target(tight.notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + 4_000, 0),
      log: createLogger({ sink: () => {} }),
    });
    expect(tight.calls.map((c) => c.timeoutMs)).toEqual([4_000]);
  });

  it("may eat into the run's reserve: delivery is what the reserve is kept for", async () => {
    const s = scripted([]);
    const r = await deliverTo(target(s.notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + 5_000, 5_000),
      log: createLogger({ sink: () => {} }),
    });
    expect(r.delivered).toBe(1);
  });

  it("an error that is not the platform's answer has no kind and does not pause the channel", async () => {
    const r = await deliverTo(target(scripted([new TypeError('bug')]).notifier), pages(rows(1)), {
      now: NOW,
      budget: new Budget(clock, NOW + M, 0),
      log: createLogger({ sink: () => {} }),
    });
    expect(r).toMatchObject({ delivered: 0, stillOwed: 1, error: expect.stringContaining('bug') });
    expect(r.errorKind).toBeUndefined();
    expect(r.pause).toBeUndefined();
  });
});

describe('how long a channel rests (pauseFor)', () => {
  it('not at all after an error of our own', () => {
    expect(pauseFor(new TypeError('bug'), NOW, NOW - 10 * 60 * M)).toBeUndefined();
  });

  it('after a refusal for good, for 30 minutes whether malformed or misconfigured', () => {
    expect(pauseFor(new IntegrationError('bad', { service: 'slack', kind: 'permanent' }), NOW)).toBe(
      NOW + PAUSE_AFTER_REFUSAL_MS,
    );
    expect(pauseFor(refused(), NOW)).toBe(NOW + PAUSE_AFTER_REFUSAL_MS);
  });

  it('for as long as the platform asked, and a wait of zero is no wait', () => {
    expect(pauseFor(busy(90_000), NOW)).toBe(NOW + 90_000);
    expect(pauseFor(busy(1), NOW)).toBe(NOW + 1);
    expect(pauseFor(busy(0), NOW)).toBeUndefined();
  });

  it('the backoff counts from when the target began to be owed: a quarter of it, rounded to the ms', () => {
    expect(pauseFor(busy(), NOW, NOW - BACKOFF_AFTER_MS)).toBe(NOW + BACKOFF_AFTER_MS / 4);
    expect(pauseFor(busy(), NOW, NOW - BACKOFF_AFTER_MS + 1)).toBeUndefined();
    expect(pauseFor(busy(), NOW, NOW - (BACKOFF_AFTER_MS + 2))).toBe(NOW + Math.round((BACKOFF_AFTER_MS + 2) / 4));
    expect(pauseFor(busy(), NOW, NOW - (BACKOFF_AFTER_MS + 1))).toBe(NOW + BACKOFF_AFTER_MS / 4);
    // Owed since a moment ahead of now is not owed long.
    expect(pauseFor(busy(), NOW, NOW + 30 * M)).toBeUndefined();
  });

  it('the later of the wait asked for and the backoff', () => {
    expect(pauseFor(busy(10 * M), NOW, NOW - 20 * M)).toBe(NOW + 10 * M);
    expect(pauseFor(busy(2 * M), NOW, NOW - 20 * M)).toBe(NOW + 5 * M);
  });
});

describe('delivery plans (planDelivery)', () => {
  const fp = (f: string) => scripted([], f).notifier;

  it('name the pauses in force by target, and only those', () => {
    const a = target(fp('fa'), 'a/slack');
    const b = target(fp('fb'), 'b/slack');
    const pauses = {
      'a/slack': { until: NOW + M, error: 'e', fingerprint: 'fa' },
      'b/slack': { until: NOW + M, error: 'e', fingerprint: 'changed' },
    };
    const plan = planDelivery(['a/slack', 'b/slack'], [a, b], pauses, NOW);
    expect(plan.pauses).toEqual({ 'a/slack': pauses['a/slack'] });
    expect(Object.keys(plan.pauses)).toEqual(['a/slack']);
    expect(plan.due.map((d) => [d.target.id, d.paused?.until])).toEqual([
      ['a/slack', NOW + M],
      ['b/slack', undefined],
    ]);
    expect(plan.unroutable).toEqual([]);
    expect(plan.actionable).toBe(true);
    // A target owed nothing is not due, paused or not.
    expect(planDelivery(['b/slack'], [a, b], pauses, NOW).due.map((d) => d.target.id)).toEqual(['b/slack']);
  });

  it('with every target owed something paused and none gone, there is nothing to do', () => {
    const a = target(fp('fa'), 'a/slack');
    expect(
      planDelivery(['a/slack'], [a], { 'a/slack': { until: NOW + 1, error: 'e', fingerprint: 'fa' } }, NOW),
    ).toMatchObject({ actionable: false, unroutable: [] });
  });
});
