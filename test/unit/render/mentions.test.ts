import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import type { Mentions } from '../../../src/model/route.js';
import { contentOf } from '../../../src/render/content.js';
import { isSevere, renderFor } from '../../../src/render/index.js';
import { failure, notice, recovered, stuck } from '../../support/alerts.js';

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
