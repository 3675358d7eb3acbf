/** How the local CR server answers: its state, one exchange, the gateway's error body, the scripted faults. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CrFault, CrSimOptions, RecordedCall } from './cr-model.js';

export type ArmedFault = CrFault & { left: number };
export type Action = 'ListRepoSyncTask' | 'ListRepoSyncRule';

/** Everything one simulator keeps: its options, what it was asked, the faults still to play, the nonces seen. */
export interface SimState {
  options: CrSimOptions;
  calls: RecordedCall[];
  faults: ArmedFault[];
  nonces: Set<string>;
}

/** One request being answered, with its record in `calls`. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  call: RecordedCall;
  params: Record<string, string>;
  region: string;
}

/** A refusal as the gateway words it: HTTP status, error code, message. */
export type Refusal = [status: number, code: string, message: string];

export const NO_PRIVILEGE: Refusal = [403, 'NoPrivilege', 'Access denied for this user.'];

/** Answers with a JSON body, and records the status. */
export function send(x: Exchange, status: number, body: unknown): void {
  x.call.status = status;
  x.res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  x.res.end(JSON.stringify(body));
}

/** Answers with the gateway's error body. */
export function refuse(x: Exchange, [status, code, message]: Refusal): void {
  send(x, status, {
    RequestId: randomUUID().toUpperCase(),
    HostId: 'cr.local',
    Code: code,
    Message: message,
    Recommend: 'https://api.aliyun.com/troubleshoot',
  });
}

/** Answers with a bare body of another content type (or none), as a proxy in front of the gateway might. */
function sendRaw(x: Exchange, status: number, body?: { type: string; text: string }): void {
  x.call.status = status;
  if (body) {
    x.res.writeHead(status, { 'content-type': body.type });
    x.res.end(body.text);
  } else {
    x.res.writeHead(status);
    x.res.end();
  }
}

/**
 * What the gateway refuses before any action, in its order: an unknown AccessKeyId, a wrong signature, a wrong STS
 * token, a timestamp not in ISO form or more than 15 minutes off, a reused nonce, another API version.
 */
/** Plays a fault; false when the call goes on (`repeat-page` only changes which page is served). */
export function playFault(x: Exchange, kind: CrFault['kind']): boolean {
  switch (kind) {
    case 'throttle':
      refuse(x, [400, 'Throttling', 'Request was denied due to request throttling.']);
      return true;
    case 'throttle-user':
      refuse(x, [400, 'Throttling.User', 'Request was denied due to user flow control.']);
      return true;
    case 'no-privilege':
      refuse(x, NO_PRIVILEGE);
      return true;
    case 'system-error':
      refuse(x, [500, 'SystemError', 'Unknown error.']);
      return true;
    case 'html-502':
      sendRaw(x, 502, { type: 'text/html', text: '<html><body>502 Bad Gateway</body></html>' });
      return true;
    case 'html-503':
      sendRaw(x, 503, { type: 'text/html', text: '<html><body>503 Service Temporarily Unavailable</body></html>' });
      return true;
    case 'empty-500':
      sendRaw(x, 500);
      return true;
    case 'json-without-code':
      send(x, 502, { message: 'upstream failed' });
      return true;
    case 'reset':
      x.call.status = -1;
      x.req.socket.destroy();
      return true;
    case 'hang':
      x.call.status = -2;
      return true; // never answers; the client's timeout must fire
    case 'repeat-page':
      return false;
  }
}

/** The page a list call is served: its number, its size (capped at maxPageSize), and where it starts. */
