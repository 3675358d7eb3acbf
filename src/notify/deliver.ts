import { createHash } from 'node:crypto';
import type { Budget } from '../lib/budget.js';
import { describeError, IntegrationError, MessageTooLargeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry, type RetryOptions } from '../lib/retry.js';
import type { Route } from '../model/route.js';
import type { ChannelPause, Owed } from '../model/state.js';
import { ContentBuilder, type MessageContent } from '../render/content.js';
import { MAX_SHRINK, renderFor } from '../render/index.js';
import { pauseFor } from './pause.js';
import type { Notifier } from './types.js';

/** One channel of one route: where a message goes (`targetId`), and the route that says how it reads there. */
export interface Target {
  id: string;
  route: Route;
  notifier: Notifier;
}

/** An alert no channel accepted for this long is given up, with an error log and a count in the summary. */
export const OWED_MAX_AGE_MS = 7 * 24 * 3_600_000;
/**
 * Rows one message covers at most: a burst of 100,000 failures with what came with it, and half as much again. A
 * message's content is bounded, but the rows it covers are kept until it is sent (their keys, to clear them; their
 * ids, for its key): about 160 bytes each, and reading 100,000 takes 10 to 20 s. A week of 100,000 failures a day for
 * a dead webhook would be 700,000: read whole, no run could finish it in its time or memory, so none would ever
 * deliver it. The rest follows in the next run's message, which this one announces.
 */
export const MAX_ROWS_PER_MESSAGE = 150_000;
/**
 * Ms of the run that reading for delivery leaves, at the least: half the reserve, to post what was read and clear
 * it.
 */
export const readFloorOf = (budget: Budget): number => budget.reserveMs / 2;

/** The same key for the same target and set of alerts, so a retried message can be recognised as a repeat. */
export function idempotencyKey(target: string, ids: readonly string[]): string {
  const h = createHash('sha256').update(target).update('\n');
  // Fed one id at a time (the same digest as the ids joined by newlines): 100,000 ids joined would be one 5 MB string.
  [...ids].sort().forEach((id, i) => h.update(i === 0 ? id : `\n${id}`));
  return h.digest('hex').slice(0, 32);
}

/** What one target's delivery did. */
export interface TargetResult {
  /** Alerts the channel accepted in this run's message. */
  delivered: number;
  /** Alerts this message covered that are still owed (all of them when it failed); with `more`, so are rows past it. */
  stillOwed: number;
  /** Alerts given up after OWED_MAX_AGE_MS without the channel accepting them. */
  expired: number;
  error?: string;
  errorKind?: IntegrationError['kind'];
  /** Set when the channel is paused: its alerts wait until then (or until its configuration changes). */
  pause?: ChannelPause;
  /** Keys of the owed rows to delete, as the pages gave them: what was delivered or given up. */
  done: string[];
  /** Rows past this message (its cap, or the run's time) were left unread: they stay owed for the next run. */
  more: boolean;
}

/** What a target is owed, a page of rows at a time, each with the key its row is removed by. */
export type OwedPages = AsyncIterable<{ key: string; owed: Owed }[]>;

/** What delivering to one target needs besides its rows. */
export interface DeliverOptions {
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
}

/**
 * Delivers what `target` is owed: reads it page by page into one message's content (bounded whatever the number of
 * alerts), in the route's language, time zone and mentions, and sends it. On success every row read is done; on
 * failure they stay owed for the next run, and a refusal that cannot pass on a retry pauses the channel. Rows older
 * than OWED_MAX_AGE_MS are given up (logged by the caller). Reading stops at `maxRows` rows, or at `readFloorMs` of
 * the run left (by default half its reserve: time to post what was read, with retries, and clear its rows); the
 * message then says more follows.
 */
export async function deliverTo(target: Target, pages: OwedPages, deps: DeliverOptions): Promise<TargetResult> {
  const read = await readOwed(pages, deps);
  const { keys, expired } = read;
  const more = read.stop !== undefined;
  logStop(target.id, read.stop, keys.length + expired.length, deps.log);
  if (keys.length === 0) return { delivered: 0, stillOwed: 0, expired: expired.length, done: expired, more };
  const content = { ...read.content.build(), ...(more ? { more } : {}) };
  try {
    await post(target, content, deps);
    deps.log.info('delivered', { target: target.id, alerts: keys.length });
    return { delivered: keys.length, stillOwed: 0, expired: expired.length, done: [...keys, ...expired], more };
  } catch (err) {
    return { ...refused(target, err, keys.length, deps), expired: expired.length, done: expired, more };
  }
}

/** Reads owed rows into one message's content until the cap or the read floor; rows past their age are given up. */
async function readOwed(pages: OwedPages, deps: DeliverOptions) {
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
      if (deps.now - owed.detectedAt > OWED_MAX_AGE_MS) expired.push(key);
      else {
        content.add(owed.alert);
        keys.push(key);
      }
    }
  }
  return { content, keys, expired, stop };
}

function logStop(target: string, stop: 'cap' | 'time' | undefined, rows: number, log: Logger): void {
  if (stop === 'cap') log.info('more is owed than one message covers; the rest follows next run', { target, rows });
  else if (stop && rows > 0)
    log.warn("the run's time to read for this target ran out; the rest follows next run", { target, rows });
  else if (stop)
    log.warn('no time left in this run to read what the target is owed; it waits for the next run', { target });
}

/** Posts the message, with retries; one refused as too large is rendered smaller and posted again. */
async function post(target: Target, content: MessageContent, deps: DeliverOptions): Promise<void> {
  const { route, notifier } = target;
  const key = idempotencyKey(target.id, content.ids);
  // Our size budgets are below the platforms' limits, but those limits are partly undocumented: a message refused
  // as too large is rendered smaller and sent again (a smaller message that arrives beats a rich one that waits).
  for (let shrink = 0; ; shrink++) {
    const payload = renderFor(notifier.channel, content, route, { mentions: route.mentions, shrink });
    try {
      // A fresh key per step: whether DingTalk remembers a refused msgUuid is not documented.
      await withRetry(
        (timeoutMs) => notifier.send(payload, { timeoutMs, idempotencyKey: shrink === 0 ? key : `${key}-s${shrink}` }),
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
      return;
    } catch (err) {
      if (!(err instanceof MessageTooLargeError) || shrink >= MAX_SHRINK) throw err;
    }
  }
}

/** What a failed post leaves: everything it covered still owed, and the channel paused when a retry cannot help. */
function refused(target: Target, err: unknown, alerts: number, deps: DeliverOptions) {
  const error = describeError(err);
  const until = pauseFor(err, deps.now, deps.owedSince);
  const pause = until === undefined ? undefined : { until, error, fingerprint: target.notifier.fingerprint };
  // The same refusal again after a pause is not news: an error line the first time, a warning after.
  const repeated = deps.previousPause?.error === error;
  deps.log[repeated ? 'warn' : 'error'](
    pause
      ? 'delivery refused; the channel is paused and its alerts wait'
      : 'delivery failed; alerts stay owed for the next run',
    { target: target.id, alerts, error, pausedUntil: pause ? new Date(pause.until).toISOString() : undefined },
  );
  return {
    delivered: 0,
    stillOwed: alerts,
    error,
    errorKind: err instanceof IntegrationError ? err.kind : undefined,
    ...(pause ? { pause } : {}),
  };
}
