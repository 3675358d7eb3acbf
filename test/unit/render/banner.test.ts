import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { KNOWN_ISSUES } from '../../../src/model/issue.js';
import type { Lang } from '../../../src/model/lang.js';
import { causeWords } from '../../../src/render/causes.js';
import { contentOf } from '../../../src/render/content.js';
import { renderFor } from '../../../src/render/index.js';
import { failure, MIN, T0 } from '../../support/alerts.js';

const locale = (lang: Lang) => ({ lang, timeZone: lang === 'zh' ? 'Asia/Shanghai' : 'UTC' });

/** What a phone's push shows of the message on each channel: DingTalk's title, Slack's notification text. */
function pushes(alerts: Alert[], lang: Lang = 'en'): string[] {
  const c = contentOf(alerts);
  const ding = renderFor('dingtalk', c, locale(lang)).markdown.title;
  const slack = renderFor('slack', c, locale(lang)).text;
  return [ding, slack.replace(/&amp;/g, '&')];
}
const first40 = (s: string) => Array.from(s).slice(0, 40).join('');

/** `n` failures of one rule with `issue`, all within a few minutes (no group lasts long enough to escalate). */
const groupOf = (n: number, rule: string, issue: string, from = 0): Alert[] =>
  Array.from({ length: n }, (_, k) =>
    failure(from + k, { ruleId: `crsr-${rule}`, issue, createTime: T0 - (k % 20) * MIN }, { name: rule }),
  );
/** 8 failures in 8 groups: one OSS, seven network failures of seven other rules. */
const oneOssOfEight = (): Alert[] => [
  ...groupOf(1, 'base-to-sg', 'OSS_POLICY_UNAUTHORIZED'),
  ...Array.from({ length: 7 }, (_, r) => groupOf(1, `rule-${r}`, 'NETWORK_ERROR', 100 * (r + 1))).flat(),
];

describe('the banner of failures', () => {
  it('gives the top group its own count beside its cause, then the total and how many other groups there are', () => {
    for (const p of pushes(oneOssOfEight()))
      expect(p).toBe(
        '🔴 ACR: 1× OSS not authorised → cn-shenzhen · 8 syncs failed in all, 7 other groups · rule base-to-sg',
      );
    for (const p of pushes(oneOssOfEight(), 'zh'))
      expect(p).toBe('🔴 ACR：1× OSS 未授权 → cn-shenzhen · 共 8 个同步任务失败，另有 7 类失败 · 规则 base-to-sg');
  });

  it('says 20 of 900 when the top group has 20', () => {
    const alerts = [
      ...groupOf(20, 'tags', 'TAG_CONFLICT'),
      ...Array.from({ length: 44 }, (_, r) => groupOf(20, `net-${r}`, 'NETWORK_ERROR', 1_000 * (r + 1))).flat(),
    ];
    for (const p of pushes(alerts))
      expect(p).toBe(
        '🟠 ACR: 20× immutable tag exists → cn-shenzhen · 900 syncs failed in all, 44 other groups · rule tags',
      );
  });

  it('names the image of a single failure', () => {
    const one = [failure(1, { issue: 'TAG_CONFLICT' })];
    for (const p of pushes(one))
      expect(p).toBe('🟠 ACR: immutable tag exists → cn-shenzhen · prod/svc-1:v1 · 1 sync failed · rule hz-to-sz');
    for (const p of pushes(one, 'zh'))
      expect(p).toBe('🟠 ACR：镜像版本冲突 → cn-shenzhen · prod/svc-1:v1 · 1 个同步任务失败 · 规则 hz-to-sz');
  });

  it('groups the digits of counts in both languages', () => {
    const many = groupOf(10_000, 'big', 'NETWORK_ERROR');
    const [en] = pushes(many);
    const [zh] = pushes(many, 'zh');
    expect(en).toMatch(/^🔴 ACR: 10,000× network → cn-shenzhen · 10,000 syncs failed · rule big$/);
    expect(zh).toMatch(/^🔴 ACR：10,000× 网络不稳定 → cn-shenzhen · 10,000 个同步任务失败 · 规则 big$/);
  });

  // The push on a phone and DingTalk's preview show the banner's start: the cause comes first and the region it fails
  // to right after it. Both fit 40 characters when the cause's short words do (all of zh; in en, those of 16
  // characters or fewer: "OSS not authorised" is 18, so its region ends at character 42).
  it.each(['en', 'zh'] as const)('keeps the cause and where it fails within the first 40 characters (%s)', (lang) => {
    for (const issue of KNOWN_ISSUES) {
      const cause = causeWords(issue, lang).short;
      const alerts = [...groupOf(3, 'hz-to-sz', issue), ...groupOf(2, 'other', issue, 50)];
      for (const p of pushes(alerts, lang)) {
        const lead = `3× ${cause} → cn-shenzhen`;
        expect(p).toMatch(new RegExp(`^\\S+ ACR[:：] ?${lead.replace(/[()]/g, '\\$&')}`));
        const leadEnds = Array.from(p).length - Array.from(p.slice(p.indexOf(lead) + lead.length)).length;
        expect(first40(p)).toContain(cause);
        if (lang === 'zh' || Array.from(cause).length <= 16) expect(leadEnds).toBeLessThanOrEqual(40);
      }
    }
  });
});
