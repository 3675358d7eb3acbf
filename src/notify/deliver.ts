import type { Budget } from '../lib/budget.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { RetryOptions } from '../lib/retry.js';
import type { ChannelPause, DeliveredRecord, Owed } from '../model/state.js';
import { ContentBuilder } from '../render/content.js';
import { coveredBy, seenWhole } from '../state/delivered.js';
import { pauseFor } from './pause.js';
import { postContent, type OnAccepted, type Target } from './post.js';
import { isServerError, namesContent, split, type Reread } from './split.js';

export { idempotencyKey, type OnAccepted, type Target } from './post.js';

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

/** What one target's delivery did. */
export interface TargetResult {
  /** Alerts the channel accepted in this run's message. */
  delivered: number;
  /** Alerts this message covered that are still owed (all of them when it failed); with `more`, so are rows past it. */
  stillOwed: number;
  /** Alerts given up after OWED_MAX_AGE_MS without the channel accepting them. */
  expired: number;
  /** Alerts no rendering could deliver: taken off what is owed, the channel told with a one-line notice. */
  quarantined?: number;
  /** Posts the channel accepted, when not one message (a message split after a refusal of its content). */
  posts?: number;
  error?: string;
  errorKind?: IntegrationError['kind'];
  /** Set when the channel is paused: its alerts wait until then (or until its configuration changes). */
  pause?: ChannelPause;
  /** Rows an earlier message took (a delivered record covers them): not sent again, removed now. */
  cleared?: number;
  /** Keys of the owed rows to delete, as the pages gave them: what was delivered, given up or taken before. */
  done: string[];
  /** The messages whose delivered records this read saw every row of: removed once `done` is. */
  resolved?: string[];
  /** Rows past this message (its cap, or the run's time) were left unread: they stay owed for the next run. */
  more: boolean;
}

/** What a target is owed, a page of rows at a time, each with the key its row is removed by and its generation. */
export type OwedPages = AsyncIterable<{ key: string; owed: Owed; gen?: number }[]>;

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
  /**
   * Reads what the target is owed again: given, a message refused for its content is split to find the alerts the
   * channel refuses (see split), instead of pausing the channel.
   */
  reread?: Reread;
  /** The target's delivered records: rows they cover were accepted before, and are cleared instead of sent. */
  standing?: readonly DeliveredRecord[];
  /** Told of each message the channel accepts, at once (see OnAccepted). */
  accepted?: OnAccepted;
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
  const { keys, covered } = read;
  // Rows done without being sent: given up for their age, or taken by a message accepted before.
  const untold = [...read.expired, ...covered];
  const more = read.stop !== undefined;
  logStop(target.id, read.stop, keys.length + untold.length, deps.log);
  if (covered.length > 0)
    deps.log.info('rows of a message the channel accepted before are cleared, not sent again', {
      target: target.id,
      rows: covered.length,
    });
  const taken = {
    expired: read.expired.length,
    ...(covered.length > 0 ? { cleared: covered.length } : {}),
    ...(read.resolved.length > 0 ? { resolved: read.resolved } : {}),
    more,
  };
  if (keys.length === 0) return { delivered: 0, stillOwed: 0, ...taken, done: untold };
  const content = { ...read.content.build(), ...(more ? { more } : {}) };
  let message: string;
  try {
    message = await postContent(target, content, deps);
  } catch (err) {
    // A server error for a message of one alert cannot be told from a channel that is down: it is the channel's.
    const single = keys.length === 1 && isServerError(err);
    if (deps.reread && namesContent(err) && !single)
      return { ...(await splitRefused(target, { err, keys, untold, more, reread: deps.reread }, deps)), ...taken };
    return { ...refused(target, err, keys.length, deps), ...taken, done: untold };
  }
  await deps.accepted?.({ message, keys });
  deps.log.info('delivered', { target: target.id, alerts: keys.length });
  return { delivered: keys.length, stillOwed: 0, ...taken, done: [...keys, ...untold] };
}

/**
 * A message refused for its content: sent again in parts (split), so all but the alerts the channel refuses go now.
 * What the split could not send stays owed; a refusal of the channel met on the way pauses it as any other would.
 */
async function splitRefused(
  target: Target,
  m: { err: unknown; keys: string[]; untold: string[]; more: boolean; reread: Reread },
  deps: DeliverOptions,
): Promise<TargetResult> {
  deps.log.warn('message refused for its content; sending it in parts', {
    target: target.id,
    alerts: m.keys.length,
    error: describeError(m.err),
  });
  const s = await split({
    target,
    keys: m.keys,
    reread: m.reread,
    budget: deps.budget,
    log: deps.log,
    post: { retries: deps.retries, sleep: deps.sleep },
    floorMs: readFloorOf(deps.budget),
    accepted: deps.accepted,
  });
  const left = m.keys.length - s.delivered.length - s.quarantined.length;
  const done = [...s.delivered, ...s.quarantined, ...m.untold];
  const counts = { expired: 0, quarantined: s.quarantined.length, posts: s.posts, done, more: m.more };
  if (s.delivered.length > 0) deps.log.info('delivered', { target: target.id, alerts: s.delivered.length });
  if (s.stop !== undefined) return { ...refused(target, s.stop, left, deps), ...counts, delivered: s.delivered.length };
  return { delivered: s.delivered.length, stillOwed: left, ...counts };
}

/**
 * Reads owed rows into one message's content until the cap or the read floor; rows past their age are given up, rows
 * a delivered record covers are taken (not sent), and the records whose every row was read are named.
 */
async function readOwed(pages: OwedPages, deps: DeliverOptions) {
  const content = new ContentBuilder();
  const keys: string[] = [];
  const expired: string[] = [];
  const covered: string[] = [];
  const standing = deps.standing ?? [];
  const maxRows = deps.maxRows ?? MAX_ROWS_PER_MESSAGE;
  const floor = deps.readFloorMs ?? readFloorOf(deps.budget);
  let stop: 'cap' | 'time' | undefined;
  let last: string | undefined;
  read: for await (const page of pages) {
    for (const { key, owed, gen } of page) {
      const rows = keys.length + expired.length + covered.length;
      stop = rows >= maxRows ? 'cap' : deps.budget.remaining() < floor ? 'time' : undefined;
      if (stop) break read;
      last = key;
      if (coveredBy(standing, { key, gen, detectedAt: owed.detectedAt })) covered.push(key);
      else if (deps.now - owed.detectedAt > OWED_MAX_AGE_MS) expired.push(key);
      else {
        content.add(owed.alert);
        keys.push(key);
      }
    }
  }
  const resolved = seenWhole(standing, last, stop === undefined).map((r) => r.message);
  return { content, keys, expired, covered, stop, resolved };
}

function logStop(target: string, stop: 'cap' | 'time' | undefined, rows: number, log: Logger): void {
  if (stop === 'cap') log.info('more is owed than one message covers; the rest follows next run', { target, rows });
  else if (stop && rows > 0)
    log.warn("the run's time to read for this target ran out; the rest follows next run", { target, rows });
  else if (stop)
    log.warn('no time left in this run to read what the target is owed; it waits for the next run', { target });
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
