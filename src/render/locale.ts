import { defaultTimeZone, localParts as partsOf, type LocalParts } from '../lib/time.js';
import type { Lang } from '../model/lang.js';
import type { FunctionRef } from '../model/route.js';
import { wordsFor } from './words.js';

/**
 * Where a message is read: its language and the time zone its times are shown in (a route's), and the function that
 * sent it, which the commands in it name so that they act on that deployment where they are pasted.
 */
export interface Locale {
  lang: Lang;
  timeZone: string;
  deployment?: FunctionRef;
}

/** A language alone means its default time zone: China Standard Time for Chinese, UTC for English. */
export const localeOf = (x: Lang | Locale): Locale =>
  typeof x === 'string'
    ? { lang: x, timeZone: defaultTimeZone(x) }
    : { lang: x.lang, timeZone: x.timeZone, ...(x.deployment ? { deployment: x.deployment } : {}) };

// Messages show times to the minute, and fitting a message renders it several times over: each minute and zone is
// worked out once (Intl's formatToParts is the costly part of rendering a time), in a cache emptied when it grows
// large so that its memory stays bounded.
const cache = new Map<string, LocalParts>();
function localParts(ms: number, timeZone: string): LocalParts {
  const key = `${timeZone} ${Math.floor(ms / 60_000)}`;
  let p = cache.get(key);
  if (!p) {
    if (cache.size >= 10_000) cache.clear();
    p = partsOf(ms, timeZone);
    cache.set(key, p);
  }
  return p;
}

/** A time in the locale's time zone, to the minute, with its offset ("2026-11-24 09:30 UTC+8"). */
export function formatTime(ms: number, loc: Locale): string {
  const p = localParts(ms, loc.timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.offset}`;
}

/** A time within a list whose header gives the full date and offset ("11-24 09:30"). */
export function shortTime(ms: number, loc: Locale): string {
  const p = localParts(ms, loc.timeZone);
  return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** Two times as one span: "2026-11-24 09:30–10:05 UTC+8", or with both dates when the span crosses midnight. */
export function formatSpan(from: number, to: number, loc: Locale): string {
  const a = localParts(from, loc.timeZone);
  const b = localParts(to, loc.timeZone);
  const sameDay = a.year === b.year && a.month === b.month && a.day === b.day;
  return sameDay
    ? `${a.year}-${a.month}-${a.day} ${a.hour}:${a.minute}–${b.hour}:${b.minute} ${b.offset}`
    : `${a.year}-${a.month}-${a.day} ${a.hour}:${a.minute} – ${b.month}-${b.day} ${b.hour}:${b.minute} ${b.offset}`;
}

/** A duration in words, at least a minute: "45 min", "2 h 15 min", "3 d 4 h". */
export function formatDuration(ms: number, lang: Lang): string {
  const d = wordsFor(lang).duration;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return d.min(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return d.hours(hours, minutes % 60);
  return d.days(Math.floor(hours / 24), hours % 24);
}

const NUMBER_FORMAT: Record<Lang, Intl.NumberFormat> = {
  en: new Intl.NumberFormat('en-US'),
  zh: new Intl.NumberFormat('zh-CN'),
};
/** A count with the language's digit grouping: "10,000" in both English and Chinese (zh-CN groups by thousands). */
export const formatCount = (n: number, lang: Lang): string => NUMBER_FORMAT[lang].format(n);
