import type { Lang } from '../model/lang.js';
import { SEVERITY_MARK, consoleUrl, fitLines, instanceCounts, labels, lineParts, noticeText, prepare, rerunCommand, taskSections, localeOf, type Locale } from './common.js';
import type { MessageContent } from './content.js';

// Block Kit limits: https://docs.slack.dev/reference/block-kit/blocks (50 blocks per message), section text 3000
// characters, header plain_text 150 characters. Messages above ~12,000 characters of blocks are refused in practice.
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_MAX = 3_000;
export const SLACK_HEADER_MAX = 150;
export const SLACK_TOTAL_MAX = 11_000;
const MAX_LINES_PER_GROUP = 10;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters (formatting reference). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A user-controlled string as an inline code span: escaped, single line, no backticks, so it cannot close the span,
 * format text, link or mention anyone.
 */
export function slackCode(s: string): string {
  // Control characters are exactly what must go: they would break the line a name sits on.
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/`/g, 'ˋ').trim();
  return '`' + slackEscape(flat || ' ') + '`';
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/**
 * One Block Kit message for `content`: monitoring notices first, then failures grouped by cause, within Slack's
 * limits, with a plain-text fallback.
 */
export function renderSlack(content: MessageContent, locale: Lang | Locale): SlackMessage {
  const loc = localeOf(locale);
  const { lang } = loc;
  const L = labels(lang);
  const { notices } = content;
  const { groups, title, heading } = prepare(content, lang);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, SLACK_HEADER_MAX), emoji: true } },
  ];
  // Notices are few (one per instance at most); keep them within the block budget all the same.
  for (const n of notices.slice(0, 10)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(noticeText(n, loc)), SLACK_SECTION_MAX) } });
  if (content.failureCount > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(`${L.instances}: ${instanceCounts(content.groups).map(([k, n]) => {
        const url = consoleUrl(k);
        return `${url ? `<${url}|${slackEscape(k)}>` : slackCode(k)} (${n})`;
      }).join(', ')}`, SLACK_SECTION_MAX) }],
    });
  }

  const sections = groups.map((g) => {
    const c = g.classification;
    const issue = c.issue ? ` · ${slackCode(c.issue)}` : '';
    const steps = c.remediation[lang].map((s, i) => `${i + 1}. ${slackEscape(s)}`).join('\n');
    const header = clip(`*${SEVERITY_MARK[c.severity]} ${slackEscape(c.title[lang])}*${issue} · *${g.total}*\n_${slackEscape(c.cause[lang])}_\n*${L.fix}:*\n${steps}`, SLACK_SECTION_MAX);
    // At most MAX_LINES_PER_GROUP lines can be shown; the rest are only counted.
    const lines = g.alerts.slice(0, MAX_LINES_PER_GROUP).map((a) => {
      const p = lineParts(a, loc);
      const trigger = p.trigger ? ` · ${slackEscape(p.trigger)}` : '';
      const line = `• ${slackCode(p.image)} ${slackCode(p.route)} · ${L.rule} ${slackCode(p.rule)}${trigger} · ${slackCode(p.taskId)} · ${p.time}`;
      // A transient cause usually passes on a re-run; the command is built only from shell-safe names.
      const cmd = c.transient ? rerunCommand(a.task) : undefined;
      return cmd ? `${line}\n    ${L.rerun}: ${slackCode(cmd)}` : line;
    });
    return { header, lines, total: g.total };
  });

  // Each group takes a divider, a header section and a list section; keep within the block count by dropping whole
  // groups past the limit into a final count.
  const maxGroups = Math.floor((SLACK_MAX_BLOCKS - blocks.length - 2) / 3);
  const kept = sections.slice(0, maxGroups);
  const overflow = groups.slice(maxGroups).reduce((n, g) => n + g.total, 0);
  const fixed = JSON.stringify(blocks).length + kept.reduce((n, s) => n + s.header.length + 120, 0);
  const shown = fitLines(
    kept.map((s) => ({ lines: [...s.lines.map((l) => l.length + 1), ...(s.total > s.lines.length ? [Number.POSITIVE_INFINITY] : [])] })),
    SLACK_TOTAL_MAX - fixed,
    MAX_LINES_PER_GROUP,
    L.more(1_000_000).length + 2,
  );
  kept.forEach((s, i) => {
    const n = shown[i] ?? 0;
    const rest = s.total - n;
    const list = [...s.lines.slice(0, n), ...(rest > 0 ? [`_${L.more(rest)}_`] : [])].join('\n');
    blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: s.header } });
    if (list) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(list, SLACK_SECTION_MAX) } });
  });
  if (overflow > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `_${L.more(overflow)}_` } });
  for (const x of taskSections(content, loc, slackCode)) {
    const rest = (x.total ?? x.lines.length) - x.lines.length;
    const body = [`*${x.title}*${x.total === undefined ? '' : ` · *${x.total}*`}`, ...x.lines.map((l) => `• ${l}`), ...(rest > 0 ? [`_${L.more(rest)}_`] : [])].join('\n');
    blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: clip(body, SLACK_SECTION_MAX) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(L.footer) }] });

  const summary = [
    ...notices.map((n) => n.kind),
    ...(content.recoveredCount ? [`recovered ${content.recoveredCount}`] : []),
    ...(content.stuckCount ? [`stuck ${content.stuckCount}`] : []),
    ...groups.map((g) => `${g.classification.issue || 'UNCLASSIFIED'} ${g.total}`),
  ].join(', ');
  return { text: slackEscape(`${heading} (${summary})`), blocks };
}
