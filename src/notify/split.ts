import type { Budget } from '../lib/budget.js';
import { ContentRefusedError, describeError, IntegrationError, MessageTooLargeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Alert } from '../model/alert.js';
import type { Owed } from '../model/state.js';
import { ContentBuilder } from '../render/content.js';
import { MAX_SHRINK, renderQuarantined } from '../render/index.js';
import { idempotencyKey, postContent, postPayload, type OnAccepted, type PostOptions, type Target } from './post.js';

/**
 * Posts one split of a refused message may make in a run, at most. DingTalk takes 20 messages a minute per robot and
 * then blocks it for 10 minutes (custom-robot docs); the message that was refused is one of them, and a margin stays.
 * Slack takes about one a second with short bursts, and answers 429 with Retry-After past that (retried as usual).
 */
export const SPLIT_MAX_POSTS = 18;

/**
 * Whether a refusal names the message rather than the channel: its content (ContentRefusedError), a size no
 * rendering got under (MessageTooLargeError after the smallest), or a server error that may follow one payload
 * (Slack answers some content with a 500 for that message only). A split tells which: the other parts pass.
 */
export function namesContent(err: unknown): boolean {
  if (err instanceof ContentRefusedError || err instanceof MessageTooLargeError) return true;
  return isServerError(err);
}

/** A server error (5xx): the channel down, or (Slack) one payload it cannot take; only a split tells which. */
export const isServerError = (err: unknown): boolean =>
  err instanceof IntegrationError && err.status !== undefined && err.status >= 500;

/** Posts a split may make for a message of `alerts`: two per halving down to one alert, and each one quarantined. */
export const splitPosts = (alerts: number): number => Math.min(SPLIT_MAX_POSTS, 2 * Math.ceil(Math.log2(alerts)) + 2);

/** The rows a split reads again: what the target is owed, a page of rows at a time. */
export type Reread = () => AsyncIterable<{ key: string; owed: Owed }[]>;

/** What splitting a refused message needs. */
export interface SplitInput {
  target: Target;
  /** Keys of the rows the refused message covered, in the order they were read. */
  keys: readonly string[];
  reread: Reread;
  budget: Budget;
  log: Logger;
  post?: Omit<PostOptions, 'budget' | 'log' | 'shrinkFrom'>;
  /** Splitting stops once the run has less than this many ms left: the rest stays owed for the next run. */
  floorMs: number;
  /** Told of each part the channel accepts, and of each alert quarantined once the channel took its notice. */
  accepted?: OnAccepted;
}

/** What a split did: rows delivered and rows quarantined (both done), and the refusal that stopped it, if one did. */
export interface SplitResult {
  delivered: string[];
  quarantined: string[];
  /** Posts the channel accepted: parts and notices. */
  posts: number;
  /** A refusal of the channel itself (or a server error every part met): what is left stays owed. */
  stop?: unknown;
}

/** A run of the refused message's rows, [lo, hi) in read order, with the content read for it. */
interface Part {
  lo: number;
  hi: number;
  content: ContentBuilder;
  keys: string[];
  alert?: Alert;
}

const halves = (lo: number, hi: number): [number, number][] => {
  const mid = lo + Math.ceil((hi - lo) / 2);
  return [
    [lo, mid],
    [mid, hi],
  ];
};

/**
 * Finds the alerts a channel refuses in a message it refused for its content, so the rest reach it in this run: the
 * message's rows are read again and sent in halves, a refused half halved again, down to one alert. An alert refused
 * alone, at the smallest rendering, is quarantined: the channel gets a one-line notice naming it, and the log its id
 * and the platform's answer. A refusal that is not about content (a wrong token, a deleted channel, throttling), or the
 * notice itself refused, stops the split; so do SPLIT_MAX_POSTS posts and the run's floor: what was not sent stays
 * owed. Never throws for a refusal; throws what reading the rows throws.
 */
export async function split(input: SplitInput): Promise<SplitResult> {
  const index = new Map(input.keys.map((k, i) => [k, i]));
  const r: SplitResult = { delivered: [], quarantined: [], posts: 0 };
  let budget = splitPosts(input.keys.length);
  let level = halves(0, input.keys.length);
  while (level.length > 0) {
    const parts = await readParts(input, index, level);
    if (parts === undefined) return stopped(input, r);
    const next: [number, number][] = [];
    let accepted = false;
    let last: unknown;
    for (const part of parts) {
      // A single alert may need two posts: itself, and the notice that it was quarantined.
      if (budget < (part.alert ? 2 : 1) || input.budget.remaining() < input.floorMs) return stopped(input, r);
      const sent = await sendPart(input, part, r);
      budget -= sent.posts;
      if (sent.err === undefined) accepted = true;
      else if (sent.channel || !namesContent(sent.err)) return { ...r, stop: sent.err };
      else next.push(...halves(part.lo, part.hi));
      last = sent.err ?? last;
    }
    // Server errors for every part and nothing taken: the channel is down, not one message refused.
    if (!accepted && isServerError(last) && r.delivered.length + r.quarantined.length === 0)
      return { ...r, stop: last };
    level = next;
  }
  return r;
}

/** The split so far, when the run's posts or time for it ran out: the rest stays owed for the next run. */
function stopped(input: SplitInput, r: SplitResult): SplitResult {
  input.log.warn('no time or posts left to split a refused message; the rest stays owed', {
    target: input.target.id,
    alerts: input.keys.length - r.delivered.length - r.quarantined.length,
  });
  return r;
}

/**
 * Reads the rows again into one content per part (rows gone since are left out), up to the last row a part covers;
 * undefined when the run's floor came first.
 */
async function readParts(input: SplitInput, index: Map<string, number>, ranges: [number, number][]) {
  const parts: Part[] = ranges.map(([lo, hi]) => ({ lo, hi, content: new ContentBuilder(), keys: [] }));
  const last = Math.max(...ranges.map(([, hi]) => hi)) - 1;
  for await (const page of input.reread()) {
    if (input.budget.remaining() < input.floorMs) return undefined;
    for (const { key, owed } of page) {
      const i = index.get(key);
      const part = i === undefined ? undefined : parts.find((p) => i >= p.lo && i < p.hi);
      if (part) {
        part.content.add(owed.alert);
        part.keys.push(key);
        if (part.hi - part.lo === 1) part.alert = owed.alert;
      }
      // Rows past the message's (a backlog beyond its cap) are not read again.
      if (i === last) return parts.filter((p) => p.keys.length > 0);
    }
  }
  return parts.filter((p) => p.keys.length > 0);
}

/** What sending one part did: the refusal that left it owed, whether it names the channel, the posts it made. */
interface Sent {
  err?: unknown;
  channel?: boolean;
  posts: number;
}

/**
 * Sends one part; a single alert at the smallest rendering, and quarantined if refused for its content. Returns the
 * refusal that left the part owed (the notice's, when even that was refused: then it names the channel).
 */
async function sendPart(input: SplitInput, part: Part, r: SplitResult): Promise<Sent> {
  // The refused message had its retries: a part of several alerts is tried once (a channel that is down answers the
  // first halves as it answered the whole, and a dead channel's every try would otherwise cost a split's retries).
  // A single alert keeps them, so a passing server error does not quarantine an alert the channel would take.
  const retries = part.alert ? input.post?.retries : 0;
  const opts = { ...input.post, ...(retries === undefined ? {} : { retries }), budget: input.budget, log: input.log };
  let message: string;
  try {
    message = await postContent(input.target, part.content.build(), {
      ...opts,
      shrinkFrom: part.alert ? MAX_SHRINK : 0,
    });
  } catch (err) {
    if (!part.alert || !namesContent(err)) return { err, posts: 1 };
    const noticeErr = await quarantine(input, part.alert, err);
    if (noticeErr !== undefined) return { err: noticeErr, channel: true, posts: 2 };
    await input.accepted?.({ message: `${idempotencyKey(input.target.id, [part.alert.id])}-q`, keys: part.keys });
    r.quarantined.push(...part.keys);
    r.posts += 1;
    return { posts: 2 };
  }
  await input.accepted?.({ message, keys: part.keys });
  r.delivered.push(...part.keys);
  r.posts += 1;
  return { posts: 1 };
}

/**
 * Tells the channel that `alert` could not be delivered (a plain line naming it and the refusal's code) and logs its
 * id with the platform's answer. Returns the notice's own refusal, undefined once the channel took it.
 */
async function quarantine(input: SplitInput, alert: Alert, err: unknown): Promise<unknown> {
  const { target, log } = input;
  const why = err instanceof IntegrationError ? (err.code ?? String(err.status)) : 'refused';
  const notice = renderQuarantined(target.notifier.channel, alert.id, why, target.route.lang);
  try {
    const key = `${idempotencyKey(target.id, [alert.id])}-q`;
    await postPayload(target, notice, key, { ...input.post, budget: input.budget, log });
  } catch (noticeErr) {
    // Even one plain line refused: the channel refuses everything, not this alert.
    return noticeErr;
  }
  log.error('an alert no rendering could deliver was quarantined; the channel was told', {
    target: target.id,
    alert: alert.id,
    error: describeError(err),
  });
  return undefined;
}
