import { describe, expect, it } from 'vitest';
import { silenceFrom } from '../../../src/cli/silence-options.js';
import { UsageError } from '../../../src/cli/usage.js';

const NOW = Date.UTC(2026, 10, 24, 8);
const HOUR = 3_600_000;
const base = { repo: ['api'], comment: 'deploy freeze', for: '2h' };

/** Every problem the options are refused with; [] when they make a silence. */
function problemsOf(values: Record<string, string | string[] | undefined>): readonly string[] {
  try {
    silenceFrom(values, NOW, 'ops');
    return [];
  } catch (e) {
    if (e instanceof UsageError) return e.problems;
    throw e;
  }
}

describe('a silence from the command line', () => {
  it('ends after --for, from now, and records who made it and when', () => {
    const s = silenceFrom({ ...base, repo: [' api '], cause: ['TAG_CONFLICT'] }, NOW, 'ops');
    expect(s).toMatchObject({
      repo: ['api'],
      cause: ['TAG_CONFLICT'],
      comment: 'deploy freeze',
      expires: new Date(NOW + 2 * HOUR).toISOString(),
      createdBy: 'ops',
      createdAt: new Date(NOW).toISOString(),
    });
    expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ends at --until when that time is still ahead', () => {
    const until = '2026-11-24T18:00:00+08:00';
    expect(silenceFrom({ ...base, for: undefined, until }, NOW, 'ops').expires).toBe(new Date(until).toISOString());
  });

  it.each([
    [
      { for: undefined },
      'give --for (e.g. 2h) or --until (an ISO 8601 time): a silence from the command line always ends',
    ],
    [{ until: '2026-12-01T00:00:00Z' }, 'give --for or --until, not both'],
    [{ for: '30s' }, '--for "30s" is not a duration of at least a minute, e.g. 90m, 2h, 3d, 1h30m'],
    [{ for: '90' }, '--for "90" is not a duration of at least a minute, e.g. 90m, 2h, 3d, 1h30m'],
    [
      { for: undefined, until: '2026-11-24' },
      '--until "2026-11-24" must be an ISO 8601 time with a zone, e.g. 2026-12-24T08:00:00+08:00',
    ],
    [{ for: undefined, until: '2026-11-24T07:00:00Z' }, '--until 2026-11-24T07:00:00Z has already passed'],
  ])('refuses an end it cannot use: %j', (end, problem) => {
    expect(problemsOf({ ...base, ...end })).toEqual([problem]);
  });

  it('needs a matcher that does not match everything', () => {
    expect(problemsOf({ ...base, repo: undefined })[0]).toMatch(
      /^give at least one of --instance, .*: a silence that matches everything would mute every alert$/,
    );
    expect(problemsOf({ ...base, repo: ['*'], tag: ['**'] })).toEqual([
      'every matcher given is *: a silence that matches everything would mute every alert',
    ]);
  });

  it('keeps a silence row small: patterns, their count and the comment are bounded', () => {
    expect(problemsOf({ ...base, repo: Array.from({ length: 21 }, (_, i) => `r${i}`) })).toEqual([
      '--repo is given 21 times; at most 20',
    ]);
    expect(problemsOf({ ...base, repo: ['x'.repeat(201)] })).toContain(
      '--repo must be a pattern of 1 to 200 characters',
    );
    expect(problemsOf({ ...base, comment: 'x'.repeat(501) })).toEqual(['--comment is 501 characters; at most 500']);
    expect(problemsOf({ ...base, comment: '  ' })).toEqual([
      '--comment is required: say why, it is shown in digests next to the silence',
    ]);
  });
});
