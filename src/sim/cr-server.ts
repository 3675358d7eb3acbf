import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRpcSignature } from './rpc-signature.js';

/** A ListRepoSyncTask item in the API's own JSON shape. */
export type RawTask = Record<string, unknown> & { SyncTaskId: string; CreateTime?: number | string };
export type RawRule = Record<string, unknown> & { SyncRuleId: string };

export interface SimInstance {
  regionId: string;
  instanceId: string;
  tasks: RawTask[];
  rules: RawRule[];
}

/** A scripted failure for the next matching calls. */
export interface CrFault {
  action?: 'ListRepoSyncTask' | 'ListRepoSyncRule';
  instanceId?: string;
  pageNo?: number;
  /** `repeat-page` answers with the previous page's tasks, as a list that shifts or a cache that lags might. */
  kind:
    | 'throttle'
    | 'throttle-user'
    | 'html-502'
    | 'html-503'
    | 'empty-500'
    | 'json-without-code'
    | 'reset'
    | 'hang'
    | 'no-privilege'
    | 'system-error'
    | 'repeat-page';
  /** How many calls it affects (default 1). */
  times?: number;
}

export interface CrSimOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests must carry exactly this SecurityToken (as STS credentials do). */
  securityToken?: string;
  instances: SimInstance[];
  /** Order of ListRepoSyncTask results by CreateTime; `shuffle` is a fixed pseudo-random order. */
  order?: 'desc' | 'asc' | 'shuffle';
  /** The largest PageSize honoured; larger requests are served this many (and say so in PageSize). */
  maxPageSize?: number;
  /** What TotalCount says, given the true count: the API's claims about itself are not to be trusted. */
  totalCount?: (actual: number) => number;
  /** Actions refused with NoPrivilege, as for a role missing the RAM action. */
  denied?: ('ListRepoSyncTask' | 'ListRepoSyncRule')[];
  latencyMs?: number;
  /** Called before each authenticated call is answered; returning 'drop' closes the connection unanswered. */
  onCall?(action: string, params: Record<string, string>): 'drop' | void | Promise<'drop' | void>;
}

export interface RecordedCall {
  action: string;
  region: string;
  params: Record<string, string>;
  signatureValid: boolean;
  status: number;
}

export interface CrSimulator {
  /** ACR_ENDPOINT value: the region is part of the path, as each region has its own endpoint. */
  endpointTemplate: string;
  calls: RecordedCall[];
  instances: SimInstance[];
  options: CrSimOptions;
  fault(f: CrFault): void;
  close(): Promise<void>;
}

const CREATE = (t: RawTask) => Number(t.CreateTime ?? t.ModifiedTime ?? 0);
// A stable pseudo-random position per task: the same order on every page of every call.
const hash = (s: string) => createHash('md5').update(s).digest().readInt32BE(0);

function ordered(tasks: RawTask[], order: CrSimOptions['order']): RawTask[] {
  if (order === 'asc')
    return [...tasks].sort((a, b) => CREATE(a) - CREATE(b) || a.SyncTaskId.localeCompare(b.SyncTaskId));
  if (order === 'shuffle') return [...tasks].sort((a, b) => hash(a.SyncTaskId) - hash(b.SyncTaskId));
  const newestFirst = (a: RawTask, b: RawTask) => CREATE(b) - CREATE(a) || b.SyncTaskId.localeCompare(a.SyncTaskId);
  // A list already newest first is served as it is: sorting it again for every page would make serving a long
  // history cost a sort per page.
  if (tasks.every((t, i) => i === 0 || newestFirst(tasks[i - 1]!, t) <= 0)) return tasks;
  return [...tasks].sort(newestFirst);
}

async function readParams(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const out: Record<string, string> = {};
  // The gateway merges query and form parameters (pop-core sends lower-case 'post' as a query).
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  for (const [k, v] of query) out[k] = v;
  for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) out[k] = v;
  return out;
}

type ArmedFault = CrFault & { left: number };
type Action = 'ListRepoSyncTask' | 'ListRepoSyncRule';

/** Everything one simulator keeps: its options, what it was asked, the faults still to play, the nonces seen. */
interface SimState {
  options: CrSimOptions;
  calls: RecordedCall[];
  faults: ArmedFault[];
  nonces: Set<string>;
}

/** One request being answered, with its record in `calls`. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  call: RecordedCall;
  params: Record<string, string>;
  region: string;
}

/** A refusal as the gateway words it: HTTP status, error code, message. */
type Refusal = [status: number, code: string, message: string];

const NO_PRIVILEGE: Refusal = [403, 'NoPrivilege', 'Access denied for this user.'];

function send(x: Exchange, status: number, body: unknown): void {
  x.call.status = status;
  x.res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  x.res.end(JSON.stringify(body));
}

/** Answers with the gateway's error body. */
function refuse(x: Exchange, [status, code, message]: Refusal): void {
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
function gatewayRefusal(s: SimState, x: Exchange): Refusal | undefined {
  const { params, call } = x;
  const o = s.options;
  if (params.AccessKeyId !== o.accessKeyId)
    return [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'];
  call.signatureValid = verifyRpcSignature(x.req.method ?? 'GET', params, o.accessKeySecret);
  if (!call.signatureValid)
    return [400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.'];
  if (o.securityToken !== undefined && params.SecurityToken !== o.securityToken)
    return [400, 'InvalidSecurityToken.Mismatch', 'Specified SecurityToken is not valid.'];
  const ts = Date.parse(params.Timestamp ?? '');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '') || Math.abs(Date.now() - ts) > 15 * 60_000)
    return [400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'];
  if (!params.SignatureNonce || s.nonces.has(params.SignatureNonce))
    return [400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'];
  s.nonces.add(params.SignatureNonce);
  if (params.Version !== '2018-12-01') return [400, 'InvalidVersion', 'Specified parameter Version is not valid.'];
  return undefined;
}

/** The first scripted fault that matches this call, used up by one. */
function takeFault(s: SimState, action: Action, x: Exchange, pageNo: number): ArmedFault | undefined {
  const fault = s.faults.find(
    (f) =>
      f.left > 0 &&
      (!f.action || f.action === action) &&
      (!f.instanceId || f.instanceId === x.params.InstanceId) &&
      (!f.pageNo || f.pageNo === pageNo),
  );
  if (fault) fault.left -= 1;
  return fault;
}

/** Plays a fault; false when the call goes on (`repeat-page` only changes which page is served). */
function playFault(x: Exchange, kind: CrFault['kind']): boolean {
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
interface Page {
  pageNo: number;
  size: number;
  from: number;
}

function pageOf(s: SimState, x: Exchange, pageNo: number, repeat: boolean): Page {
  const asked = Math.max(1, Number(x.params.PageSize ?? 30));
  const size = Math.min(asked, s.options.maxPageSize ?? 100);
  const served = repeat ? Math.max(1, pageNo - 1) : pageNo;
  return { pageNo, size, from: (Math.max(1, served) - 1) * size };
}

/** The tasks a ListRepoSyncTask names, by its documented filters: one push's tasks (SyncRecordId), or one image's. */
function tasksAsked(tasks: RawTask[], params: Record<string, string>): RawTask[] {
  const filtered =
    params.SyncRecordId !== undefined ||
    params.RepoNamespaceName !== undefined ||
    params.RepoName !== undefined ||
    params.Tag !== undefined;
  if (!filtered) return tasks;
  const image = (t: RawTask) => (t.ImageFrom ?? {}) as Record<string, unknown>;
  return tasks.filter(
    (t) =>
      (params.SyncRecordId === undefined || t.SyncBatchTaskId === params.SyncRecordId) &&
      (params.RepoNamespaceName === undefined || image(t).RepoNamespaceName === params.RepoNamespaceName) &&
      (params.RepoName === undefined || image(t).RepoName === params.RepoName) &&
      (params.Tag === undefined || image(t).ImageTag === params.Tag),
  );
}

/** ListRepoSyncTask: one page, with TotalCount as a string (the API's quirk) and as `totalCount` has it say. */
function listTasks(s: SimState, x: Exchange, inst: SimInstance, page: Page): void {
  const list = tasksAsked(ordered(inst.tasks, s.options.order), x.params);
  send(x, 200, {
    RequestId: randomUUID().toUpperCase(),
    Code: 'success',
    IsSuccess: true,
    PageNo: page.pageNo,
    PageSize: page.size,
    TotalCount: String(s.options.totalCount ? s.options.totalCount(list.length) : list.length),
    SyncTasks: list.slice(page.from, page.from + page.size),
  });
}

/** ListRepoSyncRule: one page, TotalCount a number. */
function listRules(x: Exchange, inst: SimInstance, page: Page): void {
  send(x, 200, {
    RequestId: randomUUID().toUpperCase(),
    Code: 'success',
    IsSuccess: true,
    PageNo: page.pageNo,
    PageSize: page.size,
    TotalCount: inst.rules.length,
    SyncRules: inst.rules.slice(page.from, page.from + page.size),
  });
}

/** Answers an authentic call of `action`: a scripted fault, a denied action, an unknown instance, or the page. */
function answerList(s: SimState, x: Exchange, action: Action): void {
  const pageNo = Number(x.params.PageNo ?? 1);
  const fault = takeFault(s, action, x, pageNo);
  if (fault && playFault(x, fault.kind)) return;
  if (s.options.denied?.includes(action)) return refuse(x, NO_PRIVILEGE);
  const inst = s.options.instances.find((i) => i.instanceId === x.params.InstanceId);
  if (!inst || inst.regionId !== x.region)
    return send(x, 200, {
      RequestId: randomUUID(),
      Code: 'INSTANCE_NOT_EXIST',
      IsSuccess: false,
      Message: 'instance not exist',
    });
  const page = pageOf(s, x, pageNo, fault?.kind === 'repeat-page');
  if (action === 'ListRepoSyncTask') listTasks(s, x, inst, page);
  else listRules(x, inst, page);
}

/** Serves one request: record it, check it as the gateway does, let the test drop it, then answer the action. */
async function serve(s: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const params = await readParams(req);
  const region = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean)[0] ?? '';
  const call: RecordedCall = { action: params.Action ?? '', region, params, signatureValid: false, status: 0 };
  s.calls.push(call);
  if (s.options.latencyMs) await new Promise((r) => setTimeout(r, s.options.latencyMs));
  const x: Exchange = { req, res, call, params, region };
  const refusal = gatewayRefusal(s, x);
  if (refusal) return refuse(x, refusal);
  const action = params.Action;
  if ((await s.options.onCall?.(action ?? '', params)) === 'drop') {
    call.status = -3;
    return void req.socket.destroy();
  }
  if (action !== 'ListRepoSyncTask' && action !== 'ListRepoSyncRule')
    return refuse(x, [404, 'InvalidAction.NotFound', 'Specified api is not found.']);
  answerList(s, x, action);
}

/**
 * A local CR OpenAPI (2018-12-01) server for ListRepoSyncTask and ListRepoSyncRule. It checks what the real gateway
 * checks (signature v1, AccessKeyId, STS token, timestamp skew, nonce reuse, API version) and answers in the API's
 * wire format, including its quirks (TotalCount as a string for tasks, Code "success").
 */
export async function startCrSimulator(options: CrSimOptions): Promise<CrSimulator> {
  const s: SimState = { options, calls: [], faults: [], nonces: new Set() };
  const server = createServer((req, res) => void serve(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpointTemplate: `http://127.0.0.1:${port}/{regionId}`,
    calls: s.calls,
    instances: options.instances,
    options,
    fault: (f) => s.faults.push({ ...f, left: f.times ?? 1 }),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
