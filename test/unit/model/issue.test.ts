import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/model/classify.js';
import { ISSUE_DECISIONS, KNOWN_ISSUES, SEVERITY_RANK, UNCLASSIFIED } from '../../../src/model/issue.js';

describe('the decisions about each TaskIssue', () => {
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
    expect(Object.keys(ISSUE_DECISIONS).sort()).toEqual([...KNOWN_ISSUES].sort());
  });

  it.each(table)('%s is %s, %s severity, transient=%s', (issue, category, severity, transient) => {
    expect(ISSUE_DECISIONS[issue]).toEqual({ category, severity, transient });
    expect(classify(issue)).toMatchObject({ issue, category, severity, transient });
  });

  it('treats an issue it cannot place as worth a look (medium) but not as one a re-run fixes', () => {
    expect(UNCLASSIFIED).toEqual({ category: 'unclassified', severity: 'medium', transient: false });
  });

  it('ranks high before medium before low', () => {
    expect(
      Object.entries(SEVERITY_RANK)
        .sort((a, b) => a[1] - b[1])
        .map(([s]) => s),
    ).toEqual(['high', 'medium', 'low']);
  });
});
