import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/model/classify.js';
import { KNOWN_ISSUES } from '../../../src/model/issue.js';
import { causeWords } from '../../../src/render/causes.js';

const CHINESE = /[\u4e00-\u9fff]/;

describe('the words for each TaskIssue', () => {
  it.each(KNOWN_ISSUES)('gives %s a title, a cause and steps in both languages', (issue) => {
    for (const lang of ['zh', 'en'] as const) {
      const w = causeWords(issue, lang);
      expect(w.title.length).toBeGreaterThan(5);
      expect(w.short.length).toBeGreaterThan(1);
      expect(w.cause.length).toBeGreaterThan(10);
      expect(w.fix.length).toBeGreaterThanOrEqual(2);
    }
    expect(causeWords(issue, 'zh').fix).toHaveLength(causeWords(issue, 'en').fix.length);
  });

  it.each([...KNOWN_ISSUES, '', 'SOMETHING_NEW'])('says %j in Chinese for zh and in English for en', (issue) => {
    const zh = causeWords(issue, 'zh');
    const en = causeWords(issue, 'en');
    for (const text of [zh.title, zh.short, zh.cause, ...zh.fix]) expect(text).toMatch(CHINESE);
    for (const text of [en.title, en.short, en.cause, ...en.fix]) expect(text).not.toMatch(CHINESE);
  });

  it('tells a failure with no reason from one with a reason this version does not know', () => {
    const none = causeWords(classify('').issue, 'en');
    const unknown = causeWords(classify('SOMETHING_NEW').issue, 'en');
    expect(none.short).toBe('no reason given');
    expect(unknown.short).toBe('unclassified');
    expect(none.cause).toContain('empty');
    expect(unknown.cause).toContain('does not know');
    expect(unknown.fix).toEqual(none.fix);
  });

  it('words an issue named like a property every object has as one it does not know', () => {
    expect(causeWords('constructor', 'en').short).toBe('unclassified');
  });

  it.each(['', 'SOMETHING_NEW', '  '])('still has steps for %j', (issue) => {
    expect(causeWords(classify(issue).issue, 'en').fix.length).toBeGreaterThan(0);
  });
});

describe('the OSS cause as Alibaba documents it', () => {
  // ListRepoSyncTask documents OSS_POLICY_UNAUTHORIZED only as "ACR not granted permission to access OSS": it does
  // not say which instance's storage was refused, so the words must not blame the target alone.
  it.each(['en', 'zh'] as const)('names both the source and the target instance in %s, cause and steps', (lang) => {
    const w = causeWords('OSS_POLICY_UNAUTHORIZED', lang);
    const [source, target] = lang === 'en' ? ['source instance', 'target'] : ['源实例', '目标实例'];
    expect(w.cause).toContain(source);
    expect(w.cause).toContain(target);
    expect(w.fix[0]).toContain(source);
    expect(w.fix[0]).toContain(target);
  });

  it('does not say the target instance is the one not authorised', () => {
    expect(causeWords('OSS_POLICY_UNAUTHORIZED', 'en').cause).not.toMatch(/^The target instance/);
    expect(causeWords('OSS_POLICY_UNAUTHORIZED', 'zh').cause).not.toMatch(/^目标实例/);
  });
});
