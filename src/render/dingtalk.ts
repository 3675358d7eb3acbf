import type { Lang } from '../model/lang.js';
import { SEVERITY_MARK, consoleUrl, fitLines, instanceCounts, labels, lineParts, noticeText, prepare, rerunCommand, taskSections, localeOf, type Locale } from './common.js';
import type { MessageContent } from './content.js';

export interface DingTalkMarkdown {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}

// DingTalk does not document a size limit for custom-robot messages (the app-robot API allows 15,000 bytes of
// msgParam); stay well below it so a message is never refused for size.
export const DINGTALK_MAX_BYTES = 12_000;
const MAX_LINES_PER_GROUP = 10;

const FULLWIDTH: Record<string, string> = {
  '@': '＠', '[': '［', ']': '］', '(': '（', ')': '）', '*': '＊', '#': '＃', '>': '＞', '<': '＜', '`': '｀', '|': '｜', '~': '～', '!': '！', '\\': '＼',
};

/**
 * Makes a user-controlled string inert in DingTalk markdown: no line breaks, no markup, no @mention, no link.
 * Markup characters become their full-width look-alikes, which DingTalk does not interpret.
 */
export function dingtalkInert(s: string): string {
  return s
    // Control characters are exactly what must go: they would break the line a name sits on.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .replace(/[@[\]()*#><`|~!\\]/g, (c) => FULLWIDTH[c] ?? c)
    .replace(/:\/\//g, ':／／');
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * One markdown message for `content`: monitoring notices first, then failures grouped by cause, cut to fit
 * DingTalk's size with "and N more".
 */
export function renderDingTalk(content: MessageContent, locale: Lang | Locale): DingTalkMarkdown {
  const loc = localeOf(locale);
  const { lang } = loc;
  const L = labels(lang);
  const { notices } = content;
  const { groups, title, heading } = prepare(content, lang);
  const head = [
    `#### ${title}`,
    ...notices.map((n) => `> ${dingtalkInert(noticeText(n, loc))}`),
    ...(content.failureCount > 0
      ? [`${L.instances}: ${instanceCounts(content.groups).map(([k, n]) => {
          const url = consoleUrl(k);
          return `${url ? `[${dingtalkInert(k)}](${url})` : dingtalkInert(k)} (${n})`;
        }).join(', ')}`]
      : []),
  ].join('\n\n');

  const sections = groups.map((g) => {
    const c = g.classification;
    const issue = c.issue ? ` · ${dingtalkInert(c.issue)}` : '';
    const steps = c.remediation[lang].map((s, i) => `${i + 1}. ${s}`).join('\n');
    const header = [
      `**${SEVERITY_MARK[c.severity]} ${c.title[lang]}**${issue} · ${g.total}`,
      `> ${c.cause[lang]}`,
      `**${L.fix}:**\n${steps}`,
    ].join('\n\n');
    // At most MAX_LINES_PER_GROUP lines can be shown; the rest are only counted.
    const lines = g.alerts.slice(0, MAX_LINES_PER_GROUP).map((a) => {
      const p = lineParts(a, loc);
      const trigger = p.trigger ? ` · ${dingtalkInert(p.trigger)}` : '';
      const line = `- **${dingtalkInert(p.image)}** ${dingtalkInert(p.route)} · ${L.rule} ${dingtalkInert(p.rule)}${trigger} · ${dingtalkInert(p.taskId)} · ${p.time}`;
      // A transient cause usually passes on a re-run; the command is built only from shell-safe names.
      const cmd = c.transient ? rerunCommand(a.task) : undefined;
      return cmd ? `${line}\n  ${L.rerun}: \`${cmd}\`` : line;
    });
    return { header, lines, total: g.total };
  });

  const extra = taskSections(content, loc, dingtalkInert).map((x) => {
    const rest = (x.total ?? x.lines.length) - x.lines.length;
    return [`**${x.title}**${x.total === undefined ? '' : ` · ${x.total}`}`, x.lines.map((l) => `- ${l}`).join('\n') + (rest > 0 ? `\n- ${L.more(rest)}` : '')].join('\n\n');
  });
  const footer = `${extra.length > 0 ? `\n\n---\n\n${extra.join('\n\n---\n\n')}` : ''}\n\n---\n${L.footer}`;
  const fixed = bytes(head) + bytes(footer) + sections.reduce((n, s) => n + bytes(s.header) + 4, 0);
  const shown = fitLines(
    sections.map((s) => ({ lines: [...s.lines.map((l) => bytes(l) + 1), ...(s.total > s.lines.length ? [Number.POSITIVE_INFINITY] : [])] })),
    DINGTALK_MAX_BYTES - fixed,
    MAX_LINES_PER_GROUP,
    bytes(L.more(1_000_000)) + 4,
  );
  const body = sections.map((s, i) => {
    const n = shown[i] ?? 0;
    const rest = s.total - n;
    const list = [...s.lines.slice(0, n), ...(rest > 0 ? [`- ${L.more(rest)}`] : [])].join('\n');
    return `${s.header}\n\n${list}`;
  });
  return {
    msgtype: 'markdown',
    markdown: { title: heading, text: [head, ...body].join('\n\n---\n\n') + footer },
  };
}
