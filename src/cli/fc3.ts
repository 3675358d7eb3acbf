/**
 * Function Compute 3.0 (API 2023-03-30) through `@alicloud/fc20230330`: invoke a function, and read a deployed
 * function's environment (GetFunction), which holds the deployment's Tablestore settings. InvokeFunction goes to the
 * account's endpoint `<account>.<region>.fc.aliyuncs.com`, where Serverless Devs' fc3 component sends it (devsapp/fc3
 * src/resources/fc/impl/client.ts); GetFunction to the regional `fcv3.<region>.aliyuncs.com` unless the account is
 * known. When the account id is not given, it is read from the function's ARN (`functionArn`,
 * `acs:fc:<region>:<account>:functions/<name>`, in the `Function` GetFunction returns:
 * https://www.alibabacloud.com/help/en/functioncompute/fc/developer-reference/api-fc-2023-03-30-struct-function):
 * the account that holds the function, where STS GetCallerIdentity would name the caller's (another one for a
 * cross-account role).
 */
import type * as Fc3 from '@alicloud/fc20230330';
import { Readable } from 'node:stream';
import { IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import { functionFailed, type InvokeResult } from './fc-invoke.js';

/** Where an FC 3.0 function is: its region, and how to reach the API. */
export interface Fc3Target {
  region: string;
  functionName: string;
  qualifier?: string;
  /** The account the function is in: names the invoke endpoint; found through GetFunction when not given. */
  accountId?: string;
  /** Overrides the endpoint: a local one in tests (`http://127.0.0.1:port`). */
  endpoint?: string;
}

type ClientClass = typeof Fc3.default;

/**
 * The SDK, loaded when a command calls FC: its models take a third of a second to load, which every other command
 * would pay. It is CommonJS with `exports.default = Client`: under Node's ES module loader the default import is the
 * whole exports object, under a bundler's interop it is the class.
 */
async function sdk() {
  const fc3 = await import('@alicloud/fc20230330');
  const Client = (fc3.default as ClientClass & { default?: ClientClass }).default ?? fc3.default;
  return { fc3, Client };
}

/**
 * The endpoint: an override as given; else the account's endpoint when the account id is known, else the regional
 * management endpoint `fcv3.<region>.aliyuncs.com`.
 */
function endpointOf(t: Fc3Target): { endpoint: string; protocol: string } {
  if (t.endpoint) {
    const u = new URL(t.endpoint);
    return { endpoint: u.host, protocol: u.protocol.replace(':', '') };
  }
  const host = t.accountId ? `${t.accountId}.${t.region}.fc.aliyuncs.com` : `fcv3.${t.region}.aliyuncs.com`;
  return { endpoint: host, protocol: 'https' };
}

async function clientFor(t: Fc3Target, credentials: Credentials, timeoutMs: number) {
  const { fc3, Client } = await sdk();
  const client = new Client({
    ...endpointOf(t),
    accessKeyId: credentials.accessKeyId.reveal(),
    accessKeySecret: credentials.accessKeySecret.reveal(),
    securityToken: credentials.securityToken?.reveal(),
    regionId: t.region,
    readTimeout: timeoutMs,
    connectTimeout: 10_000,
  } as ConstructorParameters<ClientClass>[0]);
  return { fc3, client };
}

/** The SDK's rejection as an IntegrationError built from its code and status only (its message names the host). */
function refused(err: unknown, what: string): IntegrationError {
  const e = err as { code?: unknown; statusCode?: unknown; data?: { RequestId?: unknown } };
  const code = typeof e.code === 'string' && e.code !== 'undefined' ? e.code : undefined;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const requestId = typeof e.data?.RequestId === 'string' ? e.data.RequestId : undefined;
  const kind = status !== undefined && status < 500 && status !== 429 ? 'config' : 'retryable';
  const detail = code ?? (err instanceof Error ? err.message.slice(0, 200) : 'no answer');
  return new IntegrationError(`Function Compute refused ${what} (${detail})`, {
    service: 'fc',
    kind,
    code,
    status,
    requestId,
  });
}

/** The function's configuration (GetFunction). Throws an IntegrationError when FC refuses. */
async function getFunction(t: Fc3Target, credentials: Credentials): Promise<Fc3.Function> {
  const { fc3, client } = await clientFor(t, credentials, 20_000);
  try {
    const res = await client.getFunction(t.functionName, new fc3.GetFunctionRequest({ qualifier: t.qualifier }));
    return res.body ?? new fc3.Function({});
  } catch (err) {
    throw refused(err, `to read the function ${t.functionName}`);
  }
}

/** The deployed function's environment variables (GetFunction). Throws an IntegrationError when FC refuses. */
export async function functionEnvironment(t: Fc3Target, credentials: Credentials): Promise<Record<string, string>> {
  return { ...((await getFunction(t, credentials)).environmentVariables ?? {}) };
}

/**
 * The account id the function's ARN names (GetFunction's `functionArn`, `acs:fc:<region>:<account>:functions/<name>`).
 * Throws an IntegrationError naming `--account-id` and the RAM action when FC refuses or the ARN has no account.
 */
export async function functionAccount(t: Fc3Target, credentials: Credentials): Promise<string> {
  const why = (detail: string) =>
    `cannot find the account id for Function Compute's invoke endpoint <account-id>.${t.region}.fc.aliyuncs.com: ` +
    `${detail}. Pass --account-id <id> (or set ALIBABA_CLOUD_ACCOUNT_ID), or allow fc:GetFunction on the function`;
  let arn: string | undefined;
  try {
    arn = (await getFunction(t, credentials)).functionArn;
  } catch (err) {
    const e = err as IntegrationError;
    throw new IntegrationError(why(e.message), { service: 'fc', kind: e.kind, code: e.code, status: e.status });
  }
  const account = /^acs:fc:[^:]*:(\d+):/.exec(arn ?? '')?.[1];
  if (!account)
    throw new IntegrationError(why(`GetFunction answered no account in functionArn (${arn ?? 'none'})`), {
      service: 'fc',
      kind: 'config',
    });
  return account;
}

/**
 * Invokes an FC 3.0 function (`POST /2023-03-30/functions/<name>/invocations`) at the account's endpoint, finding
 * the account through GetFunction when `t` names none (and no endpoint override). Sync waits for its return value;
 * async only queues the event (HTTP 202). A function that threw is answered HTTP 200 with `x-fc-error-type`, which
 * the SDK resolves as success: that case becomes an IntegrationError here.
 */
export async function invokeFunction3(
  t: Fc3Target,
  credentials: Credentials,
  event: string,
  opts: { async: boolean; timeoutMs: number },
): Promise<InvokeResult> {
  // The account's endpoint, never the regional management one: an override (--endpoint) is taken as given.
  const accountId = t.accountId ?? (t.endpoint ? undefined : await functionAccount(t, credentials));
  const { fc3, client } = await clientFor({ ...t, accountId }, credentials, opts.timeoutMs);
  let res: Fc3.InvokeFunctionResponse;
  try {
    res = await client.invokeFunctionWithOptions(
      t.functionName,
      new fc3.InvokeFunctionRequest({ qualifier: t.qualifier, body: Readable.from([Buffer.from(event)]) }),
      new fc3.InvokeFunctionHeaders({ xFcInvocationType: opts.async ? 'Async' : 'Sync' }),
      {} as Parameters<typeof client.invokeFunctionWithOptions>[3],
    );
  } catch (err) {
    throw refused(err, 'the invocation');
  }
  const chunks: Buffer[] = [];
  if (res.body) for await (const c of res.body) chunks.push(Buffer.from(c as Buffer));
  const output = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
  const requestId = res.headers?.['x-fc-request-id'];
  const errorType = res.headers?.['x-fc-error-type'];
  if (errorType) throw functionFailed(errorType, output, requestId);
  return { requestId, output: opts.async ? undefined : output };
}
