import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import type { Locale } from '../../../src/render/locale.js';
import { plain } from '../../../src/render/plain.js';
import { TITLE_MAX, titleOf } from '../../../src/render/title.js';
import { digest, failure, notice, recovered, stuck } from '../../support/alerts.js';

const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const banner = (alerts: Alert[], loc: Locale = UTC) => plain(titleOf(contentOf(alerts), loc).title, loc);
const tone = (alerts: Alert[]) => titleOf(contentOf(alerts), UTC).tone;

describe('the banner', () => {
  it('says a message with nothing to tell is from ACR, in a plain tone', () => {
    expect(banner([])).toBe('📨 ACR: -');
    expect(banner([], ZH)).toBe('📨 ACR：-');
    expect(tone([])).toBe('info');
  });

  it('counts failures in words that agree with the number, in both languages', () => {
    expect(banner([failure(1)])).toBe('🟡 ACR: 1 sync failed · hz-to-sz → cn-shenzhen · network');
    expect(banner([failure(1)], ZH)).toBe('🟡 ACR：1 个同步任务失败 · hz-to-sz → cn-shenzhen · 网络不稳定');
    expect(
      banner([
        failure(1, { issue: 'TAG_CONFLICT' }),
        failure(2, { issue: 'NETWORK_ERROR' }),
        failure(3, { issue: 'INTERNAL_ERROR' }),
      ]),
    ).toBe('🟠 ACR: 3 syncs failed · hz-to-sz → cn-shenzhen · immutable tag exists (+2 other groups)');
    expect(banner([failure(1, { issue: 'TAG_CONFLICT' }), failure(2, { issue: 'NETWORK_ERROR' })], ZH)).toBe(
      '🟠 ACR：2 个同步任务失败 · hz-to-sz → cn-shenzhen · 镜像版本冲突（另有 1 类失败）',
    );
  });

  it('names the rule by id when it has no name, says when neither is known, and gives an unknown cause as ACR wrote it', () => {
    expect(banner([failure(1, {}, { name: '' })])).toBe('🟡 ACR: 1 sync failed · crsr-hz2sz → cn-shenzhen · network');
    expect(banner([failure(1, { ruleId: undefined }, null)])).toBe(
      '🟡 ACR: 1 sync failed · rule unknown → cn-shenzhen · network',
    );
    expect(banner([failure(1, { issue: 'QUOTA_GONE' })])).toBe(
      '🟠 ACR: 1 sync failed · hz-to-sz → cn-shenzhen · QUOTA_GONE',
    );
    expect(banner([failure(1, { issue: '' })])).toBe(
      '🟠 ACR: 1 sync failed · hz-to-sz → cn-shenzhen · no reason given',
    );
  });

  it('caps each value at 40 characters, ending a longer one in an ellipsis', () => {
    const name40 = 'n'.repeat(40);
    expect(banner([failure(1, {}, { name: name40 })])).toBe(
      `🟡 ACR: 1 sync failed · ${name40} → cn-shenzhen · network`,
    );
    expect(banner([failure(1, {}, { name: 'n'.repeat(41) })])).toBe(
      `🟡 ACR: 1 sync failed · ${'n'.repeat(39)}… → cn-shenzhen · network`,
    );
    expect(banner([failure(1, {}, { name: '🚀'.repeat(41) })])).toBe(
      `🟡 ACR: 1 sync failed · ${'🚀'.repeat(39)}… → cn-shenzhen · network`,
    );
  });

  it('says one stuck, finished or recovered sync by its image, and several by their count', () => {
    expect(banner([stuck(1), stuck(2)])).toBe('⏳ ACR: 2 syncs stuck');
    expect(banner([stuck(1, 'unstuck'), stuck(2, 'unstuck')])).toBe('🏁 ACR: 2 stuck syncs finished');
    expect(banner([recovered(1), recovered(2)])).toBe('✅ ACR: 2 syncs recovered');
    expect(banner([stuck(1)], ZH)).toBe('⏳ ACR：1 个同步任务卡住 · prod/api:v1 → cn-shanghai · 2 小时 15 分钟');
    expect(banner([stuck(1, 'unstuck')], ZH)).toBe('🏁 ACR：1 个卡住的同步任务已结束 · prod/api:v1 · 成功');
    expect(banner([recovered(1), recovered(2)], ZH)).toBe('✅ ACR：2 个同步任务已恢复');
    expect(banner([stuck(1, 'unstuck', { status: 'WEIRD' })])).toBe(
      '🏁 ACR: 1 stuck sync finished · prod/api:v1 · WEIRD',
    );
  });

  it('says how a restored instance and a digest read, in Chinese too', () => {
    expect(banner([notice('restored')], ZH)).toBe('🟢 ACR：cn-hangzhou:cri-src 的告警已恢复');
    expect(banner([digest()], ZH)).toBe(
      '📊 ACR：告警汇总（自 2027-01-14 16:00 UTC+8 起） · 9 个同步任务失败 · 2 个镜像仍在失败',
    );
    expect(banner([digest({ stillFailing: 1, byCause: { A: 1 } })])).toBe(
      '📊 ACR: digest since 2027-01-14 08:00 UTC · 1 sync failed · 1 still failing',
    );
  });

  it('leads with failures, then blind alerting, stuck, finished, recovered, restored and digests, each as long as it fits', () => {
    const all = [
      digest(),
      notice('restored'),
      recovered(1),
      stuck(2, 'unstuck'),
      stuck(3),
      notice('blind'),
      failure(4),
    ];
    expect(banner(all)).toBe(
      '🟡 ACR: 1 sync failed · hz-to-sz → cn-shenzhen · network · 🚨 alerting is blind for cn-hangzhou:cri-src · ⏳ 1 sync stuck · 🏁 1 stuck sync finished',
    );
    expect(banner(all.slice(0, 5))).toBe(
      '⏳ ACR: 1 sync stuck · prod/api:v1 → cn-shanghai · 2 h 15 min · 🏁 1 stuck sync finished · ✅ 1 sync recovered · 📊 digest since 2027-01-14 08:00 UTC',
    );
    expect(banner([digest(), notice('restored')])).toBe(
      '🟢 ACR: alerting works again for cn-hangzhou:cri-src · 📊 digest since 2027-01-14 08:00 UTC',
    );
  });

  it('adds a detail or another kind only while the banner stays within 150 characters', () => {
    // A kind that brings the banner to 150 exactly is added; one character more and it is left out.
    const name40 = failure(1, {}, { name: 'n'.repeat(40) });
    expect(banner([name40, notice('restored', 'i'.repeat(31))])).toBe(
      `🟡 ACR: 1 sync failed · ${'n'.repeat(40)} → cn-shenzhen · network · 🟢 alerting works again for ${'i'.repeat(31)}`,
    );
    expect(banner([name40, notice('restored', 'i'.repeat(31))])).toHaveLength(TITLE_MAX);
    expect(banner([name40, notice('restored', 'i'.repeat(32))])).toBe(
      `🟡 ACR: 1 sync failed · ${'n'.repeat(40)} → cn-shenzhen · network`,
    );
  });

  it('takes its tone from blind alerting first, then the worst failure, then stuck, then good news', () => {
    expect(tone([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' }), notice('blind')])).toBe('blind');
    expect(tone([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' }), failure(2)])).toBe('high');
    expect(tone([failure(1, { issue: 'TAG_CONFLICT' }), stuck(1)])).toBe('medium');
    expect(tone([failure(1), recovered(1)])).toBe('low');
    expect(tone([stuck(1), recovered(1)])).toBe('info');
    expect(tone([recovered(1)])).toBe('good');
    expect(tone([stuck(1, 'unstuck')])).toBe('good');
    expect(tone([notice('restored')])).toBe('good');
    expect(tone([digest()])).toBe('info');
  });
});
