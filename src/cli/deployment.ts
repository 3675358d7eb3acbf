/**
 * The deployment a command acts on: the deployed function's own settings, read through Function Compute 3.0
 * (`--function NAME --region R`), or the settings in the environment. A command that changes the state refuses to
 * fall back to a local state file, which no deployed run reads, unless `--local` says that is meant.
 */
import { readConfig, type Config } from '../config/config.js';
import type { Credentials } from '../lib/secret.js';
import type { StateStore } from '../state/store.js';
import { storeFor, type Io } from './commands.js';
import { operatorCredentials } from './credentials.js';
import { functionEnvironment } from './fc3.js';
import { UsageError } from './usage.js';

/** The options every command that reads the deployment's state accepts (for node:util parseArgs). */
export const DEPLOYMENT_OPTIONS = {
  function: { type: 'string' },
  region: { type: 'string' },
  qualifier: { type: 'string' },
  'account-id': { type: 'string' },
  profile: { type: 'string' },
  endpoint: { type: 'string' },
  local: { type: 'boolean' },
} as const;

/** The values of DEPLOYMENT_OPTIONS as parsed. */
export interface DeploymentArgs {
  function?: string;
  region?: string;
  qualifier?: string;
  'account-id'?: string;
  profile?: string;
  endpoint?: string;
  local?: boolean;
}

/** A deployment opened for a command: its configuration, and its state store (credentials resolved when asked). */
export interface Deployment {
  config: Config;
  store(): Promise<StateStore>;
}

const isCredentialName = (k: string) => k.startsWith('ALIBABA_CLOUD_');

/**
 * The environment the deployed function runs with (GetFunction), as the function sees it: its variables and
 * FC_FUNCTION_NAME (which names its state when STATE_KEY is unset) and FC_REGION. From the caller's environment only
 * the ALIBABA_CLOUD_* variables are kept: local settings must not mix with the deployment's.
 */
async function deployedEnv(io: Io, args: DeploymentArgs, credentials: Credentials) {
  const region = args.region ?? io.env.ALIBABA_CLOUD_REGION_ID;
  if (!region) throw new UsageError(['--function needs --region (or ALIBABA_CLOUD_REGION_ID): the function’s region']);
  const target = {
    region,
    functionName: args.function!,
    qualifier: args.qualifier,
    accountId: args['account-id'] ?? io.env.ALIBABA_CLOUD_ACCOUNT_ID,
    endpoint: args.endpoint,
  };
  const deployed = await functionEnvironment(target, credentials);
  const own = Object.fromEntries(Object.entries(io.env).filter(([k]) => isCredentialName(k)));
  return { ...own, ...deployed, FC_FUNCTION_NAME: args.function!, FC_REGION: region };
}

/**
 * The settings of the deployment `args` name: the deployed function's environment with --function (and the operator's
 * credentials, resolved to read it), else the caller's environment. Throws a UsageError for --function with --local,
 * without a region, or without credentials.
 */
export async function deploymentEnv(
  io: Io,
  args: DeploymentArgs,
): Promise<{ env: Record<string, string | undefined>; credentials?: Credentials }> {
  if (args.local && args.function) throw new UsageError(['give --function (the deployment) or --local, not both']);
  if (!args.function) return { env: io.env };
  const credentials = await operatorCredentials(io.env, args.profile);
  return { env: await deployedEnv(io, args, credentials), credentials };
}

/**
 * Opens the deployment for `command`. With --function, reads the deployed function's settings; else the
 * environment's. Throws a UsageError when `changesState` and the state would be a local file without --local, and
 * a ConfigError when the settings are refused.
 */
export async function openDeployment(
  io: Io,
  args: DeploymentArgs,
  o: { command: string; changesState: boolean },
): Promise<Deployment> {
  const resolved = await deploymentEnv(io, args);
  const env = resolved.env;
  let credentials = resolved.credentials;
  const config = readConfig(env, { requireChannel: false });
  if (config.store.kind === 'file' && !args.local) {
    if (o.changesState)
      throw new UsageError([
        `${o.command} changes the deployment's state, and no deployment is named: pass --function NAME --region ` +
          'REGION (the deployed function’s Tablestore settings are read through Function Compute), or set ' +
          `TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE; or --local to use the local file ${config.store.path}`,
      ]);
    io.err(
      `note: no deployment named (--function or TABLESTORE_ENDPOINT): reading the local file ${config.store.path}`,
    );
  }
  // Only a command that reads or writes the table needs credentials (`policy` prints without any).
  const store = async () => {
    if (config.store.kind === 'tablestore') credentials ??= await operatorCredentials(io.env, args.profile);
    return storeFor(config, io, credentials);
  };
  return { config, store };
}
