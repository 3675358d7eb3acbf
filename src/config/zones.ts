import { isTimeZone } from '../lib/time.js';
import { nearest } from './nearest.js';

/** Abbreviations people write for a zone, and the IANA name they usually mean; Intl reads some differently. */
const ABBREVIATIONS: Record<string, string> = {
  CST: 'Asia/Shanghai',
  PRC: 'Asia/Shanghai',
  CCT: 'Asia/Shanghai',
  HKT: 'Asia/Hong_Kong',
  SGT: 'Asia/Singapore',
  JST: 'Asia/Tokyo',
  KST: 'Asia/Seoul',
  IST: 'Asia/Kolkata',
  GMT: 'UTC',
  Z: 'UTC',
  EST: 'America/New_York',
  PST: 'America/Los_Angeles',
  CET: 'Europe/Berlin',
};
const AREAS = 'Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific';
/** Canonical IANA forms: Area/Location (and Area/Region/Location), UTC, and the Etc/ zones. */
const CANONICAL = new RegExp(
  `^(?:(?:${AREAS})/[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)?|UTC|Etc/(?:UTC|GMT[+-]?\\d{0,2}))$`,
);

/**
 * `tz` when it is a canonical IANA time zone this runtime knows; else undefined, with a problem naming the zone it
 * probably means. An abbreviation is refused even where Intl accepts it: "CST" reads as America/Chicago (UTC-6),
 * which is not what someone in China means by it.
 */
export function canonicalZone(name: string, tz: string, problems: string[]): string | undefined {
  if (CANONICAL.test(tz) && isTimeZone(tz)) return tz;
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const guess = ABBREVIATIONS[tz.toUpperCase()] ?? nearest(tz, ['UTC', ...known], 3);
  if (isTimeZone(tz))
    problems.push(
      `${name} "${tz}" is an abbreviation or alias, not a canonical IANA time zone: ` +
        `use ${guess ?? 'its Area/Location name, e.g. Asia/Shanghai'}`,
    );
  else if (guess) problems.push(`${name} "${tz}" is not an IANA time zone: did you mean ${guess}?`);
  else problems.push(`${name} "${tz}" is not an IANA time zone (e.g. Asia/Shanghai)`);
  return undefined;
}
