import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/model/classify.js';
import { KNOWN_ISSUES } from '../../../src/model/issue.js';

describe('classify', () => {
  it.each(KNOWN_ISSUES)('gives %s a category of its own', (issue) => {
    expect(classify(issue).category).not.toBe('unclassified');
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
  });

  it.each(['', 'SOMETHING_NEW', '  '])('still classifies %j, as unclassified', (issue) => {
    expect(classify(issue).category).toBe('unclassified');
  });

  it('ignores case and surrounding space', () => {
    expect(classify(' tag_conflict ')).toMatchObject({ issue: 'TAG_CONFLICT', category: 'tag-conflict' });
  });
});
