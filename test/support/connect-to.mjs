/**
 * Test only, loaded into a CLI process with `NODE_OPTIONS=--import <this file>`: what curl's --connect-to does. An
 * HTTPS request to a host under aliyuncs.com is sent instead, in plain HTTP, to the local server that
 * ACR_TEST_CONNECT_TO names (`127.0.0.1:<port>`), with its Host header unchanged; so the SDK addresses the real host
 * (and signs it), and the local server sees which host that was. The product has no such switch.
 */
import http from 'node:http';
import https from 'node:https';
import process from 'node:process';
import { URL } from 'node:url';

const target = process.env.ACR_TEST_CONNECT_TO;
if (target) {
  const [host, port] = target.split(':');
  const original = https.request;
  https.request = function request(options, ...rest) {
    const name = typeof options === 'object' && !(options instanceof URL) ? (options.hostname ?? options.host) : '';
    if (!/\.aliyuncs\.com$/.test(name ?? '')) return original.call(this, options, ...rest);
    const headers = { ...options.headers, host: options.headers?.host ?? name };
    return http.request({ ...options, host, hostname: host, port: Number(port), agent: undefined, headers }, ...rest);
  };
}
