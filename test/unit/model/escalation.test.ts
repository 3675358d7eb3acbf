import { describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION, groupSeverity, type GroupFacts } from '../../../src/model/escalation.js';

const MIN = 60_000;
const group = (over: Partial<GroupFacts> = {}): GroupFacts => ({
  cause: 'NETWORK_ERROR',
  count: 1,
  firstAt: 0,
  lastAt: 0,
  ...over,
});

describe("a failure group's severity", () => {
  it('is its cause’s while the group is small and short', () => {
    expect(groupSeverity(group())).toEqual({ severity: 'low', reason: 'cause' });
    expect(groupSeverity(group({ cause: 'TAG_CONFLICT', count: 49 }))).toEqual({ severity: 'medium', reason: 'cause' });
    expect(groupSeverity(group({ cause: 'OSS_POLICY_UNAUTHORIZED' }))).toEqual({ severity: 'high', reason: 'cause' });
  });

  it.each([
    ['49 failures', { count: 49 }, 'low'],
    ['50 failures', { count: 50 }, 'high'],
    ['3,000 failures', { count: 3_000 }, 'high'],
    ['failures over 29 min', { count: 2, lastAt: 29 * MIN }, 'low'],
    ['failures over 30 min', { count: 2, lastAt: 30 * MIN }, 'high'],
  ] as const)('by default (50 failures or 30 min): %s is %s', (_, over, severity) => {
    expect(groupSeverity(group(over)).severity).toBe(severity);
    expect(groupSeverity(group(over), DEFAULT_ESCALATION).severity).toBe(severity);
  });

  it('says which test raised it', () => {
    expect(groupSeverity(group({ count: 50 })).reason).toBe('failures');
    expect(groupSeverity(group({ lastAt: 30 * MIN })).reason).toBe('duration');
  });

  it('follows the route’s thresholds, each off at 0', () => {
    const big = group({ count: 3_000, lastAt: 120 * MIN });
    expect(groupSeverity(big, { failures: 0, forMinutes: 0 })).toEqual({ severity: 'low', reason: 'cause' });
    expect(groupSeverity(big, { failures: 0, forMinutes: 30 }).reason).toBe('duration');
    expect(groupSeverity(big, { failures: 5_000, forMinutes: 0 }).severity).toBe('low');
    expect(groupSeverity(group({ count: 3 }), { failures: 3, forMinutes: 0 }).severity).toBe('high');
  });
});
