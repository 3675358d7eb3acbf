import { describe, expect, it } from 'vitest';
import { groupId, inGroup, targetInstanceOf, type GroupRef } from '../../../src/model/group-ref.js';

const g: GroupRef = {
  source: 'cn-hangzhou:cri-a',
  ruleId: 'rule-1',
  target: 'ap-southeast-1:cri-b',
  cause: 'NETWORK_ERROR',
};

describe('group-ref', () => {
  it('gives a stable 12-hex id that changes with every part', () => {
    expect(groupId(g)).toMatch(/^[0-9a-f]{12}$/);
    expect(groupId({ ...g })).toBe(groupId(g));
    for (const k of ['source', 'ruleId', 'target', 'cause'] as const)
      expect(groupId({ ...g, [k]: 'x' })).not.toBe(groupId(g));
  });
  it('reads the target instance of a row target that names an image', () => {
    expect(targetInstanceOf('ap-southeast-1:cri-b ns/repo:tag')).toBe('ap-southeast-1:cri-b');
    expect(targetInstanceOf('ap-southeast-1:cri-b')).toBe('ap-southeast-1:cri-b');
  });
  it('matches rows by rule, classified cause and target instance', () => {
    const row = { ruleId: 'rule-1', issue: ' network_error ', target: 'ap-southeast-1:cri-b x/y:z' };
    expect(inGroup(g, row)).toBe(true);
    expect(inGroup(g, { ...row, ruleId: 'rule-2' })).toBe(false);
    expect(inGroup(g, { ...row, issue: 'OSS_POLICY_UNAUTHORIZED' })).toBe(false);
    expect(inGroup(g, { ...row, target: 'ap-southeast-1:cri-c' })).toBe(false);
    expect(inGroup({ ...g, ruleId: '' }, { issue: 'NETWORK_ERROR', target: 'ap-southeast-1:cri-b' })).toBe(true);
  });
});
