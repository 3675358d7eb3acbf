import type { Doc, Inline, Line } from './doc.js';
import { formatSpan, formatTime, shortTime, type Locale } from './locale.js';
import { plain } from './plain.js';
import { apiText } from './text.js';

export interface DingTalkMarkdown {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at?: { atMobiles: string[]; atUserIds: string[]; isAtAll: false };
}

// DingTalk does not document a size limit for custom-robot messages; robots answer errcode 460101 "message too long,
// exceed 20000 bytes" for a larger body (reported in Le0nsec/SecCrawler#12 and
// timonwong/prometheus-webhook-dingtalk#30).
export const DINGTALK_BODY_LIMIT = 20_000;
/** The budget a message is rendered to: the whole JSON body in UTF-8 bytes, well inside DINGTALK_BODY_LIMIT. */
export const DINGTALK_MAX_BYTES = 16_000;
// The sender adds "msgUuid":"<32 hex>" to the body after rendering.
const MSGUUID_BYTES = 48;

const FULLWIDTH: Record<string, string> = {
  '@': '＠',
  '[': '［',
  ']': '］',
  '*': '＊',
  '#': '＃',
  '>': '＞',
  '<': '＜',
  '`': '｀',
  '|': '｜',
  '~': '～',
  '!': '！',
  '\\': '＼',
};

/**
 * Makes a user-controlled string inert in DingTalk markdown: no line breaks, no markup, no @mention, no link.
 * Markup characters become their full-width look-alikes, which DingTalk does not interpret. Parentheses stay: with
 * "[" and "]" made look-alikes no link can form ("[text](url)" needs both), and "（NoPrivilege）" in English text
 * reads as a mistake.
 */
export function dingtalkInert(s: string): string {
  return (
    s
      // Control characters are exactly what must go: they would break the line a name sits on.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .replace(/[@[\]*#><`|~!\\]/g, (c) => FULLWIDTH[c] ?? c)
      .replace(/:\/\//g, ':／／')
  );
}

function inline(p: Inline, loc: Locale): string {
  if (typeof p === 'string') return p;
  if ('api' in p) return dingtalkInert(apiText(p.api));
  if ('time' in p) return p.short ? shortTime(p.time, loc) : formatTime(p.time, loc);
  if ('from' in p) return formatSpan(p.from, p.to, loc);
  if ('link' in p) return `[${p.text.map((x) => inline(x, loc)).join('')}](${p.link})`;
  return `**${p.bold.map((x) => inline(x, loc)).join('')}**`;
}

/**
 * Lines as markdown paragraphs. Only what DingTalk documents for robot markdown is used (headings, bold, links,
 * quotes, lists): no rules, no code. List items and steps stay in one paragraph; everything else is its own, since
 * DingTalk does not reliably break a paragraph at a single newline.
 */
function paragraphs(lines: readonly Line[], loc: Locale): string[] {
  const out: string[] = [];
  let run: { kind: 'item' | 'step'; lines: string[] } | undefined;
  for (const l of lines) {
    const text = l.parts.map((p) => inline(p, loc)).join('');
    if (l.kind !== 'item' && l.kind !== 'step') {
      run = undefined;
      out.push(l.kind === 'quote' ? `> ${text}` : text);
      continue;
    }
    if (run?.kind !== l.kind) {
      run = { kind: l.kind, lines: [] };
      out.push('');
    }
    run.lines.push(l.kind === 'item' ? `- ${text}` : `${run.lines.length + 1}. ${text}`);
    out[out.length - 1] = run.lines.join('\n');
  }
  return out;
}

/** The DingTalk markdown message for `doc`; each mobile and user id in `at` is written into the text as well. */
export function renderDingTalk(doc: Doc, loc: Locale, at?: { mobiles: string[]; userIds: string[] }): DingTalkMarkdown {
  // The title is what the notification shows: plain text, values still made inert.
  const title = doc.title
    .map((p) => (typeof p === 'object' && 'api' in p ? dingtalkInert(apiText(p.api)) : plain([p], loc)))
    .join('');
  const body = [
    `#### ${doc.title.map((p) => inline(p, loc)).join('')}`,
    ...doc.sections.flatMap((s) => paragraphs(s.lines, loc)),
    ...paragraphs(doc.notes, loc),
  ];
  // DingTalk's custom-robot docs: a person in at.atMobiles or at.atUserIds is shown as mentioned only when the text
  // also holds "@<mobile>" or "@<userId>" (https://open.dingtalk.com/document/robots/custom-robot-access). The ids
  // come from the configuration; made inert all the same, so one cannot add markup.
  const tags = [...(at?.mobiles ?? []), ...(at?.userIds ?? [])].map((m) => `@${dingtalkInert(m)}`).join(' ');
  if (tags) body.push(tags);
  const m: DingTalkMarkdown = { msgtype: 'markdown', markdown: { title, text: body.join('\n\n') } };
  return at && at.mobiles.length + at.userIds.length > 0
    ? { ...m, at: { atMobiles: at.mobiles, atUserIds: at.userIds, isAtAll: false } }
    : m;
}

/** What DingTalk will receive for `m`, in UTF-8 bytes, counting the msgUuid the sender adds. */
export const dingtalkBytes = (m: DingTalkMarkdown): number =>
  Buffer.byteLength(JSON.stringify(m), 'utf8') + MSGUUID_BYTES;
