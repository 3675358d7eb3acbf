import { describe, expect, it } from 'vitest';
import { classify, KNOWN_ISSUES, SEVERITY_RANK } from '../../../src/detect/classify.js';

describe('classify', () => {
  it('knows every TaskIssue the API documents', () => {
    // A copy: sorting in place would reorder the list every message draws its stable order from.
    expect([...KNOWN_ISSUES].sort()).toEqual([
      'DATA_LENGTH_EXCEEDED',
      'INTERNAL_ERROR',
      'NETWORK_ERROR',
      'OSS_POLICY_UNAUTHORIZED',
      'TAG_CONFLICT',
      'UNSUPPORTED_FORMAT',
    ]);
  });

  it.each(KNOWN_ISSUES)('gives %s a category, severity, cause and steps in both languages', (issue) => {
    const c = classify(issue);
    expect(c.category).not.toBe('unclassified');
    for (const lang of ['zh', 'en'] as const) {
      expect(c.title[lang].length).toBeGreaterThan(5);
      expect(c.cause[lang].length).toBeGreaterThan(10);
      expect(c.remediation[lang].length).toBeGreaterThanOrEqual(2);
    }
    expect(c.remediation.zh).toHaveLength(c.remediation.en.length);
  });

  it('keeps the documented order, which messages list causes in', () => {
    expect(KNOWN_ISSUES).toEqual([
      'OSS_POLICY_UNAUTHORIZED',
      'TAG_CONFLICT',
      'UNSUPPORTED_FORMAT',
      'INTERNAL_ERROR',
      'NETWORK_ERROR',
      'DATA_LENGTH_EXCEEDED',
    ]);
  });

  // Severity decides who is @mentioned and transient decides whether a re-run is suggested first: every cause is pinned.
  const table = [
    ['OSS_POLICY_UNAUTHORIZED', 'permission', 'high', false],
    ['TAG_CONFLICT', 'tag-conflict', 'medium', false],
    ['UNSUPPORTED_FORMAT', 'format', 'medium', false],
    ['INTERNAL_ERROR', 'service', 'low', true],
    ['NETWORK_ERROR', 'network', 'low', true],
    ['DATA_LENGTH_EXCEEDED', 'size', 'medium', false],
  ] as const;

  it('has a row for every known cause', () => {
    expect(table.map(([issue]) => issue).sort()).toEqual([...KNOWN_ISSUES].sort());
  });

  it.each(table)('%s is %s, %s severity, transient=%s', (issue, category, severity, transient) => {
    expect(classify(issue)).toMatchObject({ issue, category, severity, transient });
  });

  it('a failure with no reason and one with an unknown reason are medium, not transient, and told apart', () => {
    const none = classify('');
    const unknown = classify('SOMETHING_NEW');
    expect(none).toMatchObject({ issue: '', category: 'unclassified', severity: 'medium', transient: false });
    expect(unknown).toMatchObject({
      issue: 'SOMETHING_NEW',
      category: 'unclassified',
      severity: 'medium',
      transient: false,
    });
    expect(none.short.en).toBe('no reason given');
    expect(unknown.short.en).toBe('unclassified');
    expect(none.cause.en).toContain('empty');
    expect(unknown.cause.en).toContain('does not know');
    expect(unknown.remediation).toEqual(none.remediation);
  });

  it('ranks high before medium before low', () => {
    expect(
      Object.entries(SEVERITY_RANK)
        .sort((a, b) => a[1] - b[1])
        .map(([s]) => s),
    ).toEqual(['high', 'medium', 'low']);
  });

  it.each(['', 'SOMETHING_NEW', '  '])('still classifies %j, as unclassified', (issue) => {
    const c = classify(issue);
    expect(c.category).toBe('unclassified');
    expect(c.remediation.en.length).toBeGreaterThan(0);
  });

  it('ignores case and surrounding space', () => {
    expect(classify(' tag_conflict ')).toMatchObject({ issue: 'TAG_CONFLICT', category: 'tag-conflict' });
  });
});
