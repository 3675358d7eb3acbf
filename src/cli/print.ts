const rule = (title: string) => `\n┌─ ${title} ${'─'.repeat(Math.max(4, 74 - title.length))}`;

interface Printable {
  markdown?: { title?: string; text?: string };
  text?: unknown;
  blocks?: unknown;
  attachments?: unknown;
}

type Block = { type: string; text?: { text: string }; elements?: { text?: string }[] };

/** A rendered payload for `channel`, laid out for a terminal; `target` names a route's channel in the frame. */
export function formatMessage(channel: 'dingtalk' | 'slack', body: object, target?: string): string {
  const b = body as Printable;
  const where = target && target !== channel ? ` (${target})` : '';
  if (channel === 'dingtalk') {
    const md = b.markdown ?? {};
    const text = (md.text ?? JSON.stringify(body)).replace(/^/gm, '│ ');
    return `${rule(`DingTalk${where} · ${md.title ?? ''}`)}\n${text}\n└${'─'.repeat(80)}`;
  }
  const lines: string[] = [];
  const attachments = (Array.isArray(b.attachments) ? b.attachments : []) as { blocks?: Block[] }[];
  for (const x of [...((b.blocks ?? []) as Block[]), ...attachments.flatMap((a) => a.blocks ?? [])]) {
    if (x.type === 'divider') lines.push('─'.repeat(40));
    else if (x.text) lines.push(x.text.text);
    else if (x.elements) lines.push(x.elements.map((e) => e.text ?? '').join(' '));
  }
  // Times in the reader's zone read as their fallback text in a terminal.
  const text = lines
    .join('\n')
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return `${rule(`Slack${where} · ${String(b.text ?? '')}`)}\n${text.replace(/^/gm, '│ ')}\n└${'─'.repeat(80)}`;
}
