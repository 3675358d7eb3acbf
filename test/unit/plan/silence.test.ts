import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import type { SyncTask } from '../../../src/model/task.js';
import { readConfig } from '../../../src/config/config.js';
import { configProblems } from '../../support/config.js';
import { isActive, silencing } from '../../../src/plan/silence.js';
import { silencesSchema } from '../../../src/config/silences.js';
import { type Silence } from '../../../src/model/silence.js';
import type { Alert } from '../../../src/model/alert.js';

const task = (over: Partial<SyncTask> = {}): SyncTask => ({
  taskId: 'rst-1',
  status: 'ERROR',
  issue: 'TAG_CONFLICT',
  trigger: 'PASSIVE',
  createTime: 0,
  crossUser: false,
  ruleId: 'crsr-7',
  from: { instanceId: 'cri-a', regionId: 'cn-hangzhou', namespace: 'team-a', repo: 'api', tag: 'v1.2.3' },
  to: { instanceId: 'cri-b', regionId: 'cn-shanghai', namespace: 'team-a', repo: 'api', tag: 'v1.2.3' },
  ...over,
});
const failure = (over: Partial<SyncTask> = {}): Alert => ({
  id: 'x',
  instance: 'cn-hangzhou:cri-a',
  task: task(over),
  rule: { ruleId: 'crsr-7', name: 'to-shanghai', scope: 'NAMESPACE' },
});
const parse = (x: unknown): Silence[] => v.parse(silencesSchema, x);
const NOW = Date.parse('2026-11-24T18:30:00Z'); // 02:30 in Asia/Shanghai

describe('silences', () => {
  it.each([
    [{ namespace: 'team-*' }, true],
    [{ namespace: 'team-b' }, false],
    [{ cause: ['TAG_CONFLICT', 'NETWORK_ERROR'] }, true],
    [{ cause: 'NETWORK_ERROR' }, false],
    [{ rule: 'crsr-7' }, true],
    [{ rule: 'to-*' }, true],
    [{ instance: 'cn-hangzhou:*', repo: 'api', tag: 'v1.*' }, true],
    [{ instance: 'cn-shanghai:*' }, false],
    [{}, true],
  ])('matcher %j mutes the failure: %s', (matcher, muted) => {
    expect(silencing(failure(), parse([matcher]), NOW) !== undefined).toBe(muted);
  });

  it('matches recoveries by their failure\'s cause or "recovered", and stuck notices by "stuck"', () => {
    const recovered: Alert = {
      kind: 'recovered',
      id: 'r',
      instance: 'cn-hangzhou:cri-a',
      task: task({ status: 'SUCCESS' }),
      failedTaskId: 'f',
      issue: 'NETWORK_ERROR',
      since: 0,
      unannounced: false,
    };
    const stuck: Alert = {
      kind: 'stuck',
      id: 's',
      instance: 'cn-hangzhou:cri-a',
      task: task({ status: 'SYNCHRONIZING' }),
      at: 0,
    };
    expect(silencing(recovered, parse([{ cause: 'NETWORK_ERROR' }]), NOW)).toBeDefined();
    expect(silencing(recovered, parse([{ cause: 'recovered' }]), NOW)).toBeDefined();
    expect(silencing(recovered, parse([{ cause: 'TAG_CONFLICT' }]), NOW)).toBeUndefined();
    expect(silencing(stuck, parse([{ cause: 'stuck' }]), NOW)).toBeDefined();
    expect(silencing(stuck, parse([{ cause: 'TAG_CONFLICT' }]), NOW)).toBeUndefined();
    expect(silencing(failure({ issue: '' }), parse([{ cause: 'UNCLASSIFIED' }]), NOW)).toBeDefined();
  });

  it('stops at its expiry', () => {
    expect(silencing(failure(), parse([{ expires: '2026-11-24T18:00:00Z' }]), NOW)).toBeUndefined();
    expect(silencing(failure(), parse([{ expires: '2026-11-25T00:00:00Z' }]), NOW)).toBeDefined();
  });

  it('stops muting at its expiry even inside its daily window', () => {
    // NOW is 02:30 in Asia/Shanghai, inside the window: only the expiry decides.
    const window = { daily: '02:00-04:00', timezone: 'Asia/Shanghai' };
    expect(silencing(failure(), parse([{ ...window, expires: '2026-11-24T18:00:00Z' }]), NOW)).toBeUndefined();
    expect(silencing(failure(), parse([{ ...window, expires: '2026-11-25T00:00:00Z' }]), NOW)).toBeDefined();
  });

  it('matches a whole name: a pattern for "prod" does not mute a failure in "production"', () => {
    expect(
      silencing(failure({ from: { ...task().from, namespace: 'production' } }), parse([{ namespace: 'prod' }]), NOW),
    ).toBeUndefined();
    expect(
      silencing(failure({ from: { ...task().from, namespace: 'prod' } }), parse([{ namespace: 'prod' }]), NOW),
    ).toBeDefined();
  });

  it('applies a daily maintenance window in its time zone, including one over midnight', () => {
    const [win] = parse([{ daily: '02:00-04:00', timezone: 'Asia/Shanghai' }]);
    expect(isActive(win!, NOW)).toBe(true);
    expect(isActive(win!, NOW + 2 * 3_600_000)).toBe(false);
    const [night] = parse([{ daily: '23:00-01:00' }]); // UTC
    expect(isActive(night!, Date.parse('2026-11-24T23:30:00Z'))).toBe(true);
    expect(isActive(night!, Date.parse('2026-11-25T00:30:00Z'))).toBe(true);
    expect(isActive(night!, Date.parse('2026-11-25T01:30:00Z'))).toBe(false);
  });

  it("never mutes notices about the function's own sight of an instance", () => {
    const blind: Alert = { kind: 'blind', id: 'b', instance: 'cn-hangzhou:cri-a', since: 0, at: 0, runs: 3 };
    expect(silencing(blind, parse([{}]), NOW)).toBeUndefined();
  });

  it('is validated with the configuration, naming what is wrong', () => {
    expect(configProblems({ SILENCES: 'not json' })).toMatch(/SILENCES is not valid JSON/);
    expect(configProblems({ SILENCES: '[{"namespce":"x"}]' })).toMatch(/silences\[0/);
    expect(configProblems({ SILENCES: '[{"daily":"2-4"}]' })).toMatch(/daily must look like 02:00-04:30/);
    expect(configProblems({ SILENCES: '[{"expires":"tomorrow"}]' })).toMatch(/expires must be an ISO 8601 time/);
    expect(configProblems({ SILENCES: '[{"daily":"02:00-03:00","timezone":"Mars/Olympus"}]' })).toMatch(
      /not an IANA time zone/,
    );
    expect(
      readConfig({
        ACR_INSTANCES: 'cn-hangzhou:cri-abc',
        SLACK_WEBHOOK: 'https://hooks.slack.com/services/a',
        SILENCES: '[{"cause":"TAG_CONFLICT","comment":"known"}]',
      }).silences,
    ).toEqual([{ cause: ['TAG_CONFLICT'], comment: 'known' }]);
  });
});
