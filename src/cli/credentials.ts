/**
 * The operator's cloud credentials, found as Alibaba Cloud's own SDKs and CLIs find them (`@alicloud/credentials`'
 * default chain): the ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN variables, the `aliyun` CLI's profiles
 * (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE), ~/.alibabacloud/credentials, an ECS RAM role.
 */
import * as credentials from '@alicloud/credentials';
import { envCredentials } from '../config/config.js';
import { Secret, type Credentials } from '../lib/secret.js';
import { UsageError } from './usage.js';

type Module = typeof credentials;
// CommonJS with named exports: the same under Node's ES module loader and a bundler's interop.
const chain = credentials as Module & { default: Module };
const providers = chain.DefaultCredentialsProvider ? chain : chain.default;

/**
 * Credentials for a command that calls the cloud. `--profile NAME` takes that profile of the `aliyun` CLI; else the
 * variables in `env` (the process environment, or a test's); else the rest of the default chain. Throws a
 * UsageError naming what to set when nothing is found.
 */
export async function operatorCredentials(env: Record<string, string | undefined>, profile?: string) {
  const fromEnv = profile ? undefined : envCredentials(env);
  if (fromEnv) return fromEnv;
  const provider = profile
    ? providers.CLIProfileCredentialsProvider.builder().withProfileName(profile).build()
    : providers.DefaultCredentialsProvider.builder().build();
  try {
    const c = await provider.getCredentials();
    return {
      accessKeyId: new Secret(c.accessKeyId),
      accessKeySecret: new Secret(c.accessKeySecret),
      securityToken: c.securityToken ? new Secret(c.securityToken) : undefined,
    } satisfies Credentials;
  } catch (err) {
    // The chain's message lists each provider's reason; none of them holds a key.
    const why = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : String(err);
    throw new UsageError([
      `no cloud credentials${profile ? ` in the aliyun CLI profile "${profile}"` : ''} (${why}): set ` +
        'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure the aliyun CLI ' +
        '(aliyun configure) and pass --profile NAME',
    ]);
  }
}
