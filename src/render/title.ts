import type { MonitorAlert } from '../model/alert.js';
import { classify } from '../model/classify.js';
import { groupSeverity, type Escalation } from '../model/escalation.js';
import { SEVERITY_RANK } from '../model/issue.js';
import { causeWords } from './causes.js';
import type { FailureGroup, MessageContent } from './content.js';
import { api, at, type Inline, type Tone } from './doc.js';
import { SEVERITY_MARK } from './failures.js';
import { lagWordsFor } from './lag-words.js';
import { formatCount, formatDuration, type Locale } from './locale.js';
import { statusWord } from './others.js';
import { plain } from './plain.js';
import { TITLE_FIELD_MAX } from './text.js';
import { wordsFor, type Words } from './words.js';

/** Longest banner: Slack's header block takes 150 characters, and a phone's notification shows less. */
export const TITLE_MAX = 150;

/** One kind of news in the banner: its words, then details that go in only while the banner has room. */
interface Part {
  mark: string;
  core: Inline[];
  extras: Inline[][];
}

// Values in a banner get a tighter cap than in the body: the banner has to say what, where and how bad in one line.
const v = (s: string): Inline => ({
  api:
    s.length > TITLE_FIELD_MAX
      ? `${Array.from(s)
          .slice(0, TITLE_FIELD_MAX - 1)
          .join('')}…`
      : s,
});
const imageOf = (t: { namespace: string; repo: string; tag: string }) => v(`${t.namespace}/${t.repo}:${t.tag}`);

/**
 * The group a banner leads with: the most severe once scale and duration are counted (`esc`), the first of those in
 * the content's order (largest first).
 */
export function topGroup(groups: readonly FailureGroup[], esc?: Escalation): FailureGroup | undefined {
  let top: FailureGroup | undefined;
  let best = Infinity;
  for (const g of groups) {
    const rank = SEVERITY_RANK[groupSeverity(g, esc).severity];
    if (rank < best) [top, best] = [g, rank];
  }
  return top;
}

/**
 * The failures: the lead group's severity, its own count beside its cause, then the target region it fails to (what
 * and where first, where a phone's push and DingTalk's preview still show them); then its image when it is the only
 * failure, the message's total with how many other groups there are, and the group's rule.
 */
function failurePart(c: MessageContent, loc: Locale, esc?: Escalation): Part | undefined {
  const w = wordsFor(loc.lang);
  const top = topGroup(c.groups, esc);
  if (c.failureCount === 0 || !top) return undefined;
  const cl = classify(top.cause);
  const name = top.rule?.name || top.ruleId;
  // An unknown cause is named as ACR gave it: "unclassified" alone would hide what to search for.
  const cause = cl.category === 'unclassified' && top.cause ? v(top.cause) : causeWords(cl.issue, loc.lang).short;
  const single = c.failureCount === 1 ? top.examples[0] : undefined;
  return {
    mark: SEVERITY_MARK[groupSeverity(top, esc).severity],
    core: [...(single ? [] : [`${formatCount(top.count, loc.lang)}× `]), cause, ' → ', v(top.target.regionId)],
    extras: [
      ...(single ? [[w.sep, imageOf(single.task.from)]] : []),
      [w.sep, w.bannerFailed(c.failureCount, formatCount(c.failureCount, loc.lang), c.groups.length - 1)],
      [w.sep, ...(name ? [w.ruleLabel, v(name)] : [w.ruleUnknown])],
    ],
  };
}

/** The stuck syncs, and finished ones: when there is only one, which image and for how long or how it ended. */
function taskParts(c: MessageContent, loc: Locale, w: Words): Part[] {
  const one = <T>(list: T[], count: number) => (count === 1 ? list[0] : undefined);
  const out: Part[] = [];
  if (c.stuckCount > 0) {
    const s = one(c.stuck, c.stuckCount);
    const extras = s
      ? [
          [w.sep, imageOf(s.task.from), ' → ', v(s.task.to.regionId)],
          [w.sep, formatDuration(s.at - s.task.createTime, loc.lang)],
        ]
      : [];
    out.push({ mark: '⏳', core: [w.stuck(c.stuckCount)], extras });
  }
  if (c.finishedCount > 0) {
    const s = one(c.finished, c.finishedCount);
    const extras = s
      ? [
          [w.sep, imageOf(s.task.from)],
          [w.sep, statusWord(w, s.task.status)],
        ]
      : [];
    out.push({ mark: '🏁', core: [w.finished(c.finishedCount)], extras });
  }
  if (c.recoveredCount > 0) {
    const r = one(c.recovered, c.recoveredCount);
    const extras = r ? [[w.sep, imageOf(r.task.from), ' → ', v(r.task.to.regionId)]] : [];
    out.push({ mark: '✅', core: [w.recovered(c.recoveredCount)], extras });
  }
  return out;
}

/** The first digest: since when, how many failures, how many images still fail. */
function digestPart(c: MessageContent, w: Words): Part | undefined {
  const d = c.digests[0];
  if (!d) return undefined;
  const total = Object.values(d.byCause).reduce((n, x) => n + x, 0);
  return {
    mark: '📊',
    core: w.digest(at(d.since)),
    extras: [
      [w.sep, w.failed(total)],
      [w.sep, w.stillFailing(d.stillFailing)],
    ],
  };
}

/** Each kind of news the message holds, in the order a banner names them: failures, blind alerting, tasks, digests. */
function parts(c: MessageContent, loc: Locale, esc?: Escalation): Part[] {
  const w = wordsFor(loc.lang);
  const lw = lagWordsFor(loc.lang);
  // An instance that cannot be read at all leads; a run that cannot do all its work there comes next.
  const first = (kind: MonitorAlert['kind']) =>
    c.notices.find((n) => n.kind === kind && !n.condition) ?? c.notices.find((n) => n.kind === kind);
  const blind = first('blind');
  const restored = first('restored');
  return [
    failurePart(c, loc, esc),
    blind &&
      (blind.condition
        ? { mark: '🚨', core: lw.banner(blind.condition, v(blind.instance)), extras: [] }
        : { mark: '🚨', core: w.blind(v(blind.instance)), extras: [[w.sep, w.runs(blind.runs)]] }),
    ...taskParts(c, loc, w),
    restored && {
      mark: '🟢',
      core: restored.condition ? lw.bannerCleared(v(restored.instance)) : w.restored(v(restored.instance)),
      extras: [],
    },
    digestPart(c, w),
  ].filter((p): p is Part => p !== undefined);
}

/** The message's tone: blind alerting first, then the worst failure, then the kind of good or plain news. */
function toneOf(c: MessageContent, esc?: Escalation): Tone {
  if (c.notices.some((n) => n.kind === 'blind')) return 'blind';
  const top = topGroup(c.groups, esc);
  if (c.failureCount > 0) return top ? groupSeverity(top, esc).severity : 'medium';
  if (c.stuckCount > 0) return 'info';
  if (c.recoveredCount + c.finishedCount > 0 || c.notices.length > 0) return 'good';
  return 'info';
}

/**
 * The banner: what happened, where, how bad, in at most TITLE_MAX characters. The lead kind says most; the others
 * follow as long as they fit, so the banner is never cut mid-word. `esc` is the route's escalation (its default when
 * absent): a failure group it makes high leads the banner with the high mark.
 */
export function titleOf(c: MessageContent, loc: Locale, esc?: Escalation): { title: Inline[]; tone: Tone } {
  const w = wordsFor(loc.lang);
  const [lead, ...rest] = parts(c, loc, esc);
  if (!lead) return { title: [`📨 ${w.acr}`, api('-')], tone: 'info' };
  let title: Inline[] = [`${lead.mark} ${w.acr}`, ...lead.core];
  const tryAdd = (more: Inline[]) => {
    if (plain([...title, ...more], loc).length <= TITLE_MAX) title = [...title, ...more];
  };
  for (const e of lead.extras) tryAdd(e);
  for (const p of rest) tryAdd([w.sep, `${p.mark} `, ...p.core]);
  return { title, tone: toneOf(c, esc) };
}
