import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ASYNC_RETRIES, runAsync, timerEventBody, track, type TimerEvent } from './fc-async.js';
import {
  acs3Refusal,
  fc3Route,
  hostRefusal,
  functionConfiguration,
  type Fc3Function,
  type Fc3Refusal,
} from './fc3-api.js';

export type FunctionBody = (event: Buffer, context: { requestId: string }) => Promise<string>;

export interface FcInvocation {
  /** Which API was called: FC 2.0 (services) or FC 3.0 (functions only). */
  api: '2016-08-15' | '2023-03-30';
  path: string;
  type: 'Sync' | 'Async';
  signatureValid: boolean;
  status: number;
  event: string;
  /** The Host the request named (FC 3.0). */
  host?: string;
  /** Async: how many times the function ran (the first run and FC's retries after a function error). */
  attempts?: number;
  /** Set when a trigger of the function invoked it (FC itself, no API request). */
  trigger?: 'timer';
}

export interface FcServer {
  endpoint: string;
  invocations: FcInvocation[];
  /** The FC 3.0 functions whose configuration was read (GetFunction), by name, signed or not. */
  configReads: { name: string; status: number }[];
  /** Async invocations still running, retries included; await before asserting on their effects. */
  settled(): Promise<void>;
  /** The FC 3.0 function's timer trigger fires: FC invokes it asynchronously with a timer event. */
  fireTimer(name: string, event: TimerEvent): void;
  close(): Promise<void>;
}

/** The account, credentials and functions (by `service/function`) the server accepts. */
export interface FcServerOptions {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  functions: Record<string, FunctionBody>;
  /** FC 3.0 functions by name (no service), for the 2023-03-30 API. */
  fc3Functions?: Record<string, Fc3Function>;
  /** The region FC 3.0 answers name in ARNs (default cn-hangzhou). */
  region?: string;
}

/** Everything the server keeps: its options, what it was asked, the async invocations still running. */
interface FcState {
  opts: FcServerOptions;
  invocations: FcInvocation[];
  configReads: { name: string; status: number }[];
  /** `127.0.0.1:<port>`, once listening. */
  loopback: string;
  pending: Set<Promise<unknown>>;
  /** Signature nonces already used (FC 3.0 refuses a replay). */
  nonces: Set<string>;
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

/** Async: 202 at once, the function runs afterwards, retried after a function error (tracked until it settles). */
function invokeAsync(s: FcState, x: Exchange, fn: FunctionBody, retries = DEFAULT_ASYNC_RETRIES): void {
  x.inv.status = 202;
  x.res.writeHead(202, { 'x-fc-request-id': x.requestId });
  x.res.end();
  track(s.pending, runAsync(fn, { record: x.inv, body: x.body, requestId: x.requestId }, retries));
}

/** A timer trigger firing: an async invocation FC makes itself, retried per the function's async configuration. */
function fireTimer(s: FcState, name: string, e: TimerEvent): void {
  const f = s.opts.fc3Functions?.[name];
  if (!f) throw new Error(`no FC 3.0 function ${name}`);
  const body = timerEventBody(e);
  const inv: FcInvocation = {
    api: '2023-03-30',
    path: `/2023-03-30/functions/${name}/invocations`,
    type: 'Async',
    signatureValid: true,
    status: 202,
    event: body.toString('utf8'),
    trigger: 'timer',
  };
  s.invocations.push(inv);
  const retries = f.maxAsyncRetryAttempts ?? DEFAULT_ASYNC_RETRIES;
  track(s.pending, runAsync(f.invoke, { record: inv, body, requestId: randomUUID() }, retries));
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

/** An FC 3.0 error answer, in the gateway's `{Code, Message, RequestId}` shape. */
function refuse3(res: ServerResponse, requestId: string, [status, code, message]: Fc3Refusal): number {
  res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': requestId });
  res.end(JSON.stringify({ Code: code, Message: message, RequestId: requestId }));
  return status;
}

/** Why a 2023-03-30 request is refused: its path, its Host, its signature, or an unknown function. */
function refusal3(s: FcState, x: Exchange, route: ReturnType<typeof fc3Route>): Fc3Refusal | undefined {
  if (!route) return [404, 'PathNotFound', 'Unknown path.'];
  const hosts = { accountId: s.opts.accountId, region: s.opts.region ?? 'cn-hangzhou', loopback: s.loopback };
  return (
    hostRefusal(route.action, x.inv.host, hosts) ??
    acs3Refusal(s.opts, x.req, x.body, s.nonces) ??
    (s.opts.fc3Functions?.[route.name] ? undefined : [404, 'FunctionNotFound', `function '${route.name}' not found`])
  );
}

/** A 2023-03-30 request: signed with ACS3-HMAC-SHA256; GetFunction answers the configuration, invoke runs it. */
async function serve3(s: FcState, x: Exchange): Promise<void> {
  const route = fc3Route(x.req.method, x.inv.path);
  x.inv.host = x.req.headers.host;
  const refusal = refusal3(s, x, route);
  x.inv.signatureValid = refusal === undefined || !/Signature|AccessKey|Token|TimeStamp|Endpoint/.test(refusal[1]);
  if (route?.action === 'GetFunction') {
    const fn = s.opts.fc3Functions?.[route.name];
    const status = refusal ? refuse3(x.res, x.requestId, refusal) : 200;
    if (fn && !refusal) {
      const region = s.opts.region ?? 'cn-hangzhou';
      x.res.writeHead(200, { 'content-type': 'application/json', 'x-fc-request-id': x.requestId });
      x.res.end(JSON.stringify(functionConfiguration(route.name, fn, region, s.opts.accountId)));
    }
    s.configReads.push({ name: route.name, status });
    return;
  }
  s.invocations.push(x.inv);
  if (refusal) {
    x.inv.status = refuse3(x.res, x.requestId, refusal);
    return;
  }
  const fn = s.opts.fc3Functions![route!.name]!;
  if (x.inv.type === 'Async') invokeAsync(s, x, fn.invoke, fn.maxAsyncRetryAttempts);
  else await invokeSync(x, fn.invoke);
}

async function serve(s: FcState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const path = (req.url ?? '/').split('?')[0]!;
  const type = req.headers['x-fc-invocation-type'] === 'Async' ? 'Async' : 'Sync';
  const api = path.startsWith('/2023-03-30/') ? '2023-03-30' : '2016-08-15';
  const inv: FcInvocation = { api, path, type, signatureValid: false, status: 0, event: body.toString('utf8') };
  const x: Exchange = { req, res, inv, body, requestId: randomUUID() };
  if (api === '2023-03-30') return serve3(s, x);
  s.invocations.push(inv);
  const refusal = authRefusal(s.opts, x);
  if (refusal) return refuse(x, refusal);
  const fn = functionOf(s.opts, path);
  if (Array.isArray(fn)) return refuse(x, fn);
  if (type === 'Async') invokeAsync(s, x, fn);
  else await invokeSync(x, fn);
}

/**
 * A local Function Compute endpoint. FC 3.0 (API 2023-03-30, `@alicloud/fc20230330`): InvokeFunction and
 * GetFunction, signed with ACS3-HMAC-SHA256 (see fc3-api.ts). FC 2.0 (API 2016-08-15, `@alicloud/fc2`):
 * it checks the account id, the HMAC-SHA256 `authorization: FC <ak>:<sig>` over method, content-md5 (base64 of the
 * hex digest), content-type, date and x-fc-* headers, the STS token and the date skew. Then both run the registered
 * function: sync answers 200 with the result (or 200 + x-fc-error-type when it throws, as FC does); async answers
 * 202 and runs it afterwards.
 */
export async function startFcServer(opts: FcServerOptions): Promise<FcServer> {
  const s: FcState = { opts, invocations: [], configReads: [], loopback: '', pending: new Set(), nonces: new Set() };
  const server = createServer((req, res) => void serve(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.loopback = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint: `http://${s.loopback}`,
    invocations: s.invocations,
    configReads: s.configReads,
    settled: async () => {
      await Promise.all([...s.pending]);
    },
    fireTimer: (name, event) => fireTimer(s, name, event),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
