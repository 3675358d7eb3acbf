import { createHmac } from 'node:crypto';
import type { Clock } from '../lib/budget.js';
import { ContentRefusedError, IntegrationError, MessageTooLargeError } from '../lib/errors.js';
import { Secret, type Revealable } from '../lib/secret.js';
import type { DingTalkMarkdown } from '../render/dingtalk.js';
import { postJson } from './http.js';
import { fingerprintOf, type Notifier } from './types.js';

// errcodes from DingTalk's custom-robot docs and observed answers: 130101 "send too fast" (20 messages a minute per
// robot, then a 10-minute block); 310000 security settings (keyword, signature, timestamp or IP allow-list);
// 300001/300005 an unknown access token; 40035 "缺少参数" (a missing parameter): the access token when its errmsg
// names it, else the message (a missing or malformed field), which another message can pass.
// Any other errcode is read as a refusal of this message's content: the sender then splits the message, and a channel
// that refuses everything shows itself when even the one-line notice of a refused alert is refused (then it pauses).
const THROTTLED = 130101;
const SECURITY = 310000;
const TOKEN = new Set([300001, 300005, 400102]);
const MISSING = 40035;
// 460101 "message too long, exceed 20000 bytes": not in DingTalk's documentation; robots answer it for a larger body
// (Le0nsec/SecCrawler#12, timonwong/prometheus-webhook-dingtalk#30), and so does the local receiver.
const TOO_LONG = 460101;
/** After "send too fast" DingTalk blocks the robot for up to 10 minutes. */
export const DINGTALK_BLOCK_MS = 10 * 60_000;

/** `timestamp` and `sign` query parameters: Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)). */
export function signDingTalk(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

function signedUrl(webhook: Revealable, secret: Revealable | undefined, now: number): Revealable {
  if (!secret) return webhook;
  const url = new URL(webhook.reveal());
  url.searchParams.set('timestamp', String(now));
  url.searchParams.set('sign', signDingTalk(secret.reveal(), now));
  return new Secret(url.toString());
}

/** The error for an HTTP status other than 200: DingTalk answers 200 to every message it reads. */
function statusOutcome(status: number): IntegrationError {
  const base = { service: 'dingtalk' as const, status };
  // A throttled robot is answered with a redirect (not followed) or a 429, and stays blocked for up to 10 minutes.
  if (status === 302 || status === 429) {
    return new IntegrationError('DingTalk is throttling this robot', {
      ...base,
      kind: 'retryable',
      code: String(status),
      retryAfterMs: DINGTALK_BLOCK_MS,
    });
  }
  if (status >= 500) return new IntegrationError(`DingTalk answered HTTP ${status}`, { ...base, kind: 'retryable' });
  if (status === 404 || status === 401 || status === 403) {
    return new IntegrationError(`DingTalk refused the webhook (HTTP ${status}): check DINGTALK_WEBHOOK`, {
      ...base,
      kind: 'config',
    });
  }
  return new IntegrationError(`DingTalk answered HTTP ${status}`, { ...base, kind: 'permanent' });
}

/** The error an HTTP 200 answer's `errcode` stands for, or undefined for 0 (accepted). */
function errcodeOutcome(
  parsed: { errcode?: unknown; errmsg?: unknown },
  sent: number | undefined,
): IntegrationError | undefined {
  const base = { service: 'dingtalk' as const, status: 200 };
  const code = typeof parsed.errcode === 'number' ? parsed.errcode : Number(parsed.errcode);
  if (code === 0) return undefined;
  const msg = typeof parsed.errmsg === 'string' ? parsed.errmsg.slice(0, 200) : '';
  const fields = { ...base, code: String(parsed.errcode) };
  if (!Number.isFinite(code))
    return new IntegrationError('DingTalk answered without an errcode', {
      ...base,
      kind: 'retryable',
      code: 'MalformedResponse',
    });
  if (code === THROTTLED) {
    return new IntegrationError(`DingTalk is throttling this robot (${code} ${msg})`, {
      ...fields,
      kind: 'retryable',
      retryAfterMs: DINGTALK_BLOCK_MS,
    });
  }
  if (code === TOO_LONG)
    return new MessageTooLargeError(`DingTalk refused the message as too large (${code} ${msg})`, { ...fields, sent });
  if (code === SECURITY) {
    return new IntegrationError(
      `DingTalk refused the message at the robot's security check (${code} ${msg}): ` +
        "check DINGTALK_SECRET, the robot's custom keywords and its IP allow-list",
      { ...fields, kind: 'config' },
    );
  }
  if (TOKEN.has(code) || (code === MISSING && /access_token/i.test(msg))) {
    return new IntegrationError(`DingTalk does not know this robot (${code} ${msg}): check DINGTALK_WEBHOOK`, {
      ...fields,
      kind: 'config',
    });
  }
  return new ContentRefusedError(`DingTalk refused the message (${code} ${msg})`, fields);
}

/**
 * Reads DingTalk's answer: HTTP 200 carries failures as a non-zero `errcode`; undefined means accepted, anything else
 * is the error to throw. A refusal for size is a `MessageTooLargeError` carrying `sent`, the body's size in bytes.
 */
export function dingtalkOutcome(status: number, body: string, sent?: number): IntegrationError | undefined {
  if (status !== 200) return statusOutcome(status);
  let parsed: { errcode?: unknown; errmsg?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return new IntegrationError('DingTalk answered with something that is not JSON', {
      service: 'dingtalk',
      status,
      kind: 'retryable',
      code: 'NonJsonResponse',
    });
  }
  return errcodeOutcome(parsed, sent);
}

/** The DingTalk custom-robot integration: signs each request when a secret is set, maps errcodes to error kinds. */
export function createDingTalkNotifier(opts: {
  webhook: Revealable;
  secret?: Revealable;
  clock: Clock;
}): Notifier<DingTalkMarkdown> {
  return {
    channel: 'dingtalk',
    fingerprint: fingerprintOf(opts.webhook, opts.secret),
    async send(payload, { timeoutMs, idempotencyKey }) {
      const url = signedUrl(opts.webhook, opts.secret, opts.clock.now());
      // msgUuid lets DingTalk drop a repeat of a message whose answer we never saw.
      const body = { ...payload, msgUuid: idempotencyKey };
      const answer = await postJson('dingtalk', url, body, timeoutMs);
      const err = dingtalkOutcome(answer.status, answer.body, Buffer.byteLength(JSON.stringify(body), 'utf8'));
      if (err) throw err;
    },
  };
}
