import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { invalid, OtsError } from './tablestore-table.js';

const REQUIRED_HEADERS = [
  'x-ots-date',
  'x-ots-apiversion',
  'x-ots-accesskeyid',
  'x-ots-instancename',
  'x-ots-contentmd5',
  'x-ots-signature',
];

/** The credentials and instance a local Tablestore server accepts. */
export interface OtsIdentity {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  instance: string;
}

/** The HMAC-SHA1 signature of a request: `/<action>`, POST, and every x-ots-* header but the signature, sorted. */
function signature(h: IncomingHttpHeaders, action: string, secret: string): string {
  const canonical = Object.keys(h)
    .filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature')
    .sort()
    .map((k) => `${k}:${String(h[k])}`)
    .join('\n');
  return createHmac('sha1', secret).update(`/${action}\nPOST\n\n${canonical}\n`).digest('base64');
}

/**
 * Why the service would refuse a POST as unauthenticated (headers, key, instance, content MD5, signature, STS token,
 * clock skew over 15 minutes, checked in that order); undefined when it is authentic.
 */
export function authError(
  h: IncomingHttpHeaders,
  request: { action: string; body: Buffer },
  id: OtsIdentity,
): OtsError | undefined {
  for (const name of REQUIRED_HEADERS) {
    if (!h[name]) return invalid(`Missing header: ${name}.`);
  }
  if (h['x-ots-accesskeyid'] !== id.accessKeyId)
    return new OtsError(403, 'OTSAuthFailed', 'The AccessKeyID does not exist.');
  if (h['x-ots-instancename'] !== id.instance) return new OtsError(403, 'OTSAuthFailed', 'The instance is not found.');
  if (createHash('md5').update(request.body).digest('base64') !== h['x-ots-contentmd5'])
    return new OtsError(
      403,
      'OTSAuthFailed',
      'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
    );
  if (signature(h, request.action, id.accessKeySecret) !== h['x-ots-signature'])
    return new OtsError(403, 'OTSAuthFailed', 'Signature mismatch.');
  if (id.securityToken !== undefined && h['x-ots-ststoken'] !== id.securityToken)
    return new OtsError(403, 'OTSAuthFailed', 'The STS token is invalid.');
  if (Math.abs(Date.now() - Date.parse(String(h['x-ots-date']))) > 15 * 60_000)
    return new OtsError(403, 'OTSAuthFailed', 'Mismatch between system time and x-ots-date.');
  return undefined;
}
