import { createCrApi, type CallCounter } from './acr/client.js';
import { Budget, type Clock } from './budget.js';
import { acrEndpoint, type Config, type Credentials } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';
import { createDingTalkNotifier } from './notify/dingtalk.js';
import { createSlackNotifier } from './notify/slack.js';
import type { Notifier } from './notify/types.js';
import type { Target } from './deliver.js';
import type { RunDeps } from './run.js';
import { targetId } from './routing.js';
import { Secret } from './secret.js';
import { createFileStore } from './state/file.js';
import type { StateStore } from './state/store.js';
import { createTablestoreStore } from './state/tablestore.js';

/** The parts of Function Compute's `context` this function reads. */
export interface FcContext {
  requestId?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string; timeout?: number; memory?: number };
  region?: string;
  accountId?: string;
}

/** Without a platform timeout (local runs) the run assumes this many seconds. */
export const LOCAL_TIMEOUT_SEC = 120;

/** The invocation's STS credentials when present (they rotate, so they are read per call), else the environment's. */
export function credentialsFrom(context: FcContext, config: Config): Credentials {
  const c = context.credentials;
  if (c?.accessKeyId && c.accessKeySecret) {
    return { accessKeyId: new Secret(c.accessKeyId), accessKeySecret: new Secret(c.accessKeySecret), securityToken: c.securityToken ? new Secret(c.securityToken) : undefined };
  }
  if (config.envCredentials) return config.envCredentials;
  throw new ConfigError([
    'no cloud credentials: attach a RAM role to the function (Function Compute passes its STS credentials), or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET for local runs',
  ]);
}

/** The checkpoint store the config names. */
export function storeFor(config: Config, credentials: Credentials): StateStore {
  if (config.store.kind === 'file') return createFileStore(config.store.path);
  return createTablestoreStore({ ...config.store, key: config.stateKey, credentials });
}

/** Every channel of every route, in route order: what a run delivers to and `check` tests. */
export function targetsFor(config: Config, clock: Clock): Target[] {
  const out: Target[] = [];
  for (const route of config.routes) {
    if (route.dingtalk) out.push({ id: targetId(route.name, 'dingtalk'), route, notifier: createDingTalkNotifier({ ...route.dingtalk, clock }) as Notifier });
    if (route.slack) out.push({ id: targetId(route.name, 'slack'), route, notifier: createSlackNotifier({ webhook: route.slack.webhook, clock }) as Notifier });
  }
  return out;
}

/** Builds one run's dependencies from config and the invocation context: clients are per invocation. */
export function buildRunDeps(opts: { config: Config; context: FcContext; clock: Clock; log: Logger; startedAt: number; dryRun: boolean; runId: string }): RunDeps {
  const { config, context, clock } = opts;
  const credentials = credentialsFrom(context, config);
  const counter: CallCounter = { cr: 0 };
  const clients = new Map<string, ReturnType<typeof createCrApi>>();
  const timeoutSec = context.function?.timeout ?? LOCAL_TIMEOUT_SEC;
  return {
    config,
    clock,
    budget: Budget.forTimeout(clock, opts.startedAt, timeoutSec),
    log: opts.log,
    store: storeFor(config, credentials),
    crFor(regionId) {
      let c = clients.get(regionId);
      if (!c) {
        c = createCrApi({ endpoint: acrEndpoint(config.acrEndpointTemplate, regionId), credentials, counter });
        clients.set(regionId, c);
      }
      return c;
    },
    targets: targetsFor(config, clock),
    runId: opts.runId,
    dryRun: opts.dryRun,
    counter,
  };
}
