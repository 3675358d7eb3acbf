import { describe, expect, it } from 'vitest';
import { MessageTooLargeError } from '../../../src/lib/errors.js';
import { dingtalkOutcome, DINGTALK_BLOCK_MS, signDingTalk } from '../../../src/notify/dingtalk.js';
import { parseRetryAfter } from '../../../src/notify/retry-after.js';
import { slackOutcome } from '../../../src/notify/slack.js';

describe('DingTalk answers', () => {
  it.each([
    [200, '{"errcode":0,"errmsg":"ok"}', undefined, undefined],
    [200, '{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}', 'retryable', DINGTALK_BLOCK_MS],
    [200, '{"errcode":310000,"errmsg":"sign not match"}', 'config', undefined],
    [200, '{"errcode":300001,"errmsg":"token is not exist"}', 'config', undefined],
    [200, '{"errcode":400199,"errmsg":"other"}', 'permanent', undefined],
    [200, '<html>', 'retryable', undefined],
    [302, '', 'retryable', DINGTALK_BLOCK_MS],
    [503, '', 'retryable', undefined],
    [404, '', 'config', undefined],
  ])('HTTP %i %s -> %s', (status, body, kind, wait) => {
    const e = dingtalkOutcome(status, body);
    expect(e?.kind).toBe(kind);
    expect(e?.retryAfterMs).toBe(wait);
  });
  it('tells a refusal for size apart, so the message can be rendered smaller instead of pausing the robot', () => {
    const e = dingtalkOutcome(200, '{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}', 20_480);
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).toMatchObject({ kind: 'permanent', code: '460101', sent: 20_480 });
    expect(dingtalkOutcome(200, '{"errcode":400199,"errmsg":"other"}')).not.toBeInstanceOf(MessageTooLargeError);
  });
  it('signs as DingTalk documents: HmacSHA256(secret, timestamp + "\\n" + secret), Base64', () => {
    expect(signDingTalk('SEC000', 1700000000000)).toBe('ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA=');
  });
});

describe('Slack answers', () => {
  it.each([
    [200, 'ok', {}, undefined, undefined],
    [429, 'rate_limited', { 'retry-after': '3' }, 'retryable', 3000],
    [429, 'rate_limited', {}, 'retryable', 1000],
    [500, 'rollup_error', {}, 'retryable', undefined],
    [400, 'invalid_payload', {}, 'permanent', undefined],
    [404, 'channel_not_found', {}, 'config', undefined],
    [410, 'channel_is_archived', {}, 'config', undefined],
    [403, 'invalid_token', {}, 'config', undefined],
  ])('HTTP %i %s -> %s', (status, body, headers, kind, wait) => {
    const e = slackOutcome({ status, body, headers }, 0);
    expect(e?.kind).toBe(kind);
    expect(e?.retryAfterMs).toBe(wait);
  });
});

describe('Slack refusals for size', () => {
  it.each(['msg_blocks_too_long', 'invalid_blocks'])('%s is a MessageTooLargeError carrying the size sent', (body) => {
    const e = slackOutcome({ status: 400, body, headers: {} }, 0, 12_345);
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).toMatchObject({ code: body, sent: 12_345 });
  });
  it('other refusals are not', () => {
    for (const body of ['invalid_payload', 'channel_not_found'])
      expect(slackOutcome({ status: 400, body, headers: {} }, 0)).not.toBeInstanceOf(MessageTooLargeError);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['5', 0, 5000],
    ['0.5', 0, 500],
    [' 7 ', 0, 7000],
    ['0', 0, 0],
    ['1.0005', 0, 1001],
    ['Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'), 10_000],
    ['Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:29:00 GMT'), 0],
    ['soon', 0, undefined],
    ['5 seconds', 0, undefined],
    ['x5', 0, undefined],
    ['', 0, undefined],
    ['  ', 0, undefined],
    [undefined, 0, undefined],
    [5, 0, undefined],
  ])('%j -> %j ms', (v, now, ms) => {
    expect(parseRetryAfter(v, now)).toBe(ms);
  });
});
