import * as v from 'valibot';
import { ConfigError } from '../lib/errors.js';
import { Secret, type Credentials, type Revealable } from '../lib/secret.js';
import { defaultTimeZone } from '../lib/time.js';
import type { Lang } from '../model/lang.js';
import { DEFAULT_ROUTE, type FunctionRef, type Route } from '../model/route.js';
import type { Silence } from '../model/silence.js';
import type { InstanceRef } from '../model/task.js';
import { defaultChannels, defaultDigest, defaultMentions, userRoutes } from './channels.js';
import { silencesOf } from './json-settings.js';
import { lookalikeSettings } from './known.js';
import { checkRegion } from './regions.js';
import { checkedZone } from './routes.js';
import { DEFAULT_SCHEDULE, parseSchedule, type Schedule } from './schedule.js';
import { settingsSchema, type Env, type Settings } from './settings.js';
import { checkStateFileNames, stateFileOf, type FileExists } from './state-file.js';
import { dingtalkToken } from './webhooks.js';

export { lookalikeSettings } from './known.js';
export { DEFAULT_ACR_ENDPOINT, DEFAULT_STUCK_AFTER_MINUTES, DEFAULT_TABLE } from './settings.js';

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
  /** On the first run (no state yet) failures older than this are not announced. */
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
  /** Names this deployment's state rows, so several deployments can share one table. */
  stateKey: string;
  /** Credentials from the standard environment variables, used when the invocation context carries none. */
  envCredentials?: Credentials;
  /** Set when running inside Function Compute (the runtime sets FC_FUNCTION_NAME). */
  functionName?: string;
  /** The function's region inside Function Compute (the runtime sets FC_REGION). */
  functionRegion?: string;
  /** The timer's schedule (TIMER_SCHEDULE, else s.yaml's default), to place a run's tick within its hour. */
  schedule: Schedule;
  /** What the operator should know about the settings (a deprecated name), for the run to log. */
  notes: string[];
}

const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const INSTANCE = /^cri-[A-Za-z0-9]+$/;

/**
 * ACR_INSTANCES, each `regionId:instanceId` once, its region checked against the known ones; [] when unset (the
 * settings schema says it is required).
 */
function parseInstances(env: Env, out: { problems: string[]; notes: string[] }): InstanceRef[] {
  const { problems } = out;
  const raw = env.ACR_INSTANCES?.trim();
  if (!raw) return [];
  const refs = new Map<string, InstanceRef>();
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [regionId = '', instanceId = '', ...rest] = item.split(':').map((s) => s.trim());
    if (rest.length > 0 || !REGION.test(regionId) || !INSTANCE.test(instanceId)) {
      problems.push(`ACR_INSTANCES entry "${item}" must look like cn-hangzhou:cri-xxxxxxxx (regionId:instanceId)`);
      continue;
    }
    checkRegion(`ACR_INSTANCES entry "${item}"`, regionId, out);
    refs.set(`${regionId}:${instanceId}`, { regionId, instanceId, key: `${regionId}:${instanceId}` });
  }
  if (refs.size === 0 && problems.length === 0) problems.push('ACR_INSTANCES lists no instance');
  return [...refs.values()];
}

/**
 * Where the state is kept: Tablestore when its endpoint is set, else the local file (refused inside Function
 * Compute). Undefined on a problem, which is pushed.
 */
function storeOf(
  env: Env,
  p: Settings | undefined,
  out: { problems: string[]; notes: string[]; fileExists?: FileExists },
): StoreConfig | undefined {
  checkStateFileNames(env, out);
  if (env.TABLESTORE_ENDPOINT?.trim()) {
    if (!env.TABLESTORE_INSTANCE?.trim())
      out.problems.push('TABLESTORE_INSTANCE is required when TABLESTORE_ENDPOINT is set');
    else if (p?.TABLESTORE_ENDPOINT && p.TABLESTORE_INSTANCE)
      return {
        kind: 'tablestore',
        endpoint: p.TABLESTORE_ENDPOINT,
        instance: p.TABLESTORE_INSTANCE,
        table: p.TABLESTORE_TABLE,
      };
    return undefined;
  }
  if (env.FC_FUNCTION_NAME?.trim()) {
    // A file written inside one Function Compute instance is invisible to the next one: announcements would repeat.
    out.problems.push(
      'TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE are required in Function Compute ' +
        '(a state file does not survive between instances)',
    );
    return undefined;
  }
  return p ? { kind: 'file', path: stateFileOf(env, out.fileExists) } : undefined;
}

/** ALERT_LANG, and ALERT_TIMEZONE when it is set (checked). */
function localeOf(p: Settings | undefined, problems: string[]): { lang: Lang; timeZone: string | undefined } {
  const lang = (p?.ALERT_LANG ?? 'en') as Lang;
  const timeZone = p?.ALERT_TIMEZONE ? checkedZone('ALERT_TIMEZONE', p.ALERT_TIMEZONE, problems) : undefined;
  return { lang, timeZone };
}

/**
 * The function's name and region inside Function Compute (the runtime sets FC_FUNCTION_NAME and FC_REGION:
 * https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables), and the name of this deployment's
 * state: STATE_KEY, else the function's name, else "default".
 */
function deploymentOf(env: Env, p: Settings) {
  const functionName = env.FC_FUNCTION_NAME?.trim() || undefined;
  const functionRegion = env.FC_REGION?.trim() || undefined;
  return { stateKey: p.STATE_KEY ?? functionName ?? 'default', functionName, functionRegion };
}

/** The function commands in messages should name: both its name and region, plain enough to paste, or none. */
function functionRef(name: string | undefined, region: string | undefined): FunctionRef | undefined {
  const plain = /^[A-Za-z0-9_-]{1,128}$/;
  return name && region && plain.test(name) && REGION.test(region) ? { name, region } : undefined;
}

/** The numbers that tune a run, from the validated settings. */
function tuningOf(p: Settings) {
  return {
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
  };
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
 * `fileExists` stands in for the file system when looking for the default state file.
 */
export function readConfig(
  env: Env = process.env,
  opts: { requireChannel?: boolean; fileExists?: FileExists } = {},
): Config {
  const problems: string[] = [];
  const parsed = v.safeParse(settingsSchema, env);
  if (!parsed.success) problems.push(...parsed.issues.map((issue) => issue.message));
  const p = parsed.success ? parsed.output : undefined;
  const notes: string[] = lookalikeSettings(env);
  const instances = parseInstances(env, { problems, notes });
  const { policy, ...channels } = defaultChannels(env, problems);
  const silences = silencesOf(env, problems);
  const mentions = defaultMentions(env, problems);
  const { lang, timeZone } = localeOf(p, problems);
  const routes = userRoutes(env, { lang, timeZone, policy }, problems, opts.requireChannel ?? true);
  const store = storeOf(env, p, { problems, notes, fileExists: opts.fileExists });
  const zone = timeZone ?? defaultTimeZone(lang);
  const digest = defaultDigest(p, zone, problems);
  const schedule = parseSchedule('TIMER_SCHEDULE', env.TIMER_SCHEDULE?.trim() || DEFAULT_SCHEDULE, problems);
  if (problems.length > 0 || !p || !store || !schedule) throw new ConfigError(problems);
  const escalate = { failures: p.ESCALATE_FAILURES, forMinutes: p.ESCALATE_MINUTES };
  const defaultRoute: Route = { name: DEFAULT_ROUTE, ...channels, mentions, lang, timeZone: zone, digest, escalate };
  const deployment = deploymentOf(env, p);
  const fn = functionRef(deployment.functionName, deployment.functionRegion);
  return {
    instances,
    acrEndpointTemplate: p.ACR_ENDPOINT,
    store,
    routes: [...routes, defaultRoute].map((r) => (fn ? { ...r, deployment: fn } : r)),
    lang,
    ...tuningOf(p),
    silences,
    ...deployment,
    envCredentials: envCredentials(env),
    schedule,
    notes,
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
