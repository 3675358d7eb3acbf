import { createHash } from 'node:crypto';
import type { Budget } from '../lib/budget.js';
import { MessageTooLargeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry, type RetryOptions } from '../lib/retry.js';
import type { Route } from '../model/route.js';
import type { MessageContent } from '../render/content.js';
import { MAX_SHRINK, renderFor } from '../render/index.js';
import type { Notifier } from './types.js';

/** One channel of one route: where a message goes (`targetId`), and the route that says how it reads there. */
export interface Target {
  id: string;
  route: Route;
  notifier: Notifier;
}

/** What posting a message needs besides the message. */
export interface PostOptions {
  budget: Budget;
  log: Logger;
  retries?: number;
  sleep?: RetryOptions['sleep'];
  /** The first shrink step to render at (0, the richest, unless told). */
  shrinkFrom?: number;
}

/** The same key for the same target and set of alerts, so a retried message can be recognised as a repeat. */
export function idempotencyKey(target: string, ids: readonly string[]): string {
  const h = createHash('sha256').update(target).update('\n');
  // Fed one id at a time (the same digest as the ids joined by newlines): 100,000 ids joined would be one 5 MB string.
  [...ids].sort().forEach((id, i) => h.update(i === 0 ? id : `\n${id}`));
  return h.digest('hex').slice(0, 32);
}

/**
 * Called once a channel accepted a message, with the message's idempotency key and the keys of the owed rows it
 * covered, before anything else is written: what it records is all that stands between an accepted message and its
 * being sent again.
 */
export type OnAccepted = (m: { message: string; keys: readonly string[] }) => Promise<void>;

/**
 * Posts the message, with retries; one refused as too large is rendered smaller and posted again, down to the
 * smallest rendering. Resolves, with the idempotency key it went under, once the platform accepted it; throws the
 * last refusal otherwise.
 */
export async function postContent(target: Target, content: MessageContent, opts: PostOptions): Promise<string> {
  const key = idempotencyKey(target.id, content.ids);
  const from = opts.shrinkFrom ?? 0;
  // Our size budgets are below the platforms' limits, but those limits are partly undocumented: a message refused
  // as too large is rendered smaller and sent again (a smaller message that arrives beats a rich one that waits).
  for (let shrink = from; ; shrink++) {
    const payload = renderFor(target.notifier.channel, content, target.route, {
      mentions: target.route.mentions,
      escalate: target.route.escalate,
      shrink,
    });
    try {
      // A fresh key per step: whether DingTalk remembers a refused msgUuid is not documented.
      const sent = shrink === 0 ? key : `${key}-s${shrink}`;
      await postPayload(target, payload, sent, opts);
      if (shrink > from)
        opts.log.warn('message refused as too large; delivered a smaller rendering', { target: target.id, shrink });
      return sent;
    } catch (err) {
      if (!(err instanceof MessageTooLargeError) || shrink >= MAX_SHRINK) throw err;
    }
  }
}

/** Posts one rendered payload under `key`, retrying what may pass on a retry within the run's time. */
export async function postPayload(target: Target, payload: unknown, key: string, opts: PostOptions): Promise<void> {
  await withRetry((timeoutMs) => target.notifier.send(payload, { timeoutMs, idempotencyKey: key }), {
    budget: opts.budget,
    log: opts.log,
    label: `post to ${target.id}`,
    attemptTimeoutMs: 10_000,
    retries: opts.retries ?? 3,
    sleep: opts.sleep,
  });
}
