import { describe, expect, it } from 'vitest';
import type { LagCondition, MonitorAlert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import { RUNGS } from '../../../src/render/detail.js';
import { dingtalkBytes, DINGTALK_MAX_BYTES, renderDingTalk } from '../../../src/render/dingtalk.js';
import { isSevere, renderFor } from '../../../src/render/index.js';
import { layout } from '../../../src/render/layout.js';
import type { Locale } from '../../../src/render/locale.js';
import { plain } from '../../../src/render/plain.js';
import { slackProblems } from '../../../src/render/slack.js';
import { titleOf } from '../../../src/render/title.js';
import { MIN, notice, T0 } from '../../support/alerts.js';

const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const H = 60 * MIN;
const CONDITIONS: LagCondition[] = ['not-reached', 'rechecks-behind', 'backlog-growing', 'list-unfinished'];

/** A lag notice as `updateLags` raises it (`blind`) or clears it (`restored`). */
function lag(
  condition: LagCondition,
  kind: 'blind' | 'restored' = 'blind',
  instance = 'cn-hangzhou:cri-src',
): MonitorAlert {
  const since = T0 - 2 * H;
  return {
    kind,
    id: `${instance}/${condition}/${since}${kind === 'restored' ? '/cleared' : ''}`,
    instance,
    condition,
    since,
    at: T0,
    runs: 7,
    ...(kind === 'blind' && condition === 'rechecks-behind' ? { behindMs: 75 * MIN } : {}),
    ...(kind === 'blind' && condition === 'backlog-growing' ? { behindMs: 5 * H } : {}),
    ...(kind === 'blind' && condition === 'list-unfinished' ? { stoppedBecause: 'repeated-page' } : {}),
  };
}
const text = (alerts: MonitorAlert[], loc: Locale = UTC) =>
  renderDingTalk(layout(contentOf(alerts), loc, { ...RUNGS[0]!, full: 20, lines: 30 }), loc).markdown.text;
const banner = (alerts: MonitorAlert[], loc: Locale = UTC) => plain(titleOf(contentOf(alerts), loc).title, loc);

describe('notices that a run cannot do its work on an instance', () => {
  it.each<[LagCondition, string, string]>([
    [
      'not-reached',
      '🚨 Alerting is behind for cn-hangzhou:cri-src since 2027-01-15 06:00 UTC: 7 runs in a row ran out of time before reaching it, so failures there wait unannounced.',
      '🚨 自 2027-01-15 14:00 UTC+8 起，实例 cn-hangzhou:cri-src 的告警滞后：已连续 7 次运行在读取该实例之前用完时间；在此期间，该实例的同步失败不会发出告警。',
    ],
    [
      'rechecks-behind',
      '🚨 Alerting is behind for cn-hangzhou:cri-src since 2027-01-15 06:00 UTC: due re-checks of unfinished syncs are not made (the longest has waited 1 h 15 min), so a failure of a watched sync is announced late.',
      '🚨 自 2027-01-15 14:00 UTC+8 起，实例 cn-hangzhou:cri-src 的告警滞后：未完成同步任务的复查已到期但未执行（最久已等待 1 小时 15 分钟），被监视的同步任务失败会延迟通知。',
    ],
    [
      'backlog-growing',
      '🚨 Alerting is behind for cn-hangzhou:cri-src since 2027-01-15 06:00 UTC: 5 h 0 min of its sync task history is unread and not shrinking, so failures in it wait.',
      '🚨 自 2027-01-15 14:00 UTC+8 起，实例 cn-hangzhou:cri-src 的告警滞后：有 5 小时 0 分钟的同步任务记录尚未读取且没有减少，其中的同步失败暂不会发出告警。',
    ],
    [
      'list-unfinished',
      '🚨 Alerting is behind for cn-hangzhou:cri-src since 2027-01-15 06:00 UTC: 7 runs in a row could not read its task list to the end (stopped: repeated-page), so failures beyond that point go unannounced.',
      '🚨 自 2027-01-15 14:00 UTC+8 起，实例 cn-hangzhou:cri-src 的告警滞后：已连续 7 次无法将任务列表读到末尾（停止原因：repeated-page），其后的同步失败不会发出告警。',
    ],
  ])('say what is behind (%s), where and since when, and what to do, in both languages', (c, en, zh) => {
    expect(text([lag(c)]).split('\n\n')).toContain(en);
    expect(text([lag(c)], ZH).split('\n\n')).toContain(zh);
    expect(text([lag(c)])).toMatch(/^> What to do: .*(timeout|ACR_MAX_PAGES)/m);
    expect(text([lag(c)], ZH)).toMatch(/^> 处理建议：.*(超时时间|ACR_MAX_PAGES)/m);
  });

  it('say alerting caught up, after how long and what works again', () => {
    expect(text([lag('backlog-growing', 'restored')])).toContain(
      '🟢 Alerting for cn-hangzhou:cri-src has caught up after 2 h 0 min: its backlog is being worked down.',
    );
    expect(text([lag('not-reached', 'restored')], ZH)).toContain(
      '🟢 实例 cn-hangzhou:cri-src 的告警已恢复正常：已可读取该实例（此前滞后 2 小时 0 分钟）。',
    );
  });

  it('lead the banner with what is behind, after an instance that cannot be read at all, and call people in', () => {
    expect(banner([lag('rechecks-behind')])).toBe('🚨 ACR: alerting is behind for cn-hangzhou:cri-src: re-checks late');
    expect(banner([lag('list-unfinished')], ZH)).toBe('🚨 ACR：cn-hangzhou:cri-src 的告警滞后：任务列表未读完');
    expect(banner([lag('not-reached', 'blind', 'cn-x:cri-a'), notice('blind')])).toMatch(
      /^🚨 ACR: alerting is blind for cn-hangzhou:cri-src/,
    );
    expect(banner([lag('not-reached', 'restored')])).toBe('🟢 ACR: alerting caught up for cn-hangzhou:cri-src');
    expect(banner([lag('not-reached', 'restored')], ZH)).toBe('🟢 ACR：cn-hangzhou:cri-src 的告警已恢复正常');
    expect(titleOf(contentOf([lag('backlog-growing')]), UTC).tone).toBe('blind');
    expect(isSevere(contentOf([lag('backlog-growing')]))).toBe(true);
    expect(isSevere(contentOf([lag('backlog-growing', 'restored')]))).toBe(false);
  });

  it("stay inside DingTalk's and Slack's limits with every condition on 80 instances, each counted", () => {
    const all = Array.from({ length: 80 }, (_, i) =>
      CONDITIONS.flatMap((c) => [lag(c, 'blind', `cn-hangzhou:cri-${i}`), lag(c, 'restored', `cn-beijing:cri-${i}`)]),
    ).flat();
    for (const lang of ['en', 'zh'] as const) {
      const d = renderFor('dingtalk', contentOf(all), lang);
      expect(dingtalkBytes(d)).toBeLessThanOrEqual(DINGTALK_MAX_BYTES);
      const shown = (d.markdown.text.match(/^(🚨|🟢) /gm) ?? []).length;
      const more = Number(/(?:and (\d+) more notices|另有 (\d+) 条通知)/.exec(d.markdown.text)?.slice(1).find(Boolean));
      expect(shown + more).toBe(all.length);
      const s = renderFor('slack', contentOf(all), lang);
      expect(slackProblems(s)).toEqual([]);
      for (const c of CONDITIONS) {
        const one = renderFor('slack', contentOf([lag(c)]), lang);
        expect(slackProblems(one)).toEqual([]);
        expect(JSON.stringify(one)).toContain(lang === 'en' ? 'What to do' : '处理建议');
        // Setting names are values, shown as code: bare, their underscores would read as italics.
        expect(JSON.stringify(one)).toMatch(/`ACR_[A-Z_]+`/);
      }
    }
  });
});
