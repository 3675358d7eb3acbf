import { classify } from '../model/classify.js';
import type { LagCondition, MonitorAlert, RecoveryAlert, StuckAlert } from '../model/alert.js';
import type { MessageContent } from './content.js';
import type { Detail } from './detail.js';
import { digestSection } from './digest.js';
import { api, at, bold, join, line, type Inline, type Line, type Section } from './doc.js';
import { formatDuration, type Locale } from './locale.js';
import { triggerWord } from './failures.js';
import { lagWordsFor } from './lag-words.js';
import { wordsFor, type ErrorKind, type Words } from './words.js';

/** A task's status in words (waiting, syncing, succeeded…), or raw when it is not one ACR documents. */
export const statusWord = (w: Words, status: string): Inline => w.status[status] ?? api(status);

/** Which image went where, by which rule, in which task: the head of a stuck, finished or recovered line. */
function taskHead(a: StuckAlert | RecoveryAlert, w: Words): Inline[] {
  const { from, to } = a.task;
  const src = `${from.namespace}/${from.repo}:${from.tag}`;
  const dst = `${to.namespace}/${to.repo}:${to.tag}`;
  const where = (r: { regionId: string; instanceId: string }) => [r.regionId, r.instanceId].filter(Boolean).join('/');
  const target = to.repo && dst !== src ? [api(where(to)), ' ', api(dst)] : [api(where(to))];
  const rule = a.rule?.name || a.task.ruleId;
  return join(
    [
      [api(src), ' ', api(where(from)), ' → ', ...target],
      rule ? w.rule(api(rule), triggerWord(w, a.rule?.trigger)) : [w.ruleUnknown],
      [api(a.task.taskId)],
    ],
    w.sep,
  );
}

/** What a list section shows: its title, how many items there are in all, and the lines of those kept. */
interface List {
  title: string;
  total: number;
  lines: Inline[][];
}

/** A list section: its title with the count, at most `max` lines, and the rest counted. */
function listSection({ title, total, lines }: List, max: number, w: Words): Section {
  const shown = lines.slice(0, max);
  return {
    lines: [
      line('head', bold(title), w.sep, w.count(total)),
      ...shown.map((l) => line('item', ...l)),
      ...(total > shown.length ? [line('item', w.moreItems(total - shown.length))] : []),
    ],
  };
}

function stuckLines(c: MessageContent, loc: Locale, d: Detail, w: Words): Section[] {
  const out: Section[] = [];
  const lang = loc.lang;
  if (c.stuckCount > 0) {
    const lines = c.stuck.map((a) => [
      ...taskHead(a, w),
      w.sep,
      ...w.running(statusWord(w, a.task.status), formatDuration(a.at - a.task.createTime, lang)),
    ]);
    const s = listSection({ title: w.stuckTitle, total: c.stuckCount, lines }, d.items, w);
    // Advice only with room for the list: at the leanest detail the count says enough.
    if (d.items > 0) s.lines.push(line('quote', w.stuckAdvice));
    out.push(s);
  }
  if (c.finishedCount > 0) {
    const lines = c.finished.map((a) => [
      ...taskHead(a, w),
      w.sep,
      ...w.finishedAfter(
        statusWord(w, a.task.status),
        formatDuration((a.task.modifiedTime ?? a.at) - a.task.createTime, lang),
      ),
    ]);
    out.push(listSection({ title: w.finishedTitle, total: c.finishedCount, lines }, d.items, w));
  }
  if (c.recoveredCount > 0) {
    const lines = c.recovered.map((a) => {
      const ok = a.task.modifiedTime ?? a.task.createTime;
      const l = [
        ...taskHead(a, w),
        w.sep,
        ...w.recoveredLine(
          api(classify(a.issue).issue || 'UNCLASSIFIED'),
          at(a.since),
          at(ok),
          formatDuration(ok - a.since, lang),
        ),
      ];
      return a.unannounced ? [...l, w.betweenRuns] : l;
    });
    out.push(listSection({ title: w.recoveredTitle, total: c.recoveredCount, lines }, d.items, w));
  }
  return out;
}

/**
 * A run's error as a reader needs it: the sentence, without the trailing debugging tag and request id that logs
 * carry ("… [cr config NoPrivilege HTTP 403] (request 5E2…)").
 */
export function errorForPeople(error: string): string {
  return error
    .replace(/ \(request [^)]*\)$/, '')
    .replace(/ \[[^\]]*\]$/, '')
    .trim();
}

/** The kind in a run's error's debugging tag ("… [cr config NoPrivilege HTTP 403] (request …)"), or `other`. */
export function errorKind(error: string): ErrorKind {
  const m = / \[\S+ (config|retryable|permanent)(?: [^\]]*)?\](?: \(request [^)]*\))?$/.exec(error);
  return (m?.[1] as ErrorKind | undefined) ?? 'other';
}

function noticeLines(n: MonitorAlert, loc: Locale, w: Words, withError: boolean): Line[] {
  const instance = api(n.instance);
  if (n.condition) return lagLines(n, n.condition, loc, withError);
  if (n.kind === 'restored')
    return [line('text', '🟢 ', ...w.restoredLine(instance, formatDuration(n.at - n.since, loc.lang)))];
  const out = [line('text', '🚨 ', ...w.blindLine(instance, at(n.since), n.runs))];
  if (n.error && withError) {
    const gist = w.errorGist[errorKind(n.error)];
    out.push(line('quote', w.lastError, ...(gist ? [gist, w.rawError] : []), api(errorForPeople(n.error))));
  }
  return out;
}

/** A notice that a run cannot do its work: what is behind, since when, and (with room) what the operator can do. */
function lagLines(n: MonitorAlert, c: LagCondition, loc: Locale, withFix: boolean): Line[] {
  const lw = lagWordsFor(loc.lang);
  const instance = api(n.instance);
  const d = formatDuration(n.kind === 'restored' ? n.at - n.since : (n.behindMs ?? n.at - n.since), loc.lang);
  if (n.kind === 'restored') return [line('text', '🟢 ', ...lw.cleared(c, instance, d))];
  const o = { instance, since: at(n.since), runs: n.runs, d, stop: api(n.stoppedBecause ?? '-') };
  const out = [line('text', '🚨 ', ...lw.line(c, o))];
  if (withFix) out.push(line('quote', ...lw.fix[c]));
  return out;
}

/**
 * Everything in a message besides failures: notices first (alerting itself is at stake), then the task lists, digests.
 */
export function otherSections(c: MessageContent, loc: Locale, d: Detail): { lead: Section[]; tail: Section[] } {
  const w = wordsFor(loc.lang);
  const notices = c.notices.slice(0, Math.max(1, d.items)).flatMap((n) => noticeLines(n, loc, w, d.items > 0));
  if (c.notices.length > Math.max(1, d.items))
    notices.push(line('item', w.moreNotices(c.notices.length - Math.max(1, d.items))));
  return {
    lead: notices.length > 0 ? [{ lines: notices }] : [],
    tail: [...stuckLines(c, loc, d, w), ...c.digests.map((g) => digestSection(g, loc, d, w))],
  };
}
