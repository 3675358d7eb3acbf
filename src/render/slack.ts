import type { Doc, Inline, Line, Tone } from './doc.js';
import { formatTime, shortTime, type Locale } from './locale.js';
import { plain } from './plain.js';
import { apiText, FIELD_MAX } from './text.js';

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks): 50 blocks per message, a section's text 3,000
// characters, a header's 150. Slack also refuses a message whose blocks are too long together (msg_blocks_too_long);
// that limit is not documented and was seen from about 11,300 to 13,300 characters of text (slackapi/bolt-js#2509,
// #2867). Measured here as the JSON of every block, which counts more than the text alone.
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_MAX = 3_000;
export const SLACK_HEADER_MAX = 150;
export const SLACK_BLOCKS_MAX_CHARS = 11_000;
/** A value from the API inside a code span, after escaping. */
const SLACK_FIELD_MAX = FIELD_MAX + 100;

export type Block = Record<string, unknown>;

export interface SlackMessage {
  /** The notification and fallback text: the banner. */
  text: string;
  /** The header, and the mentions when the message is severe. */
  blocks: Block[];
  /** Everything else, in one attachment for its colour bar. */
  attachments: { color: string; blocks: Block[] }[];
}

// The bar beside the message says how bad it is before a word is read.
const COLOR: Record<Tone, string> = {
  high: '#E01E5A',
  blind: '#E01E5A',
  medium: '#F2952F',
  low: '#ECB22E',
  good: '#2EB67D',
  info: '#36C5F0',
};

/** Escapes the three characters Slack's mrkdwn treats as control characters (formatting reference). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A user-controlled string as an inline code span: escaped, single line, no backticks, so it cannot close the span,
 * format text, link or mention anyone; at most SLACK_FIELD_MAX characters once escaped ("&" grows to "&amp;").
 */
export function slackCode(s: string): string {
  const flat = apiText(s).replace(/`/g, 'ˋ').trim() || ' ';
  const whole = slackEscape(flat);
  if (whole.length <= SLACK_FIELD_MAX) return `\`${whole}\``;
  let out = '';
  for (const ch of flat) {
    const e = slackEscape(ch);
    if (out.length + e.length > SLACK_FIELD_MAX - 1) return `\`${out}…\``;
    out += e;
  }
  return `\`${out}\``;
}

/** A moment in the reader's own time zone, with the route's time as the fallback text. */
const date = (ms: number, fallback: string) =>
  `<!date^${Math.floor(ms / 1000)}^{date_num} {time}|${slackEscape(fallback)}>`;

function inline(p: Inline, loc: Locale): string {
  if (typeof p === 'string') return slackEscape(p);
  if ('api' in p) return slackCode(p.api);
  if ('time' in p) return date(p.time, p.short ? shortTime(p.time, loc) : formatTime(p.time, loc));
  if ('from' in p) return `${date(p.from, formatTime(p.from, loc))}–${date(p.to, formatTime(p.to, loc))}`;
  // A link's label cannot hold a code span, "|" would end it and a backtick would start one.
  if ('link' in p) return `<${p.link}|${slackEscape(plain(p.text, loc)).replace(/\|/g, '¦').replace(/`/g, 'ˋ')}>`;
  return `*${p.bold.map((x) => inline(x, loc)).join('')}*`;
}

function lineText(lines: readonly Line[], loc: Locale): string[] {
  let step = 0;
  return lines.map((l) => {
    const text = l.parts.map((p) => inline(p, loc)).join('');
    step = l.kind === 'step' ? step + 1 : 0;
    if (l.kind === 'item') return `• ${text}`;
    if (l.kind === 'step') return `${step}. ${text}`;
    if (l.kind === 'quote') return `> ${text}`;
    return l.kind === 'command' ? `\`\`\`${text}\`\`\`` : text;
  });
}

/** Lines into section texts of at most SLACK_SECTION_MAX characters, split only between lines. */
function chunks(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const last = out[out.length - 1];
    if (last !== undefined && last.length + 1 + l.length <= SLACK_SECTION_MAX) out[out.length - 1] = `${last}\n${l}`;
    else out.push(l);
  }
  return out;
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });

/**
 * The banner as plain text. A header does not parse mentions or links, but the notification text does; values get
 * look-alikes for the angle brackets either way, so no client anywhere reads "<!here>" from a repository name.
 */
const banner = (doc: Doc, loc: Locale) =>
  doc.title
    .map((p) =>
      typeof p === 'object' && 'api' in p ? apiText(p.api).replace(/</g, '‹').replace(/>/g, '›') : plain([p], loc),
    )
    .join('');

/** The Slack message for `doc`: a header, the mentions, then the body in a coloured attachment. */
export function renderSlack(doc: Doc, loc: Locale, mentions?: readonly string[]): SlackMessage {
  const title = banner(doc, loc);
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  if (mentions && mentions.length > 0)
    blocks.push(section(mentions.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(' ')));
  const body: Block[] = [];
  doc.sections.forEach((s, i) => {
    if (i > 0) body.push({ type: 'divider' });
    body.push(...chunks(lineText(s.lines, loc)).map(section));
  });
  const notes = lineText(doc.notes, loc);
  if (notes.length > 0) body.push({ type: 'context', elements: notes.map((text) => ({ type: 'mrkdwn', text })) });
  return { text: slackEscape(title), blocks, attachments: [{ color: COLOR[doc.tone], blocks: body }] };
}

/** Every block of a message, wherever it sits (a test message has no attachments). */
export const allBlocks = (m: Partial<Pick<SlackMessage, 'blocks' | 'attachments'>>): Block[] => [
  ...(m.blocks ?? []),
  ...(m.attachments ?? []).flatMap((a) => a.blocks),
];

/** The parts of a block whose length Slack limits. */
type Measured = { type: string; text?: { text: string }; elements?: { text?: string }[] };

/** What Slack would refuse in one block: a header or section text, or a context element, over its limit. */
function blockProblems(b: Measured): string[] {
  const problems: string[] = [];
  const len = b.text?.text.length ?? 0;
  if (b.type === 'header' && len > SLACK_HEADER_MAX) problems.push(`header of ${len}`);
  if (b.type === 'section' && len > SLACK_SECTION_MAX) problems.push(`section of ${len}`);
  for (const e of b.elements ?? [])
    if ((e.text?.length ?? 0) > SLACK_SECTION_MAX) problems.push(`context of ${e.text!.length}`);
  return problems;
}

/** What Slack would refuse in `m`, given an aggregate budget; empty when it fits. */
export function slackProblems(m: SlackMessage, maxChars = SLACK_BLOCKS_MAX_CHARS): string[] {
  const blocks = allBlocks(m);
  const problems: string[] = [];
  if (blocks.length > SLACK_MAX_BLOCKS) problems.push(`${blocks.length} blocks`);
  for (const b of blocks as Measured[]) problems.push(...blockProblems(b));
  const total = JSON.stringify(blocks).length;
  if (total > maxChars) problems.push(`${total} characters of blocks`);
  return problems;
}
