/**
 * The Function Compute 3.0 API (2023-03-30) as `@alicloud/fc20230330` speaks it: ROA paths under `/2023-03-30/`,
 * signed with ACS3-HMAC-SHA256 (the V3 signature of Alibaba Cloud's OpenAPI gateway). Sources: aliyun/
 * alibabacloud-typescript-sdk `fc-20230330/src/client.ts` (paths, methods) and `@alicloud/openapi-core`
 * `utils.getAuthorization` (the canonical request); errors answer `{Code, Message, RequestId}` as that gateway does.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A function the FC 3.0 API knows: what runs on invoke, and the configuration GetFunction returns. */
export interface Fc3Function {
  invoke: (event: Buffer, context: { requestId: string }) => Promise<string>;
  environmentVariables?: Record<string, string>;
  timeout?: number;
  /** `asyncInvokeConfig.maxAsyncRetryAttempts`: how often FC runs an async event again after a function error. */
  maxAsyncRetryAttempts?: number;
}

/** An error answer: HTTP status, Code, Message. */
export type Fc3Refusal = [status: number, code: string, message: string];

/** What the server checks the signature against. */
export interface Fc3Keys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

const ALGORITHM = 'ACS3-HMAC-SHA256';
// The gateway refuses a request whose x-acs-date is more than 15 minutes from its clock.
const MAX_SKEW_MS = 15 * 60_000;

/** RFC 3986 encoding as the SDK applies it to query values (encodeURIComponent plus ! ' ( ) *). */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The query as the signer saw it: keys sorted, values encoded. */
function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery.split('&').map((kv) => {
    const [k = '', v = ''] = kv.split('=');
    return [decodeURIComponent(k), decodeURIComponent(v)] as const;
  });
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encode(v)}`)
    .join('&');
}

/** `ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<a;b>,Signature=<hex>` split into its parts. */
function parseAuthorization(header: string | undefined) {
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(header ?? '');
  return m ? { accessKeyId: m[1]!, signedHeaders: m[2]!.split(';'), signature: m[3]! } : undefined;
}

/**
 * Why the gateway refuses the request before FC sees it, or undefined: the signature over method, path, sorted
 * query, the signed headers (which must cover host and every x-acs-* header) and the body's SHA-256; the body hash
 * header; the STS token; the date skew; a nonce seen before (a replay).
 */
export function acs3Refusal(keys: Fc3Keys, req: IncomingMessage, body: Buffer, nonces: Set<string>) {
  const h = req.headers;
  const auth = parseAuthorization(h.authorization);
  if (!auth) return [400, 'MissingAuthorization', 'The Authorization header is missing or malformed.'] as Fc3Refusal;
  if (auth.accessKeyId !== keys.accessKeyId)
    return [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'] as Fc3Refusal;
  const mustSign = ['host', ...Object.keys(h).filter((k) => k.startsWith('x-acs-'))];
  if (mustSign.some((k) => !auth.signedHeaders.includes(k)))
    return [400, 'IncompleteSignature', 'Host and every x-acs-* header must be signed.'] as Fc3Refusal;
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  const headers = auth.signedHeaders.map((k) => `${k}:${String(h[k] ?? '').trim()}\n`).join('');
  const hashed = sha256(body);
  const request = [req.method, path, canonicalQuery(query), headers, auth.signedHeaders.join(';'), hashed].join('\n');
  const toSign = `${ALGORITHM}\n${sha256(request)}`;
  const expected = createHmac('sha256', keys.accessKeySecret).update(toSign).digest('hex');
  if (expected !== auth.signature)
    return [400, 'SignatureDoesNotMatch', 'Specified signature does not match our calculation.'] as Fc3Refusal;
  if (h['x-acs-content-sha256'] !== hashed)
    return [400, 'InvalidParameter', 'x-acs-content-sha256 does not match the body.'] as Fc3Refusal;
  if (keys.securityToken !== undefined && h['x-acs-security-token'] !== keys.securityToken)
    return [400, 'InvalidSecurityToken.Malformed', 'Specified SecurityToken is malformed.'] as Fc3Refusal;
  if (!(Math.abs(Date.now() - Date.parse(String(h['x-acs-date']))) <= MAX_SKEW_MS))
    return [400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'] as Fc3Refusal;
  const nonce = String(h['x-acs-signature-nonce'] ?? '');
  if (!nonce || nonces.has(nonce))
    return [400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'] as Fc3Refusal;
  nonces.add(nonce);
  return undefined;
}

/** Where the request is addressed: the account and region the server answers for, and its own loopback address. */
export interface Fc3Hosts {
  accountId: string;
  region: string;
  /** `127.0.0.1:<port>`: named only by a client given an explicit endpoint override (the CLI's --endpoint). */
  loopback: string;
}

/**
 * Why FC refuses a request addressed (Host) where the action is not served, or undefined. InvokeFunction is served
 * at the account's endpoint `<account>.<region>.fc.aliyuncs.com`, where Serverless Devs' fc3 component sends it;
 * management calls (GetFunction) at the regional `fcv3.<region>.aliyuncs.com` too (cloud-facts.md, FC 3.0 invoke).
 * What the service answers an invocation sent to another host is not documented: the sim refuses it (with a code of
 * its own), so a client must prove it uses the documented host.
 */
export function hostRefusal(action: 'InvokeFunction' | 'GetFunction', host: string | undefined, h: Fc3Hosts) {
  const account = `${h.accountId}.${h.region}.fc.aliyuncs.com`;
  const served = action === 'InvokeFunction' ? [account] : [account, `fcv3.${h.region}.aliyuncs.com`];
  if (host === h.loopback || served.includes(host ?? '')) return undefined;
  return [400, 'SimWrongEndpoint', `${action} is served at ${served.join(' or ')}, not ${host}.`] as Fc3Refusal;
}

/** The call a path names: invoke (`POST …/invocations`) or GetFunction (`GET …`), with the function's name. */
export function fc3Route(method: string | undefined, path: string) {
  const m = /^\/2023-03-30\/functions\/([^/]+)(\/invocations)?$/.exec(path);
  if (!m) return undefined;
  const name = decodeURIComponent(m[1]!);
  if (m[2] && method === 'POST') return { action: 'InvokeFunction' as const, name };
  if (!m[2] && method === 'GET') return { action: 'GetFunction' as const, name };
  return undefined;
}

/** GetFunction's answer: the fields of the 2023-03-30 `Function` structure a deployment's reader uses. */
export function functionConfiguration(name: string, fn: Fc3Function, region: string, accountId: string) {
  return {
    functionName: name,
    functionArn: `acs:fc:${region}:${accountId}:functions/${name}`,
    runtime: 'nodejs20',
    handler: 'index.handler',
    timeout: fn.timeout ?? 120,
    memorySize: 256,
    environmentVariables: fn.environmentVariables ?? {},
  };
}
