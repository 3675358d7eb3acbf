/**
 * Function Compute 3.0 (API 2023-03-30) through `@alicloud/fc20230330`: invoke a function, and read a deployed
 * function's environment (GetFunction), which holds the deployment's Tablestore settings.
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
  /** With it, the account's endpoint `<account>.<region>.fc.aliyuncs.com` (as the fc3 component uses). */
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
 * The endpoint: an override as given; else the account's endpoint when the account id is known (what Serverless
 * Devs' fc3 component calls, devsapp/fc3 src/resources/fc/impl/client.ts), else the regional `fcv3.<region>` one.
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

/** The deployed function's environment variables (GetFunction). Throws an IntegrationError when FC refuses. */
export async function functionEnvironment(t: Fc3Target, credentials: Credentials): Promise<Record<string, string>> {
  const { fc3, client } = await clientFor(t, credentials, 20_000);
  try {
    const res = await client.getFunction(t.functionName, new fc3.GetFunctionRequest({ qualifier: t.qualifier }));
    return { ...(res.body?.environmentVariables ?? {}) };
  } catch (err) {
    throw refused(err, `to read the function ${t.functionName}`);
  }
}

/**
 * Invokes an FC 3.0 function (`POST /2023-03-30/functions/<name>/invocations`). Sync waits for its return value;
 * async only queues the event (HTTP 202). A function that threw is answered HTTP 200 with `x-fc-error-type`, which
 * the SDK resolves as success: that case becomes an IntegrationError here.
 */
export async function invokeFunction3(
  t: Fc3Target,
  credentials: Credentials,
  event: string,
  opts: { async: boolean; timeoutMs: number },
): Promise<InvokeResult> {
  const { fc3, client } = await clientFor(t, credentials, opts.timeoutMs);
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
