import { classify } from '../model/classify.js';
import type { DigestAlert, MonitorAlert, RecoveryAlert, StuckAlert } from '../model/alert.js';
import type { MessageContent } from './content.js';
import type { Detail } from './detail.js';
import { api, at, bold, join, line, type Inline, type Line, type Section } from './doc.js';
import { formatDuration, type Locale } from './locale.js';
import { triggerWord } from './failures.js';
import { wordsFor, type Words } from './words.js';

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

/** A list section: its title with the count, at most `max` lines, and the rest counted. */
function listSection(title: string, total: number, lines: Inline[][], max: number, w: Words): Section {
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
    out.push(listSection(w.stuckTitle, c.stuckCount, lines, d.items, w));
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
    out.push(listSection(w.finishedTitle, c.finishedCount, lines, d.items, w));
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
    out.push(listSection(w.recoveredTitle, c.recoveredCount, lines, d.items, w));
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

function noticeLines(n: MonitorAlert, loc: Locale, w: Words, withError: boolean): Line[] {
  const instance = api(n.instance);
  if (n.kind === 'restored')
    return [line('text', '🟢 ', ...w.restoredLine(instance, formatDuration(n.at - n.since, loc.lang)))];
  const out = [line('text', '🚨 ', ...w.blindLine(instance, at(n.since), n.runs))];
  if (n.error && withError) out.push(line('quote', w.lastError, api(errorForPeople(n.error))));
  return out;
}

/** Entries of a tally, largest first, at most `max`, the rest summed in one entry. */
function tally(entries: [string, number][], max: number, w: Words): Inline[] {
  const sorted = [...entries].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const shown = sorted.slice(0, Math.max(1, max));
  const rest = sorted.slice(shown.length);
  const runs: Inline[][] = shown.map(([k, n]) => [api(k), ` ${w.tally(n)}`]);
  if (rest.length > 0) runs.push([`${w.otherCauses(rest.length)} ${w.tally(rest.reduce((s, [, n]) => s + n, 0))}`]);
  return join(runs, w.list);
}

function digestSection(g: DigestAlert, loc: Locale, d: Detail, w: Words): Section {
  const paren = (x: Inline[]): Inline[] =>
    x.length === 0 ? [] : loc.lang === 'zh' ? ['（', ...x, '）'] : [' (', ...x, ')'];
  const causes = Object.entries(g.byCause);
  const total = causes.reduce((n, [, x]) => n + x, 0);
  // A repository that failed once is not "most failing": only counts above one say something.
  const repos = g.topRepos.filter(([, n]) => n > 1);
  const lines: Line[] = [
    line('head', bold('📊 ', ...w.digestTitle(at(g.since))), ...(g.route ? [w.sep, w.route, api(g.route)] : [])),
    line('text', w.digestFailures(total), ...paren(tally(causes, d.digest, w))),
  ];
  if (repos.length > 0) lines.push(line('text', w.digestRepos, ...tally(repos, d.digest, w)));
  if (g.recoveries > 0)
    lines.push(
      line(
        'text',
        w.digestRecovered(
          g.recoveries,
          g.meanRecoveryMs === undefined ? undefined : formatDuration(g.meanRecoveryMs, loc.lang),
        ),
      ),
    );
  lines.push(line('text', w.digestOpen(g.stillFailing)));
  for (const f of g.oldestFailing.slice(0, d.digest)) {
    const what: Inline[] = f.image ? [api(f.image), ...(f.target ? [' → ', api(f.target)] : [])] : [api(f.instance)];
    lines.push(
      line(
        'item',
        ...join(
          [
            what,
            w.failingSince(at(f.since)),
            [api(f.issue || 'UNCLASSIFIED')],
            f.rule ? [w.ruleLabel, api(f.rule)] : [],
            [api(f.taskId)],
          ],
          w.sep,
        ),
      ),
    );
  }
  const listed = Math.min(g.oldestFailing.length, d.digest);
  if (g.stillFailing > listed) lines.push(line('item', w.moreItems(g.stillFailing - listed)));
  const muted = Object.entries(g.muted);
  if (muted.length > 0) lines.push(line('text', w.digestMuted, ...tally(muted, d.digest, w)));
  const silences = g.silences ?? [];
  if (silences.length > 0) {
    const total = g.silencesTotal ?? silences.length;
    lines.push(line('text', w.digestSilences(total)));
    for (const s of silences.slice(0, d.digest)) {
      const when: Inline[] = s.daily
        ? [w.silenceDaily, api(`${s.daily} ${s.timezone ?? 'UTC'}`)]
        : s.until !== undefined
          ? [w.silenceUntil, at(s.until)]
          : [];
      const what = s.matches.map(([k, v]) => `${k}=${v.join('|')}`).join(' ');
      lines.push(
        line(
          'item',
          ...join(
            [
              s.id ? [api(s.id.slice(0, 8))] : [],
              [api(what)],
              when,
              s.createdBy ? [w.silenceBy, api(s.createdBy)] : [],
              s.comment ? [api(s.comment)] : [],
            ],
            w.sep,
          ),
        ),
      );
    }
    const listed = Math.min(silences.length, d.digest);
    if (total > listed) lines.push(line('item', w.moreSilences(total - listed)));
  }
  return { lines };
}

/** Everything in a message besides failures: notices first (alerting itself is at stake), then the task lists, digests. */
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
