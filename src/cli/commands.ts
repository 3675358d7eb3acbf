import { randomUUID } from 'node:crypto';
import { configSecrets, readConfig, type Config } from '../config/config.js';
import { buildRunDeps, stateStoreOver, tableFor } from '../handler/deps.js';
import { runOnce, type RunSummary } from '../handler/run.js';
import { Budget, systemClock } from '../lib/budget.js';
import { createLogger } from '../lib/log.js';
import { canSend, channelsOf, DEFAULT_ROUTE, type Route } from '../model/route.js';
import type { Credentials } from '../lib/secret.js';
import type { StateStore } from '../state/store.js';
import { operatorCredentials } from './credentials.js';
import { invokeFunction3 } from './fc3.js';
import { invokeFunction } from './fc-invoke.js';
import { UsageError } from './usage.js';
import { formatMessage } from './print.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
}

/**
 * The state store the configuration names, for an operator command: each request retried within one minute.
 * Tablestore is reached with `credentials` (the operator's), else the environment's (tableFor's default).
 */
export function storeFor(config: Config, io: Io, credentials?: Credentials): StateStore {
  const log = createLogger({ sink: (_l, line) => io.err(line), secrets: configSecrets(config), minLevel: 'warn' });
  const table = tableFor(config, credentials);
  const budget = Budget.forTimeout(systemClock, systemClock.now(), 60);
  return stateStoreOver({ table, config, budget, log, clock: systemClock });
}

/** `run`: one run in this process, against the APIs the environment names, with the environment's credentials. */
export async function runCommand(io: Io, opts: { dryRun: boolean; timeoutSec: number }): Promise<RunSummary> {
  const config = readConfig(io.env, { requireChannel: !opts.dryRun });
  const log = createLogger({ sink: (_l, line) => io.err(line), secrets: configSecrets(config), minLevel: 'warn' });
  for (const note of config.notes) log.warn(note);
  const startedAt = systemClock.now();
  const deps = buildRunDeps({
    config,
    context: { function: { timeout: opts.timeoutSec } },
    clock: systemClock,
    log,
    startedAt,
    runId: `cli-${randomUUID()}`,
    options: { dryRun: opts.dryRun, digest: false },
    dryRunSink: (target, channel, payload) =>
      io.out(formatMessage(channel, payload as Record<string, unknown>, target)),
  });
  const summary = await runOnce(deps);
  io.out(JSON.stringify(summary, null, 2));
  return summary;
}

export interface InvokeOptions {
  accountId?: string;
  region?: string;
  /** FC 2.0 only: the service holding the function. Without it the function is an FC 3.0 one. */
  service?: string;
  functionName: string;
  qualifier?: string;
  async: boolean;
  payload: string;
  endpoint?: string;
  profile?: string;
  timeoutSec: number;
}

/** What is missing or wrong in `invoke`'s arguments, each named; empty when it can run. */
function invokeProblems(o: InvokeOptions): string[] {
  const problems: string[] = [];
  if (!o.region) problems.push('--region (or ALIBABA_CLOUD_REGION_ID) is required');
  if (o.service && !o.accountId)
    problems.push(
      "--account-id (or ALIBABA_CLOUD_ACCOUNT_ID) is required with --service: FC 2.0 calls the account's endpoint",
    );
  try {
    JSON.parse(o.payload);
  } catch {
    problems.push('--payload must be JSON, for example {"dryRun":true}');
  }
  return problems;
}

/**
 * `invoke`: triggers the deployed function now with a timer-shaped event; prints its summary (sync) or request id.
 * An FC 3.0 function through the 2023-03-30 API; with `service`, a function in an FC 2.0 service through fc2.
 */
export async function invokeCommand(io: Io, given: InvokeOptions): Promise<void> {
  const o = {
    ...given,
    accountId: given.accountId ?? io.env.ALIBABA_CLOUD_ACCOUNT_ID,
    region: given.region ?? io.env.ALIBABA_CLOUD_REGION_ID,
  };
  const problems = invokeProblems(o);
  if (problems.length > 0) throw new UsageError(problems);
  const credentials = await operatorCredentials(io.env, o.profile);
  const event = JSON.stringify({
    triggerTime: new Date().toISOString(),
    triggerName: 'cli-invoke',
    payload: o.payload,
  });
  const how = { async: o.async, timeoutMs: o.timeoutSec * 1000 };
  const { region, functionName, qualifier, endpoint, accountId } = o;
  const res = o.service
    ? await invokeFunction(
        { accountId: accountId!, region: region!, service: o.service, functionName, qualifier, endpoint },
        credentials,
        event,
        how,
      )
    : await invokeFunction3({ region: region!, functionName, qualifier, endpoint, accountId }, credentials, event, how);
  if (o.async) io.out(`queued: request ${res.requestId ?? '(no id)'}; the summary goes to the function's log`);
  else io.out(prettyJson(res.output ?? ''));
}

const prettyJson = (s: string) => {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
};

/** One line per route: what it matches and where it sends, in the order alerts are matched. No secrets. */
export function describeRoutes(routes: readonly Route[]): string[] {
  if (routes.length === 1) return [];
  // Without a webhook the default route is never used: a catch-all route before it takes what is left.
  return routes
    .filter((r) => r.name !== DEFAULT_ROUTE || canSend(r))
    .map((r, i) => {
      const match = r.match
        ? Object.entries(r.match)
            .filter(([, x]) => x !== undefined)
            .map(([k, x]) => `${k}=${(x as string[]).join('|')}`)
            .join(' ')
        : r.name === DEFAULT_ROUTE
          ? 'anything else'
          : 'everything';
      const where = channelsOf(r).join(' + ') || 'no channel';
      const extras = [
        r.lang,
        r.timeZone,
        ...(r.digest ? [`digest ${r.digest.weekday ? `${r.digest.weekday} ` : ''}${r.digest.at}`] : []),
      ].join(', ');
      return `route ${i + 1} ${r.name}: ${match} -> ${where} (${extras})`;
    });
}
