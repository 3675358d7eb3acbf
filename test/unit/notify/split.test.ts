import { describe, expect, it } from 'vitest';
import { Budget, type Clock } from '../../../src/lib/budget.js';
import { ContentRefusedError, IntegrationError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/log.js';
import type { Owed } from '../../../src/model/state.js';
import { deliverTo, type TargetResult } from '../../../src/notify/deliver.js';
import { SPLIT_MAX_POSTS, splitPosts } from '../../../src/notify/split.js';
import type { Notifier } from '../../../src/notify/types.js';
import { defaultRoute, failureAlert, owed, syncTask } from '../../support/build.js';

const NOW = 1_800_000_000_000;
const T = 'team/slack';

/**
 * A Slack channel that refuses any payload naming one of `poisons` (each poison's TaskIssue, shown at every
 * rendering) as Slack refuses content, and takes everything else; `refuseAll` makes it refuse even plain lines.
 */
function channel(poisons: string[], opts: { answer?: () => Error; refuseAll?: () => Error } = {}) {
  const taken: unknown[] = [];
  let posts = 0;
  const notifier: Notifier = {
    channel: 'slack',
    fingerprint: 'fp',
    async send(payload) {
      posts += 1;
      const text = JSON.stringify(payload);
      if (opts.refuseAll && !text.includes('syncs failed') && !text.includes('sync failed')) throw opts.refuseAll();
      if (poisons.some((p) => text.includes(p)))
        throw (
          opts.answer ??
          (() => new ContentRefusedError('refused', { service: 'slack', status: 400, code: 'invalid_payload' }))
        )();
      taken.push(payload);
    },
  };
  return { notifier, taken, posts: () => posts };
}

/** `n` owed failures, those at the `poison` indexes with an issue the channel refuses. */
function owedRows(n: number, poison: number[]): { key: string; owed: Owed }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `k${String(i).padStart(4, '0')}`,
    owed: owed(
      failureAlert(syncTask({ taskId: `rst-${i}`, issue: poison.includes(i) ? `POISON_${i}` : 'TAG_CONFLICT' })),
      T,
    ),
  }));
}

async function deliver(
  list: { key: string; owed: Owed }[],
  notifier: Notifier,
  o: { clock?: Clock; deadline?: number; retries?: number } = {},
): Promise<{ r: TargetResult; lines: string[] }> {
  const lines: string[] = [];
  const log = createLogger({ minLevel: 'debug', sink: (_l, line) => lines.push(line) });
  const clock = o.clock ?? { now: () => NOW };
  const budget = new Budget(clock, o.deadline ?? NOW + 300_000, 10_000);
  async function* pages() {
    for (let i = 0; i < list.length; i += 50) yield list.slice(i, i + 50);
  }
  const r = await deliverTo({ id: T, route: defaultRoute(['slack']), notifier }, pages(), {
    now: NOW,
    budget,
    log,
    retries: o.retries ?? 0,
    sleep: async () => undefined,
    reread: pages,
  });
  return { r, lines };
}

/** The failures a channel was told of, by the banners of the messages it took. */
const told = (taken: unknown[]) =>
  taken.reduce<number>(
    (n, p) => n + Number((/ACR: [^"]*?([\d,]+) syncs? failed/.exec(JSON.stringify(p))?.[1] ?? '0').replace(/,/g, '')),
    0,
  );
const notices = (taken: unknown[]) => taken.filter((p) => JSON.stringify(p).includes('could not be delivered'));

describe('a message refused for its content is split to find the alerts the channel refuses', () => {
  it('delivers every other alert once in the same run and quarantines the one refused alone, within the posts allowed', async () => {
    const ch = channel(['POISON_']);
    const { r, lines } = await deliver(owedRows(100, [37]), ch.notifier);
    expect(r).toMatchObject({ delivered: 99, quarantined: 1, stillOwed: 0 });
    expect(r.pause).toBeUndefined();
    expect(new Set(r.done).size).toBe(100);
    expect(told(ch.taken)).toBe(99);
    expect(ch.posts()).toBeLessThanOrEqual(1 + splitPosts(100));
    const notice = JSON.stringify(notices(ch.taken));
    expect(notice).toContain('1 failure could not be delivered to this channel');
    expect(notice).toContain('cn-hangzhou:cri-src/rst-37');
    expect(notice).toContain('invalid_payload');
    const logged = lines.find((l) => l.includes('quarantined'));
    expect(logged).toContain('rst-37');
    expect(logged).toContain('invalid_payload');
  });

  it('quarantines two refused alerts in different halves and delivers the rest, what is past its posts in later runs', async () => {
    const ch = channel(['POISON_']);
    let rows = owedRows(40, [3, 30]);
    let delivered = 0;
    let quarantined = 0;
    for (let run = 0; run < 3 && rows.length > 0; run++) {
      const before = ch.posts();
      const { r } = await deliver(rows, ch.notifier);
      expect(r.pause).toBeUndefined();
      expect(ch.posts() - before).toBeLessThanOrEqual(1 + splitPosts(rows.length));
      delivered += r.delivered;
      quarantined += r.quarantined ?? 0;
      const done = new Set(r.done);
      rows = rows.filter((x) => !done.has(x.key));
    }
    expect(rows).toEqual([]);
    expect({ delivered, quarantined }).toEqual({ delivered: 38, quarantined: 2 });
    expect(told(ch.taken)).toBe(38);
    expect(notices(ch.taken)).toHaveLength(2);
  });

  it('a Slack 500 for that message only is split like a content refusal', async () => {
    const ch = channel(['POISON_'], {
      answer: () =>
        new IntegrationError('Slack answered HTTP 500', { service: 'slack', kind: 'retryable', status: 500 }),
    });
    const { r } = await deliver(owedRows(10, [4]), ch.notifier);
    expect(r).toMatchObject({ delivered: 9, quarantined: 1, stillOwed: 0 });
  });

  it('a channel down (a 500 for every part) is not split to the end: nothing is quarantined, all stays owed', async () => {
    const down = () =>
      new IntegrationError('Slack answered HTTP 500', { service: 'slack', kind: 'retryable', status: 500 });
    const ch = channel(['ACR'], { answer: down });
    const { r } = await deliver(owedRows(16, []), ch.notifier);
    expect(r).toMatchObject({ delivered: 0, quarantined: 0, stillOwed: 16 });
    expect(ch.posts()).toBe(3);
  });

  it('a channel that refuses even the one-line notice is paused, and nothing is quarantined', async () => {
    const gone = () =>
      new IntegrationError('Slack refused the webhook', { service: 'slack', kind: 'config', status: 404 });
    const ch = channel(['POISON_'], { refuseAll: gone });
    const { r } = await deliver(owedRows(8, [5]), ch.notifier);
    expect(r.quarantined).toBe(0);
    expect(r.delivered).toBe(7);
    expect(r.stillOwed).toBe(1);
    expect(r.pause).toBeDefined();
  });

  it('a channel that refuses everything as content, its notice too, is paused: nothing is quarantined', async () => {
    const content = () => new ContentRefusedError('refused', { service: 'dingtalk', status: 200, code: '499999' });
    const ch = channel(['ACR'], { answer: content, refuseAll: content });
    const { r } = await deliver(owedRows(8, []), ch.notifier);
    expect(r).toMatchObject({ delivered: 0, quarantined: 0, stillOwed: 8 });
    expect(r.pause).toBeDefined();
  });

  it('stops at the posts allowed: what is not sent stays owed, the channel is not paused', async () => {
    const ch = channel(['POISON_']);
    const all = Array.from({ length: 64 }, (_, i) => i);
    const { r } = await deliver(owedRows(64, all), ch.notifier);
    expect(ch.posts()).toBeLessThanOrEqual(1 + SPLIT_MAX_POSTS);
    expect(r.delivered + r.quarantined! + r.stillOwed).toBe(64);
    expect(r.stillOwed).toBeGreaterThan(0);
    expect(r.pause).toBeUndefined();
  });

  it("stops at the run's read floor: what is not sent stays owed", async () => {
    let now = NOW;
    const ch = channel(['POISON_']);
    const send = ch.notifier.send.bind(ch.notifier);
    ch.notifier.send = async (p, o) => {
      now += 60_000;
      return send(p, o);
    };
    const { r } = await deliver(owedRows(32, [1]), ch.notifier, { clock: { now: () => now }, deadline: NOW + 130_000 });
    expect(r.delivered + r.quarantined! + r.stillOwed).toBe(32);
    expect(r.stillOwed).toBeGreaterThan(0);
    expect(r.error).toBeUndefined();
    expect(ch.posts()).toBeLessThanOrEqual(3);
  });

  it('takes a server error for a message of one alert as the channel down: no split, the alert stays owed', async () => {
    const down = () => new IntegrationError('down', { service: 'slack', kind: 'retryable', status: 503 });
    const ch = channel(['TAG_CONFLICT'], { answer: down });
    const { r } = await deliver(owedRows(1, []), ch.notifier, { retries: 2 });
    expect(ch.posts()).toBe(3);
    expect(r.delivered).toBe(0);
    expect(r.quarantined ?? 0).toBe(0);
    expect(notices(ch.taken)).toHaveLength(0);
  });

  it('tries each part of several alerts once when the channel answers every post with a server error', async () => {
    const down = () => new IntegrationError('down', { service: 'slack', kind: 'retryable', status: 503 });
    const ch = channel(['TAG_CONFLICT'], { answer: down });
    const { r } = await deliver(owedRows(10, []), ch.notifier, { retries: 2 });
    // The message with its retries, then each half once: both refused alike, so the channel is down.
    expect(ch.posts()).toBe(3 + 2);
    expect(r.delivered).toBe(0);
  });

  it('retries a single alert as the run retries before quarantining it, and logs the parts and what they delivered', async () => {
    const fiveHundred = () => new IntegrationError('oops', { service: 'slack', kind: 'retryable', status: 500 });
    const ch = channel(['POISON_'], { answer: fiveHundred });
    const { r, lines } = await deliver(owedRows(2, [0]), ch.notifier, { retries: 1 });
    // The message twice, the poison alone twice, its notice, the other alert: each post the run's retries allow.
    expect(ch.posts()).toBe(2 + 2 + 1 + 1);
    expect(r).toMatchObject({ delivered: 1, quarantined: 1 });
    const parts = lines.find((l) => l.includes('message refused for its content; sending it in parts'));
    expect(JSON.parse(parts!)).toMatchObject({ target: T, alerts: 2 });
    const delivered = lines.filter((l) => l.includes('"msg":"delivered"'));
    expect(delivered.map((l) => (JSON.parse(l) as { alerts: number }).alerts)).toEqual([1]);
  });

  it('logs no delivery when every alert of the message was quarantined', async () => {
    const ch = channel(['POISON_']);
    const { r, lines } = await deliver(owedRows(2, [0, 1]), ch.notifier);
    expect(r).toMatchObject({ delivered: 0, quarantined: 2 });
    expect(lines.filter((l) => l.includes('"msg":"delivered"'))).toEqual([]);
  });
});
