import { describe, expect, it } from 'vitest';
import { lookalikeSettings, readConfig } from '../../../src/config/config.js';
import { configProblems } from '../../support/config.js';

const base = { ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: 'https://hooks.slack.com/services/a' };
const problemsOf = (env: Record<string, string>) => configProblems(env).split('\n').filter(Boolean);

describe('mistakes in the settings are named', () => {
  it('a variable that looks like a setting but is not one, with the nearest real one; others are left alone', () => {
    const env = {
      ...base,
      SLACK_WEBHOOK_URL: 'x',
      ALERT_TIMEZOME: 'Asia/Shanghai',
      TABLESTORE_INSTANCE_NAME: 'x',
      DINGTALK_FOO: 'x',
      PATH: '/usr/bin',
      FC_FUNCTION_MEMORY_SIZE: '256',
      ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
    };
    expect(lookalikeSettings(env)).toEqual([
      'ALERT_TIMEZOME is not a setting of this function and is ignored: did you mean ALERT_TIMEZONE?',
      'DINGTALK_FOO is not a setting of this function and is ignored; see docs/configuration.md for the settings',
      'SLACK_WEBHOOK_URL is not a setting of this function and is ignored: did you mean SLACK_WEBHOOK?',
      'TABLESTORE_INSTANCE_NAME is not a setting of this function and is ignored: did you mean TABLESTORE_INSTANCE?',
    ]);
    // A run carries on with them as warnings (its notes); `check` reports lookalikeSettings as errors.
    expect(readConfig(env).notes).toEqual(expect.arrayContaining(lookalikeSettings(env)));
    expect(lookalikeSettings(base)).toEqual([]);
  });

  it('a time zone must be its canonical IANA name: CST is refused with Asia/Shanghai suggested', () => {
    expect(problemsOf({ ...base, ALERT_TIMEZONE: 'CST' })).toEqual([
      'ALERT_TIMEZONE "CST" is an abbreviation or alias, not a canonical IANA time zone: use Asia/Shanghai',
    ]);
    expect(problemsOf({ ...base, ALERT_TIMEZONE: 'Asia/Shangai' })).toEqual([
      'ALERT_TIMEZONE "Asia/Shangai" is not an IANA time zone: did you mean Asia/Shanghai?',
    ]);
    expect(problemsOf({ ...base, DIGEST_AT: '09:00', DIGEST_TIMEZONE: 'PRC' })).toEqual([
      'DIGEST_TIMEZONE "PRC" is an abbreviation or alias, not a canonical IANA time zone: use Asia/Shanghai',
    ]);
    for (const tz of ['Asia/Shanghai', 'UTC', 'Etc/GMT-8', 'America/Argentina/Buenos_Aires', 'Europe/Berlin'])
      expect(problemsOf({ ...base, ALERT_TIMEZONE: tz }), tz).toEqual([]);
  });

  it('a region close to a known one is refused with it suggested; one far from all is only noted', () => {
    expect(problemsOf({ ...base, ACR_INSTANCES: 'cn-hangzou:cri-abc' })).toEqual([
      'ACR_INSTANCES entry "cn-hangzou:cri-abc": "cn-hangzou" is not a region: did you mean cn-hangzhou?',
    ]);
    // me-central-1 is two edits from eu-central-1 and real: the list must hold it.
    expect(readConfig({ ...base, ACR_INSTANCES: 'me-central-1:cri-abc' }).notes).toEqual([]);
    const far = readConfig({ ...base, ACR_INSTANCES: 'xy-nowhere-9:cri-abc' });
    expect(far.notes).toEqual([
      'ACR_INSTANCES entry "xy-nowhere-9:cri-abc": "xy-nowhere-9" is not a region this release knows; check it if its ' +
        'endpoint fails',
    ]);
  });
});
