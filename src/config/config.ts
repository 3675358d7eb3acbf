import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as v from 'valibot';
import { ConfigError } from '../lib/errors.js';
import { Secret, type Credentials, type Revealable } from '../lib/secret.js';
import { defaultTimeZone } from '../lib/time.js';
import type { Lang } from '../model/lang.js';
import { DEFAULT_ROUTE, WEEKDAYS, type Route, type Weekday } from '../model/route.js';
import type { Silence } from '../model/silence.js';
import type { InstanceRef } from '../model/task.js';
import { checkedZone, HHMM, issueLines, parseRoutes } from './routes.js';
import { silencesSchema } from './silences.js';
import { dingtalkToken, mentionIds, parseDingTalkSecret, parseDingTalkWebhook, parseSlackWebhook } from './webhooks.js';

export type StoreConfig =
  { kind: 'file'; path: string } | { kind: 'tablestore'; endpoint: string; instance: string; table: string };

export interface Config {
  instances: InstanceRef[];
  /** CR OpenAPI endpoint with `{regionId}` still in it. */
  acrEndpointTemplate: string;
  store: StoreConfig;
  /**
   * Where alerts go, in order: the ROUTES, then the default route (DINGTALK_WEBHOOK, SLACK_WEBHOOK, the mentions,
   * ALERT_LANG, ALERT_TIMEZONE and DIGEST_*), which has no channel when only routes are configured.
   */
  routes: Route[];
  /** The top-level language (ALERT_LANG), for what is not sent through a route. */
  lang: Lang;
  /** On the first run (no checkpoint) failures older than this are not announced. */
  lookbackMinutes: number;
  /** On the first run, syncs still unfinished are looked for this far below the look-back, to be watched. */
  watchLookbackHours: number;
  pageSize: number;
  maxPagesPerInstance: number;
  fetchConcurrency: number;
  /** Consecutive runs that cannot read an instance before the channel is told alerting is blind there. */
  blindAfterRuns: number;
  /** A sync task PENDING or SYNCHRONIZING for longer than this is announced as stuck. */
  stuckAfterMinutes: number;
  /** Transient causes wait for `minFailures` failures of the same image within the window, or for it to persist. */
  transient: { minFailures: number; windowMinutes: number; persistMinutes: number };
  /** Mute rules: matching alerts are not sent, only logged and counted. */
  silences: Silence[];
  /** Names the checkpoint row, so several deployments can share one table. */
  stateKey: string;
  /** Credentials from the standard environment variables, used when the invocation context carries none. */
  envCredentials?: Credentials;
  /** Set when running inside Function Compute (the runtime sets FC_FUNCTION_NAME). */
  functionName?: string;
}

export const DEFAULT_ACR_ENDPOINT = 'https://cr.{regionId}.aliyuncs.com';
export const DEFAULT_TABLE = 'acr_sync_alert';
export const DEFAULT_CHECKPOINT_FILE = '.acr-sync-alert/checkpoint.json';
export const DEFAULT_STUCK_AFTER_MINUTES = 60;

type Env = Record<string, string | undefined>;

const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const INSTANCE = /^cri-[A-Za-z0-9]+$/;

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

const plainSchema = v.object({
  // Unset reads as empty: valibot words a missing key as "Invalid key: Expected ..." rather than the message given.
  ACR_INSTANCES: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('ACR_INSTANCES is required (comma-separated regionId:instanceId)'),
  ),
  ACR_ENDPOINT: v.pipe(
    v.optional(v.string(), DEFAULT_ACR_ENDPOINT),
    v.trim(),
    v.regex(
      /^https?:\/\/[^\s/]+/,
      'ACR_ENDPOINT must be an http(s) URL, for example https://cr.{regionId}.aliyuncs.com',
    ),
  ),
  TABLESTORE_ENDPOINT: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^https?:\/\/[^\s/]+/, 'TABLESTORE_ENDPOINT must be an http(s) URL')),
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
  CHECKPOINT_FILE: v.pipe(
    v.optional(v.string(), DEFAULT_CHECKPOINT_FILE),
    v.trim(),
    v.nonEmpty('CHECKPOINT_FILE must not be empty'),
  ),
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

function parseInstances(raw: string, problems: string[]): InstanceRef[] {
  const out = new Map<string, InstanceRef>();
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [regionId = '', instanceId = '', ...rest] = item.split(':').map((s) => s.trim());
    if (rest.length > 0 || !REGION.test(regionId) || !INSTANCE.test(instanceId)) {
      problems.push(`ACR_INSTANCES entry "${item}" must look like cn-hangzhou:cri-xxxxxxxx (regionId:instanceId)`);
      continue;
    }
    out.set(`${regionId}:${instanceId}`, { regionId, instanceId, key: `${regionId}:${instanceId}` });
  }
  if (out.size === 0 && problems.length === 0) problems.push('ACR_INSTANCES lists no instance');
  return [...out.values()];
}

/**
 * A JSON setting given inline (`name`) or as a file (`name_FILE`), parsed; undefined when neither is set (or on a
 * problem, which is pushed). In Function Compute a relative file path is read from the code directory, which the
 * platform names in FC_FUNC_CODE_PATH (the working directory is not documented).
 */
function jsonSetting(env: Env, name: string, problems: string[]): unknown {
  const inline = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (inline && file) {
    problems.push(`set ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  let text = inline;
  if (file) {
    const codeDir = env.FC_FUNC_CODE_PATH?.trim();
    try {
      text = readFileSync(codeDir && !isAbsolute(file) ? join(codeDir, file) : file, 'utf8');
    } catch (err) {
      problems.push(`${name}_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    problems.push(`${file ? `${name}_FILE` : name} is not valid JSON`);
    return undefined;
  }
}

/** SILENCES (JSON) or SILENCES_FILE (a JSON file), validated; problems name the silence and field. */
function parseSilences(env: Env, problems: string[]): Silence[] {
  const raw = jsonSetting(env, 'SILENCES', problems);
  if (raw === undefined) return [];
  const r = v.safeParse(silencesSchema, raw);
  if (!r.success) {
    problems.push(...issueLines('silences', r.issues));
    return [];
  }
  for (const [n, sil] of r.output.entries()) {
    if (sil.timezone) checkedZone(`silences[${n}].timezone`, sil.timezone, problems);
  }
  return r.output;
}

/** Credentials from the standard ALIBABA_CLOUD_* variables, when both key parts are set. */
export function envCredentials(env: Env): Credentials | undefined {
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (!id || !secret) return undefined;
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  return {
    accessKeyId: new Secret(id),
    accessKeySecret: new Secret(secret),
    securityToken: token ? new Secret(token) : undefined,
  };
}

/**
 * Reads and validates every setting at once. Throws `ConfigError` listing all problems; secret values (webhook URLs,
 * signing secret, keys) are never part of a message. `requireChannel: false` is for dry runs, which post nothing.
 */
export function readConfig(env: Env = process.env, opts: { requireChannel?: boolean } = {}): Config {
  const problems: string[] = [];
  const parsed = v.safeParse(plainSchema, env);
  if (!parsed.success) {
    for (const issue of parsed.issues) problems.push(issue.message);
  }
  const p = parsed.success ? parsed.output : undefined;

  const instances = env.ACR_INSTANCES?.trim() ? parseInstances(env.ACR_INSTANCES, problems) : [];

  const policy = { anyHost: env.WEBHOOK_ALLOW_ANY_HOST?.trim().toLowerCase() === 'true' };
  const dingtalkUrl = parseDingTalkWebhook('DINGTALK_WEBHOOK', env.DINGTALK_WEBHOOK, policy, problems);
  const dingSecret = parseDingTalkSecret('DINGTALK_SECRET', env.DINGTALK_SECRET, problems);
  if (env.DINGTALK_SECRET?.trim() && !env.DINGTALK_WEBHOOK?.trim())
    problems.push('DINGTALK_SECRET is set but DINGTALK_WEBHOOK is not');
  const slackUrl = parseSlackWebhook('SLACK_WEBHOOK', env.SLACK_WEBHOOK, policy, problems);

  const silences = parseSilences(env, problems);
  const list = (name: string, kind: Parameters<typeof mentionIds>[2]) =>
    mentionIds(
      name,
      (env[name] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      kind,
      problems,
    );
  const mentions = {
    dingtalkMobiles: list('DINGTALK_AT_MOBILES', 'dingtalkMobiles'),
    dingtalkUserIds: list('DINGTALK_AT_USER_IDS', 'dingtalkUserIds'),
    slack: list('SLACK_MENTIONS', 'slack'),
  };
  const lang = (p?.ALERT_LANG ?? 'en') as Lang;
  const timeZone = p?.ALERT_TIMEZONE ? checkedZone('ALERT_TIMEZONE', p.ALERT_TIMEZONE, problems) : undefined;
  const routesRaw = jsonSetting(env, 'ROUTES', problems);
  const beforeRoutes = problems.length;
  const userRoutes = routesRaw === undefined ? [] : parseRoutes(routesRaw, { lang, timeZone, policy }, problems);
  const defaultHasChannel = Boolean(env.DINGTALK_WEBHOOK?.trim() || env.SLACK_WEBHOOK?.trim());
  if ((opts.requireChannel ?? true) && !defaultHasChannel && problems.length === beforeRoutes) {
    if (userRoutes.length === 0)
      problems.push('no channel configured: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK, or ROUTES');
    else if (!userRoutes.some((r) => r.match === undefined)) {
      problems.push(
        'alerts that match no route have nowhere to go: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK for the default route, or end ROUTES with a route without "match"',
      );
    }
  }
  const functionName = env.FC_FUNCTION_NAME?.trim() || undefined;
  let store: StoreConfig | undefined;
  if (env.TABLESTORE_ENDPOINT?.trim()) {
    if (!env.TABLESTORE_INSTANCE?.trim())
      problems.push('TABLESTORE_INSTANCE is required when TABLESTORE_ENDPOINT is set');
    else if (p?.TABLESTORE_ENDPOINT && p.TABLESTORE_INSTANCE)
      store = {
        kind: 'tablestore',
        endpoint: p.TABLESTORE_ENDPOINT,
        instance: p.TABLESTORE_INSTANCE,
        table: p.TABLESTORE_TABLE,
      };
  } else if (functionName) {
    // A file written inside one Function Compute instance is invisible to the next one: announcements would repeat.
    problems.push(
      'TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE are required in Function Compute (a file checkpoint does not survive between instances)',
    );
  } else if (p) {
    store = { kind: 'file', path: p.CHECKPOINT_FILE };
  }

  const defaultZone = timeZone ?? defaultTimeZone(lang);
  const digestZone = p?.DIGEST_TIMEZONE ?? defaultZone;
  if (p?.DIGEST_TIMEZONE) checkedZone('DIGEST_TIMEZONE', p.DIGEST_TIMEZONE, problems);
  if ((p?.DIGEST_TIMEZONE || p?.DIGEST_WEEKDAY) && !p?.DIGEST_AT)
    problems.push('DIGEST_TIMEZONE and DIGEST_WEEKDAY need DIGEST_AT');
  const defaultRoute: Route = {
    name: DEFAULT_ROUTE,
    dingtalk: dingtalkUrl ? { webhook: dingtalkUrl, secret: dingSecret } : undefined,
    slack: slackUrl ? { webhook: slackUrl } : undefined,
    mentions,
    lang,
    timeZone: defaultZone,
    digest: p?.DIGEST_AT
      ? { at: p.DIGEST_AT, timezone: digestZone, weekday: p.DIGEST_WEEKDAY as Weekday | undefined }
      : undefined,
  };

  if (problems.length > 0 || !p || !store) throw new ConfigError(problems);
  return {
    instances,
    acrEndpointTemplate: p.ACR_ENDPOINT,
    store,
    routes: [...userRoutes, defaultRoute],
    lang,
    lookbackMinutes: p.LOOKBACK_MINUTES,
    watchLookbackHours: p.WATCH_LOOKBACK_HOURS,
    pageSize: p.ACR_PAGE_SIZE,
    maxPagesPerInstance: p.ACR_MAX_PAGES,
    fetchConcurrency: p.FETCH_CONCURRENCY,
    blindAfterRuns: p.BLIND_AFTER_RUNS,
    stuckAfterMinutes: p.STUCK_AFTER_MINUTES,
    transient: {
      minFailures: p.TRANSIENT_MIN_FAILURES,
      windowMinutes: p.TRANSIENT_WINDOW_MINUTES,
      persistMinutes: p.TRANSIENT_PERSIST_MINUTES,
    },
    silences,
    stateKey: p.STATE_KEY ?? functionName ?? 'default',
    envCredentials: envCredentials(env),
    functionName,
  };
}

/** Every secret the config holds, for scrubbing log lines. */
export function configSecrets(c: Config): Revealable[] {
  const out: (Revealable | undefined)[] = [
    c.envCredentials?.accessKeyId,
    c.envCredentials?.accessKeySecret,
    c.envCredentials?.securityToken,
  ];
  for (const r of c.routes) {
    // The DingTalk access_token alone also appears in some error texts.
    if (r.dingtalk) out.push(r.dingtalk.webhook, r.dingtalk.secret, dingtalkToken(r.dingtalk.webhook));
    out.push(r.slack?.webhook);
  }
  return out.filter((s): s is Revealable => s !== undefined);
}

/** The endpoint for one region. */
export function acrEndpoint(template: string, regionId: string): string {
  return template.split('{regionId}').join(regionId);
}
