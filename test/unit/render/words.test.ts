import { describe, expect, it } from 'vitest';
import { wordsFor } from '../../../src/render/words.js';

const en = wordsFor('en');
const zh = wordsFor('zh');
const V = { api: 'X' };

describe('the words of a message', () => {
  it('in English agree with their count: one sync, two syncs', () => {
    expect([1, 2].map(en.failed)).toEqual(['1 sync failed', '2 syncs failed']);
    expect([1, 2].map(en.recovered)).toEqual(['1 sync recovered', '2 syncs recovered']);
    expect([1, 2].map(en.stuck)).toEqual(['1 sync stuck', '2 syncs stuck']);
    expect([1, 2].map(en.finished)).toEqual(['1 stuck sync finished', '2 stuck syncs finished']);
    expect([1, 2].map(en.otherGroups)).toEqual([' (+1 other group)', ' (+2 other groups)']);
    expect([1, 2].map(en.runs)).toEqual([
      '1 run without reading its sync tasks',
      '2 runs without reading its sync tasks',
    ]);
    expect([1, 2].map(en.moreNotices)).toEqual(['…and 1 more notice', '…and 2 more notices']);
    expect([1, 2].map(en.moreSilences)).toEqual(['…and 1 more silence', '…and 2 more silences']);
    expect([1, 2].map(en.otherCauses)).toEqual(['1 other', '2 others']);
    expect([en.moreGroups(1, 1), en.moreGroups(2, 1), en.moreGroups(5, 2)]).toEqual([
      '…and 1 more failure in 1 other group',
      '…and 2 more failures in 1 other group',
      '…and 5 more failures in 2 other groups',
    ]);
  });

  it('in Chinese put a measure word after every count', () => {
    expect([zh.failed(2), zh.recovered(2), zh.stuck(2), zh.finished(2)]).toEqual([
      '2 个同步任务失败',
      '2 个同步任务已恢复',
      '2 个同步任务卡住',
      '2 个卡住的同步任务已结束',
    ]);
    expect([
      zh.otherGroups(2),
      zh.runs(3),
      zh.more(4),
      zh.moreItems(4),
      zh.moreNotices(4),
      zh.moreGroups(5, 2),
      zh.moreSilences(4),
    ]).toEqual([
      '（另有 2 类失败）',
      '连续 3 次无法读取同步任务',
      '……另有 4 次失败未列出',
      '……另有 4 个未列出',
      '……另有 4 条通知未列出',
      '……另有 2 类失败（共 5 次）未列出',
      '……另有 4 条静默规则未列出',
    ]);
    expect([
      zh.byTarget(3),
      zh.count(3),
      zh.tally(3),
      zh.otherCauses(3),
      zh.stillFailing(3),
      zh.digestOpen(3),
      zh.digestOpen(0),
    ]).toEqual([
      '3 次',
      '3 个',
      '3 次',
      '其余 3 项共',
      '3 个镜像仍在失败',
      '仍在失败的镜像：3 个，按失败时间从早到晚：',
      '仍在失败的镜像：0 个',
    ]);
    expect([
      zh.digestFailures(9),
      zh.digestRecovered(2),
      zh.digestRecovered(2, '5 分钟'),
      zh.digestSilences(3),
    ]).toEqual(['已通知的失败：9 次', '已恢复：2 个', '已恢复：2 个，平均恢复耗时 5 分钟', '生效中的静默规则：3 条']);
  });

  it('in Chinese says until a moment as 截至 (up to), not 截止 (a deadline), and counts other groups as 类失败', () => {
    expect(zh.silenceUntil).toBe('截至 ');
    expect(zh.otherGroups(3)).not.toContain('组');
    expect(zh.moreGroups(7, 3)).not.toContain('组');
  });

  it('in English say counts plainly where a list gives them', () => {
    expect([en.more(4), en.moreItems(4), en.byTarget(3), en.count(3), en.tally(3), en.stillFailing(3)]).toEqual([
      '…and 4 more',
      '…and 4 more',
      '3',
      '3',
      '3',
      '3 still failing',
    ]);
    expect([
      en.digestFailures(9),
      en.digestRecovered(2),
      en.digestRecovered(2, '5 min'),
      en.digestOpen(3),
      en.digestOpen(0),
      en.digestSilences(3),
    ]).toEqual([
      'Failures announced: 9',
      'Recovered: 2',
      'Recovered: 2, mean time to recovery 5 min',
      'Still failing: 3, oldest first:',
      'Still failing: 0',
      'Silences in force: 3',
    ]);
  });

  it("say a re-run's call and rule kind, and how many images of how many failures when not all", () => {
    expect(en.rerun('manual', 'CreateRepoSyncTaskByRule', 3, 3)).toBe(
      'Re-run (manual rule: CreateRepoSyncTaskByRule):',
    );
    expect(en.rerun('automatic', 'CreateRepoSyncTask', 1, 9)).toBe(
      'Re-run (automatic rule: CreateRepoSyncTask; the 1 newest image of 9 failures):',
    );
    expect(en.rerun('automatic', 'CreateRepoSyncTask', 4, 9)).toBe(
      'Re-run (automatic rule: CreateRepoSyncTask; the 4 newest images of 9 failures):',
    );
    expect(zh.rerun('manual', 'CreateRepoSyncTaskByRule', 3, 3)).toBe(
      '重新同步命令（适用于手动触发的规则，调用 CreateRepoSyncTaskByRule）：',
    );
    expect(zh.rerun('automatic', 'CreateRepoSyncTask', 4, 9)).toBe(
      '重新同步命令（适用于自动触发的规则，调用 CreateRepoSyncTask；仅包含 9 次失败中最近的 4 个镜像）：',
    );
  });

  it('place values where each language reads them', () => {
    expect([
      en.blind(V),
      en.restored(V),
      en.digest(V),
      en.digestTitle(V),
      en.rule(V, 'manual'),
      en.failedAt(V),
      en.failedTimes(3, [V]),
      en.failingSince(V),
    ]).toEqual([
      ['alerting is blind for ', V],
      ['alerting works again for ', V],
      ['digest since ', V],
      ['Digest since ', V],
      ['rule ', V, ' (', 'manual', ')'],
      ['failed at ', V],
      ['3 failed, ', V],
      ['failing since ', V],
    ]);
    expect([
      zh.blind(V),
      zh.restored(V),
      zh.digest(V),
      zh.digestTitle(V),
      zh.rule(V, '手动触发'),
      zh.failedAt(V),
      zh.failedTimes(3, [V]),
      zh.failingSince(V),
    ]).toEqual([
      [V, ' 的告警已失效'],
      [V, ' 的告警已恢复'],
      ['告警汇总（自 ', V, ' 起）'],
      ['告警汇总（自 ', V, ' 起）'],
      ['规则 ', V, '（', '手动触发', '）'],
      [V, ' 失败'],
      ['失败 3 次，', V],
      ['自 ', V, ' 起失败'],
    ]);
    expect([
      en.running(V, '5 min'),
      en.finishedAfter(V, '5 min'),
      zh.running(V, '5 分钟'),
      zh.finishedAfter(V, '5 分钟'),
    ]).toEqual([
      [V, ' for 5 min'],
      ['finished (', V, ') after 5 min'],
      [V, '，已持续 5 分钟'],
      ['已结束（', V, '），历时 5 分钟'],
    ]);
    expect(en.recoveredLine(V, 'T1', 'T2', '5 min')).toEqual([
      'failed with ',
      V,
      ' at ',
      'T1',
      ', synced fine at ',
      'T2',
      ': broken for 5 min',
    ]);
    expect(zh.recoveredLine(V, 'T1', 'T2', '5 分钟')).toEqual([
      'T1',
      ' 因 ',
      V,
      ' 失败，',
      'T2',
      ' 同步成功，故障持续 5 分钟',
    ]);
    expect(en.blindLine(V, 'T', 3)).toEqual([
      'Alerting is blind for ',
      V,
      ' since ',
      'T',
      ': 3 runs in a row could not read its sync tasks, so failures there go unannounced.',
    ]);
    expect(en.restoredLine(V, '5 min')).toEqual([
      'Alerting for ',
      V,
      ' works again after 5 min; failures from that time are announced as usual.',
    ]);
  });

  it("say durations in each language's units", () => {
    expect([en.duration.min(5), en.duration.hours(2, 3), en.duration.days(4, 5)]).toEqual([
      '5 min',
      '2 h 3 min',
      '4 d 5 h',
    ]);
    expect([zh.duration.min(5), zh.duration.hours(2, 3), zh.duration.days(4, 5)]).toEqual([
      '5 分钟',
      '2 小时 3 分钟',
      '4 天 5 小时',
    ]);
  });
});
