import type { Received } from '../sim/webhook-server.js';

const rule = (title: string) => `\n┌─ ${title} ${'─'.repeat(Math.max(4, 74 - title.length))}`;

/** A message as a person would read it in the channel: DingTalk markdown as written, Slack blocks as text. */
export function formatReceived(m: Received): string {
  return formatMessage(m.channel, m.body);
}

/** A rendered payload for `channel`, laid out for a terminal. */
export function formatMessage(channel: 'dingtalk' | 'slack', body: Record<string, unknown>): string {
  if (channel === 'dingtalk') {
    const md = (body.markdown ?? {}) as { title?: string; text?: string };
    return `${rule(`DingTalk · ${md.title ?? ''}`)}\n${(md.text ?? JSON.stringify(body)).replace(/^/gm, '│ ')}\n└${'─'.repeat(80)}`;
  }
  const lines: string[] = [];
  for (const b of (body.blocks ?? []) as { type: string; text?: { text: string }; elements?: { text?: string }[] }[]) {
    if (b.type === 'divider') lines.push('─'.repeat(40));
    else if (b.text) lines.push(b.text.text);
    else if (b.elements) lines.push(b.elements.map((e) => e.text ?? '').join(' '));
  }
  const text = lines.join('\n').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return `${rule(`Slack · ${String(body.text ?? '')}`)}\n${text.replace(/^/gm, '│ ')}\n└${'─'.repeat(80)}`;
}
