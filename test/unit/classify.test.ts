import { describe, expect, it } from 'vitest';
import { classify, KNOWN_ISSUES } from '../../src/detect/classify.js';

describe('classify', () => {
  it('knows every TaskIssue the API documents', () => {
    expect(KNOWN_ISSUES.sort()).toEqual(['DATA_LENGTH_EXCEEDED', 'INTERNAL_ERROR', 'NETWORK_ERROR', 'OSS_POLICY_UNAUTHORIZED', 'TAG_CONFLICT', 'UNSUPPORTED_FORMAT']);
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

  it.each([
    ['OSS_POLICY_UNAUTHORIZED', 'permission', 'high', false],
    ['TAG_CONFLICT', 'tag-conflict', 'medium', false],
    ['NETWORK_ERROR', 'network', 'low', true],
    ['INTERNAL_ERROR', 'service', 'low', true],
  ])('%s is %s, %s severity, transient=%s', (issue, category, severity, transient) => {
    expect(classify(issue)).toMatchObject({ category, severity, transient });
  });

  it.each(['', 'SOMETHING_NEW', '  '])('still classifies %j, as unclassified', (issue) => {
    const c = classify(issue);
    expect(c.category).toBe('unclassified');
    expect(c.remediation.en.length).toBeGreaterThan(0);
  });

  it('ignores case and surrounding space', () => {
    expect(classify(' tag_conflict ').category).toBe('tag-conflict');
  });
});
