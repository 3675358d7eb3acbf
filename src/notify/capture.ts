import type { ChannelName } from '../model/lang.js';
import type { Notifier } from './types.js';

/**
 * A notifier that accepts every message and hands it to `sink` instead of posting it: what a dry run delivers to, so
 * that it goes through exactly the delivery path a real run does.
 */
export function createCaptureNotifier(channel: ChannelName, sink: (payload: unknown) => void): Notifier {
  return {
    channel,
    fingerprint: 'dry-run',
    async send(payload) {
      sink(payload);
    },
  };
}
