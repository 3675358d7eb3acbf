import * as v from 'valibot';
import { DEFAULT_ESCALATION } from '../model/escalation.js';
import { WEEKDAYS } from '../model/route.js';
import { HHMM } from './routes.js';

/** The environment as the settings are read from it. */
export type Env = Record<string, string | undefined>;

export const DEFAULT_ACR_ENDPOINT = 'https://cr.{regionId}.aliyuncs.com';
export const DEFAULT_TABLE = 'acr_sync_alert';
export const DEFAULT_STUCK_AFTER_MINUTES = 60;

function intSetting(name: string, min: number, max: number, fallback: number) {
  return v.pipe(
    v.optional(v.string(), String(fallback)),
    v.trim(),
    v.regex(/^\d+$/, `${name} must be a whole number`),
    v.transform(Number),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );
}

/** A file path setting: optional, but not blank when set. */
const pathSetting = (name: string) => v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty(`${name} must not be empty`)));

const httpUrl = /^https?:\/\/[^\s/]+/;

/**
 * The settings that stand alone, each checked on its own; the ones that depend on others (instances, webhooks,
 * routes, silences, the store) are checked by the functions that read them.
 */
export const settingsSchema = v.object({
  // Unset reads as empty: valibot words a missing key as "Invalid key: Expected ..." rather than the message given.
  ACR_INSTANCES: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('ACR_INSTANCES is required (comma-separated regionId:instanceId)'),
  ),
  ACR_ENDPOINT: v.pipe(
    v.optional(v.string(), DEFAULT_ACR_ENDPOINT),
    v.trim(),
    v.regex(httpUrl, 'ACR_ENDPOINT must be an http(s) URL, for example https://cr.{regionId}.aliyuncs.com'),
  ),
  TABLESTORE_ENDPOINT: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(httpUrl, 'TABLESTORE_ENDPOINT must be an http(s) URL')),
  ),
  TABLESTORE_INSTANCE: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(
        /^[A-Za-z][A-Za-z0-9-]{2,15}$/,
        'TABLESTORE_INSTANCE must be a Tablestore instance name (3-16 letters, digits, hyphens)',
      ),
    ),
  ),
  TABLESTORE_TABLE: v.pipe(
    v.optional(v.string(), DEFAULT_TABLE),
    v.trim(),
    v.regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,254}$/,
      'TABLESTORE_TABLE must be 1-255 letters, digits or underscores, not starting with a digit',
    ),
  ),
  STATE_FILE: pathSetting('STATE_FILE'),
  // The earlier name of STATE_FILE, still accepted (see stateFileOf).
  CHECKPOINT_FILE: pathSetting('CHECKPOINT_FILE'),
  ALERT_LANG: v.pipe(
    v.optional(v.string(), 'en'),
    v.trim(),
    v.toLowerCase(),
    v.picklist(['zh', 'en'], 'ALERT_LANG must be zh or en'),
  ),
  ALERT_TIMEZONE: v.optional(v.pipe(v.string(), v.trim())),
  LOOKBACK_MINUTES: intSetting('LOOKBACK_MINUTES', 1, 10_080, 1_440),
  WATCH_LOOKBACK_HOURS: intSetting('WATCH_LOOKBACK_HOURS', 0, 720, 48),
  ACR_PAGE_SIZE: intSetting('ACR_PAGE_SIZE', 1, 100, 50),
  ACR_MAX_PAGES: intSetting('ACR_MAX_PAGES', 1, 10_000, 400),
  FETCH_CONCURRENCY: intSetting('FETCH_CONCURRENCY', 1, 10, 2),
  BLIND_AFTER_RUNS: intSetting('BLIND_AFTER_RUNS', 1, 1_000, 3),
  STUCK_AFTER_MINUTES: intSetting('STUCK_AFTER_MINUTES', 5, 10_080, DEFAULT_STUCK_AFTER_MINUTES),
  TRANSIENT_MIN_FAILURES: intSetting('TRANSIENT_MIN_FAILURES', 1, 100, 1),
  TRANSIENT_WINDOW_MINUTES: intSetting('TRANSIENT_WINDOW_MINUTES', 1, 10_080, 60),
  TRANSIENT_PERSIST_MINUTES: intSetting('TRANSIENT_PERSIST_MINUTES', 1, 10_080, 30),
  // The default route's escalation (routes set their own `escalate`); 0 turns a test off.
  ESCALATE_FAILURES: intSetting('ESCALATE_FAILURES', 0, 1_000_000, DEFAULT_ESCALATION.failures),
  ESCALATE_MINUTES: intSetting('ESCALATE_MINUTES', 0, 10_080, DEFAULT_ESCALATION.forMinutes),
  WEBHOOK_ALLOW_ANY_HOST: v.pipe(
    v.optional(v.string(), 'false'),
    v.trim(),
    v.toLowerCase(),
    v.picklist(['true', 'false'], 'WEBHOOK_ALLOW_ANY_HOST must be true or false'),
  ),
  DIGEST_AT: v.optional(v.pipe(v.string(), v.trim(), v.regex(HHMM, 'DIGEST_AT must be a local time like 09:00'))),
  DIGEST_TIMEZONE: v.optional(v.pipe(v.string(), v.trim())),
  DIGEST_WEEKDAY: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.toLowerCase(),
      v.picklist(WEEKDAYS, 'DIGEST_WEEKDAY must be one of mon tue wed thu fri sat sun'),
    ),
  ),
  STATE_KEY: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'STATE_KEY must be 1-200 letters, digits or _ . : -'),
    ),
  ),
});

/** The stand-alone settings, validated, with their defaults filled in. */
export type Settings = v.InferOutput<typeof settingsSchema>;
