import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/budget.js';
import { MessageTooLargeError } from '../../src/lib/errors.js';
import { Secret } from '../../src/lib/secret.js';
import { createDingTalkNotifier } from '../../src/notify/dingtalk.js';
import { createSlackNotifier } from '../../src/notify/slack.js';
import { contentOf } from '../../src/render/content.js';
import { renderFor } from '../../src/render/index.js';
import type { SlackMessage } from '../../src/render/slack.js';
import { startWebhookReceivers, type WebhookReceivers } from '../../src/sim/webhook-server.js';
import { failure } from '../support/alerts.js';

let hooks: WebhookReceivers;
beforeEach(async () => {
  hooks = await startWebhookReceivers({
    dingtalkToken: 'robot-token-1',
    dingtalkSecret: 'SECrobot-secret-1',
    slackPath: '/services/T1/B1/hook-1',
    moreRobots: [{ token: 'unsigned-robot' }],
  });
});
afterEach(() => hooks.close());

const ding = () =>
  createDingTalkNotifier({
    webhook: new Secret(hooks.dingtalkUrl),
    secret: new Secret('SECrobot-secret-1'),
    clock: systemClock,
  });
const slack = () => createSlackNotifier({ webhook: new Secret(hooks.slackUrl), clock: systemClock });
const send = (
  n: { send(p: never, o: { timeoutMs: number; idempotencyKey: string }): Promise<void> },
  payload: unknown,
) =>
  n.send(payload as never, { timeoutMs: 5_000, idempotencyKey: `k-${Math.random()}` }).then(
    () => undefined,
    (e: unknown) => e,
  );
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('local webhook receivers refuse what the platforms refuse', () => {
  it('Slack: blocks that are too long together, counting the blocks inside attachments', async () => {
    const tooLong: SlackMessage = {
      text: 't',
      blocks: [section('a'.repeat(2_900))],
      attachments: [{ color: '#000', blocks: Array.from({ length: 4 }, () => section('b'.repeat(2_900))) }],
    };
    const e = await send(slack(), tooLong);
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).toMatchObject({ service: 'slack', code: 'msg_blocks_too_long', status: 400 });
    expect((e as MessageTooLargeError).sent).toBeGreaterThan(11_000);

    const tooMany: SlackMessage = {
      text: 't',
      blocks: [section('a')],
      attachments: [{ color: '#000', blocks: Array.from({ length: 50 }, () => ({ type: 'divider' })) }],
    };
    expect(await send(slack(), tooMany)).toMatchObject({ code: 'invalid_blocks' });
    expect(hooks.received).toHaveLength(0);
  });

  it('DingTalk: a body over 20,000 bytes, with errcode 460101', async () => {
    const e = await send(ding(), { msgtype: 'markdown', markdown: { title: 'ACR', text: '同'.repeat(7_000) } });
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).toMatchObject({ service: 'dingtalk', code: '460101' });
    expect((e as MessageTooLargeError).sent).toBeGreaterThan(20_000);
    expect(hooks.received).toHaveLength(0);
  });

  it('take what the renderers make of a burst of hostile failures, in both languages', async () => {
    const alerts = Array.from({ length: 5_000 }, (_, i) =>
      failure(i, {
        ruleId: `crsr-${i % 41}`,
        issue: i % 2 ? 'NETWORK_ERROR' : `WEIRD_${i % 7}_${'界'.repeat(300)}`,
        from: {
          instanceId: 'cri-src',
          regionId: 'cn-hangzhou',
          namespace: '<!channel>&',
          repo: `r${'&'.repeat(250)}`,
          tag: `t${i}`,
        },
      }),
    );
    const c = contentOf(alerts);
    for (const lang of ['en', 'zh'] as const) {
      expect(await send(ding(), renderFor('dingtalk', c, lang))).toBeUndefined();
      expect(await send(slack(), renderFor('slack', c, lang))).toBeUndefined();
    }
    expect(hooks.received).toHaveLength(4);
  });
});

describe('the notifiers post what the platforms accept', () => {
  const message = { msgtype: 'markdown', markdown: { title: 'ACR', text: 'sync failed' } };

  it('DingTalk: a signed robot takes a signed post; a robot without a secret takes the plain webhook', async () => {
    await expect(ding().send(message as never, { timeoutMs: 5_000, idempotencyKey: 'k1' })).resolves.toBeUndefined();
    const unsigned = createDingTalkNotifier({
      webhook: new Secret(hooks.dingtalkUrlFor('unsigned-robot')),
      clock: systemClock,
    });
    expect(await send(unsigned, message)).toBeUndefined();
    expect(hooks.received.map((r) => [r.channel, r.hook])).toEqual([
      ['dingtalk', 'robot-token-1'],
      ['dingtalk', 'unsigned-robot'],
    ]);
  });

  it("DingTalk: a wrong signing secret is a configuration problem, named as the robot's security check", async () => {
    const wrong = createDingTalkNotifier({
      webhook: new Secret(hooks.dingtalkUrl),
      secret: new Secret('SECother'),
      clock: systemClock,
    });
    expect(await send(wrong, message)).toMatchObject({
      kind: 'config',
      code: '310000',
      message: expect.stringMatching(/security check \(310000 sign not match\)/),
    });
    expect(hooks.received).toHaveLength(0);
  });

  it('DingTalk: signs with the time of the injected clock', async () => {
    const stale = createDingTalkNotifier({
      webhook: new Secret(hooks.dingtalkUrl),
      secret: new Secret('SECrobot-secret-1'),
      clock: { now: () => Date.now() - 2 * 3_600_000 },
    });
    expect(await send(stale, message)).toMatchObject({ kind: 'config', code: '310000' });
  });

  it('DingTalk: the same message sent again with its key is kept once, as DingTalk drops a repeat', async () => {
    const n = ding();
    for (let i = 0; i < 2; i++) await n.send(message as never, { timeoutMs: 5_000, idempotencyKey: 'same-alerts' });
    expect(hooks.received).toHaveLength(1);
    expect(hooks.received[0]!.body).toMatchObject({ ...message, msgUuid: 'same-alerts' });
  });

  it('Slack: a message is posted as it was rendered', async () => {
    const msg: SlackMessage = { text: 'sync failed', blocks: [section('sync failed')], attachments: [] };
    await expect(slack().send(msg, { timeoutMs: 5_000, idempotencyKey: 'k' })).resolves.toBeUndefined();
    expect(hooks.received.map((r) => [r.channel, r.hook, r.body])).toEqual([['slack', '/services/T1/B1/hook-1', msg]]);
  });

  it('Slack: a rate limit waits as long as Retry-After says, counted from the injected clock', async () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    hooks.fault('slack', {
      kind: 'status',
      status: 429,
      body: 'rate_limited',
      headers: { 'retry-after': 'Tue, 01 Dec 2026 10:00:20 GMT' },
    });
    const n = createSlackNotifier({ webhook: new Secret(hooks.slackUrl), clock: { now: () => now } });
    expect(await send(n, { text: 't', blocks: [section('a')] })).toMatchObject({
      kind: 'retryable',
      retryAfterMs: 20_000,
    });
  });
});

describe('the notifiers name themselves', () => {
  it('by channel, so each gets the rendering its platform takes', () => {
    expect([ding().channel, slack().channel]).toEqual(['dingtalk', 'slack']);
  });

  it('in the error for a receiver that cannot be reached, which a retry may pass', async () => {
    await hooks.close();
    expect(await send(ding(), { msgtype: 'markdown', markdown: { title: 't', text: 't' } })).toMatchObject({
      service: 'dingtalk',
      kind: 'retryable',
      message: expect.stringMatching(/^dingtalk webhook: network error/),
    });
    expect(await send(slack(), { text: 't', blocks: [], attachments: [] })).toMatchObject({
      service: 'slack',
      kind: 'retryable',
      message: expect.stringMatching(/^slack webhook: network error/),
    });
    hooks = await startWebhookReceivers({ dingtalkToken: 'robot-token-1', slackPath: '/services/T1/B1/hook-1' });
  });
});
