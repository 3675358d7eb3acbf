import { createHash } from 'node:crypto';
import type { Budget } from './budget.js';
import type { ChannelName, Lang } from './config.js';
import { describeError, IntegrationError } from './errors.js';
import type { Logger } from './log.js';
import type { Notifier } from './notify/types.js';
import { renderFor, type Mentions } from './render/index.js';
import { withRetry } from './retry.js';
import { OUTBOX_MAX_AGE_MS, type ChannelPause, type OutboxEntry } from './state/checkpoint.js';

export interface ChannelResult {
  /** Alerts the channel accepted in this run's message. */
  delivered: number;
  /** Alerts still waiting for this channel after this run. */
  pending: number;
  error?: string;
  errorKind?: IntegrationError['kind'];
  /** Set when the channel is paused: its alerts wait until then (or until its configuration changes). */
  pausedUntil?: number;
}

/** A channel that refused for good is tried again after this long, or as soon as its webhook or secret changes. */
export const PAUSE_AFTER_REFUSAL_MS = 30 * 60_000;

export interface DeliveryReport {
  channels: Partial<Record<ChannelName, ChannelResult>>;
  /** Alerts given up after OUTBOX_MAX_AGE_MS without any channel accepting them. */
  expired: number;
}

/** The same key for the same channel and set of alerts, so a retried message can be recognised as a repeat. */
export function idempotencyKey(channel: ChannelName, ids: readonly string[]): string {
  return createHash('sha256').update(channel).update('\n').update([...ids].sort().join('\n')).digest('hex').slice(0, 32);
}

/**
 * Sends one message per channel holding every alert still pending for that channel, and returns the outbox with
 * those alerts marked delivered on the channels that accepted. A channel that fails keeps its alerts pending for the
 * next run. Alerts pending for a channel no longer configured, or older than OUTBOX_MAX_AGE_MS, are removed and logged.
 */
export async function deliver(
  outbox: readonly OutboxEntry[],
  deps: { notifiers: readonly Notifier[]; lang: Lang; now: number; budget: Budget; log: Logger; pauses?: Partial<Record<ChannelName, ChannelPause>>; mentions?: Mentions },
): Promise<{ outbox: OutboxEntry[]; report: DeliveryReport; pauses: Partial<Record<ChannelName, ChannelPause>> }> {
  const configured = new Set(deps.notifiers.map((n) => n.channel));
  const report: DeliveryReport = { channels: {}, expired: 0 };
  const pauses: Partial<Record<ChannelName, ChannelPause>> = {};
  for (const n of deps.notifiers) {
    const p = deps.pauses?.[n.channel];
    // A changed webhook or secret may be the fix: try it now.
    if (p && p.fingerprint === n.fingerprint && p.until > deps.now) pauses[n.channel] = p;
  }
  let entries = outbox.map((e) => ({ ...e, pending: e.pending.filter((c) => configured.has(c)) }));
  const unroutable = outbox.filter((e, i) => e.pending.length > 0 && entries[i]!.pending.length === 0);
  if (unroutable.length > 0) deps.log.warn('alerts pending for a channel no longer configured were removed', { count: unroutable.length, ids: unroutable.slice(0, 20).map((e) => e.alert.id) });

  for (const notifier of deps.notifiers) {
    const due = entries.filter((e) => e.pending.includes(notifier.channel));
    if (due.length === 0) continue;
    const paused = pauses[notifier.channel];
    if (paused) {
      report.channels[notifier.channel] = { delivered: 0, pending: due.length, error: paused.error, pausedUntil: paused.until };
      deps.log.info('channel paused; its alerts wait', { channel: notifier.channel, alerts: due.length, until: new Date(paused.until).toISOString() });
      continue;
    }
    const alerts = due.map((e) => e.alert);
    const payload = renderFor(notifier.channel, alerts, deps.lang, deps.mentions);
    const key = idempotencyKey(notifier.channel, alerts.map((a) => a.id));
    try {
      await withRetry((timeoutMs) => notifier.send(payload, { timeoutMs, idempotencyKey: key }), {
        budget: deps.budget, log: deps.log, label: `post to ${notifier.channel}`, attemptTimeoutMs: 10_000, retries: 3,
      });
      const ids = new Set(alerts.map((a) => a.id));
      entries = entries.map((e) => (ids.has(e.alert.id) ? { ...e, pending: e.pending.filter((c) => c !== notifier.channel) } : e));
      report.channels[notifier.channel] = { delivered: alerts.length, pending: 0 };
      deps.log.info('delivered', { channel: notifier.channel, alerts: alerts.length });
    } catch (err) {
      const error = describeError(err);
      const ids = new Set(alerts.map((a) => a.id));
      entries = entries.map((e) => (ids.has(e.alert.id) ? { ...e, attempts: e.attempts + 1, lastError: `${notifier.channel}: ${error}` } : e));
      const errorKind = err instanceof IntegrationError ? err.kind : undefined;
      const pause = pauseFor(err, deps.now);
      const result: ChannelResult = { delivered: 0, pending: alerts.length, error, errorKind };
      if (pause) {
        pauses[notifier.channel] = { until: pause, error, fingerprint: notifier.fingerprint };
        result.pausedUntil = pause;
      }
      report.channels[notifier.channel] = result;
      // The same refusal again after a pause is not news: an error line the first time, a warning after.
      const repeated = deps.pauses?.[notifier.channel]?.error === error;
      deps.log[repeated ? 'warn' : 'error'](pause ? 'delivery refused; the channel is paused and its alerts wait' : 'delivery failed; alerts stay pending for the next run', {
        channel: notifier.channel, alerts: alerts.length, error, pausedUntil: pause ? new Date(pause).toISOString() : undefined,
      });
    }
  }

  const expired = entries.filter((e) => e.pending.length > 0 && deps.now - e.detectedAt > OUTBOX_MAX_AGE_MS);
  if (expired.length > 0) {
    report.expired = expired.length;
    deps.log.error('giving up alerts no channel accepted for 7 days', { count: expired.length, ids: expired.slice(0, 20).map((e) => e.alert.id), lastError: expired[0]?.lastError });
  }
  const left = entries.filter((e) => e.pending.length > 0 && deps.now - e.detectedAt <= OUTBOX_MAX_AGE_MS);
  return { outbox: left, report, pauses };
}

/**
 * Until when a channel should rest after `err`: a refusal that cannot pass on a retry (a wrong token, a deleted
 * channel, a malformed payload) for PAUSE_AFTER_REFUSAL_MS; a server-requested wait the run could not sit out
 * (DingTalk's 10-minute block, a long Retry-After) for that wait. Other failures are retried next run.
 */
function pauseFor(err: unknown, now: number): number | undefined {
  if (!(err instanceof IntegrationError)) return undefined;
  if (err.kind === 'config' || err.kind === 'permanent') return now + PAUSE_AFTER_REFUSAL_MS;
  if (err.retryAfterMs !== undefined && err.retryAfterMs > 0) return now + err.retryAfterMs;
  return undefined;
}
