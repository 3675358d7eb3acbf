import { createHash } from 'node:crypto';
import type { Revealable } from '../lib/secret.js';
import type { ChannelName } from '../model/lang.js';

export interface SendOptions {
  timeoutMs: number;
  /** The same for every retry of the same message, so a receiver that supports it can drop repeats. */
  idempotencyKey: string;
}

/**
 * A webhook integration. `send` resolves when the platform accepted the message and throws an `IntegrationError`
 * saying whether a retry could help; it never retries itself.
 */
export interface Notifier<P = unknown> {
  readonly channel: ChannelName;
  /** Changes when the channel's configuration (webhook, secret) changes; a hash, never the values. */
  readonly fingerprint: string;
  send(payload: P, opts: SendOptions): Promise<void>;
}

/** A short hash of a channel's secrets, to notice that an operator changed them. */
export function fingerprintOf(...secrets: (Revealable | undefined)[]): string {
  const h = createHash('sha256');
  for (const s of secrets) h.update(s?.reveal() ?? '').update('\n');
  return h.digest('hex').slice(0, 16);
}
