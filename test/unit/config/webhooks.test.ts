import { describe, expect, it } from 'vitest';
import {
  dingtalkToken,
  mentionIds,
  parseDingTalkSecret,
  parseDingTalkWebhook,
  parseSlackWebhook,
} from '../../../src/config/webhooks.js';
import { Secret } from '../../../src/lib/secret.js';

const strict = { anyHost: false };
/** What a webhook setting becomes: the URL it will post to, or the problems it was refused with. */
function slack(raw: string | undefined, policy = strict) {
  const problems: string[] = [];
  const s = parseSlackWebhook('SLACK_WEBHOOK', raw, policy, problems);
  return { url: s?.reveal(), problems };
}
function dingtalk(raw: string | undefined, policy = strict) {
  const problems: string[] = [];
  const s = parseDingTalkWebhook('DINGTALK_WEBHOOK', raw, policy, problems);
  return { url: s?.reveal(), problems };
}

describe('webhook hosts', () => {
  it.each([
    'https://hooks.slack.com.evil.example/services/T/B/x',
    'https://hooks.slack.company.example/services/T/B/x',
    'https://evil.example/hooks.slack.com/services/T/B/x',
    'https://xhooks.slack.com/services/T/B/x',
    'https://hooks.slack.com@evil.example/services/T/B/x',
  ])('a look-alike Slack host is refused: %s', (raw) => {
    expect(slack(raw)).toEqual({
      url: undefined,
      problems: [
        expect.stringMatching(
          /^SLACK_WEBHOOK must point at Slack \(hooks\.slack\.com\); set WEBHOOK_ALLOW_ANY_HOST=true/,
        ),
      ],
    });
  });

  it.each([
    'https://oapi.dingtalk.com.evil.example/robot/send?access_token=t',
    'https://evil-oapi.dingtalk.com/robot/send?access_token=t',
    'https://oapi.dingtalk.io.evil.example/robot/send?access_token=t',
  ])('a look-alike DingTalk host is refused: %s', (raw) => {
    expect(dingtalk(raw)).toEqual({
      url: undefined,
      problems: [
        expect.stringMatching(/^DINGTALK_WEBHOOK must point at DingTalk \(oapi\.dingtalk\.com or oapi\.dingtalk\.io\)/),
      ],
    });
  });

  it("accepts the platforms' own hosts, mainland and international", () => {
    expect(slack('https://hooks.slack.com/services/T/B/x')).toEqual({
      url: 'https://hooks.slack.com/services/T/B/x',
      problems: [],
    });
    expect(dingtalk('https://oapi.dingtalk.com/robot/send?access_token=t')).toEqual({
      url: 'https://oapi.dingtalk.com/robot/send?access_token=t',
      problems: [],
    });
    expect(dingtalk('https://oapi.dingtalk.io/robot/send?access_token=t').url).toBe(
      'https://oapi.dingtalk.io/robot/send?access_token=t',
    );
  });

  it("accepts any https host when the operator allows it, but still wants the platform's URL shape", () => {
    expect(slack('https://relay.example/services/T/B/x', { anyHost: true })).toEqual({
      url: 'https://relay.example/services/T/B/x',
      problems: [],
    });
    expect(slack('https://relay.example/other', { anyHost: true }).problems).toEqual([
      expect.stringMatching(/^SLACK_WEBHOOK must be a Slack incoming webhook URL/),
    ]);
    expect(dingtalk('https://relay.example/robot/send', { anyHost: true }).problems).toEqual([
      expect.stringMatching(/^DINGTALK_WEBHOOK must carry the robot access_token parameter/),
    ]);
  });

  it('accepts plain http to a loopback receiver only, on any port', () => {
    expect(slack('http://127.0.0.1:8080/services/T/B/x').url).toBe('http://127.0.0.1:8080/services/T/B/x');
    expect(slack('http://localhost:8080/services/T/B/x').url).toBe('http://localhost:8080/services/T/B/x');
    expect(slack('http://[::1]:8080/services/T/B/x').url).toBe('http://[::1]:8080/services/T/B/x');
    expect(slack('http://hooks.slack.com/services/T/B/x').problems).toEqual([
      'SLACK_WEBHOOK must use https (plain http is accepted only for 127.0.0.1 or localhost)',
    ]);
    expect(slack('http://relay.example/services/T/B/x', { anyHost: true }).url).toBeUndefined();
    expect(slack('ftp://hooks.slack.com/services/T/B/x').problems).toHaveLength(1);
    expect(slack('ftp://127.0.0.1/services/T/B/x').problems).toEqual([
      'SLACK_WEBHOOK must use https (plain http is accepted only for 127.0.0.1 or localhost)',
    ]);
  });

  it('treats an empty setting as not set, trims the rest, and calls a non-URL invalid without echoing it', () => {
    expect(slack(undefined)).toEqual({ url: undefined, problems: [] });
    expect(slack('   ')).toEqual({ url: undefined, problems: [] });
    expect(slack('  https://hooks.slack.com/services/T/B/x \n').url).toBe('https://hooks.slack.com/services/T/B/x');
    expect(slack('not a url secret-part')).toEqual({ url: undefined, problems: ['SLACK_WEBHOOK is not a valid URL'] });
  });

  it('hands back a value that prints as redacted', () => {
    const problems: string[] = [];
    const s = parseSlackWebhook('SLACK_WEBHOOK', 'https://hooks.slack.com/services/T/B/x', strict, problems);
    expect(`${s}`).toBe('[redacted]');
  });
});

describe('DingTalk signing secret and token', () => {
  it('accepts a secret starting with SEC, trimmed; refuses anything else without echoing it', () => {
    const problems: string[] = [];
    expect(parseDingTalkSecret('DINGTALK_SECRET', '  SECabc  ', problems)?.reveal()).toBe('SECabc');
    expect(parseDingTalkSecret('DINGTALK_SECRET', 'xSECabc', problems)).toBeUndefined();
    expect(parseDingTalkSecret('DINGTALK_SECRET', '  ', problems)).toBeUndefined();
    expect(parseDingTalkSecret('DINGTALK_SECRET', undefined, problems)).toBeUndefined();
    expect(problems).toEqual(['DINGTALK_SECRET must be the robot signing secret, which starts with SEC']);
  });

  it('picks the access_token out of the webhook, to be scrubbed too', () => {
    expect(dingtalkToken(new Secret('https://oapi.dingtalk.com/robot/send?access_token=tok-1&x=y'))?.reveal()).toBe(
      'tok-1',
    );
    expect(dingtalkToken(new Secret('https://oapi.dingtalk.com/robot/send?access_token='))).toBeUndefined();
  });
});

describe('mention ids', () => {
  it.each([
    ['dingtalkMobiles', ['13800000000', '+8613800000000'], ['1380', '138-0000-0000', `1${'0'.repeat(20)}`]],
    ['dingtalkUserIds', ['ops-lead', 'manager_1', 'a'.repeat(64)], ['ops lead', '', 'a'.repeat(65)]],
    ['slack', ['U0123ABC', 'W012', 'S0456DEF'], ['@bob', 'u0123abc', 'X0123', 'U0', `U${'A'.repeat(21)}`]],
  ] as const)('%s: accepts ids as the platform issues them and names each entry that is not one', (kind, good, bad) => {
    const problems: string[] = [];
    expect(mentionIds('M', [...good, ...bad], kind, problems)).toEqual([...good, ...bad]);
    expect(problems).toHaveLength(bad.length);
    bad.forEach((b, i) => expect(problems[i]).toMatch(new RegExp(`^M entry "${b.replace(/[+]/g, '\\+')}" must be `)));
  });
});
