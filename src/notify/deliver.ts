import { createHash } from 'node:crypto';
import type { Budget } from '../lib/budget.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';
import type { ChannelPause, OutboxEntry } from '../model/checkpoint.js';
import type { Route } from '../model/route.js';
import { contentOf } from '../render/content.js';
import { renderFor } from '../render/index.js';
import type { Notifier } from './types.js';

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
/** An alert no channel accepted for this long is given up, with an error log and a count in the summary. */
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 3_600_000;

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

/** What delivery will do with an outbox, decided before anything is sent. */
export interface DeliveryPlan {
  /** Every target something is owed to, in target order, with what it is owed and the pause holding it back. */
  due: { target: Target; entries: OutboxEntry[]; paused?: ChannelPause }[];
  /** The outbox without entries owed only to targets no longer configured. */
  outbox: OutboxEntry[];
  /** Entries removed because every target they waited for is gone from the configuration. */
  unroutable: OutboxEntry[];
  /** Pauses still in force, by target id. */
  pauses: Record<string, ChannelPause>;
  /** Whether delivering now would do something: send to a target that is not paused, or drop unroutable entries. */
  actionable: boolean;
}

/**
 * Decides, without sending, what each target gets: the entries pending for it, unless a pause in force holds them.
 * Pending targets that are no longer configured are dropped from each entry; an entry left with none is removed.
 * Pure.
 */
export function planDelivery(outbox: readonly OutboxEntry[], targets: readonly Target[], pauses: Record<string, ChannelPause> | undefined, now: number): DeliveryPlan {
  const configured = new Set(targets.map((t) => t.id));
  const inForce: Record<string, ChannelPause> = {};
  for (const t of targets) {
    const p = pauseInForce(pauses?.[t.id], t, now);
    if (p) inForce[t.id] = p;
  }
  const kept: OutboxEntry[] = [];
  const unroutable: OutboxEntry[] = [];
  for (const e of outbox) {
    const pending = e.pending.filter((c) => configured.has(c));
    if (e.pending.length > 0 && pending.length === 0) unroutable.push(e);
    else kept.push(pending.length === e.pending.length ? e : { ...e, pending });
  }
  const due = targets
    .map((target) => ({ target, entries: kept.filter((e) => e.pending.includes(target.id)), paused: inForce[target.id] }))
    .filter((d) => d.entries.length > 0);
  return { due, outbox: kept, unroutable, pauses: inForce, actionable: due.some((d) => !d.paused) || unroutable.length > 0 };
}

/**
 * Carries out a delivery plan: one message per target holding every alert owed to it, in its route's language, time
 * zone and mentions; the outbox comes back with those alerts marked delivered on the targets that accepted. A target
 * that fails keeps its alerts pending for the next run (and is paused when its refusal cannot pass on a retry).
 * Entries still pending after OUTBOX_MAX_AGE_MS are given up and logged.
 */
export async function deliver(
  plan: DeliveryPlan,
  deps: {
    now: number;
    budget: Budget;
    log: Logger;
    previousPauses?: Record<string, ChannelPause>;
    /** Retries of a failed post within the run (default 3). */
    retries?: number;
  },
): Promise<{ outbox: OutboxEntry[]; report: DeliveryReport; pauses: Record<string, ChannelPause> }> {
  const report: DeliveryReport = { channels: {}, expired: 0 };
  const pauses = { ...plan.pauses };
  if (plan.unroutable.length > 0) {
    deps.log.warn('alerts pending only for channels no longer configured were removed', {
      count: plan.unroutable.length, targets: [...new Set(plan.unroutable.flatMap((e) => e.pending))], ids: plan.unroutable.slice(0, 20).map((e) => e.alert.id),
    });
  }
  let entries = plan.outbox;
  for (const { target, entries: owed, paused } of plan.due) {
    if (paused) {
      report.channels[target.id] = { delivered: 0, pending: owed.length, error: paused.error, pausedUntil: paused.until };
      deps.log.info('channel paused; its alerts wait', { target: target.id, alerts: owed.length, until: new Date(paused.until).toISOString() });
      continue;
    }
    const alerts = owed.map((e) => e.alert);
    const { route, notifier } = target;
    const content = contentOf(alerts);
    const payload = renderFor(notifier.channel, content, route, route.mentions);
    const key = idempotencyKey(target.id, content.ids);
    const ids = new Set(content.ids);
    try {
      await withRetry((timeoutMs) => notifier.send(payload, { timeoutMs, idempotencyKey: key }), {
        budget: deps.budget, log: deps.log, label: `post to ${target.id}`, attemptTimeoutMs: 10_000, retries: deps.retries ?? 3,
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
      const repeated = deps.previousPauses?.[target.id]?.error === error;
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
