/**
 * Approximations of how the DingTalk and Slack clients draw a payload: enough to judge a message's layout, not a copy
 * of either client. DingTalk gets the markdown subset its robot documentation lists (headings, bold, links, quotes,
 * lists); Slack gets Block Kit blocks and mrkdwn, with times drawn as their fallback text.
 */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function dingInline(s: string): string {
  return esc(s)
    .replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')
    .replace(/\[([^\]]+)\]\((https:\/\/[^)\s]+)\)/g, '<a>$1</a>');
}

/** A DingTalk markdown message as its client draws it, roughly: a card under the robot's name. */
export function dingtalkHtml(payload: { markdown: { title: string; text: string } }, robot: string): string {
  const blocks = payload.markdown.text.split('\n\n').map((p) => {
    const lines = p.split('\n');
    const heading = /^(#{1,6}) (.*)$/.exec(p);
    if (heading) return `<div class="h${heading[1]!.length}">${dingInline(heading[2]!)}</div>`;
    if (p.startsWith('> ')) return `<blockquote>${dingInline(p.slice(2))}</blockquote>`;
    if (lines.every((l) => l.startsWith('- ')))
      return `<ul>${lines.map((l) => `<li>${dingInline(l.slice(2))}</li>`).join('')}</ul>`;
    if (lines.every((l) => /^\d+\. /.test(l)))
      return `<ol>${lines.map((l) => `<li>${dingInline(l.replace(/^\d+\. /, ''))}</li>`).join('')}</ol>`;
    return `<p>${lines.map(dingInline).join('<br>')}</p>`;
  });
  return `<div class="ding"><div class="who"><span class="avatar">🤖</span>${esc(robot)}</div>
<div class="notify">${esc(payload.markdown.title)}</div><div class="card">${blocks.join('\n')}</div></div>`;
}

function slackInline(s: string): string {
  // Code first, so that nothing inside a code span or block is formatted; entities are already Slack's escaping.
  const parts = s.split(/(```[\s\S]*?```|`[^`]*`)/);
  return parts
    .map((p, i) => {
      if (i % 2 === 1) return p.startsWith('```') ? `<pre>${p.slice(3, -3)}</pre>` : `<code>${p.slice(1, -1)}</code>`;
      return p
        .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '<span class="date">$1</span>')
        .replace(/<(https:\/\/[^|>]+)\|([^>]*)>/g, '<a>$2</a>')
        .replace(/<@(U\w+)>/g, '<span class="mention">@$1</span>')
        .replace(/<!subteam\^(S\w+)>/g, '<span class="mention">@$1</span>')
        .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>')
        .replace(/(^|[\s(])_([^_\n]+)_/g, '$1<i>$2</i>');
    })
    .join('');
}

function slackText(text: string): string {
  return text
    .split('\n')
    .map((l) =>
      l.startsWith('&gt; ') || l.startsWith('> ')
        ? `<blockquote>${slackInline(l.replace(/^(&gt;|>) /, ''))}</blockquote>`
        : `<div>${slackInline(l) || '&nbsp;'}</div>`,
    )
    .join('');
}

type Block = { type?: unknown; text?: { text: string }; elements?: { text: string }[] };

function slackBlock(block: Record<string, unknown>): string {
  const b = block as Block;
  if (b.type === 'header') return `<div class="sheader">${esc(b.text!.text)}</div>`;
  if (b.type === 'divider') return '<hr>';
  if (b.type === 'context')
    return `<div class="context">${(b.elements ?? []).map((e) => slackInline(e.text)).join(' ')}</div>`;
  return `<div class="section">${slackText(b.text!.text)}</div>`;
}

/** A Slack message as its client draws it, roughly: the app's name, the blocks, the attachment with its colour bar. */
export function slackHtml(
  payload: { blocks: Record<string, unknown>[]; attachments?: { color: string; blocks: Record<string, unknown>[] }[] },
  app: string,
): string {
  const attachments = (payload.attachments ?? []).map(
    (a) => `<div class="att" style="border-color:${esc(a.color)}">${a.blocks.map(slackBlock).join('')}</div>`,
  );
  const who = `<div class="who"><span class="avatar s">A</span><b>${esc(app)}</b> <span class="app">APP</span></div>`;
  return `<div class="slack">${who}\n${payload.blocks.map(slackBlock).join('')}${attachments.join('')}</div>`;
}

export const CSS = `
body { margin: 0; background: #e9ebee; color: #1d1c1d;
  font: 13px/1.5 "Noto Sans CJK SC", "Noto Sans", "DejaVu Sans", sans-serif; }
.grid { display: grid; grid-template-columns: 440px 440px; gap: 14px; padding: 14px; width: max-content; }
.label { grid-column: span 2; font-size: 12px; color: #555; }
.label b { color: #000; }
.ding { background: #f1f2f4; border-radius: 8px; padding: 10px; }
.ding .who { font-size: 12px; color: #666; margin-bottom: 4px; }
.ding .notify { font-size: 11px; color: #888; margin: 0 0 6px 0; }
.ding .notify::before { content: "notification: "; color: #aaa; }
.avatar { display: inline-block; width: 22px; height: 22px; border-radius: 6px; background: #3370ff; color: #fff;
  text-align: center; margin-right: 6px; font-size: 13px; }
.avatar.s { background: #4a154b; font-weight: bold; }
.card { background: #fff; border-radius: 6px; padding: 8px 12px; word-break: break-word; }
.card .h4 { font-size: 15px; font-weight: bold; margin: 4px 0 8px; }
.card p, .card ul, .card ol { margin: 6px 0; }
.card ul, .card ol { padding-left: 20px; }
.card blockquote { margin: 6px 0; padding-left: 8px; border-left: 3px solid #d0d3d6; color: #666; }
.card a, .slack a { color: #1264a3; text-decoration: none; }
.slack { background: #fff; border-radius: 8px; padding: 10px 12px; word-break: break-word; }
.slack .who { margin-bottom: 4px; }
.slack .app { font-size: 10px; background: #ddd; padding: 0 3px; border-radius: 2px; color: #555; }
.sheader { font-size: 16px; font-weight: 900; margin: 4px 0 6px; }
.att { border-left: 4px solid; padding: 2px 0 2px 10px; margin: 6px 0; }
.section { margin: 4px 0; }
.section blockquote { margin: 0; padding-left: 8px; border-left: 3px solid #ddd; color: #444; }
hr { border: 0; border-top: 1px solid #e2e2e2; margin: 8px 0; }
code { font: 12px "DejaVu Sans Mono", monospace; color: #c41d5a; background: #f6f6f6; border: 1px solid #e5e5e5;
  border-radius: 3px; padding: 0 2px; }
pre { font: 11.5px/1.45 "DejaVu Sans Mono", monospace; background: #f8f8f8; border: 1px solid #e5e5e5;
  border-radius: 4px; padding: 6px; margin: 2px 0; white-space: pre-wrap; word-break: break-all; }
.context { font-size: 11.5px; color: #616061; margin-top: 6px; }
.date { border-bottom: 1px dotted #999; }
.mention { background: #e8f5fa; color: #1264a3; }
`;
