import type { LagCondition } from '../model/alert.js';
import type { Lang } from '../model/lang.js';
import { api, type Inline } from './doc.js';

/**
 * A sentence with the setting and API names in it as values, so each platform shows them as code: a bare
 * `ACR_MAX_PAGES` would read as italics in Slack's and DingTalk's markdown.
 */
const named = (sentence: string): Inline[] =>
  sentence
    .split(/\b((?:ACR|FETCH)_[A-Z_]+|ListRepoSyncTask)\b/)
    .map((part, i) => (i % 2 === 1 ? api(part) : part))
    .filter((part) => part !== '');
const fixes = (f: Record<LagCondition, string>): Record<LagCondition, Inline[]> => ({
  'not-reached': named(f['not-reached']),
  'rechecks-behind': named(f['rechecks-behind']),
  'backlog-growing': named(f['backlog-growing']),
  'list-unfinished': named(f['list-unfinished']),
});

/** What a notice that a run cannot do its work (a `LagCondition`) says, per language. */
export interface LagWords {
  /** The banner: alerting is behind for the instance, and why in a few words. */
  banner(c: LagCondition, instance: Inline): Inline[];
  /** The banner of its end. */
  bannerCleared(instance: Inline): Inline[];
  /**
   * The notice: what is behind, on which instance, since when, and what it costs. `d` is how far behind (re-check wait,
   * unread history), `runs` the runs it held, `stop` why the list stopped.
   */
  line(c: LagCondition, o: { instance: Inline; since: Inline; runs: number; d: string; stop: Inline }): Inline[];
  /** What the operator can do about it. */
  fix: Record<LagCondition, Inline[]>;
  /** The notice of its end, after `d`. */
  cleared(c: LagCondition, instance: Inline, d: string): Inline[];
}

const en: LagWords = {
  banner: (c, i) => ['alerting is behind for ', i, ': ', enShort[c]],
  bannerCleared: (i) => ['alerting caught up for ', i],
  line: (c, o) => {
    const head = ['Alerting is behind for ', o.instance, ' since ', o.since, ': '];
    if (c === 'not-reached')
      return [
        ...head,
        `${o.runs} runs in a row ran out of time before reaching it, so failures there wait unannounced.`,
      ];
    if (c === 'rechecks-behind')
      return [
        ...head,
        `due re-checks of unfinished syncs are not made (the longest has waited ${o.d}), so a failure of a watched ` +
          'sync is announced late.',
      ];
    if (c === 'backlog-growing')
      return [...head, `${o.d} of its sync task history is unread and not shrinking, so failures in it wait.`];
    return [
      ...head,
      `${o.runs} runs in a row could not read its task list to the end (stopped: `,
      o.stop,
      '), so failures beyond that point go unannounced.',
    ];
  },
  fix: fixes({
    'not-reached':
      'What to do: raise the function timeout or FETCH_CONCURRENCY, or split ACR_INSTANCES across deployments.',
    'rechecks-behind':
      'What to do: raise the function timeout, or split ACR_INSTANCES across deployments so each run has time for ' +
      'its re-checks.',
    'backlog-growing':
      'What to do: raise ACR_MAX_PAGES, the function timeout or FETCH_CONCURRENCY, or split ACR_INSTANCES across ' +
      'deployments.',
    'list-unfinished':
      "What to do: check the instance's ListRepoSyncTask answers (the log says where the scan stopped); raise " +
      'ACR_MAX_PAGES or the function timeout.',
  }),
  cleared: (c, i, d) => ['Alerting for ', i, ` has caught up after ${d}: ${enDone[c]}.`],
};

const enShort: Record<LagCondition, string> = {
  'not-reached': 'not read',
  'rechecks-behind': 're-checks late',
  'backlog-growing': 'backlog not shrinking',
  'list-unfinished': 'task list not read to its end',
};

const enDone: Record<LagCondition, string> = {
  'not-reached': 'it is read again',
  'rechecks-behind': 'due re-checks are made again',
  'backlog-growing': 'its backlog is being worked down',
  'list-unfinished': 'reading gets nearer the end of its task list again',
};

const zh: LagWords = {
  banner: (c, i) => [i, ' 的告警滞后：', zhShort[c]],
  bannerCleared: (i) => [i, ' 的告警已恢复正常'],
  line: (c, o) => {
    const head = ['自 ', o.since, ' 起，实例 ', o.instance, ' 的告警滞后：'];
    if (c === 'not-reached')
      return [...head, `已连续 ${o.runs} 次运行在读取该实例之前用完时间；在此期间，该实例的同步失败不会发出告警。`];
    if (c === 'rechecks-behind')
      return [...head, `未完成同步任务的复查已到期但未执行（最久已等待 ${o.d}），被监视的同步任务失败会延迟通知。`];
    if (c === 'backlog-growing')
      return [...head, `有 ${o.d}的同步任务记录尚未读取且没有减少，其中的同步失败暂不会发出告警。`];
    return [
      ...head,
      `已连续 ${o.runs} 次无法将任务列表读到末尾（停止原因：`,
      o.stop,
      '），其后的同步失败不会发出告警。',
    ];
  },
  fix: fixes({
    'not-reached': '处理建议：增大函数超时时间或 FETCH_CONCURRENCY，或将 ACR_INSTANCES 拆分到多个部署。',
    'rechecks-behind': '处理建议：增大函数超时时间，或将 ACR_INSTANCES 拆分到多个部署，使每次运行有时间完成复查。',
    'backlog-growing':
      '处理建议：增大 ACR_MAX_PAGES、函数超时时间或 FETCH_CONCURRENCY，或将 ACR_INSTANCES 拆分到多个部署。',
    'list-unfinished':
      '处理建议：检查该实例 ListRepoSyncTask 的返回（日志中记录了扫描停止的位置）；增大 ACR_MAX_PAGES 或函数超时时间。',
  }),
  cleared: (c, i, d) => ['实例 ', i, ` 的告警已恢复正常：${zhDone[c]}（此前滞后 ${d}）。`],
};

const zhShort: Record<LagCondition, string> = {
  'not-reached': '未能读取',
  'rechecks-behind': '复查未按时执行',
  'backlog-growing': '积压未减少',
  'list-unfinished': '任务列表未读完',
};

const zhDone: Record<LagCondition, string> = {
  'not-reached': '已可读取该实例',
  'rechecks-behind': '到期的复查已执行',
  'backlog-growing': '积压正在减少',
  'list-unfinished': '任务列表的读取重新取得进展',
};

const WORDS: Record<Lang, LagWords> = { en, zh };
/** What a lag notice says in `lang`. */
export const lagWordsFor = (lang: Lang): LagWords => WORDS[lang];
