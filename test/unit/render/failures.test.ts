import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import { MINIMAL, RUNGS, type Detail } from '../../../src/render/detail.js';
import { renderDingTalk } from '../../../src/render/dingtalk.js';
import { consoleUrl, instancePiece, triggerWord } from '../../../src/render/failures.js';
import { renderFor } from '../../../src/render/index.js';
import { layout } from '../../../src/render/layout.js';
import type { Locale } from '../../../src/render/locale.js';
import { allBlocks } from '../../../src/render/slack.js';
import { wordsFor } from '../../../src/render/words.js';
import { failure, MIN, T0 } from '../../support/alerts.js';

const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const RICH: Detail = { ...RUNGS[0]!, full: 20, lines: 30 };
const text = (alerts: Alert[], d: Detail = RICH, loc: Locale = UTC) =>
  renderDingTalk(layout(contentOf(alerts), loc, d), loc).markdown.text;
const burst = (n: number, over = {}) => Array.from({ length: n }, (_, i) => failure(i, over));

describe('where a failure points', () => {
  it("links an instance to its region's console only for a plain region id", () => {
    expect(consoleUrl('cn-hangzhou')).toBe('https://cr.console.aliyun.com/cn-hangzhou/instances');
    expect(consoleUrl('ap-southeast-1')).toBe('https://cr.console.aliyun.com/ap-southeast-1/instances');
    for (const bad of [
      '',
      'cn',
      'c-hangzhou',
      'CN-hangzhou',
      'cn-',
      'cn-hangzhou/../x',
      'x cn-hangzhou',
      'cn-hangzhou\n',
      'cn_hangzhou',
      'cn-Hangzhou',
    ])
      expect(consoleUrl(bad), bad).toBeUndefined();
    expect(instancePiece('cn-shenzhen', 'cri-1')).toEqual({
      link: 'https://cr.console.aliyun.com/cn-shenzhen/instances',
      text: [{ api: 'cn-shenzhen:cri-1' }],
    });
    expect(instancePiece('evil.example', 'cri-1')).toEqual({ api: 'evil.example:cri-1' });
  });

  it("says a rule's trigger in words, one ACR does not document as given, and none as unknown", () => {
    const w = wordsFor('en');
    expect([
      triggerWord(w, 'PASSIVE'),
      triggerWord(w, 'INITIATIVE'),
      triggerWord(w, undefined),
      triggerWord(w, ''),
    ]).toEqual(['automatic', 'manual', 'trigger unknown', 'trigger unknown']);
    expect(triggerWord(w, 'SCHEDULED')).toEqual({ api: 'SCHEDULED' });
    expect(triggerWord(wordsFor('zh'), 'PASSIVE')).toBe('自动触发');
  });
});

describe('a failure group in full', () => {
  it('heads with severity, title, cause and when; then rule, source and linked target', () => {
    const t = text([failure(1, { issue: 'TAG_CONFLICT' })]);
    expect(t).toContain('**🟠 Tag already exists and is immutable** · TAG_CONFLICT · failed at 2027-01-15 07:59 UTC');
    expect(t).toContain(
      'rule hz-to-sz (automatic) · cn-hangzhou:cri-src → [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances)',
    );
    expect(text([failure(1, { issue: '' })])).toContain(
      '**🟠 Unclassified sync failure** · failed at 2027-01-15 07:59 UTC',
    );
    expect(text([failure(1, { issue: 'TAG_CONFLICT' })], RICH, ZH)).toContain(
      '**🟠 目标镜像版本已存在且不可覆盖** · TAG_CONFLICT · 2027-01-15 15:59 UTC+8 失败',
    );
    expect(text([failure(1), failure(3)], RICH, ZH)).toContain('失败 2 次，2027-01-15 15:57–15:59 UTC+8');
  });

  it('names the rule by id, and the trigger as ACR wrote it when undocumented', () => {
    expect(text([failure(1, {}, { name: '', trigger: 'SCHEDULED' })])).toContain(
      'rule crsr-hz2sz (SCHEDULED) · cn-hangzhou:cri-src',
    );
    expect(
      text([
        failure(1, { to: { instanceId: 'cri-x', regionId: 'moon', namespace: 'prod', repo: 'svc-1', tag: 'v1' } }),
      ]),
    ).toContain(' → moon:cri-x\n');
  });

  it('says a rule neither named nor known is unknown, once, in both languages', () => {
    expect(text([failure(1, { ruleId: undefined }, null)])).toContain(
      '\n\nrule unknown · cn-hangzhou:cri-src → [cn-shenzhen:cri-sz01]',
    );
    expect(text([failure(1, { ruleId: undefined }, null)], RICH, ZH)).toContain(
      '\n\n规则未知 · cn-hangzhou:cri-src → [cn-shenzhen:cri-sz01]',
    );
  });

  it('explains the cause only at a detail that does, and lists as many examples as it allows, at least one', () => {
    expect(text([failure(1)])).toMatch(/\n\n> \S/);
    expect(text([failure(1)], { ...RICH, explain: false })).not.toMatch(/^> /m);
    const five = burst(5);
    expect(
      text(five, { ...RICH, examples: 2 }).match(/^- prod\/svc-\d:v1 · rst-\d · \d\d-\d\d \d\d:\d\d$/gm),
    ).toHaveLength(2);
    expect(text(five, { ...RICH, examples: 2 })).toContain('- …and 3 more');
    expect(text(five, { ...RICH, examples: 0 }).match(/^- prod\/svc-\d:v1/gm)).toHaveLength(1);
    expect(text(five, { ...RICH, examples: 0 })).toContain('- …and 4 more');
    expect(text(five, { ...RICH, examples: 5 })).not.toContain('more');
    expect(text(five, { ...RICH, examples: 2 }, ZH)).toContain('- ……另有 3 次失败未列出');
  });

  it('lists the newest failures first, each with its image, task and short time', () => {
    const t = text([failure(3), failure(1), failure(2)], { ...RICH, examples: 2 });
    expect(t).toContain('- prod/svc-1:v1 · rst-1 · 01-15 07:59\n- prod/svc-2:v1 · rst-2 · 01-15 07:58\n- …and 1 more');
  });

  it('shows where an image went only when its target differs', () => {
    expect(
      text([
        failure(1, {
          to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'mirror', repo: 'svc-1', tag: 'v1' },
        }),
      ]),
    ).toContain('- prod/svc-1:v1 → mirror/svc-1:v1 · rst-1');
    expect(
      text([
        failure(1, {
          to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'prod', repo: 'svc-1', tag: 'v1' },
        }),
      ]),
    ).toContain('- prod/svc-1:v1 · rst-1');
    expect(
      text([
        failure(1, { to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'mirror', repo: '', tag: '' } }),
      ]),
    ).toContain('- prod/svc-1:v1 · rst-1');
  });

  it("gives a single failure its task's trigger only when it differs from the rule's", () => {
    expect(text([failure(1, { trigger: 'PASSIVE' })])).toMatch(/- prod\/svc-1:v1 · rst-1\n/);
    expect(text([failure(1, { trigger: '' })])).toMatch(/- prod\/svc-1:v1 · rst-1\n/);
    expect(text([failure(1, { trigger: 'INITIATIVE' })])).toContain(
      '- prod/svc-1:v1 · rst-1 · task triggered manually\n',
    );
    expect(text([failure(1, { trigger: 'PASSIVE' }, { trigger: 'INITIATIVE' })])).toContain(
      '- prod/svc-1:v1 · rst-1 · task triggered automatically\n',
    );
    expect(text([failure(1, { trigger: 'TIMER' })])).toContain('- prod/svc-1:v1 · rst-1 · task trigger TIMER\n');
    expect(text([failure(1, { trigger: 'INITIATIVE' })], RICH, ZH)).toContain(
      '- prod/svc-1:v1 · rst-1 · 本次同步为手动触发\n',
    );
    expect(text([failure(1, { trigger: 'TIMER' })], RICH, ZH)).toContain(
      '- prod/svc-1:v1 · rst-1 · 本次同步的触发方式：TIMER\n',
    );
  });

  it('gives as many fix steps as the detail allows, numbered, and none with a "Fix" heading when it allows none', () => {
    const steps = (d: Detail) =>
      (text([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], d).match(/^\d+\. /gm) ?? []).length;
    expect(steps({ ...RICH, fix: 1 })).toBe(1);
    expect(steps({ ...RICH, fix: 9 })).toBeGreaterThan(1);
    expect(text([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], { ...RICH, fix: 1 })).toContain('**Fix:**\n\n1. ');
    expect(text([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], { ...RICH, fix: 1 }, ZH)).toContain(
      '**处理建议：**',
    );
    expect(text([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })], { ...RICH, fix: 0 })).not.toContain('Fix:');
  });

  it('carries the re-run and silence commands, and the note they need, only at a detail with commands', () => {
    const t = text([failure(1)]);
    expect(t).toContain('Silence this group for 2 h:\n\nacr-sync-alert silence add');
    expect(t).toContain('Re-run commands need the aliyun CLI (3.0.137 or later) and jq');
    const none = text([failure(1)], { ...RICH, commands: false });
    expect(none).not.toMatch(/Re-run \(|aliyun cr|silence add|Silence this group|Re-run commands need/);
    expect(text([failure(1, { issue: 'TAG_CONFLICT' })])).toContain('silence add');
    expect(text([failure(1, { issue: 'TAG_CONFLICT' })])).not.toMatch(/Re-run \(|aliyun cr/);
    expect(text([failure(1)], RICH, ZH)).toContain('将此组告警静默 2 小时：');
    expect(text([failure(1)], RICH, ZH)).toContain('执行重新同步命令需安装 aliyun CLI（版本不低于 3.0.137）和 jq');
    expect(
      text(
        [
          failure(1, {
            from: { instanceId: 'cri src', regionId: 'cn-hangzhou', namespace: 'prod', repo: 'svc', tag: 'v1' },
          }),
        ].map((a) => ({ ...a, instance: 'cn-hangzhou:cri src' })),
      ),
    ).not.toContain('Silence this group');
  });

  it('says in Chinese which kind of rule a re-run fits and how many of the images it covers', () => {
    expect(text([failure(1)], RICH, ZH)).toContain('重新同步命令（适用于自动触发的规则，调用 CreateRepoSyncTask）：');
    expect(text([failure(1, {}, { trigger: 'INITIATIVE' })], RICH, ZH)).toContain(
      '重新同步命令（适用于手动触发的规则，调用 CreateRepoSyncTaskByRule）：',
    );
    expect(text(burst(60), RICH, ZH)).toMatch(
      /重新同步命令（适用于自动触发的规则，调用 CreateRepoSyncTask；仅包含 60 次失败中最近的 \d+ 个镜像）：/,
    );
    expect(text([failure(1, {}, null)], RICH, ZH)).toContain(
      '未能读取该同步规则的触发方式，请按其实际触发方式选用下方对应的命令。',
    );
  });
});

describe('groups beyond those shown in full', () => {
  const groups = (n: number) =>
    Array.from({ length: n }, (_, g) => [
      failure(g * 2, { ruleId: `crsr-${g}` }, { name: `rule-${g}` }),
      failure(g * 2 + 1, { ruleId: `crsr-${g}` }, { name: `rule-${g}` }),
    ]).flat();

  it('shows each on one line: rule, target, cause, count and span, newest image and task, the rest counted', () => {
    const t = text(groups(3), { ...RICH, full: 1, lines: 2 });
    expect(t).toContain(
      '- 🟡 **rule-1** → [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances) · NETWORK_ERROR · 2 failed, 2027-01-15 07:57–07:58 UTC · newest prod/svc-2:v1 (rst-2) …and 1 more',
    );
    expect(t).toContain('- 🟡 **rule-2** → ');
    expect(t).not.toContain('in 1 other group');
    const zh = text(groups(3), { ...RICH, full: 1, lines: 2 }, ZH);
    expect(zh).toContain(
      '- 🟡 **rule-1** → [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances) · NETWORK_ERROR · 失败 2 次，2027-01-15 15:57–15:58 UTC+8 · 最近一次 prod/svc-2:v1 (rst-2) ……另有 1 次失败未列出',
    );
  });

  it("gives a line's cause in words when ACR gave none, and no count for a single failure", () => {
    const t = text(
      [
        failure(1, { issue: 'TAG_CONFLICT' }),
        failure(3, { issue: 'TAG_CONFLICT' }),
        failure(2, { issue: '', ruleId: 'crsr-b' }, { name: 'b' }),
      ],
      { ...RICH, full: 1, lines: 1 },
    );
    expect(t.split('\n')).toContain(
      '- 🟠 **b** → [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances) · no reason given · failed at 2027-01-15 07:58 UTC · newest prod/svc-2:v1 (rst-2)',
    );
  });

  it('counts the failures and groups not shown at all', () => {
    expect(text(groups(4), { ...RICH, full: 1, lines: 1 })).toContain('- …and 4 more failures in 2 other groups');
    expect(text(groups(3), { ...RICH, full: 1, lines: 1 })).toContain('- …and 2 more failures in 1 other group');
    expect(text([failure(1), failure(2, { ruleId: 'crsr-b' })], { ...RICH, full: 1, lines: 0 })).toContain(
      '- …and 1 more failure in 1 other group',
    );
    expect(text(groups(4), { ...RICH, full: 1, lines: 1 }, ZH)).toContain('- ……另有 2 类失败（共 4 次）未列出');
    expect(text(groups(2), { ...RICH, full: 2, lines: 1 })).not.toMatch(/more failures? in/);
  });

  it('at the minimal detail shows no group, only the count of them all', () => {
    const t = text(groups(2), MINIMAL);
    expect(t).toContain('- …and 4 more failures in 2 other groups');
    expect(t).not.toContain('rst-');
  });
});

describe('failures to several targets', () => {
  it("count each target's failures, largest first, linked, and say nothing of targets when there is one", () => {
    const sg = { instanceId: 'cri-sg', regionId: 'ap-southeast-1', namespace: 'prod', repo: 'a', tag: 'v1' };
    const t = text([
      failure(1),
      failure(2, { to: sg }),
      failure(3, { to: sg }),
      failure(4, { to: { ...sg, regionId: 'moon' } }),
    ]);
    expect(t).toContain(
      'Targets: [ap-southeast-1:cri-sg](https://cr.console.aliyun.com/ap-southeast-1/instances) 2 · [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances) 1 · moon:cri-sg 1',
    );
    expect(text([failure(1), failure(2, { to: sg }), failure(3, { to: sg })], RICH, ZH)).toContain(
      '各目标实例失败次数：[ap-southeast-1:cri-sg](https://cr.console.aliyun.com/ap-southeast-1/instances) 2 次 · [cn-shenzhen:cri-sz01]',
    );
    expect(text(burst(3))).not.toContain('Targets');
  });

  it('name at most ten targets', () => {
    const alerts = Array.from({ length: 12 }, (_, i) =>
      failure(i, { to: { instanceId: `cri-${i}`, regionId: 'cn-shenzhen', namespace: 'p', repo: 'r', tag: 't' } }),
    );
    const line = text(alerts)
      .split('\n')
      .find((l) => l.startsWith('Targets: '))!;
    expect(line.match(/cn-shenzhen:cri-\d+\]/g)).toHaveLength(10);
  });
});

describe('failures beyond the groups a message keeps', () => {
  it('are counted as failures, not groups', () => {
    const alerts = Array.from({ length: 302 }, (_, i) => failure(i, { issue: `CAUSE_${i}`, createTime: T0 - MIN }));
    expect(text(alerts, { ...RICH, full: 1, lines: 0 })).toMatch(/\n- …and 301 more$/);
  });
});

describe('a failure group, further', () => {
  it("names a one-line group's rule as unknown when it is neither named nor known", () => {
    const t = text([failure(1), failure(3), failure(2, { ruleId: undefined }, null)], { ...RICH, full: 1, lines: 1 });
    expect(t).toContain('- 🟡 **rule unknown** → [cn-shenzhen:cri-sz01]');
  });

  it("says the rule's trigger could not be read only when it could not", () => {
    expect(text([failure(1)])).not.toContain("The rule's trigger could not be read");
    expect(text([failure(1, {}, { trigger: 'INITIATIVE' })])).not.toContain("The rule's trigger could not be read");
  });

  it('gives Slack readers the re-run and silence commands as code blocks', () => {
    const s = renderFor('slack', contentOf([failure(1)]), UTC);
    const lines = allBlocks(s).flatMap((b) => ((b as { text?: { text: string } }).text?.text ?? '').split('\n'));
    expect(
      lines.filter((l) => l.startsWith('```id=$(aliyun cr GetRepository ') && l.endsWith('--TargetTag v1```')),
    ).toHaveLength(1);
    expect(lines).toContain(
      '```acr-sync-alert silence add --instance cn-hangzhou:cri-src --rule crsr-hz2sz --cause NETWORK_ERROR --for 2h --comment "why"```',
    );
    expect(lines).toContain('Re-run (automatic rule: CreateRepoSyncTask):');
    expect(lines).toContain('Silence this group for 2 h:');
  });

  it('orders targets by their failures across groups, largest first', () => {
    const sg = { instanceId: 'cri-sg', regionId: 'ap-southeast-1', namespace: 'prod', repo: 'a', tag: 'v1' };
    // Three failures in one group to Shenzhen come first among groups; four in two groups to Singapore lead the targets.
    const alerts = [
      failure(1),
      failure(2),
      failure(3),
      failure(4, { to: sg, ruleId: 'crsr-a' }),
      failure(5, { to: sg, ruleId: 'crsr-a' }),
      failure(6, { to: sg, ruleId: 'crsr-b' }),
      failure(7, { to: sg, ruleId: 'crsr-b' }),
    ];
    expect(text(alerts)).toContain(
      'Targets: [ap-southeast-1:cri-sg](https://cr.console.aliyun.com/ap-southeast-1/instances) 4 · [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances) 3',
    );
  });
});
