import { describe, expect, it } from 'vitest';
import { deliverySummary } from '../../../src/handler/summary.js';
import type { Target } from '../../../src/notify/deliver.js';
import { defaultRoute } from '../../support/build.js';
import { delivered } from '../../support/run-harness.js';

const NOW = 1_800_000_000_000;
const target = (id: string): Target => ({
  id,
  route: defaultRoute(),
  notifier: { channel: 'slack', fingerprint: id, send: async () => {} },
});

describe("what a delivery says in the run's summary (deliverySummary)", () => {
  it('counts what each target accepted and the posts that carried a message, and names every problem', () => {
    const pause = { until: NOW, error: 'refused', fingerprint: 'f' };
    const s = deliverySummary(
      new Map([
        ['dingtalk', delivered({ delivered: 3, expired: 2 })],
        ['slack', delivered({ stillOwed: 1, error: 'HTTP 503' })],
        ['team/slack', delivered({ stillOwed: 1, error: 'HTTP 404', pause })],
      ]),
      [{ target: target('dingtalk') }, { target: target('ops/slack'), paused: pause }],
    );
    expect(s.notified).toEqual({ dingtalk: 3, slack: 0, 'team/slack': 0 });
    expect(s.posts).toBe(1);
    const at = new Date(NOW).toISOString();
    expect(s.problems).toEqual([
      'slack: HTTP 503',
      `team/slack: paused until ${at} after: HTTP 404`,
      `ops/slack: paused until ${at} after: refused`,
      '2 alerts were given up after 7 days undelivered',
    ]);
  });
});
