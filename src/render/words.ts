import type { Lang } from '../model/lang.js';
import type { Inline } from './doc.js';

/**
 * Everything a message says in its own words, per language. Values (names, times) come in as pieces and stay pieces,
 * so each platform escapes and formats them. Chinese uses full-width punctuation around Chinese text and a measure
 * word after every count.
 */
export interface Words {
  /** Every banner starts with it: DingTalk robots are commonly set to require "ACR" as their keyword. */
  acr: string;
  failed(n: number): string;
  recovered(n: number): string;
  stuck(n: number): string;
  finished(n: number): string;
  blind(instance: Inline): Inline[];
  restored(instance: Inline): Inline[];
  digest(since: Inline): Inline[];
  digestTitle(since: Inline): Inline[];
  otherGroups(n: number): string;
  runs(n: number): string;
  list: string;
  trigger: Record<'PASSIVE' | 'INITIATIVE' | 'unknown', string>;
  rule(name: Inline, trigger: Inline): Inline[];
  /** How one task was triggered, said when it differs from its rule's trigger (or that is unknown). */
  taskTrigger: Record<'PASSIVE' | 'INITIATIVE', string>;
  taskTriggerRaw: string;
  ruleUnknown: string;
  ruleLabel: string;
  failedAt(t: Inline): Inline[];
  failedTimes(n: number, range: Inline[]): Inline[];
  newest: string;
  more(n: number): string;
  moreItems(n: number): string;
  moreNotices(n: number): string;
  moreGroups(n: number, groups: number): string;
  targets: string;
  byTarget(n: number): string;
  count(n: number): string;
  fix: string;
  rerun(kind: 'manual' | 'automatic', api: string, shown: number, total: number): string;
  rerunUnknown: string;
  rerunNote: string;
  /**
   * Said when a message covers only part of what its channel is owed (too much for one message, or for the run's
   * time).
   */
  moreFollows: string;
  silence: string;
  why: string;
  stuckTitle: string;
  /** What to check about a stuck sync, and what to do when it does not move. */
  stuckAdvice: string;
  finishedTitle: string;
  recoveredTitle: string;
  status: Record<string, string>;
  running(status: Inline, d: string): Inline[];
  finishedAfter(status: Inline, d: string): Inline[];
  recoveredLine(issue: Inline, failedAt: Inline, okAt: Inline, d: string): Inline[];
  betweenRuns: string;
  blindLine(instance: Inline, since: Inline, runs: number): Inline[];
  lastError: string;
  /**
   * A run's error said in this language, by the kind in its debugging tag (see errorKind), before the raw error;
   * empty where the raw error is already in this language.
   */
  errorGist: Partial<Record<ErrorKind, string>>;
  /** Introduces the raw error after its gist. */
  rawError: string;
  restoredLine(instance: Inline, d: string): Inline[];
  route: string;
  digestFailures(n: number): string;
  digestRepos: string;
  digestRecovered(n: number, mean?: string): string;
  digestOpen(n: number): string;
  /** Images still failing whose every failure a silence muted, said apart from the announced ones. */
  digestSilencedOpen(n: number): string;
  stillFailing(n: number): string;
  failingSince(t: Inline): Inline[];
  digestMuted: string;
  tally(n: number): string;
  otherCauses(n: number): string;
  sep: string;
  duration: { min(n: number): string; hours(h: number, m: number): string; days(d: number, h: number): string };
  test: { title: string; body: string };
  /** The one-line notice that replaces an alert no rendering could deliver: `what` names it, `why` the refusal. */
  quarantined(what: string, why: string): string;
  digestSilences(n: number): string;
  silenceUntil: string;
  silenceDaily: string;
  silenceBy: string;
  moreSilences(n: number): string;
  /** A banner's count of failures, `num` being `n` with its digits grouped; with how many other groups there are. */
  bannerFailed(n: number, num: string, otherGroups: number): string;
}

/** What kind of error a run met, from its debugging tag; `other` when it has none. */
export type ErrorKind = 'config' | 'retryable' | 'permanent' | 'other';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const en: Words = {
  acr: 'ACR: ',
  failed: (n) => `${plural(n, 'sync', 'syncs')} failed`,
  recovered: (n) => `${plural(n, 'sync', 'syncs')} recovered`,
  stuck: (n) => `${plural(n, 'sync', 'syncs')} stuck`,
  finished: (n) => `${plural(n, 'stuck sync', 'stuck syncs')} finished`,
  blind: (i) => ['alerting is blind for ', i],
  restored: (i) => ['alerting works again for ', i],
  digest: (since) => ['digest since ', since],
  digestTitle: (since) => ['Digest since ', since],
  otherGroups: (n) => ` (+${plural(n, 'other group', 'other groups')})`,
  runs: (n) => `${plural(n, 'run', 'runs')} without reading its sync tasks`,
  list: ', ',
  trigger: { PASSIVE: 'automatic', INITIATIVE: 'manual', unknown: 'trigger unknown' },
  rule: (name, trigger) => ['rule ', name, ' (', trigger, ')'],
  taskTrigger: { PASSIVE: 'task triggered automatically', INITIATIVE: 'task triggered manually' },
  taskTriggerRaw: 'task trigger ',
  ruleUnknown: 'rule unknown',
  ruleLabel: 'rule ',
  failedAt: (t) => ['failed at ', t],
  failedTimes: (n, range) => [`${n} failed, `, ...range],
  newest: 'newest',
  more: (n) => `…and ${n} more`,
  moreItems: (n) => `…and ${n} more`,
  moreNotices: (n) => `…and ${plural(n, 'more notice', 'more notices')}`,
  moreGroups: (n, groups) =>
    `…and ${n} more ${n === 1 ? 'failure' : 'failures'} in ${plural(groups, 'other group', 'other groups')}`,
  targets: 'Targets: ',
  byTarget: (n) => String(n),
  count: (n) => String(n),
  fix: 'Fix:',
  rerun: (kind, api, shown, total) => {
    const part = shown < total ? `; the ${plural(shown, 'newest image', 'newest images')} of ${total} failures` : '';
    return `Re-run (${kind} rule: ${api}${part}):`;
  },
  rerunUnknown: "The rule's trigger could not be read; use the command for its kind.",
  rerunNote:
    'Re-run commands need the aliyun CLI (3.0.137 or later) and jq, and the RAM actions cr:GetRepository and ' +
    'cr:CreateRepositorySync.',
  moreFollows: 'Not every alert waiting for this channel is in this message: the rest follow in the next one.',
  silence: 'Silence this group for 2 h:',
  why: 'why',
  stuckTitle: '⏳ Stuck syncs',
  stuckAdvice:
    "Check the task's progress and synced size in the instance's sync records in the ACR console (GetRepoSyncTask " +
    'gives Progress and SyncedSize): a large image takes long on a slow or cross-border link, where ' +
    'cross-border sync acceleration helps (Premium Edition instances). If it does not move, cancel the task ' +
    '(CancelRepoSyncTask) and re-run the sync.',
  finishedTitle: '🏁 Stuck syncs that finished',
  recoveredTitle: '✅ Recovered',
  status: { PENDING: 'waiting', SYNCHRONIZING: 'syncing', SUCCESS: 'succeeded', ERROR: 'failed', CANCELED: 'canceled' },
  running: (s, d) => [s, ` for ${d}`],
  finishedAfter: (s, d) => ['finished (', s, `) after ${d}`],
  recoveredLine: (issue, t1, t2, d) => [
    'failed with ',
    issue,
    ' at ',
    t1,
    ', synced fine at ',
    t2,
    `: broken for ${d}`,
  ],
  betweenRuns: ' (failed and recovered between two checks)',
  blindLine: (i, since, runs) => [
    'Alerting is blind for ',
    i,
    ' since ',
    since,
    `: ${runs} runs in a row could not read its sync tasks, so failures there go unannounced.`,
  ],
  lastError: 'Last error: ',
  errorGist: {},
  rawError: '',
  restoredLine: (i, d) => [
    'Alerting for ',
    i,
    ` works again after ${d}; failures from that time are announced as usual.`,
  ],
  route: 'route ',
  digestFailures: (n) => `Failures announced: ${n}`,
  digestRepos: 'Most failing repositories: ',
  digestRecovered: (n, mean) => `Recovered: ${n}${mean ? `, mean time to recovery ${mean}` : ''}`,
  digestOpen: (n) => `Still failing: ${n}${n > 0 ? ', oldest first:' : ''}`,
  digestSilencedOpen: (n) =>
    `Also failing, never announced (every failure muted by a silence): ${plural(n, 'image', 'images')}`,
  stillFailing: (n) => `${n} still failing`,
  failingSince: (t) => ['failing since ', t],
  digestMuted: 'Muted by silences: ',
  tally: (n) => String(n),
  otherCauses: (n) => plural(n, 'other', 'others'),
  sep: ' · ',
  duration: { min: (n) => `${n} min`, hours: (h, m) => `${h} h ${m} min`, days: (d, h) => `${d} d ${h} h` },
  test: {
    title: 'ACR sync alert: test message',
    body: 'This channel will receive acr-sync-alert messages about image syncs of',
  },
  quarantined: (what, why) => `ACR: 1 failure could not be delivered to this channel: ${what} (${why}), see the log`,
  digestSilences: (n) => `Silences in force: ${n}`,
  silenceUntil: 'until ',
  silenceDaily: 'daily ',
  silenceBy: 'by ',
  moreSilences: (n) => `…and ${plural(n, 'more silence', 'more silences')}`,
  bannerFailed: (n, num, others) =>
    `${num} ${n === 1 ? 'sync' : 'syncs'} failed` +
    (others > 0 ? ` in all, ${plural(others, 'other group', 'other groups')}` : ''),
};

const zh: Words = {
  acr: 'ACR：',
  failed: (n) => `${n} 个同步任务失败`,
  recovered: (n) => `${n} 个同步任务已恢复`,
  stuck: (n) => `${n} 个同步任务卡住`,
  finished: (n) => `${n} 个卡住的同步任务已结束`,
  blind: (i) => [i, ' 的告警已失效'],
  restored: (i) => [i, ' 的告警已恢复'],
  digest: (since) => ['告警汇总（自 ', since, ' 起）'],
  digestTitle: (since) => ['告警汇总（自 ', since, ' 起）'],
  otherGroups: (n) => `（另有 ${n} 类失败）`,
  runs: (n) => `连续 ${n} 次无法读取同步任务`,
  list: '，',
  trigger: { PASSIVE: '自动触发', INITIATIVE: '手动触发', unknown: '触发方式未知' },
  rule: (name, trigger) => ['规则 ', name, '（', trigger, '）'],
  taskTrigger: { PASSIVE: '本次同步为自动触发', INITIATIVE: '本次同步为手动触发' },
  taskTriggerRaw: '本次同步的触发方式：',
  ruleUnknown: '规则未知',
  ruleLabel: '规则 ',
  failedAt: (t) => [t, ' 失败'],
  failedTimes: (n, range) => [`失败 ${n} 次，`, ...range],
  newest: '最近一次',
  more: (n) => `……另有 ${n} 次失败未列出`,
  moreItems: (n) => `……另有 ${n} 个未列出`,
  moreNotices: (n) => `……另有 ${n} 条通知未列出`,
  moreGroups: (n, groups) => `……另有 ${groups} 类失败（共 ${n} 次）未列出`,
  targets: '各目标实例失败次数：',
  byTarget: (n) => `${n} 次`,
  count: (n) => `${n} 个`,
  fix: '处理建议：',
  rerun: (kind, api, shown, total) => {
    const part = shown < total ? `；仅包含 ${total} 次失败中最近的 ${shown} 个镜像` : '';
    return `重新同步命令（适用于${kind === 'manual' ? '手动触发' : '自动触发'}的规则，调用 ${api}${part}）：`;
  },
  rerunUnknown: '未能读取该同步规则的触发方式，请按其实际触发方式选用下方对应的命令。',
  rerunNote:
    '执行重新同步命令需安装 aliyun CLI（版本不低于 3.0.137）和 jq，并具备 RAM 权限 cr:GetRepository 和 cr:CreateRepositorySync。',
  moreFollows: '本频道仍有待发送的告警未包含在此消息中，将在下一条消息中发送。',
  silence: '将此组告警静默 2 小时：',
  why: '原因',
  stuckTitle: '⏳ 卡住的同步任务',
  stuckAdvice:
    '在容器镜像服务控制台该实例的同步记录中查看任务进度和已同步大小（GetRepoSyncTask 返回 Progress 和 SyncedSize）：' +
    '镜像较大或链路较慢（如跨境）时同步耗时较长，可开启跨境同步加速（仅高级版实例支持）。长时间无进展时，' +
    '可取消该任务（CancelRepoSyncTask）后重新同步。',
  finishedTitle: '🏁 卡住后已结束的同步任务',
  recoveredTitle: '✅ 已恢复',
  status: { PENDING: '等待中', SYNCHRONIZING: '同步中', SUCCESS: '成功', ERROR: '失败', CANCELED: '已取消' },
  running: (s, d) => [s, `，已持续 ${d}`],
  finishedAfter: (s, d) => ['已结束（', s, `），历时 ${d}`],
  recoveredLine: (issue, t1, t2, d) => [t1, ' 因 ', issue, ' 失败，', t2, ` 同步成功，故障持续 ${d}`],
  betweenRuns: '（在两次检查之间失败并已恢复）',
  blindLine: (i, since, runs) => [
    '自 ',
    since,
    ' 起无法读取实例 ',
    i,
    ` 的同步任务，已连续 ${runs} 次读取失败；在此期间，该实例的同步失败不会发出告警。`,
  ],
  lastError: '最近一次错误信息：',
  errorGist: {
    config: '请求被拒绝，需要人工处理：请检查函数 RAM 角色的权限、凭证和实例配置。',
    retryable: '遇到临时错误（限流、服务端错误或网络问题），之后的运行会自动重试。',
    permanent: '请求被拒绝，重试无法解决。',
    other: '读取失败。',
  },
  rawError: '原始错误：',
  restoredLine: (i, d) => [
    '实例 ',
    i,
    ` 的同步任务已可正常读取，告警已恢复（此前连续 ${d}无法读取）；无法读取期间的同步失败也会照常通知。`,
  ],
  route: '路由 ',
  digestFailures: (n) => `已通知的失败：${n} 次`,
  digestRepos: '失败最多的仓库：',
  digestRecovered: (n, mean) => `已恢复：${n} 个${mean ? `，平均恢复耗时 ${mean}` : ''}`,
  digestOpen: (n) => `仍在失败的镜像：${n} 个${n > 0 ? '，按失败时间从早到晚：' : ''}`,
  digestSilencedOpen: (n) => `另有 ${n} 个镜像仍在失败，其每次失败都已被静默，未发出通知`,
  stillFailing: (n) => `${n} 个镜像仍在失败`,
  failingSince: (t) => ['自 ', t, ' 起失败'],
  digestMuted: '已静默的告警：',
  tally: (n) => `${n} 次`,
  otherCauses: (n) => `其余 ${n} 项共`,
  sep: ' · ',
  duration: { min: (n) => `${n} 分钟`, hours: (h, m) => `${h} 小时 ${m} 分钟`, days: (d, h) => `${d} 天 ${h} 小时` },
  test: { title: 'ACR 同步告警：测试消息', body: '此会话将收到 acr-sync-alert 发送的镜像同步告警，涉及实例' },
  quarantined: (what, why) => `ACR：1 次失败无法发送到此会话：${what}（${why}），详见日志`,
  digestSilences: (n) => `生效中的静默规则：${n} 条`,
  silenceUntil: '截至 ',
  silenceDaily: '每天 ',
  silenceBy: '添加人 ',
  moreSilences: (n) => `……另有 ${n} 条静默规则未列出`,
  bannerFailed: (_n, num, others) =>
    others > 0 ? `共 ${num} 个同步任务失败，另有 ${others} 类失败` : `${num} 个同步任务失败`,
};

const WORDS: Record<Lang, Words> = { en, zh };
/** Everything a message says in `lang`. */
export const wordsFor = (lang: Lang): Words => WORDS[lang];
