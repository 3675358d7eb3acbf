import { createHash } from 'node:crypto';
import type { Budget } from '../lib/budget.js';
import { describeError, IntegrationError, MessageTooLargeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry, type RetryOptions } from '../lib/retry.js';
import type { Route } from '../model/route.js';
import type { ChannelPause, Owed } from '../model/state.js';
import { ContentBuilder } from '../render/content.js';
import { MAX_SHRINK, renderFor } from '../render/index.js';
import type { Notifier } from './types.js';

/** One channel of one route: where a message goes (`targetId`), and the route that says how it reads there. */
export interface Target {
  id: string;
  route: Route;
  notifier: Notifier;
}

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
/** An alert no channel accepted for this long is given up, with an error log and a count in the summary. */
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 3_600_000;
/**
 * Rows one message covers at most: a burst of 100,000 failures with what came with it, and half as much again. A
 * message's content is bounded, but the rows it covers are kept until it is sent (their keys, to clear them; their
 * ids, for its key): about 160 bytes each, and reading 100,000 takes 10 to 20 s. A week of 100,000 failures a day for
 * a dead webhook would be 700,000: read whole, no run could finish it in its time or memory, so none would ever
 * deliver it. The rest follows in the next run's message, which this one announces.
 */
export const MAX_ROWS_PER_MESSAGE = 150_000;
/** Ms of the run that reading for delivery leaves, at the least: half the reserve, to post what was read and clear it. */
export const readFloorOf = (budget: Budget): number => budget.reserveMs / 2;

/** The same key for the same target and set of alerts, so a retried message can be recognised as a repeat. */
export function idempotencyKey(target: string, ids: readonly string[]): string {
  const h = createHash('sha256').update(target).update('\n');
  // Fed one id at a time (the same digest as the ids joined by newlines): 100,000 ids joined would be one 5 MB string.
  [...ids].sort().forEach((id, i) => h.update(i === 0 ? id : `\n${id}`));
  return h.digest('hex').slice(0, 32);
}

/** A target's pause if it still holds: not run out, and the target's webhook or secret unchanged (that may be the fix). */
export function pauseInForce(p: ChannelPause | undefined, target: Target, now: number): ChannelPause | undefined {
  return p && p.fingerprint === target.notifier.fingerprint && p.until > now ? p : undefined;
}

/** What delivery will do, decided before anything is read or sent. */
export interface DeliveryPlan {
  /** Every configured target owed something, in target order, with the pause holding it back if one does. */
  due: { target: Target; paused?: ChannelPause }[];
  /** Targets owed alerts that are no longer configured: what they are owed is dropped, with a warning. */
  unroutable: string[];
  /** Pauses still in force, by target id. */
  pauses: Record<string, ChannelPause>;
  /** Whether delivering now would do something: send to a target that is not paused, or drop what the gone are owed. */
  actionable: boolean;
}

/**
 * Decides, without reading or sending, what delivery does: each configured target that is owed something gets a
 * message unless a pause in force holds it; targets owed something but no longer configured lose it. Pure.
 */
export function planDelivery(
  owed: Iterable<string>,
  targets: readonly Target[],
  pauses: Record<string, ChannelPause> | undefined,
  now: number,
): DeliveryPlan {
  const owing = new Set(owed);
  const configured = new Set(targets.map((t) => t.id));
  const inForce: Record<string, ChannelPause> = {};
  for (const t of targets) {
    const p = pauseInForce(pauses?.[t.id], t, now);
    if (p) inForce[t.id] = p;
  }
  const due = targets
    .filter((t) => owing.has(t.id))
    .map((target) => ({ target, ...(inForce[target.id] ? { paused: inForce[target.id] } : {}) }));
  const unroutable = [...owing].filter((id) => !configured.has(id));
  return { due, unroutable, pauses: inForce, actionable: due.some((d) => !d.paused) || unroutable.length > 0 };
}

/** What one target's delivery did. */
export interface TargetResult {
  /** Alerts the channel accepted in this run's message. */
  delivered: number;
  /** Alerts this message covered that are still owed (all of them when it failed); with `more`, so are rows past it. */
  pending: number;
  /** Alerts given up after OUTBOX_MAX_AGE_MS without the channel accepting them. */
  expired: number;
  error?: string;
  errorKind?: IntegrationError['kind'];
  /** Set when the channel is paused: its alerts wait until then (or until its configuration changes). */
  pause?: ChannelPause;
  /** Outbox rows to delete: what was delivered or given up. */
  done: string[];
  /** Rows past this message (its cap, or the run's time) were left unread: they stay owed for the next run. */
  more: boolean;
}

/** What a target is owed, a page of rows at a time. */
export type OwedPages = AsyncIterable<{ key: string; owed: Owed }[]>;

/**
 * Delivers what `target` is owed: reads it page by page into one message's content (bounded whatever the number of
 * alerts), in the route's language, time zone and mentions, and sends it. On success every row read is done; on
 * failure they stay owed for the next run, and a refusal that cannot pass on a retry pauses the channel. Rows older
 * than OUTBOX_MAX_AGE_MS are given up (logged by the caller). Reading stops at `maxRows` rows, or at `readFloorMs` of
 * the run left (by default half its reserve: time to post what was read, with retries, and clear its rows); the
 * message then says more follows.
 */
export async function deliverTo(
  target: Target,
  pages: OwedPages,
  deps: {
    now: number;
    budget: Budget;
    log: Logger;
    previousPause?: ChannelPause;
    retries?: number;
    owedSince?: number;
    sleep?: RetryOptions['sleep'];
    /** Rows one message covers at most (MAX_ROWS_PER_MESSAGE unless told). */
    maxRows?: number;
    /** Reading stops once the run has less than this many ms left (half its reserve unless told). */
    readFloorMs?: number;
  },
): Promise<TargetResult> {
  const content = new ContentBuilder();
  const keys: string[] = [];
  const expired: string[] = [];
  const maxRows = deps.maxRows ?? MAX_ROWS_PER_MESSAGE;
  const floor = deps.readFloorMs ?? readFloorOf(deps.budget);
  let stop: 'cap' | 'time' | undefined;
  read: for await (const page of pages) {
    for (const { key, owed } of page) {
      stop = keys.length + expired.length >= maxRows ? 'cap' : deps.budget.remaining() < floor ? 'time' : undefined;
      if (stop) break read;
      if (deps.now - owed.detectedAt > OUTBOX_MAX_AGE_MS) expired.push(key);
      else {
        content.add(owed.alert);
        keys.push(key);
      }
    }
  }
  const more = stop !== undefined;
  const rows = keys.length + expired.length;
  if (stop === 'cap')
    deps.log.info('more is owed than one message covers; the rest follows next run', { target: target.id, rows });
  else if (stop && rows > 0)
    deps.log.warn("the run's time to read for this target ran out; the rest follows next run", {
      target: target.id,
      rows,
    });
  else if (stop)
    deps.log.warn('no time left in this run to read what the target is owed; it waits for the next run', {
      target: target.id,
    });
  if (keys.length === 0) return { delivered: 0, pending: 0, expired: expired.length, done: expired, more };
  const { route, notifier } = target;
  const c = { ...content.build(), ...(more ? { more } : {}) };
  const key = idempotencyKey(target.id, c.ids);
  try {
    // Our size budgets are below the platforms' limits, but those limits are partly undocumented: a message refused
    // as too large is rendered smaller and sent again (a smaller message that arrives beats a rich one that waits).
    for (let shrink = 0; ; shrink++) {
      const payload = renderFor(notifier.channel, c, route, { mentions: route.mentions, shrink });
      try {
        // A fresh key per step: whether DingTalk remembers a refused msgUuid is not documented.
        await withRetry(
          (timeoutMs) =>
            notifier.send(payload, { timeoutMs, idempotencyKey: shrink === 0 ? key : `${key}-s${shrink}` }),
          {
            budget: deps.budget,
            log: deps.log,
            label: `post to ${target.id}`,
            attemptTimeoutMs: 10_000,
            retries: deps.retries ?? 3,
            sleep: deps.sleep,
          },
        );
        if (shrink > 0)
          deps.log.warn('message refused as too large; delivered a smaller rendering', { target: target.id, shrink });
        break;
      } catch (err) {
        if (!(err instanceof MessageTooLargeError) || shrink >= MAX_SHRINK) throw err;
      }
    }
    deps.log.info('delivered', { target: target.id, alerts: keys.length });
    return { delivered: keys.length, pending: 0, expired: expired.length, done: [...keys, ...expired], more };
  } catch (err) {
    const error = describeError(err);
    const until = pauseFor(err, deps.now, deps.owedSince);
    const pause = until === undefined ? undefined : { until, error, fingerprint: notifier.fingerprint };
    // The same refusal again after a pause is not news: an error line the first time, a warning after.
    const repeated = deps.previousPause?.error === error;
    deps.log[repeated ? 'warn' : 'error'](
      pause
        ? 'delivery refused; the channel is paused and its alerts wait'
        : 'delivery failed; alerts stay pending for the next run',
      {
        target: target.id,
        alerts: keys.length,
        error,
        pausedUntil: pause ? new Date(pause.until).toISOString() : undefined,
      },
    );
    return {
      delivered: 0,
      pending: keys.length,
      expired: expired.length,
      error,
      errorKind: err instanceof IntegrationError ? err.kind : undefined,
      ...(pause ? { pause } : {}),
      done: expired,
      more,
    };
  }
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
