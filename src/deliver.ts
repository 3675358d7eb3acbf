import { createHash } from 'node:crypto';
import type { Budget } from './budget.js';
import { describeError, IntegrationError } from './errors.js';
import type { Logger } from './log.js';
import type { Notifier } from './notify/types.js';
import { renderFor } from './render/index.js';
import { withRetry } from './retry.js';
import type { Route } from './routing.js';
import { OUTBOX_MAX_AGE_MS, type ChannelPause, type OutboxEntry } from './state/checkpoint.js';

/** One channel of one route: where a message goes (`targetId`), and the route that says how it reads there. */
export interface Target {
  id: string;
  route: Route;
  notifier: Notifier;
}

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
  /** By target id. */
  channels: Record<string, ChannelResult>;
  /** Alerts given up after OUTBOX_MAX_AGE_MS without any channel accepting them. */
  expired: number;
}

/** The same key for the same target and set of alerts, so a retried message can be recognised as a repeat. */
export function idempotencyKey(target: string, ids: readonly string[]): string {
  return createHash('sha256').update(target).update('\n').update([...ids].sort().join('\n')).digest('hex').slice(0, 32);
}

/** A target's pause if it still holds: not run out, and the target's webhook or secret unchanged (that may be the fix). */
export function pauseInForce(p: ChannelPause | undefined, target: Target, now: number): ChannelPause | undefined {
  return p && p.fingerprint === target.notifier.fingerprint && p.until > now ? p : undefined;
}

/**
 * Sends one message per target holding every alert still pending for that target, in its route's language, time zone
 * and mentions, and returns the outbox with those alerts marked delivered on the targets that accepted. A target that
 * fails keeps its alerts pending for the next run. Alerts pending only for targets no longer configured, or older than
 * OUTBOX_MAX_AGE_MS, are removed and logged.
 */
export async function deliver(
  outbox: readonly OutboxEntry[],
  deps: { targets: readonly Target[]; now: number; budget: Budget; log: Logger; pauses?: Record<string, ChannelPause> },
): Promise<{ outbox: OutboxEntry[]; report: DeliveryReport; pauses: Record<string, ChannelPause> }> {
  const configured = new Set(deps.targets.map((t) => t.id));
  const report: DeliveryReport = { channels: {}, expired: 0 };
  const pauses: Record<string, ChannelPause> = {};
  for (const t of deps.targets) {
    const p = pauseInForce(deps.pauses?.[t.id], t, deps.now);
    if (p) pauses[t.id] = p;
  }
  let entries = outbox.map((e) => ({ ...e, pending: e.pending.filter((c) => configured.has(c)) }));
  const unroutable = outbox.filter((e, i) => e.pending.length > 0 && entries[i]!.pending.length === 0);
  if (unroutable.length > 0) {
    deps.log.warn('alerts pending only for channels no longer configured were removed', {
      count: unroutable.length, targets: [...new Set(unroutable.flatMap((e) => e.pending))], ids: unroutable.slice(0, 20).map((e) => e.alert.id),
    });
  }

  for (const target of deps.targets) {
    const due = entries.filter((e) => e.pending.includes(target.id));
    if (due.length === 0) continue;
    const paused = pauses[target.id];
    if (paused) {
      report.channels[target.id] = { delivered: 0, pending: due.length, error: paused.error, pausedUntil: paused.until };
      deps.log.info('channel paused; its alerts wait', { target: target.id, alerts: due.length, until: new Date(paused.until).toISOString() });
      continue;
    }
    const alerts = due.map((e) => e.alert);
    const { route, notifier } = target;
    const payload = renderFor(notifier.channel, alerts, route, route.mentions);
    const key = idempotencyKey(target.id, alerts.map((a) => a.id));
    const ids = new Set(alerts.map((a) => a.id));
    try {
      await withRetry((timeoutMs) => notifier.send(payload, { timeoutMs, idempotencyKey: key }), {
        budget: deps.budget, log: deps.log, label: `post to ${target.id}`, attemptTimeoutMs: 10_000, retries: 3,
      });
      entries = entries.map((e) => (ids.has(e.alert.id) ? { ...e, pending: e.pending.filter((c) => c !== target.id) } : e));
      report.channels[target.id] = { delivered: alerts.length, pending: 0 };
      deps.log.info('delivered', { target: target.id, alerts: alerts.length });
    } catch (err) {
      const error = describeError(err);
      entries = entries.map((e) => (ids.has(e.alert.id) ? { ...e, attempts: e.attempts + 1, lastError: `${target.id}: ${error}` } : e));
      const errorKind = err instanceof IntegrationError ? err.kind : undefined;
      const pause = pauseFor(err, deps.now);
      const result: ChannelResult = { delivered: 0, pending: alerts.length, error, errorKind };
      if (pause) {
        pauses[target.id] = { until: pause, error, fingerprint: notifier.fingerprint };
        result.pausedUntil = pause;
      }
      report.channels[target.id] = result;
      // The same refusal again after a pause is not news: an error line the first time, a warning after.
      const repeated = deps.pauses?.[target.id]?.error === error;
      deps.log[repeated ? 'warn' : 'error'](pause ? 'delivery refused; the channel is paused and its alerts wait' : 'delivery failed; alerts stay pending for the next run', {
        target: target.id, alerts: alerts.length, error, pausedUntil: pause ? new Date(pause).toISOString() : undefined,
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
