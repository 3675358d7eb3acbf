import { describe, expect, it } from 'vitest';
import type { Escalation } from '../../../src/model/escalation.js';
import { MIN, movableClock, T0, task } from '../../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../../support/run-harness.js';

const MENTIONS = { dingtalkMobiles: ['13800000000'], dingtalkUserIds: ['ops-lead'], slack: ['U0123ABC'] };

/** One run over 3,000 network failures of one rule in the last 2 hours; what each channel was sent. */
async function burstRun(escalate?: Escalation) {
  const tasks = Array.from({ length: 3_000 }, (_, i) =>
    task(`rst-n${i}`, T0 - 120 * MIN + i * 2_000, 'ERROR', { issue: 'NETWORK_ERROR' }),
  );
  const dingtalk = acceptingNotifier('dingtalk');
  const slack = acceptingNotifier('slack');
  const h = runHarness({
    clock: movableClock(T0),
    tasks,
    notifiers: { dingtalk, slack },
    settings: { pageSize: 100, maxPages: 40 },
    route: { mentions: MENTIONS, ...(escalate ? { escalate } : {}) },
  });
  const s = await h.run(T0);
  const ding = dingtalk.sent as { markdown: { title: string }; at?: { atMobiles: string[]; atUserIds: string[] } }[];
  const slackText = JSON.stringify(slack.sent);
  return { s, ding, slack: slack.sent as { text: string }[], slackMentions: slackText.includes('<@U0123ABC>') };
}

describe('a whole run of 3,000 network failures on one rule', () => {
  it('calls in the route’s mentions on both channels under the default escalation', async () => {
    const { s, ding, slack, slackMentions } = await burstRun();
    expect(s.failuresFound).toBe(3_000);
    expect(ding[0]!.markdown.title).toMatch(/^🔴 ACR: 3,000× network → cn-shanghai/);
    expect(ding[0]!.at).toMatchObject({ atMobiles: ['13800000000'], atUserIds: ['ops-lead'] });
    expect(slack[0]!.text).toMatch(/^🔴 ACR: 3,000× network/);
    expect(slackMentions).toBe(true);
  });

  it('stays quiet on a route whose escalation is off', async () => {
    const { ding, slack, slackMentions } = await burstRun({ failures: 0, forMinutes: 0 });
    expect(ding[0]!.markdown.title).toMatch(/^🟡 ACR: 3,000× network/);
    expect(ding[0]!.at).toBeUndefined();
    expect(slack[0]!.text).toMatch(/^🟡 /);
    expect(slackMentions).toBe(false);
  });
});
