import { describe, expect, it } from 'vitest';
import { acrEndpoint, configSecrets, readConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/lib/errors.js';

const base = {
  ACR_INSTANCES: 'cn-hangzhou:cri-abc123, cn-shanghai:cri-def456',
  SLACK_WEBHOOK: 'https://hooks.slack.com/services/T1/B1/secretpath',
};
const problems = (env: Record<string, string>) => {
  try {
    readConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('readConfig', () => {
  it('reads the documented defaults', () => {
    const c = readConfig(base, { fileExists: () => false });
    expect(c.instances.map((i) => i.key)).toEqual(['cn-hangzhou:cri-abc123', 'cn-shanghai:cri-def456']);
    expect(c.acrEndpointTemplate).toBe('https://cr.{regionId}.aliyuncs.com');
    expect(c.store).toEqual({ kind: 'file', path: '.acr-sync-alert/state.json' });
    expect(c).toMatchObject({
      lang: 'en',
      lookbackMinutes: 1440,
      pageSize: 50,
      fetchConcurrency: 2,
      stateKey: 'default',
    });
    expect(acrEndpoint(c.acrEndpointTemplate, 'cn-shanghai')).toBe('https://cr.cn-shanghai.aliyuncs.com');
  });

  it('uses Tablestore when its endpoint is set, keyed by the function name inside Function Compute', () => {
    const c = readConfig({
      ...base,
      TABLESTORE_ENDPOINT: 'https://inst.cn-hangzhou.ots.aliyuncs.com',
      TABLESTORE_INSTANCE: 'inst',
      FC_FUNCTION_NAME: 'acr-alert',
    });
    expect(c.store).toEqual({
      kind: 'tablestore',
      endpoint: 'https://inst.cn-hangzhou.ots.aliyuncs.com',
      instance: 'inst',
      table: 'acr_sync_alert',
    });
    expect(c.stateKey).toBe('acr-alert');
  });

  it('carries the function and region Function Compute names on every route, for the commands in messages', () => {
    const ots = { TABLESTORE_ENDPOINT: 'https://inst.cn-hangzhou.ots.aliyuncs.com', TABLESTORE_INSTANCE: 'inst' };
    const routes = JSON.stringify([
      { name: 'team', match: { namespace: ['a'] }, slack: { webhook: base.SLACK_WEBHOOK } },
    ]);
    const c = readConfig({ ...base, ...ots, ROUTES: routes, FC_FUNCTION_NAME: 'acr-alert', FC_REGION: 'cn-beijing' });
    expect([c.functionName, c.functionRegion]).toEqual(['acr-alert', 'cn-beijing']);
    expect(c.routes.map((r) => [r.name, r.deployment])).toEqual([
      ['team', { name: 'acr-alert', region: 'cn-beijing' }],
      ['default', { name: 'acr-alert', region: 'cn-beijing' }],
    ]);
    // Half known is not known: a command naming only the function would ask for the region.
    const half = readConfig({ ...base, ...ots, FC_FUNCTION_NAME: 'acr-alert' });
    expect(half.routes.map((r) => r.deployment)).toEqual([undefined]);
    expect(readConfig(base, { fileExists: () => false }).routes[0]!.deployment).toBeUndefined();
  });

  it('names every problem at once', () => {
    const p = problems({
      ACR_INSTANCES: 'bad',
      ACR_PAGE_SIZE: '500',
      FETCH_CONCURRENCY: 'x',
      TABLESTORE_ENDPOINT: 'https://x.ots.aliyuncs.com',
    });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ACR_INSTANCES entry "bad"/),
        expect.stringMatching(/ACR_PAGE_SIZE must be at most 100/),
        expect.stringMatching(/FETCH_CONCURRENCY must be a whole number/),
        expect.stringMatching(/no channel configured/),
        expect.stringMatching(/TABLESTORE_INSTANCE is required/),
      ]),
    );
  });

  it.each([
    [{ ACR_INSTANCES: '' }, /ACR_INSTANCES is required/],
    [{ SLACK_WEBHOOK: 'https://hooks.slack.com/workflows/abc' }, /SLACK_WEBHOOK must be a Slack incoming webhook URL/],
    [{ DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send' }, /access_token/],
    [{ DINGTALK_WEBHOOK: 'not a url' }, /DINGTALK_WEBHOOK is not a valid URL/],
    [
      { DINGTALK_SECRET: 'SECabc', SLACK_WEBHOOK: 'https://hooks.slack.com/services/a' },
      /DINGTALK_SECRET is set but DINGTALK_WEBHOOK is not/,
    ],
    [{ ACR_ENDPOINT: 'cr.aliyuncs.com' }, /ACR_ENDPOINT must be an http\(s\) URL/],
    [{ FC_FUNCTION_NAME: 'f' }, /required in Function Compute/],
    [{ DINGTALK_AT_MOBILES: '138-0000' }, /DINGTALK_AT_MOBILES entry "138-0000" must be a phone number/],
    [{ SLACK_MENTIONS: '@here' }, /SLACK_MENTIONS entry "@here" must be a Slack user id/],
  ])('rejects %j', (over, why) => {
    expect(problems({ ...base, ...over } as Record<string, string>).join('\n')).toMatch(why);
  });

  it("accepts webhooks only on the platforms' hosts unless told otherwise", () => {
    expect(problems({ ...base, SLACK_WEBHOOK: 'https://hooks.example.com/services/a' }).join()).toMatch(
      /SLACK_WEBHOOK must point at Slack \(hooks.slack.com\)/,
    );
    expect(problems({ ...base, DINGTALK_WEBHOOK: 'https://evil.example/robot/send?access_token=x' }).join()).toMatch(
      /DINGTALK_WEBHOOK must point at DingTalk/,
    );
    expect(problems({ ...base, DINGTALK_WEBHOOK: 'https://oapi.dingtalk.io/robot/send?access_token=x' })).toEqual([]);
    expect(
      problems({ ...base, SLACK_WEBHOOK: 'https://gateway.corp.example/services/a', WEBHOOK_ALLOW_ANY_HOST: 'true' }),
    ).toEqual([]);
  });

  it('accepts plain http only for loopback webhooks', () => {
    expect(problems({ ...base, SLACK_WEBHOOK: 'http://127.0.0.1:9/services/a' })).toEqual([]);
    expect(
      problems({ ...base, SLACK_WEBHOOK: 'http://10.0.0.1/services/a', WEBHOOK_ALLOW_ANY_HOST: 'true' }).join(),
    ).toMatch(/must use https/);
  });

  it('never repeats a secret in its errors, and knows which values to scrub', () => {
    const env = {
      ACR_INSTANCES: 'x',
      DINGTALK_WEBHOOK: 'http://oapi.dingtalk.com/robot/send?access_token=tok-SECRET1',
      DINGTALK_SECRET: 'bad-SECRET2',
      SLACK_WEBHOOK: 'https://hooks.slack.com/nope/SECRET3',
    };
    const text = problems(env).join('\n');
    for (const s of ['SECRET1', 'SECRET2', 'SECRET3']) expect(text).not.toContain(s);
    const c = readConfig({
      ...base,
      DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=tok123',
      DINGTALK_SECRET: 'SECxyz',
    });
    expect(configSecrets(c).map((s) => s.reveal())).toEqual(
      expect.arrayContaining(['tok123', 'SECxyz', base.SLACK_WEBHOOK]),
    );
    expect(JSON.stringify(c)).not.toContain('tok123');
  });
});

describe("the default route's escalation", () => {
  const defaultRoute = (env: Record<string, string>) => readConfig(env, { fileExists: () => false }).routes.at(-1)!;
  it('is 50 failures or 30 minutes unless ESCALATE_FAILURES or ESCALATE_MINUTES say otherwise, 0 turning one off', () => {
    expect(defaultRoute(base).escalate).toEqual({ failures: 50, forMinutes: 30 });
    expect(defaultRoute({ ...base, ESCALATE_FAILURES: '0', ESCALATE_MINUTES: '90' }).escalate).toEqual({
      failures: 0,
      forMinutes: 90,
    });
  });

  it('refuses a threshold that is not a whole number', () => {
    expect(problems({ ...base, ESCALATE_FAILURES: '-5' })).toEqual(['ESCALATE_FAILURES must be a whole number']);
    expect(problems({ ...base, ESCALATE_MINUTES: 'half an hour' })).toEqual([
      'ESCALATE_MINUTES must be a whole number',
    ]);
  });
});
