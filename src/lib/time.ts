/** A moment's calendar fields in a time zone, as two-digit strings (weekday as mon…sun). */
export interface LocalParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  weekday: string;
  /** The zone's offset from UTC at that moment: "UTC", "UTC+8", "UTC-3:30". */
  offset: string;
}

// Building an Intl.DateTimeFormat costs ~50 µs and bursts ask for thousands of times: one per time zone serves all.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar fields of `ms` in `timeZone` (an IANA name). */
export function localParts(ms: number, timeZone: string): LocalParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    weekday: get('weekday').toLowerCase().slice(0, 3),
    offset: get('timeZoneName').replace(/^GMT([+-]0+)?/, 'UTC'),
  };
}

/** The time zone messages use when none is set: China Standard Time for Chinese, UTC for English. */
export const defaultTimeZone = (lang: 'zh' | 'en') => (lang === 'zh' ? 'Asia/Shanghai' : 'UTC');

/** Minutes since local midnight. */
export const minuteOfDay = (p: LocalParts) => Number(p.hour) * 60 + Number(p.minute);

/** Whether `tz` names a time zone this runtime knows (IANA, e.g. Asia/Shanghai). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
