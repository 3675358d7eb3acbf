import type { ChannelName } from '../config.js';

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
  send(payload: P, opts: SendOptions): Promise<void>;
}
