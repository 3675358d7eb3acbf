import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
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

/**
 * A local Function Compute invoke endpoint (API 2016-08-15) for `@alicloud/fc2`: it checks the account id, the
 * HMAC-SHA256 `authorization: FC <ak>:<sig>` over method, content-md5 (base64 of the hex digest), content-type,
 * date and x-fc-* headers, the STS token and the date skew, then runs the registered function. Sync answers 200 with
 * the result (or 200 + x-fc-error-type when it throws, as FC does); async answers 202 and runs it afterwards.
 */
export async function startFcServer(opts: {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  functions: Record<string, FunctionBody>;
}): Promise<FcServer> {
  const invocations: FcInvocation[] = [];
  const pending = new Set<Promise<unknown>>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0]!;
    const h = req.headers;
    const type = h['x-fc-invocation-type'] === 'Async' ? 'Async' : 'Sync';
    const inv: FcInvocation = { path, type, signatureValid: false, status: 0, event: body.toString('utf8') };
    invocations.push(inv);
    const rid = randomUUID();
    const fail = (status: number, code: string, message: string) => {
      inv.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': rid });
      res.end(JSON.stringify({ ErrorCode: code, ErrorMessage: message }));
    };
    const fcHeaders = Object.keys(h)
      .filter((k) => k.startsWith('x-fc-'))
      .sort()
      .map((k) => `${k}:${String(h[k])}\n`)
      .join('');
    const toSign = `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${fcHeaders}${path}`;
    const expected = `FC ${opts.accessKeyId}:${createHmac('sha256', opts.accessKeySecret).update(toSign, 'utf8').digest('base64')}`;
    inv.signatureValid = h.authorization === expected;
    if (h['x-fc-account-id'] !== opts.accountId) return fail(403, 'AccessDenied', 'The account id does not match.');
    if (!inv.signatureValid)
      return fail(
        403,
        'SignatureNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    if (opts.securityToken !== undefined && h['x-fc-security-token'] !== opts.securityToken)
      return fail(403, 'InvalidSecurityToken', 'The security token is invalid.');
    const md5 = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');
    if (body.length > 0 && h['content-md5'] !== md5)
      return fail(400, 'InvalidArgument', 'Content-MD5 does not match the body.');
    if (Math.abs(Date.now() - Date.parse(String(h.date))) > 15 * 60_000)
      return fail(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the server time is too large.',
      );
    const m = /^\/2016-08-15\/services\/([^/.]+)(?:\.([^/]+))?\/functions\/([^/]+)\/invocations$/.exec(path);
    if (!m) return fail(404, 'PathNotSupported', 'Unknown path.');
    const fn = opts.functions[`${m[1]}/${m[3]}`];
    if (!fn) return fail(404, 'FunctionNotFound', `function '${m[3]}' does not exist in service '${m[1]}'`);
    if (type === 'Async') {
      inv.status = 202;
      res.writeHead(202, { 'x-fc-request-id': rid });
      res.end();
      const p = fn(body, { requestId: rid }).catch(() => undefined);
      pending.add(p);
      void p.finally(() => pending.delete(p));
      return;
    }
    try {
      const out = await fn(body, { requestId: rid });
      inv.status = 200;
      res.writeHead(200, { 'x-fc-request-id': rid, 'content-type': 'text/plain' });
      res.end(out);
    } catch (err) {
      inv.status = 200;
      res.writeHead(200, {
        'x-fc-request-id': rid,
        'x-fc-error-type': 'UnhandledInvocationError',
        'content-type': 'application/json',
      });
      res.end(
        JSON.stringify({
          errorMessage: err instanceof Error ? err.message : String(err),
          errorType: 'Error',
          stackTrace: [],
        }),
      );
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    settled: async () => {
      await Promise.all([...pending]);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
