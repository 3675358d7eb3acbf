import type { Inline } from './doc.js';
import { formatSpan, formatTime, shortTime, type Locale } from './locale.js';
import { apiText } from './text.js';

/** Pieces as plain text, without markup: for banners, and for measuring them. Values are capped and flattened. */
export function plain(parts: readonly Inline[], loc: Locale): string {
  return parts.map((p) => plainPiece(p, loc)).join('');
}

function plainPiece(p: Inline, loc: Locale): string {
  if (typeof p === 'string') return p;
  if ('api' in p) return apiText(p.api);
  if ('time' in p) return p.short ? shortTime(p.time, loc) : formatTime(p.time, loc);
  if ('from' in p) return formatSpan(p.from, p.to, loc);
  if ('link' in p) return plain(p.text, loc);
  return plain(p.bold, loc);
}
