import { IntegrationError } from '../lib/errors.js';
import type { ChannelPause } from '../model/state.js';
import type { Notifier } from './types.js';

/** A channel that refused for good is tried again after this long, or as soon as its webhook or secret changes. */
export const PAUSE_AFTER_REFUSAL_MS = 30 * 60_000;
/**
 * A target still failing this long after it began to be owed is tried less often than every run: each try reads all
 * it is owed (100,000 alerts after a burst: 100,000 rows, about 20 s), so a webhook dead for a week would cost that
 * every 5 minutes. The wait is a quarter of how long it has been owed, at most BACKOFF_MAX_MS; a change of its webhook
 * or secret ends the wait at once.
 */
export const BACKOFF_AFTER_MS = 20 * 60_000;
export const BACKOFF_MAX_MS = 60 * 60_000;

/**
 * A target's pause if it still holds: not run out, and the target's webhook or secret unchanged (that may be the
 * fix).
 */
export function pauseInForce(
  p: ChannelPause | undefined,
  target: { notifier: Pick<Notifier, 'fingerprint'> },
  now: number,
): ChannelPause | undefined {
  return p && p.fingerprint === target.notifier.fingerprint && p.until > now ? p : undefined;
}

/**
 * Until when a channel should rest after `err`: a refusal that cannot pass on a retry (a wrong token, a deleted
 * channel, a malformed payload) for PAUSE_AFTER_REFUSAL_MS; a server-requested wait the run could not sit out
 * (DingTalk's 10-minute block, a long Retry-After) for that wait. Other failures are retried next run, until the
 * target has been owed for BACKOFF_AFTER_MS: then after a quarter of that time, at most BACKOFF_MAX_MS.
 */
export function pauseFor(err: unknown, now: number, owedSince?: number): number | undefined {
  if (!(err instanceof IntegrationError)) return undefined;
  if (err.kind === 'config' || err.kind === 'permanent') return now + PAUSE_AFTER_REFUSAL_MS;
  const asked = err.retryAfterMs !== undefined && err.retryAfterMs > 0 ? now + err.retryAfterMs : undefined;
  const down = owedSince !== undefined ? now - owedSince : 0;
  const backoff = down >= BACKOFF_AFTER_MS ? now + Math.min(BACKOFF_MAX_MS, Math.round(down / 4)) : undefined;
  return asked === undefined ? backoff : backoff === undefined ? asked : Math.max(asked, backoff);
}
