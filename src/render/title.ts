import { classify } from '../model/classify.js';
import { causeWords } from './causes.js';
import type { MessageContent } from './content.js';
import { api, at, type Inline, type Tone } from './doc.js';
import { SEVERITY_MARK } from './failures.js';
import { formatDuration, type Locale } from './locale.js';
import { statusWord } from './others.js';
import { plain } from './plain.js';
import { TITLE_FIELD_MAX } from './text.js';
import { wordsFor } from './words.js';

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

function parts(c: MessageContent, loc: Locale): Part[] {
  const w = wordsFor(loc.lang);
  const out: Part[] = [];
  const top = c.groups[0];
  if (c.failureCount > 0 && top) {
    const cl = classify(top.cause);
    const name = top.rule?.name || top.ruleId;
    out.push({
      mark: SEVERITY_MARK[cl.severity],
      core: [w.failed(c.failureCount)],
      extras: [
        [w.sep, name ? v(name) : w.ruleUnknown, ' → ', v(top.target.regionId)],
        [w.sep, cl.category === 'unclassified' && top.cause ? v(top.cause) : causeWords(cl.issue, loc.lang).short],
        ...(c.groups.length > 1 ? [[w.otherGroups(c.groups.length - 1)]] : []),
      ],
    });
  }
  const blind = c.notices.filter((n) => n.kind === 'blind');
  if (blind[0]) out.push({ mark: '🚨', core: w.blind(v(blind[0].instance)), extras: [[w.sep, w.runs(blind[0].runs)]] });
  const one = <T>(list: T[], count: number) => (count === 1 ? list[0] : undefined);
  if (c.stuckCount > 0) {
    const s = one(c.stuck, c.stuckCount);
    out.push({
      mark: '⏳',
      core: [w.stuck(c.stuckCount)],
      extras: s
        ? [
            [w.sep, imageOf(s.task.from), ' → ', v(s.task.to.regionId)],
            [w.sep, formatDuration(s.at - s.task.createTime, loc.lang)],
          ]
        : [],
    });
  }
  if (c.finishedCount > 0) {
    const s = one(c.finished, c.finishedCount);
    out.push({
      mark: '🏁',
      core: [w.finished(c.finishedCount)],
      extras: s
        ? [
            [w.sep, imageOf(s.task.from)],
            [w.sep, statusWord(w, s.task.status)],
          ]
        : [],
    });
  }
  if (c.recoveredCount > 0) {
    const r = one(c.recovered, c.recoveredCount);
    out.push({
      mark: '✅',
      core: [w.recovered(c.recoveredCount)],
      extras: r ? [[w.sep, imageOf(r.task.from), ' → ', v(r.task.to.regionId)]] : [],
    });
  }
  const restored = c.notices.filter((n) => n.kind === 'restored');
  if (restored[0]) out.push({ mark: '🟢', core: w.restored(v(restored[0].instance)), extras: [] });
  const d = c.digests[0];
  if (d) {
    const total = Object.values(d.byCause).reduce((n, x) => n + x, 0);
    out.push({
      mark: '📊',
      core: w.digest(at(d.since)),
      extras: [
        [w.sep, w.failed(total)],
        [w.sep, w.stillFailing(d.stillFailing)],
      ],
    });
  }
  return out;
}

/** The message's tone: blind alerting first, then the worst failure, then the kind of good or plain news. */
function toneOf(c: MessageContent): Tone {
  if (c.notices.some((n) => n.kind === 'blind')) return 'blind';
  const top = c.groups[0];
  if (c.failureCount > 0) return top ? classify(top.cause).severity : 'medium';
  if (c.stuckCount > 0) return 'info';
  if (c.recoveredCount + c.finishedCount > 0 || c.notices.length > 0) return 'good';
  return 'info';
}

/**
 * The banner: what happened, where, how bad, in at most TITLE_MAX characters. The lead kind says most; the others
 * follow as long as they fit, so the banner is never cut mid-word.
 */
export function titleOf(c: MessageContent, loc: Locale): { title: Inline[]; tone: Tone } {
  const w = wordsFor(loc.lang);
  const [lead, ...rest] = parts(c, loc);
  if (!lead) return { title: [`📨 ${w.acr}`, api('-')], tone: 'info' };
  let title: Inline[] = [`${lead.mark} ${w.acr}`, ...lead.core];
  const tryAdd = (more: Inline[]) => {
    if (plain([...title, ...more], loc).length <= TITLE_MAX) title = [...title, ...more];
  };
  for (const e of lead.extras) tryAdd(e);
  for (const p of rest) tryAdd([w.sep, `${p.mark} `, ...p.core]);
  return { title, tone: toneOf(c) };
}
