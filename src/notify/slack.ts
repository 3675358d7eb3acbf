import type { Clock } from '../lib/budget.js';
import { ContentRefusedError, IntegrationError, MessageTooLargeError } from '../lib/errors.js';
import type { Revealable } from '../lib/secret.js';
import { allBlocks, type SlackMessage } from '../render/slack.js';
import { postJson, type HttpAnswer } from './http.js';
import { parseRetryAfter } from './retry-after.js';
import { fingerprintOf, type Notifier } from './types.js';

// Incoming-webhook error bodies are plain strings (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-
// incoming-webhooks; docs.slack.dev "Sending messages using incoming webhooks"). These name the message, not the hook:
// another message to the same hook can pass. Every other 4xx (channel_not_found, channel_is_archived, invalid_token,
// no_service, action_prohibited...) names the hook or its channel.
const CONTENT = new Set(['invalid_payload', 'invalid_attachments', 'too_many_attachments', 'no_text']);
// Blocks past a limit (count, a section's length, the undocumented total) come back as one of these. Messages are
// rendered from valid blocks only, so either means "too large": a smaller rendering can pass.
const TOO_LARGE = new Set(['msg_blocks_too_long', 'invalid_blocks']);

/**
 * Reads Slack's answer: 200 "ok" is success (undefined); anything else is the error to throw. A 429 waits as long as
 * its Retry-After says, counted from `now`. A refusal for size is a `MessageTooLargeError` carrying `sent`, the
 * characters of blocks sent.
 */
export function slackOutcome(answer: HttpAnswer, now: number, sent?: number): IntegrationError | undefined {
  const { status, body, headers } = answer;
  if (status === 200) return undefined;
  const code = body.trim().slice(0, 100) || String(status);
  const base = { service: 'slack' as const, status, code };
  if (status === 429) {
    const wait = parseRetryAfter(headers['retry-after'], now) ?? 1_000;
    return new IntegrationError('Slack is rate limiting this webhook', {
      ...base,
      kind: 'retryable',
      retryAfterMs: wait,
    });
  }
  if (status >= 500)
    return new IntegrationError(`Slack answered HTTP ${status} (${code})`, { ...base, kind: 'retryable' });
  if (TOO_LARGE.has(code))
    return new MessageTooLargeError(`Slack refused the message as too large (${code})`, { ...base, sent });
  if (CONTENT.has(code)) return new ContentRefusedError(`Slack refused the message as malformed (${code})`, base);
  return new IntegrationError(
    `Slack refused the webhook (HTTP ${status} ${code}): check SLACK_WEBHOOK and that its channel still exists`,
    { ...base, kind: 'config' },
  );
}

/**
 * The Slack incoming-webhook integration. Slack has no idempotency key: a message whose answer was lost may arrive
 * twice; recording only what was delivered (the owed rows) keeps that to such lost answers.
 */
export function createSlackNotifier(opts: { webhook: Revealable; clock: Clock }): Notifier<SlackMessage> {
  return {
    channel: 'slack',
    fingerprint: fingerprintOf(opts.webhook),
    async send(payload, { timeoutMs }) {
      const answer = await postJson('slack', opts.webhook, payload, timeoutMs);
      const err = slackOutcome(answer, opts.clock.now(), JSON.stringify(allBlocks(payload)).length);
      if (err) throw err;
    },
  };
}
