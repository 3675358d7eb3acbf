import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DINGTALK_BODY_MAX_BYTES, slackProblem } from './webhook-limits.js';

/** A scripted answer for the next posts. `down` drops the connection; `status` answers with that HTTP status. */
export type WebhookFault =
  | { kind: 'down'; times?: number }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string>; times?: number }
  | { kind: 'errcode'; errcode: number; errmsg: string; times?: number }
  /**
   * Refuses every post whose body contains `marker`, as each platform refuses content (Slack: HTTP 400
   * `invalid_payload` unless `status`/`body` say otherwise, e.g. a 500 for that message only; DingTalk: HTTP 200 with
   * `errcode`, 40035 unless told), until healed; other posts are answered as usual.
   */
  | { kind: 'content'; marker: string; status?: number; body?: string; errcode?: number; errmsg?: string };

export interface Received {
  channel: 'dingtalk' | 'slack';
  /** Which robot or hook took it: the DingTalk access token, or the Slack hook path. */
  hook: string;
  body: Record<string, unknown>;
  at: number;
}

export interface WebhookReceivers {
  dingtalkUrl: string;
  slackUrl: string;
  /** The webhook URL of another robot or hook this server was started with. */
  dingtalkUrlFor(token: string): string;
  slackUrlFor(path: string): string;
  /** Messages accepted (a DingTalk repeat with the same msgUuid is accepted but not kept twice, as DingTalk does). */
  received: Received[];
  /** Every post, accepted or not. */
  attempts: { channel: 'dingtalk' | 'slack'; answered: number | 'dropped' }[];
  fault(channel: 'dingtalk' | 'slack', f: WebhookFault): void;
  /** Drops every scripted fault: the platform is back. */
  heal(channel: 'dingtalk' | 'slack'): void;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  dingtalkToken: string;
  /** When set, DingTalk requests must be signed with it (timestamp within an hour). */
  dingtalkSecret?: string;
  /** When set, DingTalk messages must contain it (the robot's custom keyword). */
  dingtalkKeyword?: string;
  slackPath: string;
  /** More DingTalk robots (token, optional signing secret) and Slack hook paths, e.g. one per route. */
  moreRobots?: { token: string; secret?: string }[];
  moreSlackPaths?: string[];
  onMessage?(m: Received): void;
  /**
   * Lower size limits than the ones below, for the undocumented ones: whether a smaller real limit is survived (the
   * message rendered smaller and sent again, not the channel paused).
   */
  limits?: { dingtalkBodyBytes?: number; slackBlocksChars?: number };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type Channel = 'dingtalk' | 'slack';

/** Everything the receivers keep: what they accept, what they were sent, the faults still to play. */
interface ReceiverState {
  opts: ReceiverOptions;
  received: Received[];
  attempts: WebhookReceivers['attempts'];
  faults: Record<Channel, (WebhookFault & { left: number })[]>;
  /** DingTalk message ids already taken, per robot (`token/msgUuid`). */
  seenUuids: Set<string>;
  /** Each robot's access token, with its signing secret if it has one. */
  robots: Map<string, string | undefined>;
  slackPaths: Set<string>;
}

/** One post being answered. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  channel: Channel;
  text: string;
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end(text);
}

function accept(s: ReceiverState, channel: Channel, hook: string, msg: Record<string, unknown>): void {
  const m = { channel, hook, body: msg, at: Date.now() };
  s.received.push(m);
  s.opts.onMessage?.(m);
}

/** Plays the channel's next scripted fault, if there is one; true when it answered (or dropped) the post. */
function playFault(s: ReceiverState, x: Exchange): boolean {
  const fault = s.faults[x.channel].find((f) => f.left > 0 && (f.kind !== 'content' || x.text.includes(f.marker)));
  if (!fault) return false;
  fault.left -= 1;
  if (fault.kind === 'content') refuseContent(s, x, fault);
  else if (fault.kind === 'down') {
    s.attempts.push({ channel: x.channel, answered: 'dropped' });
    x.req.socket.destroy();
  } else if (fault.kind === 'status') {
    s.attempts.push({ channel: x.channel, answered: fault.status });
    plain(x.res, fault.status, fault.body ?? '', { 'content-type': 'text/plain', ...fault.headers });
  } else {
    s.attempts.push({ channel: x.channel, answered: 200 });
    json(x.res, 200, { errcode: fault.errcode, errmsg: fault.errmsg });
  }
  return true;
}

/** Answers a post refused for its content, as the platform does. */
function refuseContent(s: ReceiverState, x: Exchange, f: Extract<WebhookFault, { kind: 'content' }>): void {
  if (x.channel === 'dingtalk') {
    s.attempts.push({ channel: x.channel, answered: 200 });
    return json(x.res, 200, { errcode: f.errcode ?? 40035, errmsg: f.errmsg ?? '缺少参数 json' });
  }
  s.attempts.push({ channel: x.channel, answered: f.status ?? 400 });
  plain(x.res, f.status ?? 400, f.body ?? 'invalid_payload', { 'content-type': 'text/plain' });
}

/** The post's JSON body; undefined when it is not JSON, answered as each platform answers that. */
function parsed(x: Exchange): Record<string, unknown> | undefined {
  try {
    return JSON.parse(x.text) as Record<string, unknown>;
  } catch {
    if (x.channel === 'dingtalk') json(x.res, 200, { errcode: 40035, errmsg: 'invalid json' });
    else plain(x.res, 400, 'invalid_payload');
    return undefined;
  }
}

function answerSlack(s: ReceiverState, x: Exchange, msg: Record<string, unknown>): void {
  const problem = slackProblem(msg, s.opts.limits?.slackBlocksChars);
  if (problem) return plain(x.res, 400, problem);
  accept(s, 'slack', x.url.pathname, msg);
  plain(x.res, 200, 'ok', { 'content-type': 'text/plain' });
}

/**
 * Why a DingTalk robot refuses a post (errcode and errmsg, answered with HTTP 200): an unknown token, a signature
 * out of time or wrong, a missing keyword, a body too large. Undefined when it takes it.
 */
function dingtalkRefusal(s: ReceiverState, x: Exchange): { errcode: number; errmsg: string } | undefined {
  const token = x.url.searchParams.get('access_token') ?? '';
  if (!s.robots.has(token)) return { errcode: 300001, errmsg: 'token is not exist' };
  const secret = s.robots.get(token);
  if (secret) {
    const ts = Number(x.url.searchParams.get('timestamp'));
    if (!Number.isFinite(ts) || Math.abs(Date.now() - ts) > 3_600_000)
      return { errcode: 310000, errmsg: 'invalid timestamp' };
    const expected = createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
    if (x.url.searchParams.get('sign') !== expected) return { errcode: 310000, errmsg: 'sign not match' };
  }
  if (s.opts.dingtalkKeyword && !x.text.includes(s.opts.dingtalkKeyword))
    return { errcode: 310000, errmsg: 'keywords not in content' };
  if (Buffer.byteLength(x.text, 'utf8') > (s.opts.limits?.dingtalkBodyBytes ?? DINGTALK_BODY_MAX_BYTES))
    return { errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' };
  return undefined;
}

function answerDingTalk(s: ReceiverState, x: Exchange, msg: Record<string, unknown>): void {
  const refusal = dingtalkRefusal(s, x);
  if (refusal) return json(x.res, 200, refusal);
  const token = x.url.searchParams.get('access_token') ?? '';
  // DingTalk drops a repeat per robot.
  const uuid = typeof msg.msgUuid === 'string' ? `${token}/${msg.msgUuid}` : undefined;
  if (uuid && s.seenUuids.has(uuid)) return json(x.res, 200, { errcode: 0, errmsg: 'ok' });
  if (uuid) s.seenUuids.add(uuid);
  accept(s, 'dingtalk', token, msg);
  json(x.res, 200, { errcode: 0, errmsg: 'ok' });
}

/** Serves one post: to a robot or hook that exists, unless a fault is scripted, then as the platform answers. */
async function serve(s: ReceiverState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const channel =
    url.pathname === '/robot/send' ? 'dingtalk' : url.pathname.startsWith('/services/') ? 'slack' : undefined;
  const text = await body(req);
  if (!channel || req.method !== 'POST') return plain(res, 404, 'no_service');
  // Slack answers a hook that does not exist (deleted, mistyped) with 404 no_service.
  if (channel === 'slack' && !s.slackPaths.has(url.pathname)) {
    s.attempts.push({ channel, answered: 404 });
    return plain(res, 404, 'no_service', { 'content-type': 'text/plain' });
  }
  const x: Exchange = { req, res, url, channel, text };
  if (playFault(s, x)) return;
  s.attempts.push({ channel, answered: 200 });
  const msg = parsed(x);
  if (!msg) return;
  if (channel === 'slack') answerSlack(s, x, msg);
  else answerDingTalk(s, x, msg);
}

/**
 * Local stand-ins for a DingTalk custom robot and a Slack incoming webhook on 127.0.0.1. They verify what the
 * platforms verify (DingTalk access token, HMAC-SHA256 signature and timestamp, keyword, body size; Slack payload
 * shape and Block Kit limits, the total included) and answer in the platforms' formats, so the real HTTP client path
 * is what tests exercise.
 */
export async function startWebhookReceivers(opts: ReceiverOptions): Promise<WebhookReceivers> {
  const s: ReceiverState = {
    opts,
    received: [],
    attempts: [],
    faults: { dingtalk: [], slack: [] },
    seenUuids: new Set(),
    robots: new Map([
      [opts.dingtalkToken, opts.dingtalkSecret],
      ...(opts.moreRobots ?? []).map((r) => [r.token, r.secret] as const),
    ]),
    slackPaths: new Set([opts.slackPath, ...(opts.moreSlackPaths ?? [])]),
  };
  const server = createServer((req, res) => void serve(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dingtalkUrl: `${base}/robot/send?access_token=${opts.dingtalkToken}`,
    slackUrl: `${base}${opts.slackPath}`,
    dingtalkUrlFor: (token) => `${base}/robot/send?access_token=${token}`,
    slackUrlFor: (path) => `${base}${path}`,
    received: s.received,
    attempts: s.attempts,
    fault: (channel, f) => s.faults[channel].push({ ...f, left: f.kind === 'content' ? Infinity : (f.times ?? 1) }),
    heal: (channel) => {
      s.faults[channel].length = 0;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
