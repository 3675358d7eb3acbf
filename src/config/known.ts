/**
 * The environment variables this function reads, and the ones that look like them but are not (a mistyped name is
 * otherwise silently ignored).
 */
import { nearest } from './nearest.js';
import { settingsSchema, type Env } from './settings.js';

/** Every environment variable the function reads besides the stand-alone settings' schema. */
const OTHER_SETTINGS = [
  'DINGTALK_WEBHOOK',
  'DINGTALK_SECRET',
  'SLACK_WEBHOOK',
  'DINGTALK_AT_MOBILES',
  'DINGTALK_AT_USER_IDS',
  'SLACK_MENTIONS',
  'ROUTES',
  'ROUTES_FILE',
  'SILENCES',
  'SILENCES_FILE',
  'TIMER_SCHEDULE',
];
export const KNOWN_SETTINGS: readonly string[] = [...Object.keys(settingsSchema.entries), ...OTHER_SETTINGS];

/** Prefixes of our settings: a variable starting with one of them is meant for this function. */
const OUR_PREFIXES = [
  ...new Set(KNOWN_SETTINGS.map((k) => k.split('_')[0]!).filter((p) => !['FETCH', 'WEBHOOK'].includes(p))),
];

/**
 * Environment variables that look like ours but are not one (`SLACK_WEBHOOK_URL`, `ALERT_TIMEZOME`), each named with
 * the nearest real setting when there is one. The function ignores them: a run logs each as a warning, `check` fails
 * on them. Variables of the platform and SDKs (FC_*, ALIBABA_CLOUD_*) are not ours and are left alone.
 */
export function lookalikeSettings(env: Env): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (KNOWN_SETTINGS.includes(name) || env[name] === undefined) continue;
    const near = nearest(name, KNOWN_SETTINGS, 2);
    const ours = OUR_PREFIXES.some((p) => name.toUpperCase().startsWith(`${p}_`) || name.toUpperCase() === p);
    if (!near && !ours) continue;
    const hint = near ? `: did you mean ${near}?` : '; see docs/configuration.md for the settings';
    out.push(`${name} is not a setting of this function and is ignored${hint}`);
  }
  return out;
}
