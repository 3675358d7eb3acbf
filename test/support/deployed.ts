/**
 * What a CLI test needs to act on a deployment: the operator's keys as environment variables, and a local Function
 * Compute 3.0 server holding one function, `acr-sync-alert`, configured with the given variables.
 */
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { closeWorlds, KEYS } from './world.js';

/** The test keys as the ALIBABA_CLOUD_* variables the credential chain reads first. */
export const KEY_ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret,
  ALIBABA_CLOUD_SECURITY_TOKEN: KEYS.token,
};

const open = new Set<FcServer>();

/**
 * An FC 3.0 server whose function `acr-sync-alert` has `environmentVariables` (GetFunction answers them); closed by
 * closeDeployed.
 */
export async function startDeployedFunction(environmentVariables: Record<string, string>): Promise<FcServer> {
  const fc = await startFcServer({
    accountId: '1234567890123456',
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    securityToken: KEYS.token,
    functions: {},
    fc3Functions: { 'acr-sync-alert': { invoke: async () => '{}', environmentVariables } },
  });
  open.add(fc);
  return fc;
}

/** Closes every server startDeployedFunction started, and the worlds (closeWorlds): a test file's teardown. */
export async function closeDeployed(): Promise<void> {
  for (const fc of [...open]) await fc.close();
  open.clear();
  await closeWorlds();
}
