import { describe, expect, it } from 'vitest';
import { MalformedResponseError, parseRulePage, parseTaskPage } from '../../../src/acr/parse.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { parseTimerEvent } from '../../../src/handler/event.js';

const timer = (payload: string) =>
  Buffer.from(JSON.stringify({ triggerTime: '2026-11-24T07:49:00Z', triggerName: 'every5m', payload }));

describe('parseTimerEvent', () => {
  it('reads the timer event Buffer and JSON options in its payload', () => {
    expect(parseTimerEvent(timer('{"dryRun":true}'))).toMatchObject({
      triggerName: 'every5m',
      options: { dryRun: true },
      notes: [],
    });
  });
  it('runs with defaults on an empty or non-JSON payload, saying so', () => {
    expect(parseTimerEvent(timer('')).options).toEqual({ dryRun: false, digest: false });
    const e = parseTimerEvent(timer('awesome-fc'));
    expect(e.options).toEqual({ dryRun: false, digest: false });
    expect(e.notes.join()).toMatch(/not JSON/);
    expect(parseTimerEvent(undefined).options).toEqual({ dryRun: false, digest: false });
  });
  it('refuses unknown options and wrong types', () => {
    expect(() => parseTimerEvent(timer('{"dryrun":true}'))).toThrow(ConfigError);
    expect(() => parseTimerEvent(timer('{"dryRun":"yes"}'))).toThrow(/dryRun/);
  });
});

// From the ListRepoSyncTask documentation's sample response.
const docSample = {
  RequestId: '1FE6D9E6-8F6F-4A3A-8E8E-5F6F0A0B1C2D',
  Code: 'success',
  IsSuccess: true,
  PageNo: 1,
  PageSize: 30,
  TotalCount: '1',
  SyncTasks: [
    {
      SyncTaskId: 'rst-kmdzu8sn1xxxxx',
      SyncBatchTaskId: 'rsbt-kmdzu8sn1xxxxx',
      SyncRuleId: 'crsr-gk5p2ns1xxxxx',
      TaskStatus: 'ERROR',
      TaskIssue: 'NETWORK_ERROR',
      TaskTrigger: 'PASSIVE',
      CreateTime: 1572839126000,
      ModifedTime: 1572839126000,
      CrossUser: false,
      ImageFrom: {
        InstanceId: 'cri-kmsiwlxxdcvaduwb',
        RegionId: 'cn-hangzhou',
        RepoNamespaceName: 'ns',
        RepoName: 'repo',
        ImageTag: 'v1',
      },
      ImageTo: {
        InstanceId: 'cri-ibxs3qf5gdgnxxxx',
        RegionId: 'cn-beijing',
        RepoNamespaceName: 'ns',
        RepoName: 'repo',
        ImageTag: 'v1',
      },
    },
  ],
};

describe('parseTaskPage', () => {
  it('reads the documented sample, TotalCount as a string and the misspelled ModifedTime', () => {
    const p = parseTaskPage(docSample, 'cri-kmsiwlxxdcvaduwb', { pageNo: 1, pageSize: 30 });
    expect(p.totalCount).toBe(1);
    expect(p.items[0]).toMatchObject({
      taskId: 'rst-kmdzu8sn1xxxxx',
      status: 'ERROR',
      issue: 'NETWORK_ERROR',
      modifiedTime: 1572839126000,
      to: { regionId: 'cn-beijing' },
    });
  });
  it('accepts TotalCount as a number, a missing TaskIssue, and CreateTime as a string; prefers ModifiedTime', () => {
    const body = {
      ...docSample,
      TotalCount: 1,
      SyncTasks: [
        { ...docSample.SyncTasks[0], TaskIssue: undefined, CreateTime: '1572839126000', ModifiedTime: 1572839999000 },
      ],
    };
    const p = parseTaskPage(body, 'x', { pageNo: 1, pageSize: 30 });
    expect(p.items[0]).toMatchObject({ issue: '', createTime: 1572839126000, modifiedTime: 1572839999000 });
  });
  it('drops an item without an id or any time, and keeps the rest', () => {
    const body = {
      ...docSample,
      SyncTasks: [
        { TaskStatus: 'ERROR' },
        { ...docSample.SyncTasks[0], CreateTime: undefined, ModifedTime: undefined },
        docSample.SyncTasks[0],
      ],
    };
    const p = parseTaskPage(body, 'x', { pageNo: 1, pageSize: 30 });
    expect(p.items).toHaveLength(1);
    expect(p.dropped).toHaveLength(2);
  });
  it.each([
    [{ message: 'upstream failed' }, /TotalCount/],
    [{ ...docSample, SyncTasks: 'nope' }, /SyncTasks: expected an array/],
    [{ ...docSample, IsSuccess: false }, /IsSuccess is false/],
    [{ ...docSample, TotalCount: 'many' }, /TotalCount/],
  ])('refuses an envelope like %j', (body, why) => {
    expect(() => parseTaskPage(body, 'x', { pageNo: 1, pageSize: 30 })).toThrow(MalformedResponseError);
    expect(() => parseTaskPage(body, 'x', { pageNo: 1, pageSize: 30 })).toThrow(why);
  });
});

describe('parseRulePage', () => {
  it('reads rules with TotalCount as a number', () => {
    const p = parseRulePage(
      {
        Code: 'success',
        IsSuccess: true,
        TotalCount: 1,
        SyncRules: [
          { SyncRuleId: 'crsr-1', SyncRuleName: 'to-sh', SyncScope: 'NAMESPACE', TargetRegionId: 'cn-shanghai' },
        ],
      },
      { pageNo: 1, pageSize: 50 },
    );
    expect(p.items).toEqual([{ ruleId: 'crsr-1', name: 'to-sh', scope: 'NAMESPACE', targetRegionId: 'cn-shanghai' }]);
  });
});
