import { describe, expect, it } from 'vitest';
import { parseDingTalkWebhook } from '../../../src/config/webhooks.js';

describe('a webhook pasted with invisible space around it', () => {
  it('reads as the same URL when a byte-order mark or no-break space came with it', () => {
    const clean = 'https://oapi.dingtalk.com/robot/send?access_token=abc';
    const problems: string[] = [];
    const s = parseDingTalkWebhook('DINGTALK_WEBHOOK', `\ufeff${clean}\u00a0`, { anyHost: false }, problems);
    expect(problems).toEqual([]);
    expect(s?.reveal()).toBe(clean);
  });
});
