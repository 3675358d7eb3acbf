import { createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 3986 encoding as Alibaba Cloud RPC signing wants it (encodeURIComponent plus ! ' ( ) *). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Signature v1: Base64(HMAC-SHA1(secret + "&", METHOD&%2F&enc(canonical query))). */
export function rpcSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  const toSign = `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
}

/** Constant-time comparison of the request's Signature with the one computed from `secret`. */
export function verifyRpcSignature(method: string, params: Record<string, string>, secret: string): boolean {
  const given = Buffer.from(params.Signature ?? '');
  const expected = Buffer.from(rpcSignature(method, params, secret));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
