import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import { RUNGS, type Detail } from '../../../src/render/detail.js';
import { renderDingTalk } from '../../../src/render/dingtalk.js';
import { layout } from '../../../src/render/layout.js';
import type { Locale } from '../../../src/render/locale.js';
import { errorForPeople } from '../../../src/render/others.js';
import { renderSlack } from '../../../src/render/slack.js';
import { MAX_SHRINK, renderFor } from '../../../src/render/index.js';
import { failure, MIN, notice, recovered, stuck, T0 } from '../../support/alerts.js';

const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const RICH: Detail = { ...RUNGS[0]!, full: 20, lines: 30 };
/** The DingTalk text of `alerts` at detail `d`: what a reader of the message sees. */
const text = (alerts: Alert[], loc: Locale = UTC, d: Detail = RICH) =>
  renderDingTalk(layout(contentOf(alerts), loc, d), loc).markdown.text;
const paragraphs = (alerts: Alert[], loc: Locale = UTC, d: Detail = RICH) => text(alerts, loc, d).split('\n\n');

describe('stuck, finished and recovered syncs', () => {
  it('advise on a stuck sync: progress and size, a slow or cross-border link, cancel and re-run', () => {
    const en = text([stuck(1)]);
    expect(en).toContain("> Check the task's progress and synced size");
    expect(en).toContain('cross-border sync acceleration');
    expect(en).toContain('cancel the task (CancelRepoSyncTask) and re-run the sync');
    expect(text([stuck(1)], ZH)).toContain('> 在容器镜像服务控制台该实例的同步记录中查看任务进度和已同步大小');
    expect(text([stuck(1)], UTC, { ...RICH, items: 0 })).not.toContain('Check the task');
    expect(text([stuck(1, 'unstuck')])).not.toContain('Check the task');
  });

  it('say which image went where, by which rule, in which task, and how long it has been running', () => {
    expect(paragraphs([stuck(1)])).toContain('**⏳ Stuck syncs** · 1');
    expect(text([stuck(1)])).toContain(
      '- prod/api:v1 cn-hangzhou/cri-src → cn-shanghai/cri-dst · rule crsr-hz2sz (trigger unknown) · rst-s1 · syncing for 2 h 15 min',
    );
    expect(text([stuck(1)], ZH)).toContain(
      '- prod/api:v1 cn-hangzhou/cri-src → cn-shanghai/cri-dst · 规则 crsr-hz2sz（触发方式未知） · rst-s1 · 同步中，已持续 2 小时 15 分钟',
    );
  });

  it('name the target image when it differs, the rule by name with its trigger, and a status ACR does not document as given', () => {
    const a = {
      ...stuck(1, 'stuck', {
        status: 'PAUSED',
        to: { instanceId: 'cri-dst', regionId: '', namespace: 'mirror', repo: 'api', tag: 'v1' },
      }),
      rule: { ruleId: 'crsr-hz2sz', name: 'hz-mirror', scope: 'REPO', trigger: 'INITIATIVE' },
    };
    expect(text([a])).toContain(
      '- prod/api:v1 cn-hangzhou/cri-src → cri-dst mirror/api:v1 · rule hz-mirror (manual) · rst-s1 · PAUSED for 2 h 15 min',
    );
    const noRule = stuck(2, 'stuck', {
      ruleId: undefined,
      to: { instanceId: 'cri-dst', regionId: 'cn-shanghai', namespace: 'prod', repo: '', tag: 'v1' },
    });
    expect(text([noRule])).toContain(
      '- prod/api:v1 cn-hangzhou/cri-src → cn-shanghai/cri-dst · rule unknown · rst-s2 · syncing for 2 h 15 min',
    );
  });

  it('say a finished one ended with its status after how long, from its last change or else the notice', () => {
    expect(text([stuck(1, 'unstuck', { modifiedTime: T0 - 35 * MIN })])).toContain(
      'rst-s1 · finished (succeeded) after 1 h 40 min',
    );
    expect(text([stuck(1, 'unstuck', { status: 'CANCELED' })])).toContain(
      'rst-s1 · finished (canceled) after 2 h 15 min',
    );
    expect(text([stuck(1, 'unstuck')], ZH)).toContain('rst-s1 · 已结束（成功），历时 2 小时 15 分钟');
  });

  it("say a recovery's cause, when it failed, when it synced fine and how long it was broken", () => {
    const t = text([recovered(1)]);
    expect(t).toContain('**✅ Recovered** · 1');
    expect(t).toContain(
      '- prod/api:v1 cn-hangzhou/cri-src → cn-shanghai/cri-dst · rule crsr-1 (trigger unknown) · rst-ok1 · failed with NETWORK_ERROR at 2027-01-15 07:15 UTC, synced fine at 2027-01-15 07:55 UTC: broken for 40 min',
    );
    expect(text([{ ...recovered(2, { modifiedTime: undefined }), issue: '', unannounced: true }])).toContain(
      'rst-ok2 · failed with UNCLASSIFIED at 2027-01-15 07:15 UTC, synced fine at 2027-01-15 07:50 UTC: broken for 35 min (failed and recovered between two checks)',
    );
    expect(text([{ ...recovered(3), issue: ' network_error ' }], ZH)).toContain(
      'rst-ok3 · 2027-01-15 15:15 UTC+8 因 NETWORK_ERROR 失败，2027-01-15 15:55 UTC+8 同步成功，故障持续 40 分钟',
    );
  });

  it('list as many as the detail allows and count the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) => stuck(i));
    const t = text(many, UTC, { ...RICH, items: 3 });
    expect(t.match(/^- prod\/api:v1/gm)).toHaveLength(3);
    expect(t).toContain('**⏳ Stuck syncs** · 7');
    expect(t).toContain('- …and 4 more');
    expect(text(many.slice(0, 3), UTC, { ...RICH, items: 3 })).not.toContain('more');
    expect(text(many, ZH, { ...RICH, items: 3 })).toContain('**⏳ 卡住的同步任务** · 7 个');
    expect(text(many, ZH, { ...RICH, items: 3 })).toContain('- ……另有 4 个未列出');
  });
});

describe('what a message leaves out', () => {
  it('says nothing of the kinds it has none of: no empty stuck, finished or recovered list, no empty notice section', () => {
    const ps = paragraphs([recovered(1)]);
    expect(ps[1]).toBe('**✅ Recovered** · 1');
    expect(ps.join('\n')).not.toMatch(/Stuck syncs|finished/);
    expect(paragraphs([stuck(1)]).join('\n')).not.toMatch(/Stuck syncs that finished|Recovered/);
    expect(paragraphs([stuck(1, 'unstuck')]).join('\n')).not.toMatch(/⏳ Stuck syncs\*\*|Recovered/);
    // In Slack an empty section would still bring a divider before the first real one.
    const slack = renderSlack(layout(contentOf([recovered(1)]), UTC, RICH), UTC);
    expect(slack.attachments[0]!.blocks.map((b) => b.type)).toEqual(['section']);
  });
});

describe('notices about alerting itself', () => {
  it('say an instance went blind, since when, for how many runs, and the last error without its debugging tags', () => {
    const ps = paragraphs([notice('blind')]);
    expect(ps[1]).toBe(
      '🚨 Alerting is blind for cn-hangzhou:cri-src since 2027-01-15 07:45 UTC: 3 runs in a row could not read its sync tasks, so failures there go unannounced.',
    );
    expect(ps[2]).toBe(
      "> Last error: ListRepoSyncTask cn-hangzhou:cri-src was refused (NoPrivilege): the function's RAM role needs the action cr:GetRepositorySync on this instance",
    );
    expect(text([notice('blind')], ZH)).toContain(
      '🚨 自 2027-01-15 15:45 UTC+8 起无法读取实例 cn-hangzhou:cri-src 的同步任务，已连续 3 次读取失败；在此期间，该实例的同步失败不会发出告警。',
    );
    expect(text([notice('blind')], ZH)).toContain(
      '> 最近一次错误信息：请求被拒绝，需要人工处理：请检查函数 RAM 角色的权限、凭证和实例配置。原始错误：ListRepoSyncTask',
    );
  });

  it('say the error in Chinese by its kind in a Chinese message, the raw error after it as a value', () => {
    const of = (error: string) =>
      text([{ ...notice('blind'), error }], ZH)
        .split('\n\n')
        .find((p) => p.startsWith('> '));
    expect(of('CR ListRepoSyncTask: Throttling [cr retryable Throttling HTTP 429] (request R1)')).toBe(
      '> 最近一次错误信息：遇到临时错误（限流、服务端错误或网络问题），之后的运行会自动重试。原始错误：CR ListRepoSyncTask: Throttling',
    );
    expect(of('TypeError: boom')).toBe('> 最近一次错误信息：读取失败。原始错误：TypeError: boom');
    // In Slack the raw error is a code span.
    const slack = JSON.stringify(renderFor('slack', contentOf([notice('blind')]), ZH));
    expect(slack).toContain('请检查函数 RAM 角色的权限、凭证和实例配置。原始错误：`ListRepoSyncTask');
  });

  it('leave the error out at the leanest detail, and say nothing of an error there was none of', () => {
    expect(text([notice('blind')], UTC, { ...RICH, items: 0 })).not.toContain('Last error');
    const { error: _, ...quiet } = notice('blind');
    expect(text([quiet])).not.toContain('Last error');
  });

  it('say alerting works again after how long, lead the message, and count notices beyond the detail', () => {
    const ps = paragraphs([stuck(1), notice('restored')]);
    expect(ps[1]).toBe(
      '🟢 Alerting for cn-hangzhou:cri-src works again after 15 min; failures from that time are announced as usual.',
    );
    expect(text([notice('restored')], ZH)).toContain(
      '🟢 实例 cn-hangzhou:cri-src 的同步任务已可正常读取，告警已恢复（此前连续 15 分钟无法读取）；无法读取期间的同步失败也会照常通知。',
    );
    const five = Array.from({ length: 5 }, (_, i) => notice('restored', `cn-hangzhou:cri-${i}`));
    const t = text(five, UTC, { ...RICH, items: 2 });
    expect(t.match(/^🟢/gm)).toHaveLength(2);
    expect(t).toContain('- …and 3 more notices');
    expect(text(five.slice(0, 2), UTC, { ...RICH, items: 2 })).not.toContain('more notice');
    expect(text(five, UTC, { ...RICH, items: 4 })).toContain('- …and 1 more notice');
    // Even at the leanest detail the first notice is said.
    expect(text(five, UTC, { ...RICH, items: 0 }).match(/^🟢/gm)).toHaveLength(1);
    expect(text(five, UTC, { ...RICH, items: 0 })).toContain('- …and 4 more notices');
    expect(text(five, ZH, { ...RICH, items: 0 })).toContain('- ……另有 4 条通知未列出');
  });

  it('take only the trailing debugging tag and request id out of an error', () => {
    expect(errorForPeople('refused [cr config NoPrivilege HTTP 403] (request 5E2A-77)')).toBe('refused');
    expect(errorForPeople('refused [cr] ')).toBe('refused [cr]');
    expect(errorForPeople('a [b] c (request x) d')).toBe('a [b] c (request x) d');
    expect(errorForPeople('  timed out  ')).toBe('timed out');
  });
});

describe('a message that covers only part of what its channel is owed', () => {
  const many = contentOf(Array.from({ length: 30 }, (_, i) => failure(i)));
  it("says the rest follows, once, at the end, in the route's language and at every size on both platforms", () => {
    for (const [lang, words] of [
      ['en', 'the rest follow in the next one'],
      ['zh', '仍有待发送的告警未包含在此消息中'],
    ] as const) {
      for (let shrink = 0; shrink <= MAX_SHRINK; shrink++) {
        const ding = renderFor('dingtalk', { ...many, more: true }, lang, { shrink }).markdown.text;
        expect(ding.split(words)).toHaveLength(2);
        // At the end: after the last failure group.
        expect(ding.indexOf(words)).toBeGreaterThan(ding.lastIndexOf('rst-'));
        const slack = JSON.stringify(renderFor('slack', { ...many, more: true }, lang, { shrink }));
        expect(slack.split(words)).toHaveLength(2);
      }
    }
  });

  it('says nothing of the kind when it covers everything', () => {
    expect(renderFor('dingtalk', many, 'en').markdown.text).not.toContain('follow');
    expect(JSON.stringify(renderFor('slack', many, 'zh'))).not.toContain('下一条消息');
  });
});
