import { classify, SEVERITY_RANK, type Classification, type Severity } from '../detect/classify.js';
import { defaultTimeZone, localParts } from '../lib/time.js';
import type { FailureAlert, MonitorAlert, RecoveryAlert, StuckAlert } from '../model/alert.js';
import type { Lang } from '../model/lang.js';
import type { FailureGroup, MessageContent } from './content.js';

export interface AlertGroup {
  classification: Classification;
  /** The examples the rollups of this cause kept, newest first. */
  alerts: FailureAlert[];
  /** Every failure of this cause, shown or not. */
  total: number;
}

/** Merges failure rollups by TaskIssue: most severe first, then largest; newest example first within a cause. */
export function groupByCause(groups: readonly FailureGroup[]): AlertGroup[] {
  const byIssue = new Map<string, AlertGroup>();
  for (const g of groups) {
    const c = classify(g.cause);
    const key = c.category === 'unclassified' ? '' : c.issue;
    const m = byIssue.get(key) ?? { classification: c, alerts: [], total: 0 };
    m.alerts.push(...g.examples);
    m.total += g.count;
    byIssue.set(key, m);
  }
  const out = [...byIssue.values()];
  for (const g of out) g.alerts.sort((x, y) => y.task.createTime - x.task.createTime || x.id.localeCompare(y.id));
  return out.sort(
    (x, y) =>
      SEVERITY_RANK[x.classification.severity] - SEVERITY_RANK[y.classification.severity] ||
      y.total - x.total ||
      x.classification.issue.localeCompare(y.classification.issue),
  );
}

export const SEVERITY_MARK: Record<Severity, string> = { high: '🔴', medium: '🟠', low: '🟡' };

const LABELS = {
  en: {
    heading: (n: number) => `ACR image sync failed: ${n} new ${n === 1 ? 'failure' : 'failures'}`,
    instances: 'Instances',
    fix: 'Fix',
    rule: 'rule',
    more: (n: number) => `…and ${n} more`,
    unnamedRule: '(rule not readable)',
    footer: 'Each failure is announced once. Task ids open in the ACR console under the instance’s sync records.',
    notices: (n: number) => `ACR sync alerting: ${n} monitoring ${n === 1 ? 'notice' : 'notices'}`,
    summaryHeading: (parts: string[]) => `ACR image sync: ${parts.join(', ')}`,
    countStuck: (n: number) => `${n} stuck`,
    countRecovered: (n: number) => `${n} recovered`,
    countNotices: (n: number) => `${n} monitoring ${n === 1 ? 'notice' : 'notices'}`,
    stuckTitle: '⏳ Stuck syncs',
    recoveredTitle: '✅ Recovered',
    stuckFor: (status: string, d: string) => `${status} for ${d}`,
    finishedAfter: (status: string, d: string) => `finished (${status}) after ${d}`,
    recoveredLine: (issue: string, failedAt: string, okAt: string, d: string) => `failed with ${issue} at ${failedAt}, synced fine at ${okAt}: broken for ${d}`,
    betweenRuns: '(failed and recovered between two checks)',
    rerun: 're-run',
    digestHeading: 'ACR image sync digest',
    digestTitle: (since: string) => `📊 Digest since ${since}`,
    digestFailures: (n: number, byCause: string) => `Failures announced: ${n}${byCause ? ` (${byCause})` : ''}`,
    digestRepos: (list: string) => `Most failing repositories: ${list}`,
    digestRecovered: (n: number, mean?: string) => `Recovered: ${n}${mean ? `, mean time to recovery ${mean}` : ''}`,
    digestOpen: (n: number) => `Still failing: ${n}`,
    digestOldest: (instance: string, since: string, issue: string, task: string) => `failing since ${since}: ${instance} · ${issue} · ${task}`,
    digestMuted: (list: string) => `Muted by silences: ${list}`,
    min: (n: number) => `${n} min`,
    hours: (h: number, m: number) => `${h} h ${m} min`,
    days: (d: number, h: number) => `${d} d ${h} h`,
    blind: (instance: string, since: string, runs: number, error: string) =>
      `Alerting is blind for ${instance} since ${since}: ${runs} runs in a row could not read its sync tasks, so failures there go unannounced. Last error: ${error}`,
    restored: (instance: string, minutes: number) =>
      `Alerting for ${instance} works again after ${minutes} min; failures from that time are announced as usual.`,
    severity: { high: 'high', medium: 'medium', low: 'low' } as Record<Severity, string>,
  },
  zh: {
    heading: (n: number) => `ACR 镜像同步失败:新增 ${n} 个`,
    instances: '实例',
    fix: '处理建议',
    rule: '规则',
    more: (n: number) => `…另有 ${n} 个`,
    unnamedRule: '(规则不可读)',
    footer: '每个失败只通知一次。任务 ID 可在控制台实例的同步记录中查到。',
    notices: (n: number) => `ACR 同步告警:${n} 条监控状态通知`,
    summaryHeading: (parts: string[]) => `ACR 镜像同步:${parts.join(',')}`,
    countStuck: (n: number) => `${n} 个卡住`,
    countRecovered: (n: number) => `${n} 个已恢复`,
    countNotices: (n: number) => `${n} 条监控状态通知`,
    stuckTitle: '⏳ 同步卡住',
    recoveredTitle: '✅ 已恢复',
    stuckFor: (status: string, d: string) => `${status} 已持续 ${d}`,
    finishedAfter: (status: string, d: string) => `已结束(${status}),历时 ${d}`,
    recoveredLine: (issue: string, failedAt: string, okAt: string, d: string) => `${failedAt} 因 ${issue} 失败,${okAt} 同步成功:中断 ${d}`,
    betweenRuns: '(两次检查之间失败并已恢复)',
    rerun: '重新同步',
    digestHeading: 'ACR 镜像同步摘要',
    digestTitle: (since: string) => `📊 自 ${since} 以来的摘要`,
    digestFailures: (n: number, byCause: string) => `已通知的失败:${n}${byCause ? `(${byCause})` : ''}`,
    digestRepos: (list: string) => `失败最多的仓库:${list}`,
    digestRecovered: (n: number, mean?: string) => `已恢复:${n}${mean ? `,平均恢复用时 ${mean}` : ''}`,
    digestOpen: (n: number) => `仍在失败:${n}`,
    digestOldest: (instance: string, since: string, issue: string, task: string) => `自 ${since} 起失败:${instance} · ${issue} · ${task}`,
    digestMuted: (list: string) => `被静默:${list}`,
    min: (n: number) => `${n} 分钟`,
    hours: (h: number, m: number) => `${h} 小时 ${m} 分钟`,
    days: (d: number, h: number) => `${d} 天 ${h} 小时`,
    blind: (instance: string, since: string, runs: number, error: string) =>
      `实例 ${instance} 的同步告警自 ${since} 起失明:连续 ${runs} 次无法读取同步任务,期间的失败无法通知。最近错误:${error}`,
    restored: (instance: string, minutes: number) => `实例 ${instance} 的同步告警已恢复(中断 ${minutes} 分钟),期间的失败会照常通知。`,
    severity: { high: '高', medium: '中', low: '低' } as Record<Severity, string>,
  },
} as const;

export const labels = (lang: Lang) => LABELS[lang];

/** The language of a message and the time zone its times are shown in (a route's). */
export interface Locale {
  lang: Lang;
  timeZone: string;
}

/** A language alone means its default time zone: China Standard Time for Chinese, UTC for English. */
export const localeOf = (x: Lang | Locale): Locale => (typeof x === 'string' ? { lang: x, timeZone: defaultTimeZone(x) } : x);

/** A time in the locale's time zone, to the minute, with its offset ("2026-11-24 09:30 UTC+8"). */
export function formatTime(ms: number, loc: Locale): string {
  const p = localParts(ms, loc.timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.offset}`;
}

// What may appear in a shell command we print: ACR's own naming rules are narrower than this.
const SHELL_SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The aliyun CLI commands that re-run a failed sync through its rule (CreateRepoSyncTaskByRule needs the repository
 * id, which GetRepository resolves). Undefined unless every part is shell-safe, since people paste it into a shell.
 */
export function rerunCommand(t: FailureAlert['task']): string | undefined {
  const { regionId, instanceId, namespace, repo, tag } = t.from;
  const parts = [regionId, instanceId, namespace, repo, tag, t.ruleId ?? ''];
  if (!parts.every((x) => SHELL_SAFE.test(x))) return undefined;
  return `REPO_ID=$(aliyun cr GetRepository --region ${regionId} --InstanceId ${instanceId} --RepoNamespaceName ${namespace} --RepoName ${repo} | jq -r .RepoId) && aliyun cr CreateRepoSyncTaskByRule --region ${regionId} --InstanceId ${instanceId} --SyncRuleId ${t.ruleId} --RepoId "$REPO_ID" --Tag ${tag}`;
}

/** The pieces of one failure line, still unescaped; each renderer escapes and lays them out. */
export interface LineParts {
  image: string;
  route: string;
  rule: string;
  trigger: string;
  taskId: string;
  time: string;
}

export function lineParts(a: FailureAlert, loc: Locale): LineParts {
  const { from, to } = a.task;
  const src = `${from.namespace}/${from.repo}:${from.tag}`;
  const dst = `${to.namespace}/${to.repo}:${to.tag}`;
  const where = (r: { regionId: string; instanceId: string }) => [r.regionId, r.instanceId].filter(Boolean).join('/');
  const route = dst === src || !to.repo ? `${where(from)} → ${where(to)}` : `${where(from)} → ${where(to)} ${dst}`;
  return {
    image: src,
    route,
    rule: a.rule?.name || a.task.ruleId || labels(loc.lang).unnamedRule,
    trigger: a.task.trigger,
    taskId: a.task.taskId,
    time: formatTime(a.task.modifiedTime ?? a.task.createTime, loc),
  };
}

/** What both renderers start from: the failures by cause, and the marked heading. */
export function prepare(content: MessageContent, lang: Lang) {
  const groups = groupByCause(content.groups);
  const top = groups[0]?.classification.severity;
  const heading = headingFor(content, lang);
  return { groups, title: `${top ? SEVERITY_MARK[top] : '⚠️'} ${heading}`, heading };
}

/** The heading: failures lead; otherwise the counts of what the message holds. */
export function headingFor(m: MessageContent, lang: Lang): string {
  const L = labels(lang);
  if (m.failureCount > 0) return L.heading(m.failureCount);
  if (m.digests.length > 0 && m.recoveredCount + m.stuckCount + m.notices.length === 0) return L.digestHeading;
  const parts = [
    ...(m.recoveredCount ? [L.countRecovered(m.recoveredCount)] : []),
    ...(m.stuckCount ? [L.countStuck(m.stuckCount)] : []),
    ...(m.notices.length ? [L.countNotices(m.notices.length)] : []),
  ];
  return L.summaryHeading(parts);
}

export function formatDuration(ms: number, lang: Lang): string {
  const L = labels(lang);
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return L.min(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return L.hours(hours, minutes % 60);
  return L.days(Math.floor(hours / 24), hours % 24);
}

/** A section of lines beyond the failure groups (stuck, recovered); user-controlled parts go through `esc`. */
export interface TextSection {
  title: string;
  lines: string[];
  /** How many items the section holds (lines may show fewer); absent for a section that is not a list of items. */
  total?: number;
}

const SECTION_MAX_LINES = 10;

/** The stuck and recovered sections, at most SECTION_MAX_LINES lines each (the rest are counted). */
export function taskSections(m: MessageContent, loc: Locale, esc: (s: string) => string): TextSection[] {
  const { lang } = loc;
  const L = labels(lang);
  const head = (a: StuckAlert | RecoveryAlert) => {
    const p = lineParts({ id: a.id, instance: a.instance, task: a.task, rule: a.rule }, loc);
    return `${esc(p.image)} ${esc(p.route)} · ${L.rule} ${esc(p.rule)} · ${esc(p.taskId)}`;
  };
  const out: TextSection[] = [];
  if (m.stuckCount > 0) {
    out.push({
      title: L.stuckTitle,
      total: m.stuckCount,
      lines: m.stuck.slice(0, SECTION_MAX_LINES).map((a) =>
        a.kind === 'stuck'
          ? `${head(a)} · ${L.stuckFor(esc(a.task.status), formatDuration(a.at - a.task.createTime, lang))}`
          : `${head(a)} · ${L.finishedAfter(esc(a.task.status), formatDuration((a.task.modifiedTime ?? a.at) - a.task.createTime, lang))}`,
      ),
    });
  }
  for (const d of m.digests) {
    const list = (rec: Record<string, number> | [string, number][]) =>
      (Array.isArray(rec) ? rec : Object.entries(rec).sort((x, y) => y[1] - x[1])).map(([k, n]) => `${esc(k)} ${n}`).join(', ');
    const total = Object.values(d.byCause).reduce((n, x) => n + x, 0);
    const lines = [
      L.digestFailures(total, list(d.byCause)),
      ...(d.topRepos.length ? [L.digestRepos(list(d.topRepos))] : []),
      L.digestRecovered(d.recoveries, d.meanRecoveryMs === undefined ? undefined : formatDuration(d.meanRecoveryMs, lang)),
      L.digestOpen(d.stillFailing),
      ...d.oldestFailing.map((f) => L.digestOldest(esc(f.instance), formatTime(f.since, loc), esc(f.issue || 'UNCLASSIFIED'), esc(f.taskId))),
      ...(Object.keys(d.muted).length ? [L.digestMuted(list(d.muted))] : []),
    ];
    out.push({ title: L.digestTitle(formatTime(d.since, loc)), lines });
  }
  if (m.recoveredCount > 0) {
    out.push({
      title: L.recoveredTitle,
      total: m.recoveredCount,
      lines: m.recovered.slice(0, SECTION_MAX_LINES).map((a) => {
        const ok = a.task.modifiedTime ?? a.task.createTime;
        const line = `${head(a)} · ${L.recoveredLine(esc(a.issue || 'UNCLASSIFIED'), formatTime(a.since, loc), formatTime(ok, loc), formatDuration(ok - a.since, lang))}`;
        return a.unannounced ? `${line} ${L.betweenRuns}` : line;
      }),
    });
  }
  return out;
}

/** A notice as one sentence, unescaped, with its mark. */
export function noticeText(n: MonitorAlert, loc: Locale): string {
  const L = labels(loc.lang);
  return n.kind === 'blind'
    ? `⚠️ ${L.blind(n.instance, formatTime(n.since, loc), n.runs, n.error ?? '')}`
    : `✅ ${L.restored(n.instance, Math.max(1, Math.round((n.at - n.since) / 60_000)))}`;
}

/**
 * The ACR console's instance list for the region of `instanceKey` (`regionId:instanceId`). Deeper links to an
 * instance's sync records are not documented, so the list is where a link can safely go.
 */
export function consoleUrl(instanceKey: string): string | undefined {
  const region = instanceKey.split(':')[0] ?? '';
  return /^[a-z]{2,}(-[a-z0-9]+)+$/.test(region) ? `https://cr.console.aliyun.com/${region}/instances` : undefined;
}

/** Failure counts per source instance key, largest first, for the header line. */
export function instanceCounts(groups: readonly FailureGroup[]): [string, number][] {
  const m = new Map<string, number>();
  for (const g of groups) m.set(g.source, (m.get(g.source) ?? 0) + g.count);
  return [...m.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
}

/**
 * How many lines of each group fit: fills groups in order, at most `maxPerGroup` each, while the running size stays
 * within `budget` after reserving room for each group's "and N more" line. Pure arithmetic over sizes.
 */
export function fitLines(groups: readonly { lines: readonly number[] }[], budget: number, maxPerGroup: number, moreCost: number): number[] {
  let used = 0;
  return groups.map((g) => {
    let shown = 0;
    for (const cost of g.lines) {
      if (shown >= maxPerGroup) break;
      const reserve = shown + 1 < g.lines.length ? moreCost : 0;
      if (used + cost + reserve > budget) break;
      used += cost;
      shown += 1;
    }
    if (shown < g.lines.length) used += moreCost;
    return shown;
  });
}
