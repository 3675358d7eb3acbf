import axios, { AxiosError } from 'axios';
import { IntegrationError, type Service } from '../lib/errors.js';
import type { Revealable } from '../lib/secret.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

// Stay clear of the caller's global axios defaults and interceptors.
const client = axios.create();

/**
 * POSTs JSON to a webhook and returns whatever HTTP answer came back (any status). Network failures become a
 * retryable `IntegrationError` whose message names the error code only: never the URL, whose path or query is the
 * credential. Redirects are not followed (DingTalk answers a throttled robot with one).
 */
export async function postJson(
  service: Service,
  url: Revealable,
  body: unknown,
  timeoutMs: number,
): Promise<HttpAnswer> {
  try {
    const res = await client.post(url.reveal(), JSON.stringify(body), {
      timeout: timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (x: unknown) => x,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    return {
      status: res.status,
      headers: { ...res.headers },
      body: typeof res.data === 'string' ? res.data : String(res.data ?? ''),
    };
  } catch (err) {
    const code = err instanceof AxiosError ? (err.code ?? 'NetworkError') : 'NetworkError';
    const what = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'no answer in time' : 'network error';
    throw new IntegrationError(`${service} webhook: ${what} (${code})`, { service, kind: 'retryable', code });
  }
}
