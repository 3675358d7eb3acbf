import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FunctionBody = (event: Buffer, context: { requestId: string }) => Promise<string>;

export interface FcInvocation {
  path: string;
  type: 'Sync' | 'Async';
  signatureValid: boolean;
  status: number;
  event: string;
}

export interface FcServer {
  endpoint: string;
  invocations: FcInvocation[];
  /** Async invocations still running; await before asserting on their effects. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The account, credentials and functions (by `service/function`) the server accepts. */
export interface FcServerOptions {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  functions: Record<string, FunctionBody>;
}

/** Everything the server keeps: its options, what it was asked, the async invocations still running. */
interface FcState {
  opts: FcServerOptions;
  invocations: FcInvocation[];
  pending: Set<Promise<unknown>>;
}

/** One invocation request being answered, with its record and request id. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  inv: FcInvocation;
  body: Buffer;
  requestId: string;
}

/** An FC error answer: HTTP status, ErrorCode, ErrorMessage. */
type Refusal = [status: number, code: string, message: string];

function refuse(x: Exchange, [status, code, message]: Refusal): void {
  x.inv.status = status;
  x.res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': x.requestId });
  x.res.end(JSON.stringify({ ErrorCode: code, ErrorMessage: message }));
}

/** `FC <ak>:<sig>`: HMAC-SHA256 over method, content-md5, content-type, date, the x-fc-* headers sorted, and path. */
function expectedAuthorization(opts: FcServerOptions, req: IncomingMessage, path: string): string {
  const h = req.headers;
  const fcHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-fc-'))
    .sort()
    .map((k) => `${k}:${String(h[k])}\n`)
    .join('');
  const md5 = h['content-md5'] ?? '';
  const toSign = `${req.method}\n${md5}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${fcHeaders}${path}`;
  const signature = createHmac('sha256', opts.accessKeySecret).update(toSign, 'utf8').digest('base64');
  return `FC ${opts.accessKeyId}:${signature}`;
}

/** Why FC refuses the request before running anything (account, signature, STS token, Content-MD5, clock skew). */
function authRefusal(opts: FcServerOptions, x: Exchange): Refusal | undefined {
  const h = x.req.headers;
  x.inv.signatureValid = h.authorization === expectedAuthorization(opts, x.req, x.inv.path);
  if (h['x-fc-account-id'] !== opts.accountId) return [403, 'AccessDenied', 'The account id does not match.'];
  if (!x.inv.signatureValid)
    return [403, 'SignatureNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  if (opts.securityToken !== undefined && h['x-fc-security-token'] !== opts.securityToken)
    return [403, 'InvalidSecurityToken', 'The security token is invalid.'];
  const md5 = Buffer.from(createHash('md5').update(x.body).digest('hex')).toString('base64');
  if (x.body.length > 0 && h['content-md5'] !== md5)
    return [400, 'InvalidArgument', 'Content-MD5 does not match the body.'];
  if (Math.abs(Date.now() - Date.parse(String(h.date))) > 15 * 60_000)
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the server time is too large.'];
  return undefined;
}

/** The function the path names (`/2016-08-15/services/<service>[.<qualifier>]/functions/<name>/invocations`). */
function functionOf(opts: FcServerOptions, path: string): FunctionBody | Refusal {
  const m = /^\/2016-08-15\/services\/([^/.]+)(?:\.([^/]+))?\/functions\/([^/]+)\/invocations$/.exec(path);
  if (!m) return [404, 'PathNotSupported', 'Unknown path.'];
  const fn = opts.functions[`${m[1]}/${m[3]}`];
  return fn ?? [404, 'FunctionNotFound', `function '${m[3]}' does not exist in service '${m[1]}'`];
}

/** Async: 202 at once, the function runs afterwards (tracked until it settles). */
function invokeAsync(s: FcState, x: Exchange, fn: FunctionBody): void {
  x.inv.status = 202;
  x.res.writeHead(202, { 'x-fc-request-id': x.requestId });
  x.res.end();
  const p = fn(x.body, { requestId: x.requestId }).catch(() => undefined);
  s.pending.add(p);
  void p.finally(() => s.pending.delete(p));
}

/** Sync: 200 with the result, or 200 with x-fc-error-type and the error as JSON when the function throws. */
async function invokeSync(x: Exchange, fn: FunctionBody): Promise<void> {
  try {
    const out = await fn(x.body, { requestId: x.requestId });
    x.inv.status = 200;
    x.res.writeHead(200, { 'x-fc-request-id': x.requestId, 'content-type': 'text/plain' });
    x.res.end(out);
  } catch (err) {
    x.inv.status = 200;
    x.res.writeHead(200, {
      'x-fc-request-id': x.requestId,
      'x-fc-error-type': 'UnhandledInvocationError',
      'content-type': 'application/json',
    });
    const errorMessage = err instanceof Error ? err.message : String(err);
    x.res.end(JSON.stringify({ errorMessage, errorType: 'Error', stackTrace: [] }));
  }
}

async function serve(s: FcState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const path = (req.url ?? '/').split('?')[0]!;
  const type = req.headers['x-fc-invocation-type'] === 'Async' ? 'Async' : 'Sync';
  const inv: FcInvocation = { path, type, signatureValid: false, status: 0, event: body.toString('utf8') };
  s.invocations.push(inv);
  const x: Exchange = { req, res, inv, body, requestId: randomUUID() };
  const refusal = authRefusal(s.opts, x);
  if (refusal) return refuse(x, refusal);
  const fn = functionOf(s.opts, path);
  if (Array.isArray(fn)) return refuse(x, fn);
  if (type === 'Async') invokeAsync(s, x, fn);
  else await invokeSync(x, fn);
}

/**
 * A local Function Compute invoke endpoint (API 2016-08-15) for `@alicloud/fc2`: it checks the account id, the
 * HMAC-SHA256 `authorization: FC <ak>:<sig>` over method, content-md5 (base64 of the hex digest), content-type,
 * date and x-fc-* headers, the STS token and the date skew, then runs the registered function. Sync answers 200 with
 * the result (or 200 + x-fc-error-type when it throws, as FC does); async answers 202 and runs it afterwards.
 */
export async function startFcServer(opts: FcServerOptions): Promise<FcServer> {
  const s: FcState = { opts, invocations: [], pending: new Set() };
  const server = createServer((req, res) => void serve(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations: s.invocations,
    settled: async () => {
      await Promise.all([...s.pending]);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
