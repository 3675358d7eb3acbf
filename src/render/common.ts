import { classify, SEVERITY_RANK, type Classification, type Severity } from '../classify.js';
import type { Lang } from '../config.js';
import type { Alert, FailureAlert, MonitorAlert } from '../state/checkpoint.js';
import { isFailure } from '../state/checkpoint.js';

export interface AlertGroup {
  classification: Classification;
  alerts: FailureAlert[];
}

/** Groups failure alerts by TaskIssue: most severe first, then largest; newest alert first within a group. */
export function groupByCause(alerts: readonly FailureAlert[]): AlertGroup[] {
  const byIssue = new Map<string, AlertGroup>();
  for (const a of alerts) {
    const c = classify(a.task.issue);
    const key = c.category === 'unclassified' ? '' : c.issue;
    const g = byIssue.get(key) ?? { classification: c, alerts: [] };
    g.alerts.push(a);
    byIssue.set(key, g);
  }
  const groups = [...byIssue.values()];
  for (const g of groups) g.alerts.sort((x, y) => y.task.createTime - x.task.createTime || x.id.localeCompare(y.id));
  return groups.sort(
    (x, y) =>
      SEVERITY_RANK[x.classification.severity] - SEVERITY_RANK[y.classification.severity] ||
      y.alerts.length - x.alerts.length ||
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
    blind: (instance: string, since: string, runs: number, error: string) =>
      `实例 ${instance} 的同步告警自 ${since} 起失明:连续 ${runs} 次无法读取同步任务,期间的失败无法通知。最近错误:${error}`,
    restored: (instance: string, minutes: number) => `实例 ${instance} 的同步告警已恢复(中断 ${minutes} 分钟),期间的失败会照常通知。`,
    severity: { high: '高', medium: '中', low: '低' } as Record<Severity, string>,
  },
} as const;

export const labels = (lang: Lang) => LABELS[lang];

// Building an Intl.DateTimeFormat costs ~50 µs; one per time zone serves every line.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  return f;
}

/** Times in UTC for English and China Standard Time for Chinese, to the minute. */
export function formatTime(ms: number, lang: Lang): string {
  const tz = lang === 'zh' ? 'Asia/Shanghai' : 'UTC';
  const parts = formatterFor(tz).formatToParts(new Date(ms));
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${lang === 'zh' ? 'UTC+8' : 'UTC'}`;
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

export function lineParts(a: FailureAlert, lang: Lang): LineParts {
  const { from, to } = a.task;
  const src = `${from.namespace}/${from.repo}:${from.tag}`;
  const dst = `${to.namespace}/${to.repo}:${to.tag}`;
  const where = (r: { regionId: string; instanceId: string }) => [r.regionId, r.instanceId].filter(Boolean).join('/');
  const route = dst === src || !to.repo ? `${where(from)} → ${where(to)}` : `${where(from)} → ${where(to)} ${dst}`;
  return {
    image: src,
    route,
    rule: a.rule?.name || a.task.ruleId || labels(lang).unnamedRule,
    trigger: a.task.trigger,
    taskId: a.task.taskId,
    time: formatTime(a.task.modifiedTime ?? a.task.createTime, lang),
  };
}

/** Splits what a message holds: sync failures, and notices about the function's own sight of instances. */
export function split(alerts: readonly Alert[]): { failures: FailureAlert[]; notices: MonitorAlert[] } {
  const failures: FailureAlert[] = [];
  const notices: MonitorAlert[] = [];
  for (const a of alerts) {
    if (isFailure(a)) failures.push(a);
    else notices.push(a);
  }
  notices.sort((x, y) => x.at - y.at || x.id.localeCompare(y.id));
  return { failures, notices };
}

/** The heading of a message: failures lead; a message of notices only says so. */
export function headingFor(failures: number, notices: number, lang: Lang): string {
  return failures > 0 ? labels(lang).heading(failures) : labels(lang).notices(notices);
}

/** A notice as one sentence, unescaped, with its mark. */
export function noticeText(n: MonitorAlert, lang: Lang): string {
  const L = labels(lang);
  return n.kind === 'blind'
    ? `⚠️ ${L.blind(n.instance, formatTime(n.since, lang), n.runs, n.error ?? '')}`
    : `✅ ${L.restored(n.instance, Math.max(1, Math.round((n.at - n.since) / 60_000)))}`;
}

/** Alert counts per instance key, largest first, for the header line. */
export function instanceCounts(alerts: readonly Alert[]): [string, number][] {
  const m = new Map<string, number>();
  for (const a of alerts) m.set(a.instance, (m.get(a.instance) ?? 0) + 1);
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
