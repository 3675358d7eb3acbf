import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { ConfigError } from './errors.js';
import { Secret } from './secret.js';
import { silencesSchema, type Silence } from './silence.js';
import type { DigestSchedule, Weekday } from './digest.js';
import { isTimeZone } from './local-time.js';

export type Lang = 'zh' | 'en';
export type ChannelName = 'dingtalk' | 'slack';

export interface InstanceRef {
  regionId: string;
  instanceId: string;
  /** `regionId:instanceId`, the key of this instance's cursor in the checkpoint. */
  key: string;
}

export interface Credentials {
  accessKeyId: Secret;
  accessKeySecret: Secret;
  securityToken?: Secret;
}

export type StoreConfig =
  | { kind: 'file'; path: string }
  | { kind: 'tablestore'; endpoint: string; instance: string; table: string };

export interface Config {
  instances: InstanceRef[];
  /** CR OpenAPI endpoint with `{regionId}` still in it. */
  acrEndpointTemplate: string;
  store: StoreConfig;
  dingtalk?: { webhook: Secret; secret?: Secret };
  slack?: { webhook: Secret };
  /** Who is @mentioned when a message holds something severe (a high-severity failure, a blind instance). */
  mentions: { dingtalkMobiles: string[]; dingtalkUserIds: string[]; slack: string[] };
  lang: Lang;
  /** On the first run (no checkpoint) failures older than this are not announced. */
  lookbackMinutes: number;
  pageSize: number;
  maxPagesPerInstance: number;
  fetchConcurrency: number;
  /** Consecutive runs that cannot read an instance before the channel is told alerting is blind there. */
  blindAfterRuns: number;
  /** A sync task PENDING or SYNCHRONIZING for longer than this is announced as stuck. */
  stuckAfterMinutes: number;
  /** Transient causes wait for `minFailures` failures of the same image within the window, or for it to persist. */
  transient: { minFailures: number; windowMinutes: number; persistMinutes: number };
  /** When a digest is sent; none when DIGEST_AT is unset (a timer payload {"digest":true} still forces one). */
  digest?: DigestSchedule;
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
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// The platforms' webhook hosts (DingTalk custom robot docs, mainland and international; Slack incoming webhooks).
const DINGTALK_HOSTS = new Set(['oapi.dingtalk.com', 'oapi.dingtalk.io']);
const SLACK_HOSTS = new Set(['hooks.slack.com']);

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
  ACR_INSTANCES: v.pipe(v.string('ACR_INSTANCES is required (comma-separated regionId:instanceId)'), v.trim(), v.nonEmpty('ACR_INSTANCES is required (comma-separated regionId:instanceId)')),
  ACR_ENDPOINT: v.pipe(
    v.optional(v.string(), DEFAULT_ACR_ENDPOINT),
    v.trim(),
    v.regex(/^https?:\/\/[^\s/]+/, 'ACR_ENDPOINT must be an http(s) URL, for example https://cr.{regionId}.aliyuncs.com'),
  ),
  TABLESTORE_ENDPOINT: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^https?:\/\/[^\s/]+/, 'TABLESTORE_ENDPOINT must be an http(s) URL'))),
  TABLESTORE_INSTANCE: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z][A-Za-z0-9-]{2,15}$/, 'TABLESTORE_INSTANCE must be a Tablestore instance name (3-16 letters, digits, hyphens)'))),
  TABLESTORE_TABLE: v.pipe(v.optional(v.string(), DEFAULT_TABLE), v.trim(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'TABLESTORE_TABLE must be 1-255 letters, digits or underscores, not starting with a digit')),
  CHECKPOINT_FILE: v.pipe(v.optional(v.string(), DEFAULT_CHECKPOINT_FILE), v.trim(), v.nonEmpty('CHECKPOINT_FILE must not be empty')),
  ALERT_LANG: v.pipe(v.optional(v.string(), 'en'), v.trim(), v.toLowerCase(), v.picklist(['zh', 'en'], 'ALERT_LANG must be zh or en')),
  LOOKBACK_MINUTES: intSetting('LOOKBACK_MINUTES', 1, 10_080, 1_440),
  ACR_PAGE_SIZE: intSetting('ACR_PAGE_SIZE', 1, 100, 50),
  ACR_MAX_PAGES: intSetting('ACR_MAX_PAGES', 1, 10_000, 400),
  FETCH_CONCURRENCY: intSetting('FETCH_CONCURRENCY', 1, 10, 2),
  BLIND_AFTER_RUNS: intSetting('BLIND_AFTER_RUNS', 1, 1_000, 3),
  STUCK_AFTER_MINUTES: intSetting('STUCK_AFTER_MINUTES', 5, 10_080, DEFAULT_STUCK_AFTER_MINUTES),
  TRANSIENT_MIN_FAILURES: intSetting('TRANSIENT_MIN_FAILURES', 1, 100, 1),
  TRANSIENT_WINDOW_MINUTES: intSetting('TRANSIENT_WINDOW_MINUTES', 1, 10_080, 60),
  TRANSIENT_PERSIST_MINUTES: intSetting('TRANSIENT_PERSIST_MINUTES', 1, 10_080, 30),
  WEBHOOK_ALLOW_ANY_HOST: v.pipe(v.optional(v.string(), 'false'), v.trim(), v.toLowerCase(), v.picklist(['true', 'false'], 'WEBHOOK_ALLOW_ANY_HOST must be true or false')),
  DIGEST_AT: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'DIGEST_AT must be a local time like 09:00'))),
  DIGEST_TIMEZONE: v.optional(v.pipe(v.string(), v.trim())),
  DIGEST_WEEKDAY: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], 'DIGEST_WEEKDAY must be one of mon tue wed thu fri sat sun'))),
  STATE_KEY: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'STATE_KEY must be 1-200 letters, digits or _ . : -'))),
});

function parseInstances(raw: string, problems: string[]): InstanceRef[] {
  const out = new Map<string, InstanceRef>();
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
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
 * Checks a webhook URL without ever echoing it: its path or query is the credential.
 * https is required; plain http only to a loopback address, for local receivers.
 */
function parseWebhook(name: string, raw: string | undefined, problems: string[], check: (u: URL) => string | undefined): Secret | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    problems.push(`${name} is not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    problems.push(`${name} must use https (plain http is accepted only for 127.0.0.1 or localhost)`);
    return undefined;
  }
  const why = check(url);
  if (why) {
    problems.push(`${name} ${why}`);
    return undefined;
  }
  return new Secret(url.toString());
}

/** SILENCES (JSON) or SILENCES_FILE (a JSON file), validated; problems name the silence and field. */
function parseSilences(env: Env, problems: string[]): Silence[] {
  const inline = env.SILENCES?.trim();
  const file = env.SILENCES_FILE?.trim();
  if (inline && file) {
    problems.push('set SILENCES or SILENCES_FILE, not both');
    return [];
  }
  let text = inline;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`SILENCES_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return [];
    }
  }
  if (!text) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    problems.push(`${file ? 'SILENCES_FILE' : 'SILENCES'} is not valid JSON`);
    return [];
  }
  const r = v.safeParse(silencesSchema, raw);
  if (!r.success) {
    for (const i of r.issues.slice(0, 5)) problems.push(`silences[${v.getDotPath(i) ?? ''}]: ${i.message}`.replace('[]', ''));
    return [];
  }
  for (const [n, sil] of r.output.entries()) {
    if (sil.timezone && !isTimeZone(sil.timezone)) problems.push(`silences[${n}].timezone "${sil.timezone}" is not an IANA time zone (e.g. Asia/Shanghai)`);
  }
  return r.output;
}

/** Credentials from the standard ALIBABA_CLOUD_* variables, when both key parts are set. */
export function envCredentials(env: Env): Credentials | undefined {
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (!id || !secret) return undefined;
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  return { accessKeyId: new Secret(id), accessKeySecret: new Secret(secret), securityToken: token ? new Secret(token) : undefined };
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

  // A webhook URL is a credential the function hands its messages to: by default only the platforms' own hosts.
  const anyHost = env.WEBHOOK_ALLOW_ANY_HOST?.trim().toLowerCase() === 'true';
  const hostCheck = (u: URL, allowed: Set<string>, platform: string) =>
    anyHost || LOOPBACK.has(u.hostname) || allowed.has(u.hostname) ? undefined : `must point at ${platform} (${[...allowed].join(' or ')}); set WEBHOOK_ALLOW_ANY_HOST=true to send through another host`;
  const dingtalkUrl = parseWebhook('DINGTALK_WEBHOOK', env.DINGTALK_WEBHOOK, problems, (u) =>
    hostCheck(u, DINGTALK_HOSTS, 'DingTalk') ??
    (u.searchParams.get('access_token') ? undefined : 'must carry the robot access_token parameter (copy the whole URL from the robot settings)'),
  );
  const dingSecretRaw = env.DINGTALK_SECRET?.trim();
  if (dingSecretRaw && !dingSecretRaw.startsWith('SEC')) problems.push('DINGTALK_SECRET must be the robot signing secret, which starts with SEC');
  if (dingSecretRaw && !env.DINGTALK_WEBHOOK?.trim()) problems.push('DINGTALK_SECRET is set but DINGTALK_WEBHOOK is not');
  const slackUrl = parseWebhook('SLACK_WEBHOOK', env.SLACK_WEBHOOK, problems, (u) =>
    hostCheck(u, SLACK_HOSTS, 'Slack') ??
    (u.pathname.startsWith('/services/') ? undefined : 'must be a Slack incoming webhook URL (https://hooks.slack.com/services/...)'),
  );
  if ((opts.requireChannel ?? true) && !env.DINGTALK_WEBHOOK?.trim() && !env.SLACK_WEBHOOK?.trim()) {
    problems.push('no channel configured: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK');
  }

  const silences = parseSilences(env, problems);
  const list = (name: string, pattern: RegExp, what: string): string[] => {
    const items = (env[name] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of items) if (!pattern.test(x)) problems.push(`${name} entry "${x}" must be ${what}`);
    return items;
  };
  const mentions = {
    dingtalkMobiles: list('DINGTALK_AT_MOBILES', /^\+?\d{5,20}$/, 'a phone number as registered in DingTalk'),
    dingtalkUserIds: list('DINGTALK_AT_USER_IDS', /^[A-Za-z0-9_-]{1,64}$/, 'a DingTalk userId'),
    slack: list('SLACK_MENTIONS', /^[UWS][A-Z0-9]{2,20}$/, 'a Slack user id (U…/W…) or user-group id (S…)'),
  };
  const functionName = env.FC_FUNCTION_NAME?.trim() || undefined;
  let store: StoreConfig | undefined;
  if (env.TABLESTORE_ENDPOINT?.trim()) {
    if (!env.TABLESTORE_INSTANCE?.trim()) problems.push('TABLESTORE_INSTANCE is required when TABLESTORE_ENDPOINT is set');
    else if (p?.TABLESTORE_ENDPOINT && p.TABLESTORE_INSTANCE) store = { kind: 'tablestore', endpoint: p.TABLESTORE_ENDPOINT, instance: p.TABLESTORE_INSTANCE, table: p.TABLESTORE_TABLE };
  } else if (functionName) {
    // A file written inside one Function Compute instance is invisible to the next one: announcements would repeat.
    problems.push('TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE are required in Function Compute (a file checkpoint does not survive between instances)');
  } else if (p) {
    store = { kind: 'file', path: p.CHECKPOINT_FILE };
  }

  const digestZone = p?.DIGEST_TIMEZONE ?? (p?.ALERT_LANG === 'zh' ? 'Asia/Shanghai' : 'UTC');
  if (p?.DIGEST_TIMEZONE && !isTimeZone(p.DIGEST_TIMEZONE)) problems.push(`DIGEST_TIMEZONE "${p.DIGEST_TIMEZONE}" is not an IANA time zone (e.g. Asia/Shanghai)`);
  if ((p?.DIGEST_TIMEZONE || p?.DIGEST_WEEKDAY) && !p?.DIGEST_AT) problems.push('DIGEST_TIMEZONE and DIGEST_WEEKDAY need DIGEST_AT');

  if (problems.length > 0 || !p || !store) throw new ConfigError(problems);
  return {
    instances,
    acrEndpointTemplate: p.ACR_ENDPOINT,
    store,
    dingtalk: dingtalkUrl ? { webhook: dingtalkUrl, secret: dingSecretRaw ? new Secret(dingSecretRaw) : undefined } : undefined,
    slack: slackUrl ? { webhook: slackUrl } : undefined,
    lang: p.ALERT_LANG as Lang,
    lookbackMinutes: p.LOOKBACK_MINUTES,
    pageSize: p.ACR_PAGE_SIZE,
    maxPagesPerInstance: p.ACR_MAX_PAGES,
    fetchConcurrency: p.FETCH_CONCURRENCY,
    blindAfterRuns: p.BLIND_AFTER_RUNS,
    stuckAfterMinutes: p.STUCK_AFTER_MINUTES,
    transient: { minFailures: p.TRANSIENT_MIN_FAILURES, windowMinutes: p.TRANSIENT_WINDOW_MINUTES, persistMinutes: p.TRANSIENT_PERSIST_MINUTES },
    silences,
    mentions,
    digest: p.DIGEST_AT ? { at: p.DIGEST_AT, timezone: digestZone, weekday: p.DIGEST_WEEKDAY as Weekday | undefined } : undefined,
    stateKey: p.STATE_KEY ?? functionName ?? 'default',
    envCredentials: envCredentials(env),
    functionName,
  };
}

/** Every secret the config holds, for scrubbing log lines. */
export function configSecrets(c: Config): Secret[] {
  const out: (Secret | undefined)[] = [
    c.dingtalk?.webhook, c.dingtalk?.secret, c.slack?.webhook,
    c.envCredentials?.accessKeyId, c.envCredentials?.accessKeySecret, c.envCredentials?.securityToken,
  ];
  // The DingTalk access_token alone also appears in some error texts.
  if (c.dingtalk) {
    const token = new URL(c.dingtalk.webhook.reveal()).searchParams.get('access_token');
    if (token) out.push(new Secret(token));
  }
  return out.filter((s): s is Secret => s !== undefined);
}

/** The endpoint for one region. */
export function acrEndpoint(template: string, regionId: string): string {
  return template.split('{regionId}').join(regionId);
}
