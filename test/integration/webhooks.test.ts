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
  hooks = await startWebhookReceivers({ dingtalkToken: 'robot-token-1', dingtalkSecret: 'SECrobot-secret-1', slackPath: '/services/T1/B1/hook-1' });
});
afterEach(() => hooks.close());

const ding = () => createDingTalkNotifier({ webhook: new Secret(hooks.dingtalkUrl), secret: new Secret('SECrobot-secret-1'), clock: systemClock });
const slack = () => createSlackNotifier({ webhook: new Secret(hooks.slackUrl), clock: systemClock });
const send = (n: { send(p: never, o: { timeoutMs: number; idempotencyKey: string }): Promise<void> }, payload: unknown) =>
  n.send(payload as never, { timeoutMs: 5_000, idempotencyKey: `k-${Math.random()}` }).then(() => undefined, (e: unknown) => e);
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('local webhook receivers refuse what the platforms refuse', () => {
  it('Slack: blocks that are too long together, counting the blocks inside attachments', async () => {
    const tooLong: SlackMessage = { text: 't', blocks: [section('a'.repeat(2_900))], attachments: [{ color: '#000', blocks: Array.from({ length: 4 }, () => section('b'.repeat(2_900))) }] };
    const e = await send(slack(), tooLong);
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).toMatchObject({ service: 'slack', code: 'msg_blocks_too_long', status: 400 });
    expect((e as MessageTooLargeError).sent).toBeGreaterThan(11_000);

    const tooMany: SlackMessage = { text: 't', blocks: [section('a')], attachments: [{ color: '#000', blocks: Array.from({ length: 50 }, () => ({ type: 'divider' })) }] };
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
      failure(i, { ruleId: `crsr-${i % 41}`, issue: i % 2 ? 'NETWORK_ERROR' : `WEIRD_${i % 7}_${'界'.repeat(300)}`, from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: '<!channel>&', repo: `r${'&'.repeat(250)}`, tag: `t${i}` } }),
    );
    const c = contentOf(alerts);
    for (const lang of ['en', 'zh'] as const) {
      expect(await send(ding(), renderFor('dingtalk', c, lang))).toBeUndefined();
      expect(await send(slack(), renderFor('slack', c, lang))).toBeUndefined();
    }
    expect(hooks.received).toHaveLength(4);
  });
});
