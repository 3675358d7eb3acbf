import { createCrApi, type CallCounter, type CrApi } from '../acr/client.js';
import { acrEndpoint, type Config } from '../config/config.js';
import type { ObserveDeps } from '../detect/observe.js';
import { Budget, type Clock } from '../lib/budget.js';
import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { Secret, type Credentials } from '../lib/secret.js';
import type { ChannelName } from '../model/lang.js';
import { canSend, DEFAULT_ROUTE, targetId, type Route } from '../model/route.js';
import { createCaptureNotifier } from '../notify/capture.js';
import { createDingTalkNotifier } from '../notify/dingtalk.js';
import type { Target } from '../notify/deliver.js';
import { createSlackNotifier } from '../notify/slack.js';
import type { Notifier } from '../notify/types.js';
import { withRetry } from '../lib/retry.js';
import type { PlanSettings } from '../plan/plan.js';
import { FileTable } from '../state/file.js';
import { OverlayTable } from '../state/overlay.js';
import { StateStore, type LegacySource } from '../state/store.js';
import type { RowTable } from '../state/table.js';
import { createTablestoreTable } from '../state/tablestore.js';

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

/** Where a dry run's messages go instead of a webhook, with the target they would have gone to. */
export type DryRunSink = (target: string, channel: ChannelName, payload: unknown) => void;

/** Everything one run uses, built once per invocation and not changed afterwards. */
export interface RunDeps {
  readonly clock: Clock;
  readonly budget: Budget;
  readonly log: Logger;
  readonly store: StateStore;
  readonly observe: ObserveDeps;
  readonly plan: PlanSettings;
  /** Every channel of every route: the webhooks, or in a dry run notifiers that capture. */
  readonly targets: readonly Target[];
  /** Identifies this run as a lease owner (the invocation's request id). */
  readonly runId: string;
  readonly dryRun: boolean;
  /** Send every route's digest in this run whatever the schedule (timer payload {"digest":true}). */
  readonly forceDigest: boolean;
  readonly counter: CallCounter;
}

/** The invocation's STS credentials when present (they rotate, so they are read per call), else the environment's. */
export function credentialsFrom(context: FcContext, config: Config): Credentials {
  const c = context.credentials;
  if (c?.accessKeyId && c.accessKeySecret) {
    return {
      accessKeyId: new Secret(c.accessKeyId),
      accessKeySecret: new Secret(c.accessKeySecret),
      securityToken: c.securityToken ? new Secret(c.securityToken) : undefined,
    };
  }
  if (config.envCredentials) return config.envCredentials;
  throw new ConfigError([
    'no cloud credentials: attach a RAM role to the function (Function Compute passes its STS credentials), ' +
      'or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET for local runs',
  ]);
}

/** Preferred timeout of one state request. */
const STATE_CALL_TIMEOUT_MS = 5_000;

/** The state table the config names: Tablestore in Function Compute, a local file otherwise. */
export function tableFor(config: Config, credentials: Credentials | undefined): RowTable & LegacySource {
  if (config.store.kind === 'file') return new FileTable(config.store.path);
  return createTablestoreTable({ ...config.store, credentials: credentials ?? credentialsFrom({}, config) });
}

/** The deployment's state over `table`, every request with retries within `budget`. */
export function stateStoreOver(o: {
  table: RowTable & Partial<LegacySource>;
  config: Pick<Config, 'stateKey'>;
  budget: Budget;
  log: Logger;
  clock: Clock;
}): StateStore {
  const { table, budget, log, clock } = o;
  return new StateStore(
    table,
    o.config.stateKey,
    (label, fn) => withRetry(fn, { budget, log, label, attemptTimeoutMs: STATE_CALL_TIMEOUT_MS, retries: 3 }),
    () => clock.now(),
  );
}

/** Builds a target for every channel of every route, in route order, with `notify` building its notifier. */
function buildTargets(routes: readonly Route[], notify: (route: Route, channel: ChannelName) => Notifier): Target[] {
  const out: Target[] = [];
  for (const route of routes) {
    if (route.dingtalk) out.push({ id: targetId(route.name, 'dingtalk'), route, notifier: notify(route, 'dingtalk') });
    if (route.slack) out.push({ id: targetId(route.name, 'slack'), route, notifier: notify(route, 'slack') });
  }
  return out;
}

/** Every channel of every route with its real webhook notifier: what a run delivers to and `check` tests. */
export function targetsFor(config: Pick<Config, 'routes'>, clock: Clock): Target[] {
  return buildTargets(config.routes, (route, channel) =>
    channel === 'dingtalk'
      ? (createDingTalkNotifier({ ...route.dingtalk!, clock }) as Notifier)
      : (createSlackNotifier({ webhook: route.slack!.webhook, clock }) as Notifier),
  );
}

/**
 * The routes a dry run plans with. With no channel configured anywhere, the default route is given both channels, so
 * the dry run shows what each platform would receive; nothing is ever posted to them.
 */
function dryRunRoutes(routes: readonly Route[]): readonly Route[] {
  if (routes.some(canSend)) return routes;
  const none = new Secret('dry-run');
  return routes.map((r) =>
    r.name === DEFAULT_ROUTE ? { ...r, dingtalk: { webhook: none }, slack: { webhook: none } } : r,
  );
}

/** Builds one run's dependencies from config and the invocation context: clients are per invocation. */
export function buildRunDeps(opts: {
  config: Config;
  context: FcContext;
  clock: Clock;
  log: Logger;
  startedAt: number;
  runId: string;
  options: { dryRun: boolean; digest: boolean };
  /** Required for a dry run: where its messages go. */
  dryRunSink?: DryRunSink;
}): RunDeps {
  const { config, context, clock, log } = opts;
  const dryRun = opts.options.dryRun;
  const credentials = credentialsFrom(context, config);
  const counter: CallCounter = { cr: 0 };
  const clients = new Map<string, CrApi>();
  const timeoutSec = context.function?.timeout ?? LOCAL_TIMEOUT_SEC;
  const budget = Budget.forTimeout(clock, opts.startedAt, timeoutSec);
  const routes = dryRun ? dryRunRoutes(config.routes) : config.routes;
  const table = tableFor(config, credentials);
  // A dry run reads the real state and keeps its writes in memory.
  const store = stateStoreOver({ table: dryRun ? new OverlayTable(table) : table, config, budget, log, clock });
  const sink = opts.dryRunSink;
  const targets = dryRun
    ? buildTargets(routes, (route, channel) =>
        createCaptureNotifier(channel, (payload) => sink?.(targetId(route.name, channel), channel, payload)),
      )
    : targetsFor(config, clock);
  return {
    clock,
    budget,
    log,
    store,
    observe: {
      store,
      crFor(regionId) {
        let c = clients.get(regionId);
        if (!c) {
          c = createCrApi({ endpoint: acrEndpoint(config.acrEndpointTemplate, regionId), credentials, counter });
          clients.set(regionId, c);
        }
        return c;
      },
      clock,
      budget,
      log,
      settings: {
        instances: config.instances,
        pageSize: config.pageSize,
        maxPages: config.maxPagesPerInstance,
        concurrency: config.fetchConcurrency,
        lookbackMs: config.lookbackMinutes * 60_000,
        discoveryMs: config.watchLookbackHours * 3_600_000,
        blindAfterRuns: config.blindAfterRuns,
        stuckAfterMs: config.stuckAfterMinutes * 60_000,
        transient: {
          minFailures: config.transient.minFailures,
          windowMs: config.transient.windowMinutes * 60_000,
          persistMs: config.transient.persistMinutes * 60_000,
        },
      },
    },
    plan: { routes, silences: config.silences },
    targets,
    runId: opts.runId,
    dryRun,
    forceDigest: opts.options.digest,
    counter,
  };
}
