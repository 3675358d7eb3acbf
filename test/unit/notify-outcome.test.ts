import { describe, expect, it } from 'vitest';
import { dingtalkOutcome, DINGTALK_BLOCK_MS, signDingTalk } from '../../src/notify/dingtalk.js';
import { parseRetryAfter } from '../../src/notify/retry-after.js';
import { slackOutcome } from '../../src/notify/slack.js';

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
  it('signs as DingTalk documents: HmacSHA256(secret, timestamp + "\\n" + secret), Base64', () => {
    expect(signDingTalk('SEC000', 1700000000000)).toBe('ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA=');
  });
});

describe('Slack answers', () => {
  it.each([
    [200, 'ok', {}, undefined, undefined],
    [429, 'rate_limited', { 'retry-after': '3' }, 'retryable', 3000],
    [500, 'rollup_error', {}, 'retryable', undefined],
    [400, 'invalid_payload', {}, 'permanent', undefined],
    [404, 'channel_not_found', {}, 'config', undefined],
    [410, 'channel_is_archived', {}, 'config', undefined],
    [403, 'invalid_token', {}, 'config', undefined],
  ])('HTTP %i %s -> %s', (status, body, headers, kind, wait) => {
    const e = slackOutcome(status, body, headers, 0);
    expect(e?.kind).toBe(kind);
    expect(e?.retryAfterMs).toBe(wait);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['5', 0, 5000], ['0.5', 0, 500], ['Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'), 10_000], ['soon', 0, undefined], [undefined, 0, undefined],
  ])('%j -> %j ms', (v, now, ms) => {
    expect(parseRetryAfter(v, now)).toBe(ms);
  });
});
