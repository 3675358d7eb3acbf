import type { DigestAlert, SilenceNote } from '../model/alert.js';
import type { Detail } from './detail.js';
import { api, at, bold, join, line, type Inline, type Line, type Section } from './doc.js';
import { formatDuration, type Locale } from './locale.js';
import { patternSafe } from './text.js';
import type { Words } from './words.js';

/** Entries of a tally, largest first, at most `max`, the rest summed in one entry. */
function tally(entries: [string, number][], max: number, w: Words): Inline[] {
  const sorted = [...entries].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const shown = sorted.slice(0, Math.max(1, max));
  const rest = sorted.slice(shown.length);
  const runs: Inline[][] = shown.map(([k, n]) => [api(k), ` ${w.tally(n)}`]);
  if (rest.length > 0) runs.push([`${w.otherCauses(rest.length)} ${w.tally(rest.reduce((s, [, n]) => s + n, 0))}`]);
  return join(runs, w.list);
}

/** The period's counts: failures by cause, the most failing repositories, recoveries, and how many still fail. */
function countLines(g: DigestAlert, loc: Locale, d: Detail, w: Words): Line[] {
  const paren = (x: Inline[]): Inline[] =>
    x.length === 0 ? [] : loc.lang === 'zh' ? ['（', ...x, '）'] : [' (', ...x, ')'];
  const causes = Object.entries(g.byCause);
  const total = causes.reduce((n, [, x]) => n + x, 0);
  // A repository that failed once is not "most failing": only counts above one say something.
  const repos = g.topRepos.filter(([, n]) => n > 1);
  const lines: Line[] = [line('text', w.digestFailures(total), ...paren(tally(causes, d.digest, w)))];
  if (repos.length > 0) lines.push(line('text', w.digestRepos, ...tally(repos, d.digest, w)));
  if (g.recoveries > 0) {
    const mean = g.meanRecoveryMs === undefined ? undefined : formatDuration(g.meanRecoveryMs, loc.lang);
    lines.push(line('text', w.digestRecovered(g.recoveries, mean)));
  }
  lines.push(line('text', w.digestOpen(g.stillFailing)));
  return lines;
}

/** The images still failing, oldest first, at most `d.digest` of them, the rest counted. */
function failingLines(g: DigestAlert, d: Detail, w: Words): Line[] {
  const lines = g.oldestFailing.slice(0, d.digest).map((f) => {
    const what: Inline[] = f.image ? [api(f.image), ...(f.target ? [' → ', api(f.target)] : [])] : [api(f.instance)];
    const rule = f.rule ? [w.ruleLabel, api(f.rule)] : [];
    const parts = [what, w.failingSince(at(f.since)), [api(f.issue || 'UNCLASSIFIED')], rule, [api(f.taskId)]];
    return line('item', ...join(parts, w.sep));
  });
  if (g.stillFailing > lines.length) lines.push(line('item', w.moreItems(g.stillFailing - lines.length)));
  // Apart from the list: nobody was told of these, so they are not among the failures announced either.
  if (g.silencedFailing) lines.push(line('text', w.digestSilencedOpen(g.silencedFailing)));
  return lines;
}

/**
 * What a silence matches, as the options of `acr-sync-alert silence add` ("--instance ap-southeast-1:*"), so it can be
 * pasted back. The options are our own words; a pattern is shown as typed when no platform can read it as markup
 * (patternSafe), otherwise made inert like any other value.
 */
function matcherParts(s: SilenceNote): Inline[] {
  const flags = s.matches.flatMap(([k, values]) => values.map((v) => [`--${k} `, patternSafe(v) ? v : api(v)]));
  return join(flags, ' ');
}

/** One silence: its short id, what it matches, when it is in force, who added it and why. */
function silenceLine(s: SilenceNote, w: Words): Line {
  const when: Inline[] = s.daily
    ? [w.silenceDaily, api(`${s.daily} ${s.timezone ?? 'UTC'}`)]
    : s.until !== undefined
      ? [w.silenceUntil, at(s.until)]
      : [];
  const by = s.createdBy ? [w.silenceBy, api(s.createdBy)] : [];
  const id = s.id ? [api(s.id.slice(0, 8))] : [];
  return line('item', ...join([id, matcherParts(s), when, by, s.comment ? [api(s.comment)] : []], w.sep));
}

/** The silences in force: how many, then at most `d.digest` of them, the rest counted. */
function silenceLines(g: DigestAlert, d: Detail, w: Words): Line[] {
  const silences = g.silences ?? [];
  if (silences.length === 0) return [];
  const total = g.silencesTotal ?? silences.length;
  const shown = silences.slice(0, d.digest);
  const lines = [line('text', w.digestSilences(total)), ...shown.map((s) => silenceLine(s, w))];
  if (total > shown.length) lines.push(line('item', w.moreSilences(total - shown.length)));
  return lines;
}

/**
 * A digest as one section: its title (and route), the period's counts, the images still failing, what silences
 * muted and which silences are in force, each list cut to `d.digest` entries with the rest counted.
 */
export function digestSection(g: DigestAlert, loc: Locale, d: Detail, w: Words): Section {
  const route = g.route ? [w.sep, w.route, api(g.route)] : [];
  const muted = Object.entries(g.muted);
  return {
    lines: [
      line('head', bold('📊 ', ...w.digestTitle(at(g.since))), ...route),
      ...countLines(g, loc, d, w),
      ...failingLines(g, d, w),
      ...(muted.length > 0 ? [line('text', w.digestMuted, ...tally(muted, d.digest, w))] : []),
      ...silenceLines(g, d, w),
    ],
  };
}
