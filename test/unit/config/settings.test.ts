import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acrEndpoint, configSecrets, envCredentials, readConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/lib/errors.js';

type Env = Record<string, string>;
const SLACK = 'https://hooks.slack.com/services/T1/B1/slack-hook-77aa';
const DING = 'https://oapi.dingtalk.com/robot/send?access_token=ding-token-5e6f';
const base: Env = { ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: SLACK };

/** Every problem `env` is refused with, in order; [] when it is accepted. */
function problemsOf(env: Env, opts?: { requireChannel?: boolean }): readonly string[] {
  try {
    readConfig(env, opts);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
const fileWith = (text: string, name = 'setting.json') => {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  writeFileSync(join(dir, name), text);
  return { dir, path: join(dir, name) };
};

describe('ACR_INSTANCES', () => {
  it('lists each instance once, trimmed, with its region and key, skipping empty entries', () => {
    const c = readConfig({
      ...base,
      ACR_INSTANCES: ' cn-hangzhou : cri-abc ,, cn-shanghai:cri-Def9, cn-hangzhou:cri-abc ,',
    });
    expect(c.instances).toEqual([
      { regionId: 'cn-hangzhou', instanceId: 'cri-abc', key: 'cn-hangzhou:cri-abc' },
      { regionId: 'cn-shanghai', instanceId: 'cri-Def9', key: 'cn-shanghai:cri-Def9' },
    ]);
  });

  it.each(['cn-hangzhou:cri-abc:extra', 'cn-hangzhou', 'cri-abc', 'hangzhou:cri-abc', 'cn-hangzhou:abc'])(
    'names an entry that is not regionId:instanceId: %s',
    (entry) => {
      expect(problemsOf({ ...base, ACR_INSTANCES: `cn-shanghai:cri-ok1,${entry}` })).toEqual([
        `ACR_INSTANCES entry "${entry}" must look like cn-hangzhou:cri-xxxxxxxx (regionId:instanceId)`,
      ]);
    },
  );

  it('says so when it lists no instance at all, but not on top of a bad entry', () => {
    expect(problemsOf({ ...base, ACR_INSTANCES: ' , ,' })).toEqual(['ACR_INSTANCES lists no instance']);
    expect(problemsOf({ ...base, ACR_INSTANCES: 'bad' })).toEqual([
      expect.stringMatching(/^ACR_INSTANCES entry "bad"/),
    ]);
  });

  it('is required, and a blank value counts as missing', () => {
    const { ACR_INSTANCES: _i, ...rest } = base;
    expect(problemsOf(rest)).toEqual(['ACR_INSTANCES is required (comma-separated regionId:instanceId)']);
    expect(problemsOf({ ...base, ACR_INSTANCES: '   ' })).toEqual([
      'ACR_INSTANCES is required (comma-separated regionId:instanceId)',
    ]);
  });
});

describe('numeric settings', () => {
  it('take the documented defaults', () => {
    const c = readConfig(base);
    expect(c).toMatchObject({
      lookbackMinutes: 1_440,
      watchLookbackHours: 48,
      pageSize: 50,
      maxPagesPerInstance: 400,
      fetchConcurrency: 2,
      blindAfterRuns: 3,
      stuckAfterMinutes: 60,
      transient: { minFailures: 1, windowMinutes: 60, persistMinutes: 30 },
    });
  });

  it('are read, trimmed, each into its own field', () => {
    const c = readConfig({
      ...base,
      LOOKBACK_MINUTES: ' 90 ',
      WATCH_LOOKBACK_HOURS: '0',
      ACR_PAGE_SIZE: '100',
      ACR_MAX_PAGES: '7',
      FETCH_CONCURRENCY: '10',
      BLIND_AFTER_RUNS: '5',
      STUCK_AFTER_MINUTES: '5',
      TRANSIENT_MIN_FAILURES: '4',
      TRANSIENT_WINDOW_MINUTES: '120',
      TRANSIENT_PERSIST_MINUTES: '45',
    });
    expect(c).toMatchObject({
      lookbackMinutes: 90,
      watchLookbackHours: 0,
      pageSize: 100,
      maxPagesPerInstance: 7,
      fetchConcurrency: 10,
      blindAfterRuns: 5,
      stuckAfterMinutes: 5,
      transient: { minFailures: 4, windowMinutes: 120, persistMinutes: 45 },
    });
  });

  it.each([
    ['LOOKBACK_MINUTES', '0', 'LOOKBACK_MINUTES must be at least 1'],
    ['LOOKBACK_MINUTES', '10081', 'LOOKBACK_MINUTES must be at most 10080'],
    ['STUCK_AFTER_MINUTES', '4', 'STUCK_AFTER_MINUTES must be at least 5'],
    ['FETCH_CONCURRENCY', '11', 'FETCH_CONCURRENCY must be at most 10'],
    ['ACR_PAGE_SIZE', '-5', 'ACR_PAGE_SIZE must be a whole number'],
    ['ACR_PAGE_SIZE', '5x', 'ACR_PAGE_SIZE must be a whole number'],
    ['ACR_PAGE_SIZE', 'x5', 'ACR_PAGE_SIZE must be a whole number'],
    ['ACR_PAGE_SIZE', '2.5', 'ACR_PAGE_SIZE must be a whole number'],
  ])('%s=%s is refused: %s', (name, value, problem) => {
    expect(problemsOf({ ...base, [name]: value })).toEqual([problem]);
  });
});

describe('where the state is kept', () => {
  it('in a file by default, or the one STATE_FILE names', () => {
    expect(readConfig(base, { fileExists: () => false }).store).toEqual({
      kind: 'file',
      path: '.acr-sync-alert/state.json',
    });
    expect(readConfig({ ...base, STATE_FILE: ' /var/lib/alert/cp.json ' }).store).toEqual({
      kind: 'file',
      path: '/var/lib/alert/cp.json',
    });
  });

  it('in Tablestore when its endpoint and instance are set, in the table named', () => {
    const c = readConfig({
      ...base,
      TABLESTORE_ENDPOINT: ' https://inst.cn-hangzhou.ots.aliyuncs.com ',
      TABLESTORE_INSTANCE: ' inst ',
      TABLESTORE_TABLE: 'alerts_2',
    });
    expect(c.store).toEqual({
      kind: 'tablestore',
      endpoint: 'https://inst.cn-hangzhou.ots.aliyuncs.com',
      instance: 'inst',
      table: 'alerts_2',
    });
    expect(c.functionName).toBeUndefined();
  });

  it('needs the Tablestore instance with its endpoint, and Tablestore inside Function Compute', () => {
    expect(
      problemsOf({ ...base, TABLESTORE_ENDPOINT: 'https://inst.ots.aliyuncs.com', TABLESTORE_INSTANCE: '  ' }),
    ).toEqual([
      'TABLESTORE_INSTANCE must be a Tablestore instance name (3-16 letters, digits, hyphens)',
      'TABLESTORE_INSTANCE is required when TABLESTORE_ENDPOINT is set',
    ]);
    expect(problemsOf({ ...base, TABLESTORE_ENDPOINT: '  ' })).toEqual(['TABLESTORE_ENDPOINT must be an http(s) URL']);
    expect(problemsOf({ ...base, TABLESTORE_ENDPOINT: 'https://inst.ots.aliyuncs.com' })).toEqual([
      'TABLESTORE_INSTANCE is required when TABLESTORE_ENDPOINT is set',
    ]);
    expect(problemsOf({ ...base, FC_FUNCTION_NAME: 'acr-alert' })).toEqual([
      'TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE are required in Function Compute (a state file does not survive between instances)',
    ]);
    // A blank function name is not Function Compute.
    expect(readConfig({ ...base, FC_FUNCTION_NAME: '  ' })).toMatchObject({
      functionName: undefined,
      store: { kind: 'file' },
    });
  });

  it('in Tablestore, with another setting wrong, is refused for that setting alone', () => {
    expect(
      problemsOf({
        ...base,
        TABLESTORE_ENDPOINT: 'https://inst.ots.aliyuncs.com',
        TABLESTORE_INSTANCE: 'inst',
        ACR_PAGE_SIZE: 'x',
      }),
    ).toEqual(['ACR_PAGE_SIZE must be a whole number']);
  });

  it('under STATE_KEY when set, else the function name, else "default"', () => {
    const ots = { TABLESTORE_ENDPOINT: 'https://inst.ots.aliyuncs.com', TABLESTORE_INSTANCE: 'inst' };
    expect(readConfig({ ...base, ...ots, FC_FUNCTION_NAME: ' acr-alert ' })).toMatchObject({
      stateKey: 'acr-alert',
      functionName: 'acr-alert',
    });
    expect(readConfig({ ...base, ...ots, FC_FUNCTION_NAME: 'acr-alert', STATE_KEY: 'prod:eu' }).stateKey).toBe(
      'prod:eu',
    );
    expect(readConfig(base).stateKey).toBe('default');
  });
});

describe('channels of the default route', () => {
  it('carry the DingTalk webhook with its secret, the Slack webhook, and the mentions, trimmed and without empty entries', () => {
    const c = readConfig({
      ...base,
      DINGTALK_WEBHOOK: DING,
      DINGTALK_SECRET: ' SECsign-1 ',
      DINGTALK_AT_MOBILES: ' 13800000000 ,, +8613900000000 ',
      DINGTALK_AT_USER_IDS: 'ops-lead',
      SLACK_MENTIONS: 'U0123ABC, S0456DEF',
    });
    const def = c.routes.at(-1)!;
    expect(def.name).toBe('default');
    expect(def.dingtalk?.webhook.reveal()).toBe(DING);
    expect(def.dingtalk?.secret?.reveal()).toBe('SECsign-1');
    expect(def.slack?.webhook.reveal()).toBe(SLACK);
    expect(def.mentions).toEqual({
      dingtalkMobiles: ['13800000000', '+8613900000000'],
      dingtalkUserIds: ['ops-lead'],
      slack: ['U0123ABC', 'S0456DEF'],
    });
  });

  it('a DingTalk signing secret must be one and needs the DingTalk webhook; a blank one is not set', () => {
    expect(problemsOf({ ...base, DINGTALK_WEBHOOK: DING, DINGTALK_SECRET: 'sign-1' })).toEqual([
      'DINGTALK_SECRET must be the robot signing secret, which starts with SEC',
    ]);
    expect(problemsOf({ ...base, DINGTALK_WEBHOOK: '  ', DINGTALK_SECRET: 'SECsign-1' })).toEqual([
      'DINGTALK_SECRET is set but DINGTALK_WEBHOOK is not',
    ]);
    expect(problemsOf({ ...base, DINGTALK_SECRET: '  ' })).toEqual([]);
  });

  it('a blank webhook is no channel', () => {
    const none = 'no channel configured: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK, or ROUTES';
    expect(problemsOf({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', DINGTALK_WEBHOOK: '  ' })).toEqual([none]);
    expect(problemsOf({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: '  ' })).toEqual([none]);
  });

  it('leave out a channel that is not set', () => {
    const onlyDing = readConfig({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', DINGTALK_WEBHOOK: DING });
    expect(onlyDing.routes).toHaveLength(1);
    expect(onlyDing.routes[0]!.slack).toBeUndefined();
    expect(onlyDing.routes[0]!.dingtalk?.secret).toBeUndefined();
    expect(readConfig(base).routes[0]!.dingtalk).toBeUndefined();
  });

  it('a webhook host of another service is accepted when WEBHOOK_ALLOW_ANY_HOST is true in any case', () => {
    expect(
      problemsOf({ ...base, SLACK_WEBHOOK: 'https://relay.example/services/x', WEBHOOK_ALLOW_ANY_HOST: ' TRUE ' }),
    ).toEqual([]);
    expect(
      problemsOf({
        ...base,
        DINGTALK_WEBHOOK: 'https://relay.example/robot/send?access_token=t',
        WEBHOOK_ALLOW_ANY_HOST: 'True',
      }),
    ).toEqual([]);
    expect(
      problemsOf({ ...base, SLACK_WEBHOOK: 'https://relay.example/services/x', WEBHOOK_ALLOW_ANY_HOST: 'false' }),
    ).toHaveLength(1);
  });

  it('are not needed for a dry run, which posts nothing', () => {
    const env = { ACR_INSTANCES: 'cn-hangzhou:cri-abc' };
    expect(problemsOf(env)).toEqual(['no channel configured: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK, or ROUTES']);
    expect(problemsOf(env, { requireChannel: true })).toHaveLength(1);
    expect(problemsOf(env, { requireChannel: false })).toEqual([]);
    expect(readConfig(env, { requireChannel: false }).routes.map((r) => [r.name, r.dingtalk, r.slack])).toEqual([
      ['default', undefined, undefined],
    ]);
  });

  it('a DingTalk webhook alone is a channel', () => {
    expect(problemsOf({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', DINGTALK_WEBHOOK: DING })).toEqual([]);
  });
});

describe('language, time zones and the default digest', () => {
  it('default to English in UTC; Chinese in China Standard Time', () => {
    expect(readConfig(base)).toMatchObject({
      lang: 'en',
      routes: [{ lang: 'en', timeZone: 'UTC', digest: undefined }],
    });
    expect(readConfig({ ...base, ALERT_LANG: ' ZH ' })).toMatchObject({
      lang: 'zh',
      routes: [{ lang: 'zh', timeZone: 'Asia/Shanghai' }],
    });
  });

  it("ALERT_TIMEZONE sets the default route's zone, and must be a real zone", () => {
    expect(readConfig({ ...base, ALERT_TIMEZONE: ' Europe/Berlin ' }).routes[0]!.timeZone).toBe('Europe/Berlin');
    expect(problemsOf({ ...base, ALERT_TIMEZONE: 'Mars/Olympus' })).toEqual([
      'ALERT_TIMEZONE "Mars/Olympus" is not an IANA time zone (e.g. Asia/Shanghai)',
    ]);
  });

  it("a digest runs at DIGEST_AT, in DIGEST_TIMEZONE or else the route's zone, weekly on DIGEST_WEEKDAY", () => {
    expect(readConfig({ ...base, DIGEST_AT: '09:00' }).routes[0]!.digest).toEqual({
      at: '09:00',
      timezone: 'UTC',
      weekday: undefined,
    });
    expect(readConfig({ ...base, DIGEST_AT: '09:00', ALERT_TIMEZONE: 'Asia/Tokyo' }).routes[0]!.digest).toEqual({
      at: '09:00',
      timezone: 'Asia/Tokyo',
      weekday: undefined,
    });
    expect(
      readConfig({ ...base, DIGEST_AT: '18:30', DIGEST_TIMEZONE: 'America/New_York', DIGEST_WEEKDAY: 'FRI' }).routes[0]!
        .digest,
    ).toEqual({ at: '18:30', timezone: 'America/New_York', weekday: 'fri' });
  });

  it('DIGEST_TIMEZONE alone needs DIGEST_AT too', () => {
    expect(problemsOf({ ...base, DIGEST_TIMEZONE: 'Asia/Tokyo' })).toEqual([
      'DIGEST_TIMEZONE and DIGEST_WEEKDAY need DIGEST_AT',
    ]);
  });
});

describe('JSON settings given inline or as a file', () => {
  const silence = [{ namespace: 'team-*', comment: 'migration' }];

  it('read SILENCES inline or from SILENCES_FILE alike', () => {
    expect(readConfig({ ...base, SILENCES: JSON.stringify(silence) }).silences).toEqual([
      { namespace: ['team-*'], comment: 'migration' },
    ]);
    const f = fileWith(JSON.stringify(silence));
    expect(readConfig({ ...base, SILENCES_FILE: ` ${f.path} ` }).silences).toEqual([
      { namespace: ['team-*'], comment: 'migration' },
    ]);
    expect(readConfig(base).silences).toEqual([]);
  });

  it('read a relative file path from the code directory inside Function Compute, its setting trimmed', () => {
    const f = fileWith(JSON.stringify(silence), 'silences.json');
    expect(
      readConfig({ ...base, SILENCES_FILE: 'silences.json', FC_FUNC_CODE_PATH: ` ${f.dir} ` }).silences,
    ).toHaveLength(1);
  });

  it('read an absolute file path as it is, even inside Function Compute', () => {
    const f = fileWith(JSON.stringify(silence));
    expect(
      readConfig({ ...base, SILENCES_FILE: f.path, FC_FUNC_CODE_PATH: '/nonexistent/code' }).silences,
    ).toHaveLength(1);
  });

  it('treat a blank value or an empty file as not set', () => {
    expect(readConfig({ ...base, SILENCES: '   ' }).silences).toEqual([]);
    expect(readConfig({ ...base, SILENCES_FILE: fileWith('').path }).silences).toEqual([]);
  });

  it('name the setting that is not JSON, the file one when it came from a file', () => {
    expect(problemsOf({ ...base, SILENCES: '[{' })).toEqual(['SILENCES is not valid JSON']);
    expect(problemsOf({ ...base, SILENCES_FILE: fileWith('[{').path })).toEqual(['SILENCES_FILE is not valid JSON']);
  });

  it('name the file that cannot be read, without reading the inline value too', () => {
    const missing = join(tmpdir(), 'no-such-dir-4c1d', 'silences.json');
    expect(problemsOf({ ...base, SILENCES_FILE: missing })).toEqual([
      `SILENCES_FILE ${missing} cannot be read (ENOENT)`,
    ]);
    expect(problemsOf({ ...base, SILENCES: '[]', SILENCES_FILE: missing })).toEqual([
      'set SILENCES or SILENCES_FILE, not both',
    ]);
  });

  it('name each silence and field that is wrong, and refuse them all', () => {
    const p = problemsOf({
      ...base,
      SILENCES: JSON.stringify([
        { namespace: 'ok' },
        { namespce: 'x' },
        { daily: '02:00-03:00', timezone: 'Mars/Olympus' },
      ]),
    });
    expect(p).toEqual(['silences[1].namespce: unknown field']);
    expect(
      problemsOf({
        ...base,
        SILENCES: JSON.stringify([{ namespace: 'ok' }, { daily: '02:00-03:00', timezone: 'Mars/Olympus' }]),
      }),
    ).toEqual(['silences[1].timezone "Mars/Olympus" is not an IANA time zone (e.g. Asia/Shanghai)']);
    expect(
      readConfig({ ...base, SILENCES: JSON.stringify([{ daily: '02:00-03:00', timezone: 'Asia/Tokyo' }]) }).silences,
    ).toEqual([{ daily: '02:00-03:00', timezone: 'Asia/Tokyo' }]);
  });
});

describe('where alerts that match no route go', () => {
  const teamRoute = { name: 'team', match: { namespace: 'team-*' }, slack: { webhook: SLACK } };

  it('a route refused is reported as such, not as a missing channel on top', () => {
    expect(
      problemsOf({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', ROUTES: JSON.stringify([{ ...teamRoute, name: 'team a' }]) }),
    ).toEqual(['routes[0].name: name must be 1-32 letters, digits, - or _']);
  });

  it('routes that all match something need the default route to have a channel', () => {
    expect(problemsOf({ ACR_INSTANCES: 'cn-hangzhou:cri-abc', ROUTES: JSON.stringify([teamRoute]) })).toEqual([
      'alerts that match no route have nowhere to go: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK for the default route, or end ROUTES with a route without "match"',
    ]);
    expect(
      problemsOf(
        { ACR_INSTANCES: 'cn-hangzhou:cri-abc', ROUTES: JSON.stringify([teamRoute]) },
        { requireChannel: false },
      ),
    ).toEqual([]);
  });
});

describe('cloud credentials from the environment', () => {
  it('are taken when both key parts are set, trimmed, with the security token when there is one', () => {
    const c = envCredentials({
      ALIBABA_CLOUD_ACCESS_KEY_ID: ' LTAIkey ',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ' sk-1 ',
      ALIBABA_CLOUD_SECURITY_TOKEN: ' sts-1 ',
    });
    expect([c?.accessKeyId.reveal(), c?.accessKeySecret.reveal(), c?.securityToken?.reveal()]).toEqual([
      'LTAIkey',
      'sk-1',
      'sts-1',
    ]);
    const noToken = envCredentials({
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIkey',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sk-1',
      ALIBABA_CLOUD_SECURITY_TOKEN: ' ',
    });
    expect(noToken?.securityToken).toBeUndefined();
    expect(noToken?.accessKeySecret.reveal()).toBe('sk-1');
    expect(
      envCredentials({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIkey', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sk-1' })
        ?.securityToken,
    ).toBeUndefined();
  });

  it('are not taken from half a key', () => {
    expect(
      envCredentials({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIkey', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '  ' }),
    ).toBeUndefined();
    expect(envCredentials({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sk-1' })).toBeUndefined();
    expect(readConfig(base).envCredentials).toBeUndefined();
  });

  it('are scrubbed from log lines with the webhooks and signing secrets of every route', () => {
    const c = readConfig({
      ...base,
      DINGTALK_WEBHOOK: DING,
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIkey',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sk-1',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'sts-1',
      ROUTES: JSON.stringify([
        {
          name: 'team',
          match: { repo: 'x' },
          dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=route-tok', secret: 'SECroute' },
        },
      ]),
    });
    expect(
      configSecrets(c)
        .map((s) => s.reveal())
        .sort(),
    ).toEqual(
      [
        'LTAIkey',
        'SECroute',
        DING,
        'ding-token-5e6f',
        'https://oapi.dingtalk.com/robot/send?access_token=route-tok',
        'route-tok',
        SLACK,
        'sk-1',
        'sts-1',
      ].sort(),
    );
    expect(configSecrets(readConfig(base)).map((s) => s.reveal())).toEqual([SLACK]);
  });
});

describe('the CR endpoint', () => {
  it('defaults to the public one per region, and puts the region wherever the template names it', () => {
    expect(acrEndpoint(readConfig(base).acrEndpointTemplate, 'cn-beijing')).toBe('https://cr.cn-beijing.aliyuncs.com');
    const t = readConfig({
      ...base,
      ACR_ENDPOINT: ' https://cr-vpc.{regionId}.example/{regionId} ',
    }).acrEndpointTemplate;
    expect(acrEndpoint(t, 'cn-beijing')).toBe('https://cr-vpc.cn-beijing.example/cn-beijing');
  });
});
