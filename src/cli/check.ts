/**
 * `check`: everything a run needs, one line each, ✓ or ✗ with what to change: the configuration (a setting that only
 * looks like ours is an error), CR credentials and each instance, the state table, and each channel.
 */
import { lookalikeSettings, readConfig, type Config } from '../config/config.js';
import { targetsFor } from '../handler/deps.js';
import { systemClock } from '../lib/budget.js';
import { ConfigError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import { describeRoutes, type Io } from './commands.js';
import { probeChannel, probeCr, probeState, type Check } from './check-probes.js';
import { operatorCredentials } from './credentials.js';
import { deploymentEnv, type DeploymentArgs } from './deployment.js';
import { UsageError } from './usage.js';

export type { Check } from './check-probes.js';

/** What `check` found: every line, the routes, and notes (a deprecated name, whose credentials were tried). */
export interface CheckReport {
  ok: boolean;
  checks: Check[];
  /** The routes in matching order, when there are several (see describeRoutes). */
  routes: string[];
  notes: string[];
}

/** The configuration's lines: each lookalike setting and each problem as ✗, else one ✓ saying what was read. */
function configChecks(env: Io['env']): { config?: Config; checks: Check[]; notes: string[] } {
  const lookalikes = lookalikeSettings(env);
  const checks: Check[] = lookalikes.map((said) => ({
    ok: false,
    what: 'configuration',
    said,
    fix: 'rename it to the setting named, or remove it',
  }));
  let config: Config;
  try {
    config = readConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const fix = 'correct the setting (docs/configuration.md lists them)';
    checks.push(...err.problems.map((said) => ({ ok: false, what: 'configuration', said, fix })));
    return { checks, notes: [] };
  }
  const s = config.store;
  const where = s.kind === 'file' ? `file ${s.path}` : `Tablestore ${s.instance}/${s.table}`;
  const said = `read: ${config.instances.length} instance(s), ${config.routes.length} route(s), state in ${where}`;
  checks.unshift({ ok: true, what: 'configuration', said });
  return { config, checks, notes: config.notes.filter((n) => !lookalikes.includes(n)) };
}

/** The operator's credentials, or the ✗ line saying how to give them. */
async function credentialsOr(io: Io, profile: string | undefined): Promise<Credentials | Check> {
  try {
    return await operatorCredentials(io.env, profile);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { ok: false, what: 'CR credentials', said: 'none found', fix: err.message.replace(/^usage: /, '') };
  }
}

/**
 * Runs every check for the deployment `args` name (--function reads the deployed function's settings, else the
 * environment's). Sends a test message to each channel only when `send`. Throws only a UsageError (a deployment named
 * wrongly); every other failure is a ✗ line.
 */
export async function runChecks(io: Io, args: DeploymentArgs, send: boolean): Promise<CheckReport> {
  const resolved = await deploymentEnv(io, args);
  const { config, checks, notes } = configChecks(resolved.env);
  if (config) {
    const credentials = resolved.credentials ?? (await credentialsOr(io, args.profile));
    if ('ok' in credentials) checks.push(credentials);
    else {
      notes.push('CR and Tablestore were tried with your credentials; the function uses its role, which may differ');
      checks.push(...(await probeCr(config, credentials)), ...(await probeState(config, credentials)));
    }
    for (const t of targetsFor(config, systemClock)) checks.push(await probeChannel(config, t, send));
  }
  const routes = config ? describeRoutes(config.routes) : [];
  return { ok: checks.every((c) => c.ok), checks, routes, notes };
}

/** A report line: "✓ what: said", or "✗ what: said — fix: …". */
export const checkLine = (c: Check): string =>
  `${c.ok ? '✓' : '✗'} ${c.what}: ${c.said}${c.ok || !c.fix ? '' : ` — fix: ${c.fix}`}`;

/** `check [--send] [--json]`: prints the report; returns the exit code, 0 when every line is ✓, else 1. */
export async function checkCommand(io: Io, args: DeploymentArgs & { send?: boolean; json?: boolean }): Promise<number> {
  const report = await runChecks(io, args, args.send ?? false);
  if (args.json) io.out(JSON.stringify(report, null, 2));
  else {
    for (const c of report.checks) io.out(checkLine(c));
    for (const r of report.routes) io.out(r);
    for (const n of report.notes) io.out(`note: ${n}`);
  }
  return report.ok ? 0 : 1;
}
