import { classify } from '../model/classify.js';
import type { Severity } from '../model/issue.js';
import type { FailureAlert } from '../model/alert.js';
import { causeWords } from './causes.js';
import { rerunsOf, silenceCommand } from './commands.js';
import { failureTime, type FailureGroup, type MessageContent } from './content.js';
import type { Detail } from './detail.js';
import { api, at, bold, join, line, span, type Inline, type Line, type Section } from './doc.js';
import type { Locale } from './locale.js';
import { wordsFor, type Words } from './words.js';

export const SEVERITY_MARK: Record<Severity, string> = { high: '🔴', medium: '🟠', low: '🟡' };

/**
 * The ACR console's instance list for a region. Deeper links to an instance's sync records are not documented, so the
 * list is where a link can safely go.
 */
export function consoleUrl(regionId: string): string | undefined {
  return /^[a-z]{2,}(-[a-z0-9]+)+$/.test(regionId) ? `https://cr.console.aliyun.com/${regionId}/instances` : undefined;
}

/** An instance as a piece: linked to its region's console list when the region is a plain region id. */
export function instancePiece(regionId: string, instanceId: string): Inline {
  const name = api(`${regionId}:${instanceId}`);
  const url = consoleUrl(regionId);
  return url ? { link: url, text: [name] } : name;
}

/** The rule's trigger in words: automatic, manual, or raw when ACR says something undocumented. */
export function triggerWord(w: Words, trigger: string | undefined): Inline {
  if (trigger === 'PASSIVE' || trigger === 'INITIATIVE') return w.trigger[trigger];
  return trigger ? api(trigger) : w.trigger.unknown;
}

/** The group's rule by name, else by id, else in words that say it is unknown. */
export const ruleName = (g: FailureGroup, w: Words): Inline =>
  g.rule?.name || g.ruleId ? api(g.rule?.name || g.ruleId) : w.ruleUnknown;
const image = (i: { namespace: string; repo: string; tag: string }) => `${i.namespace}/${i.repo}:${i.tag}`;

/** What failed: the image, and where it was going when the target repository or tag differs. */
function imageParts(a: FailureAlert): Inline[] {
  const from = image(a.task.from);
  const to = image(a.task.to);
  return a.task.to.repo && to !== from ? [api(from), ' → ', api(to)] : [api(from)];
}

/** A single failure keeps its task's own trigger when it says more than the rule's. */
function taskTrigger(a: FailureAlert, g: FailureGroup, w: Words): Inline[] {
  const t = a.task.trigger;
  if (!t || t === g.rule?.trigger) return [];
  return t === 'PASSIVE' || t === 'INITIATIVE' ? [w.taskTrigger[t]] : [w.taskTriggerRaw, api(t)];
}

/** When a group failed: once at a moment, or n times over a span. */
const when = (g: FailureGroup, w: Words): Inline[] =>
  g.count === 1 ? w.failedAt(at(g.lastAt)) : w.failedTimes(g.count, [span(g.firstAt, g.lastAt)]);

/** The examples of a group, newest first, at most `max` (at least one), and how many more failed. */
function exampleLines(g: FailureGroup, max: number, w: Words): Line[] {
  const shown = g.examples.slice(0, Math.max(1, max));
  // A single failure says how its task was triggered; among several, when each failed tells them apart.
  const lines = shown.map((a) => {
    const last = g.count === 1 ? taskTrigger(a, g, w) : [at(failureTime(a), true)];
    return line('item', ...join([imageParts(a), [api(a.task.taskId)], last], w.sep));
  });
  if (g.count > shown.length) lines.push(line('item', w.more(g.count - shown.length)));
  return lines;
}

/**
 * The commands a full group carries: re-runs, only for a transient cause (re-running anything else fails the same
 * way), and the silence that mutes the group.
 */
function commandLines(g: FailureGroup, transient: boolean, loc: Locale, w: Words): { lines: Line[]; rerun: boolean } {
  const lines: Line[] = [];
  const reruns = transient ? rerunsOf(g) : [];
  if (reruns.length > 1) lines.push(line('text', w.rerunUnknown));
  for (const r of reruns)
    lines.push(line('text', w.rerun(r.kind, r.api, r.images, g.count)), line('command', r.command));
  const mute = silenceCommand(g, w.why, loc.deployment);
  if (mute) lines.push(line('text', w.silence), line('command', mute));
  return { lines, rerun: reruns.length > 0 };
}

/** One group in full: what, where, when, why, which images, how to fix, and the commands that re-run or mute it. */
function groupSection(g: FailureGroup, loc: Locale, d: Detail, w: Words): { section: Section; rerun: boolean } {
  const c = classify(g.cause);
  const said = causeWords(c.issue, loc.lang);
  const rule = g.rule?.name || g.ruleId ? w.rule(ruleName(g, w), triggerWord(w, g.rule?.trigger)) : [w.ruleUnknown];
  const where = [api(g.source), ' → ', instancePiece(g.target.regionId, g.target.instanceId)];
  const out: Line[] = [
    line(
      'head',
      ...join([[bold(`${SEVERITY_MARK[c.severity]} ${said.title}`)], g.cause ? [api(g.cause)] : [], when(g, w)], w.sep),
    ),
    line('text', ...join([rule, where], w.sep)),
  ];
  if (d.explain) out.push(line('quote', said.cause));
  out.push(...exampleLines(g, d.examples, w));
  const steps = said.fix.slice(0, d.fix);
  if (steps.length > 0) out.push(line('text', bold(w.fix)), ...steps.map((s) => line('step', s)));
  if (!d.commands) return { section: { lines: out }, rerun: false };
  const commands = commandLines(g, c.transient, loc, w);
  out.push(...commands.lines);
  return { section: { lines: out }, rerun: commands.rerun };
}

/** One group on one line: rule → target, cause, how many and when, and its newest image, the rest counted. */
function groupLine(g: FailureGroup, loc: Locale, w: Words): Line {
  const c = classify(g.cause);
  const newest = g.examples[0];
  const parts = join(
    [
      [
        `${SEVERITY_MARK[c.severity]} `,
        bold(ruleName(g, w)),
        ' → ',
        instancePiece(g.target.regionId, g.target.instanceId),
      ],
      [g.cause ? api(g.cause) : causeWords(c.issue, loc.lang).short],
      when(g, w),
      newest ? [`${w.newest} `, ...imageParts(newest), ' (', api(newest.task.taskId), ')'] : [],
    ],
    w.sep,
  );
  return line('item', ...parts, ...(g.count > 1 ? [' ', w.more(g.count - 1)] : []));
}

/** Where the failures went, when they went to more than one target: each target instance linked, with its count. */
function byTarget(c: MessageContent, w: Words): Line | undefined {
  const counts = new Map<string, { regionId: string; instanceId: string; n: number }>();
  for (const g of c.groups) {
    const k = `${g.target.regionId}:${g.target.instanceId}`;
    const e = counts.get(k) ?? { ...g.target, n: 0 };
    e.n += g.count;
    counts.set(k, e);
  }
  if (counts.size < 2) return undefined;
  const list = [...counts.values()].sort((x, y) => y.n - x.n).slice(0, 10);
  return line(
    'text',
    w.targets,
    ...join(
      list.map((t) => [instancePiece(t.regionId, t.instanceId), ` ${w.byTarget(t.n)}`]),
      w.sep,
    ),
  );
}

/** The failure part of a message at detail `d`, and whether it carries a re-run command (which needs a note). */
export function failureSections(c: MessageContent, loc: Locale, d: Detail): { sections: Section[]; rerun: boolean } {
  const w = wordsFor(loc.lang);
  const sections: Section[] = [];
  let rerun = false;
  const where = byTarget(c, w);
  if (where) sections.push({ lines: [where] });
  const full = c.groups.slice(0, d.full);
  for (const g of full) {
    const s = groupSection(g, loc, d, w);
    sections.push(s.section);
    rerun ||= s.rerun;
  }
  const lined = c.groups.slice(full.length, full.length + d.lines);
  const hidden = c.groups.slice(full.length + lined.length);
  const counted = hidden.reduce((n, g) => n + g.count, 0) + c.ungrouped;
  const rest: Line[] = lined.map((g) => groupLine(g, loc, w));
  if (counted > 0) rest.push(line('item', c.ungrouped > 0 ? w.more(counted) : w.moreGroups(counted, hidden.length)));
  if (rest.length > 0) sections.push({ lines: rest });
  return { sections, rerun };
}
