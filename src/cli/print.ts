const rule = (title: string) => `\n┌─ ${title} ${'─'.repeat(Math.max(4, 74 - title.length))}`;

/** A rendered payload for `channel`, laid out for a terminal; `target` names a route's channel in the frame. */
export function formatMessage(channel: 'dingtalk' | 'slack', body: Record<string, unknown>, target?: string): string {
  const where = target && target !== channel ? ` (${target})` : '';
  if (channel === 'dingtalk') {
    const md = (body.markdown ?? {}) as { title?: string; text?: string };
    return `${rule(`DingTalk${where} · ${md.title ?? ''}`)}\n${(md.text ?? JSON.stringify(body)).replace(/^/gm, '│ ')}\n└${'─'.repeat(80)}`;
  }
  const lines: string[] = [];
  for (const b of (body.blocks ?? []) as { type: string; text?: { text: string }; elements?: { text?: string }[] }[]) {
    if (b.type === 'divider') lines.push('─'.repeat(40));
    else if (b.text) lines.push(b.text.text);
    else if (b.elements) lines.push(b.elements.map((e) => e.text ?? '').join(' '));
  }
  const text = lines.join('\n').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return `${rule(`Slack${where} · ${String(body.text ?? '')}`)}\n${text.replace(/^/gm, '│ ')}\n└${'─'.repeat(80)}`;
}
