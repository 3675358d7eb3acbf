import { describe, expect, it } from 'vitest';
import { ContentRefusedError, IntegrationError, MessageTooLargeError } from '../../../src/lib/errors.js';
import { dingtalkOutcome, DINGTALK_BLOCK_MS } from '../../../src/notify/dingtalk.js';
import { slackOutcome } from '../../../src/notify/slack.js';
import { namesContent } from '../../../src/notify/split.js';

/** The facts of an error an operator reads in the log and the summary. */
const facts = (e: IntegrationError | undefined) =>
  e && {
    message: e.message,
    kind: e.kind,
    service: e.service,
    status: e.status,
    code: e.code,
    retryAfterMs: e.retryAfterMs,
  };

describe('DingTalk answers, as the operator reads them', () => {
  it.each([
    [302, 'DingTalk is throttling this robot', 'retryable', '302', DINGTALK_BLOCK_MS],
    [429, 'DingTalk is throttling this robot', 'retryable', '429', DINGTALK_BLOCK_MS],
    [500, 'DingTalk answered HTTP 500', 'retryable', undefined, undefined],
    [401, 'DingTalk refused the webhook (HTTP 401): check DINGTALK_WEBHOOK', 'config', undefined, undefined],
    [403, 'DingTalk refused the webhook (HTTP 403): check DINGTALK_WEBHOOK', 'config', undefined, undefined],
    [404, 'DingTalk refused the webhook (HTTP 404): check DINGTALK_WEBHOOK', 'config', undefined, undefined],
    [400, 'DingTalk answered HTTP 400', 'permanent', undefined, undefined],
    [499, 'DingTalk answered HTTP 499', 'permanent', undefined, undefined],
  ])('HTTP %i: %s', (status, message, kind, code, retryAfterMs) => {
    expect(facts(dingtalkOutcome(status, '{"errcode":0}'))).toEqual({
      message,
      kind,
      service: 'dingtalk',
      status,
      code,
      retryAfterMs,
    });
  });

  it.each([
    [
      130101,
      'send too fast',
      'DingTalk is throttling this robot (130101 send too fast)',
      'retryable',
      DINGTALK_BLOCK_MS,
    ],
    [
      310000,
      'sign not match',
      "DingTalk refused the message at the robot's security check (310000 sign not match): check DINGTALK_SECRET, the robot's custom keywords and its IP allow-list",
      'config',
      undefined,
    ],
    [
      300001,
      'token is not exist',
      'DingTalk does not know this robot (300001 token is not exist): check DINGTALK_WEBHOOK',
      'config',
      undefined,
    ],
    [
      300005,
      'token is not exist',
      'DingTalk does not know this robot (300005 token is not exist): check DINGTALK_WEBHOOK',
      'config',
      undefined,
    ],
    [
      40035,
      '缺少参数 access_token',
      'DingTalk does not know this robot (40035 缺少参数 access_token): check DINGTALK_WEBHOOK',
      'config',
      undefined,
    ],
    [
      400102,
      'robot stopped',
      'DingTalk does not know this robot (400102 robot stopped): check DINGTALK_WEBHOOK',
      'config',
      undefined,
    ],
    [400199, 'other', 'DingTalk refused the message (400199 other)', 'permanent', undefined],
  ])('errcode %i: %s', (errcode, errmsg, message, kind, retryAfterMs) => {
    expect(facts(dingtalkOutcome(200, JSON.stringify({ errcode, errmsg })))).toEqual({
      message,
      kind,
      service: 'dingtalk',
      status: 200,
      code: String(errcode),
      retryAfterMs,
    });
  });

  it('reads an errcode given as text like one given as a number', () => {
    expect(dingtalkOutcome(200, '{"errcode":"0","errmsg":"ok"}')).toBeUndefined();
    expect(facts(dingtalkOutcome(200, '{"errcode":"310000","errmsg":"keywords not in content"}'))).toMatchObject({
      kind: 'config',
      code: '310000',
    });
  });

  it('an answer without an errcode is malformed, and one that is not JSON is too: both may pass on a retry', () => {
    expect(facts(dingtalkOutcome(200, '{"errmsg":"ok"}'))).toEqual({
      message: 'DingTalk answered without an errcode',
      kind: 'retryable',
      service: 'dingtalk',
      status: 200,
      code: 'MalformedResponse',
      retryAfterMs: undefined,
    });
    expect(facts(dingtalkOutcome(200, '<html>'))).toEqual({
      message: 'DingTalk answered with something that is not JSON',
      kind: 'retryable',
      service: 'dingtalk',
      status: 200,
      code: 'NonJsonResponse',
      retryAfterMs: undefined,
    });
  });

  it("quotes at most 200 characters of DingTalk's own message, and nothing when it sent none", () => {
    const long = dingtalkOutcome(200, JSON.stringify({ errcode: 400199, errmsg: 'x'.repeat(500) }));
    expect(long?.message).toBe(`DingTalk refused the message (400199 ${'x'.repeat(200)})`);
    expect(dingtalkOutcome(200, JSON.stringify({ errcode: 400199, errmsg: { nested: 1 } }))?.message).toBe(
      'DingTalk refused the message (400199 )',
    );
  });

  it('a refusal for size names itself', () => {
    const e = dingtalkOutcome(200, '{"errcode":460101,"errmsg":"message too long"}', 21_000);
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(facts(e)).toEqual({
      message: 'DingTalk refused the message as too large (460101 message too long)',
      kind: 'permanent',
      service: 'dingtalk',
      status: 200,
      code: '460101',
      retryAfterMs: undefined,
    });
  });
});

describe('Slack answers, as the operator reads them', () => {
  it.each([
    [500, 'rollup_error', 'Slack answered HTTP 500 (rollup_error)', 'retryable', 'rollup_error'],
    [503, '', 'Slack answered HTTP 503 (503)', 'retryable', '503'],
    [
      499,
      'weird',
      'Slack refused the webhook (HTTP 499 weird): check SLACK_WEBHOOK and that its channel still exists',
      'config',
      'weird',
    ],
    [
      400,
      'invalid_payload',
      'Slack refused the message as malformed (invalid_payload)',
      'permanent',
      'invalid_payload',
    ],
    [
      400,
      'too_many_attachments',
      'Slack refused the message as malformed (too_many_attachments)',
      'permanent',
      'too_many_attachments',
    ],
    [400, ' no_text \n', 'Slack refused the message as malformed (no_text)', 'permanent', 'no_text'],
    [
      404,
      'no_service',
      'Slack refused the webhook (HTTP 404 no_service): check SLACK_WEBHOOK and that its channel still exists',
      'config',
      'no_service',
    ],
    [
      400,
      'msg_blocks_too_long',
      'Slack refused the message as too large (msg_blocks_too_long)',
      'permanent',
      'msg_blocks_too_long',
    ],
  ])('HTTP %i %j: %s', (status, body, message, kind, code) => {
    expect(facts(slackOutcome({ status, body, headers: {} }, 0))).toEqual({
      message,
      kind,
      service: 'slack',
      status,
      code,
      retryAfterMs: undefined,
    });
  });

  it('a rate limit waits as long as Retry-After says, from the moment given, else a second', () => {
    expect(facts(slackOutcome({ status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } }, 0))).toEqual({
      message: 'Slack is rate limiting this webhook',
      kind: 'retryable',
      service: 'slack',
      status: 429,
      code: 'rate_limited',
      retryAfterMs: 30_000,
    });
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(
      slackOutcome(
        { status: 429, body: 'rate_limited', headers: { 'retry-after': 'Tue, 01 Dec 2026 10:00:45 GMT' } },
        now,
      )?.retryAfterMs,
    ).toBe(45_000);
    expect(slackOutcome({ status: 429, body: '', headers: { 'retry-after': 'soon' } }, now)).toMatchObject({
      retryAfterMs: 1_000,
      code: '429',
    });
  });

  it("keeps at most 100 characters of Slack's answer as the code", () => {
    expect(slackOutcome({ status: 404, body: 'y'.repeat(300), headers: {} }, 0)?.code).toBe('y'.repeat(100));
  });
});

describe('which refusals name the message and which the channel', () => {
  const slack = (status: number, body: string) => slackOutcome({ status, body, headers: {} }, 0);
  const ding = (errcode: number, errmsg: string) => dingtalkOutcome(200, JSON.stringify({ errcode, errmsg }));

  it.each([
    ['Slack invalid_payload', slack(400, 'invalid_payload')],
    ['Slack invalid_attachments', slack(400, 'invalid_attachments')],
    ['Slack no_text', slack(400, 'no_text')],
    ['Slack too_many_attachments', slack(400, 'too_many_attachments')],
    ['DingTalk 40035 without the token named', ding(40035, '缺少参数 json')],
    ['DingTalk an errcode not in our list', ding(499999, 'content not allowed')],
  ])('%s: the content (the message is split, the channel is not paused)', (_, e) => {
    expect(e).toBeInstanceOf(ContentRefusedError);
    expect(namesContent(e)).toBe(true);
  });

  it.each([
    ['Slack channel_not_found', slack(404, 'channel_not_found')],
    ['Slack channel_is_archived', slack(410, 'channel_is_archived')],
    ['Slack invalid_token', slack(403, 'invalid_token')],
    ['Slack no_service', slack(404, 'no_service')],
    ['DingTalk 300001 token is not exist', ding(300001, 'token is not exist')],
    ['DingTalk 40035 missing access_token', ding(40035, '缺少参数 access_token')],
    ['DingTalk 310000 keywords not in content', ding(310000, 'keywords not in content')],
    ['DingTalk 130101 send too fast', ding(130101, 'send too fast')],
  ])('%s: the channel (it pauses or waits as before)', (_, e) => {
    expect(e).not.toBeInstanceOf(ContentRefusedError);
    expect(namesContent(e)).toBe(false);
  });

  it('a size no rendering got under, and a server error, may name the message: a split tells', () => {
    expect(namesContent(slack(400, 'msg_blocks_too_long'))).toBe(true);
    expect(namesContent(slack(500, 'rollup_error'))).toBe(true);
    expect(namesContent(new Error('socket hang up'))).toBe(false);
  });
});
