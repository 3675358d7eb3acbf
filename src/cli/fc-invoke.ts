import type FC2 from '@alicloud/fc2';
import { IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';

export interface InvokeTarget {
  accountId: string;
  region: string;
  service: string;
  functionName: string;
  qualifier?: string;
  /** Overrides https://<account>.<region>.fc.aliyuncs.com (a local endpoint in tests). */
  endpoint?: string;
}

export interface InvokeResult {
  requestId?: string;
  /** The function's return value (sync), or undefined for an async invocation that was only queued. */
  output?: string;
}

/** fc2's rejection as an IntegrationError, rebuilt from its code alone: a wrong account, key or name is config. */
function refusedInvocation(err: unknown): IntegrationError {
  const e = err as { code?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  // fc2's message embeds the request path and id but no key; still, rebuild it from the code alone.
  const kind =
    code &&
    /^(AccessDenied|InvalidAccessKeyID|SignatureNotMatch|ServiceNotFound|FunctionNotFound|InvalidArgument)/.test(code)
      ? 'config'
      : 'retryable';
  return new IntegrationError(`Function Compute refused the invocation${code ? ` (${code})` : ''}`, {
    service: 'fc',
    kind,
    code,
  });
}

/** The function's return value as text: fc2 parses a JSON answer, which is turned back into JSON text. */
function outputOf(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  return data === undefined || data === null ? undefined : JSON.stringify(data);
}

/** The error a function threw, as FC 2.0 and 3.0 report it (HTTP 200, x-fc-error-type, the error as JSON). */
export function functionFailed(
  errorType: string,
  output: string | undefined,
  requestId: string | undefined,
): IntegrationError {
  let message = output ?? '';
  try {
    message = String((JSON.parse(output ?? '{}') as { errorMessage?: unknown }).errorMessage ?? message);
  } catch {
    // not JSON: keep the raw text
  }
  return new IntegrationError(`the function failed (${errorType}): ${message.slice(0, 500)}`, {
    service: 'fc',
    kind: 'permanent',
    code: errorType,
    requestId,
  });
}

/**
 * Invokes the deployed function through @alicloud/fc2 (API 2016-08-15, services and functions). Sync waits for the
 * summary; async only queues the event (HTTP 202). A function that threw is reported by FC as HTTP 200 with an
 * `x-fc-error-type` header, which fc2 resolves as success: that case becomes an IntegrationError here.
 */
export async function invokeFunction(
  target: InvokeTarget,
  credentials: Credentials,
  event: string,
  opts: { async: boolean; timeoutMs: number },
): Promise<InvokeResult> {
  // Loaded when used: every other command would pay for loading it.
  const FCClient = (await import('@alicloud/fc2')).default as typeof FC2;
  const client = new FCClient(target.accountId, {
    accessKeyID: credentials.accessKeyId.reveal(),
    accessKeySecret: credentials.accessKeySecret.reveal(),
    securityToken: credentials.securityToken?.reveal(),
    region: target.region,
    endpoint: target.endpoint,
    secure: true,
    timeout: opts.timeoutMs,
  });
  const headers: Record<string, string> = opts.async ? { 'x-fc-invocation-type': 'Async' } : {};
  let res: { headers: Record<string, string>; data: unknown };
  try {
    res = await client.invokeFunction(target.service, target.functionName, event, headers, target.qualifier);
  } catch (err) {
    throw refusedInvocation(err);
  }
  const requestId = res.headers['x-fc-request-id'];
  const output = outputOf(res.data);
  const errorType = res.headers['x-fc-error-type'];
  if (errorType) throw functionFailed(errorType, output, requestId);
  return { requestId, output: opts.async ? undefined : output };
}
