import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { DEFAULT_ESCALATION, type Escalation } from '../../../src/model/escalation.js';
import type { Mentions } from '../../../src/model/route.js';
import { contentOf } from '../../../src/render/content.js';
import { isSevere, renderFor } from '../../../src/render/index.js';
import { failure, MIN, notice, recovered, stuck, T0 } from '../../support/alerts.js';

const PEOPLE: Mentions = {
  dingtalkMobiles: ['13800000000'],
  dingtalkUserIds: ['ops-lead'],
  slack: ['U0123ABC', 'S0456DEF'],
};
const UTC = { lang: 'en' as const, timeZone: 'UTC' };

/** Who each channel's payload calls in, as the receivers would see it. */
function calledIn(alerts: Alert[], people: Mentions | 'none' = PEOPLE) {
  const mentions = people === 'none' ? undefined : people;
  const ding = renderFor('dingtalk', contentOf(alerts), UTC, { mentions });
  const slack = JSON.stringify(renderFor('slack', contentOf(alerts), UTC, { mentions }));
  return {
    dingtalk: ding.at,
    dingtalkText: /@13800000000/.test(ding.markdown.text),
    slack: [...slack.matchAll(/<@(U\w+)>|<!subteam\^(S\w+)>/g)].map((m) => m[1] ?? m[2]),
  };
}

describe('who a message @mentions', () => {
  it('a high-severity failure calls in the configured people on both channels', () => {
    expect(calledIn([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })])).toEqual({
      dingtalk: { atMobiles: ['13800000000'], atUserIds: ['ops-lead'], isAtAll: false },
      dingtalkText: true,
      slack: ['U0123ABC', 'S0456DEF'],
    });
  });

  it.each(['TAG_CONFLICT', 'UNSUPPORTED_FORMAT', 'DATA_LENGTH_EXCEEDED', '', 'SOMETHING_NEW'])(
    'a medium-severity failure (%j) calls in nobody',
    (issue) => {
      expect(calledIn([failure(1, { issue })])).toEqual({ dingtalk: undefined, dingtalkText: false, slack: [] });
    },
  );

  it('a low-severity failure calls in nobody', () => {
    expect(calledIn([failure(1, { issue: 'NETWORK_ERROR' }), failure(2, { issue: 'INTERNAL_ERROR' })])).toEqual({
      dingtalk: undefined,
      dingtalkText: false,
      slack: [],
    });
  });

  it('one high-severity failure among milder ones is enough', () => {
    expect(
      calledIn([
        failure(1, { issue: 'TAG_CONFLICT' }),
        failure(2, { issue: 'OSS_POLICY_UNAUTHORIZED', ruleId: 'crsr-other' }),
      ]).slack,
    ).toEqual(['U0123ABC', 'S0456DEF']);
  });

  it('an instance alerting cannot see calls people in; its restoration, a recovery or a stuck sync does not', () => {
    expect(calledIn([notice('blind')]).slack).toEqual(['U0123ABC', 'S0456DEF']);
    expect(isSevere(contentOf([notice('blind')]))).toBe(true);
    for (const mild of [[notice('restored')], [recovered(1)], [stuck(1)]]) {
      expect(isSevere(contentOf(mild))).toBe(false);
      expect(calledIn(mild)).toEqual({ dingtalk: undefined, dingtalkText: false, slack: [] });
    }
  });

  it('a route without mentions calls in nobody, even for a severe failure', () => {
    expect(calledIn([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], 'none')).toEqual({
      dingtalk: undefined,
      dingtalkText: false,
      slack: [],
    });
    expect(
      calledIn([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], {
        dingtalkMobiles: [],
        dingtalkUserIds: [],
        slack: [],
      }),
    ).toEqual({ dingtalk: undefined, dingtalkText: false, slack: [] });
  });

  it('DingTalk user ids alone are enough to call people in there', () => {
    const ding = renderFor('dingtalk', contentOf([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })]), UTC, {
      mentions: { dingtalkMobiles: [], dingtalkUserIds: ['ops-lead'], slack: [] },
    });
    expect(ding.at).toEqual({ atMobiles: [], atUserIds: ['ops-lead'], isAtAll: false });
  });
});

describe('a failure group high by its scale or duration', () => {
  /** `n` network failures of one rule, `spreadMin` minutes apart back from `T0`. */
  const burst = (n: number, spreadMin = 1) =>
    Array.from({ length: n }, (_, i) => failure(i, { createTime: T0 - i * spreadMin * MIN }));
  const render = (alerts: Alert[], escalate?: Escalation) => {
    const c = contentOf(alerts);
    return {
      ding: renderFor('dingtalk', c, UTC, { mentions: PEOPLE, escalate }),
      slack: renderFor('slack', c, UTC, { mentions: PEOPLE, escalate }),
    };
  };
  const slackMentions = (m: ReturnType<typeof render>['slack']) =>
    m.blocks.flatMap((b) => {
      const text = (b as { text?: { text?: string } }).text?.text ?? '';
      return b.type === 'section' ? [...text.matchAll(/<@(U\w+)>|<!subteam\^(S\w+)>/g)].map((x) => x[1] ?? x[2]) : [];
    });

  it('3,000 network failures of one rule call in the mentions, with the high mark in the banner', () => {
    const { ding, slack } = render(burst(3_000, 0), DEFAULT_ESCALATION);
    expect(ding.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['ops-lead'], isAtAll: false });
    expect(ding.markdown.text).toContain('@13800000000');
    expect(slackMentions(slack)).toEqual(['U0123ABC', 'S0456DEF']);
    expect(ding.markdown.title).toMatch(/^🔴 ACR: 3,000× network → /);
    expect(slack.text).toMatch(/^🔴 ACR: 3,000× network → /);
    expect(slack.attachments[0]!.color).toBe('#E01E5A');
  });

  it('49 failures within a few minutes stay as the cause says: no mentions, the low mark', () => {
    const { ding, slack } = render(burst(49, 0));
    expect(ding.at).toBeUndefined();
    expect(slackMentions(slack)).toEqual([]);
    expect(ding.markdown.title).toMatch(/^🟡 ACR: 49× network/);
  });

  it('a group failing for 30 minutes calls people in; for 29, not', () => {
    expect(render(burst(2, 30)).ding.at).toBeDefined();
    expect(render(burst(2, 29)).ding.at).toBeUndefined();
    expect(isSevere(contentOf(burst(2, 30)))).toBe(true);
  });

  it('a route with escalation off keeps 3,000 network failures low', () => {
    const { ding, slack } = render(burst(3_000, 1), { failures: 0, forMinutes: 0 });
    expect(ding.at).toBeUndefined();
    expect(slackMentions(slack)).toEqual([]);
    expect(slack.text).toMatch(/^🟡 ACR: 3,000× network/);
  });

  it('leads the banner and the body with the escalated group, before a milder cause’s smaller one', () => {
    const alerts = [...burst(60, 0), failure(900, { issue: 'TAG_CONFLICT', ruleId: 'crsr-tags' })];
    const { ding } = render(alerts);
    expect(ding.markdown.title).toMatch(
      /^🔴 ACR: 60× network → cn-shenzhen · 61 syncs failed in all, 1 other group · rule hz-to-sz$/,
    );
    expect(ding.markdown.text.indexOf('Network unstable')).toBeLessThan(ding.markdown.text.indexOf('TAG_CONFLICT'));
    expect(render(alerts, { failures: 0, forMinutes: 0 }).ding.markdown.title).toMatch(/^🟠 ACR: 1× immutable/);
  });
});
