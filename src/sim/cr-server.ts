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
  // A list of 100,000 tasks kept in order by its test is served without sorting it again on every page.
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

/**
 * A local CR OpenAPI (2018-12-01) server for ListRepoSyncTask and ListRepoSyncRule. It checks what the real gateway
 * checks (signature v1, AccessKeyId, STS token, timestamp skew, nonce reuse, API version) and answers in the API's
 * wire format, including its quirks (TotalCount as a string for tasks, Code "success").
 */
export async function startCrSimulator(options: CrSimOptions): Promise<CrSimulator> {
  const calls: RecordedCall[] = [];
  const faults: (CrFault & { left: number })[] = [];
  const nonces = new Set<string>();

  const send = (res: ServerResponse, status: number, body: unknown, call: RecordedCall) => {
    call.status = status;
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, message: string, call: RecordedCall) =>
    send(
      res,
      status,
      {
        RequestId: randomUUID().toUpperCase(),
        HostId: 'cr.local',
        Code: code,
        Message: message,
        Recommend: 'https://api.aliyun.com/troubleshoot',
      },
      call,
    );

  const server = createServer(async (req, res) => {
    const params = await readParams(req);
    const region = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean)[0] ?? '';
    const call: RecordedCall = { action: params.Action ?? '', region, params, signatureValid: false, status: 0 };
    calls.push(call);
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));

    if (params.AccessKeyId !== options.accessKeyId)
      return error(res, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', call);
    call.signatureValid = verifyRpcSignature(req.method ?? 'GET', params, options.accessKeySecret);
    if (!call.signatureValid)
      return error(res, 400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.', call);
    if (options.securityToken !== undefined && params.SecurityToken !== options.securityToken)
      return error(res, 400, 'InvalidSecurityToken.Mismatch', 'Specified SecurityToken is not valid.', call);
    const ts = Date.parse(params.Timestamp ?? '');
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '') || Math.abs(Date.now() - ts) > 15 * 60_000)
      return error(res, 400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.', call);
    if (!params.SignatureNonce || nonces.has(params.SignatureNonce))
      return error(res, 400, 'SignatureNonceUsed', 'Specified signature nonce was used already.', call);
    nonces.add(params.SignatureNonce);
    if (params.Version !== '2018-12-01')
      return error(res, 400, 'InvalidVersion', 'Specified parameter Version is not valid.', call);

    const action = params.Action;
    if ((await options.onCall?.(action ?? '', params)) === 'drop') {
      call.status = -3;
      return req.socket.destroy();
    }
    if (action !== 'ListRepoSyncTask' && action !== 'ListRepoSyncRule')
      return error(res, 404, 'InvalidAction.NotFound', 'Specified api is not found.', call);
    const pageNo = Number(params.PageNo ?? 1);
    const fault = faults.find(
      (f) =>
        f.left > 0 &&
        (!f.action || f.action === action) &&
        (!f.instanceId || f.instanceId === params.InstanceId) &&
        (!f.pageNo || f.pageNo === pageNo),
    );
    if (fault) {
      fault.left -= 1;
      switch (fault.kind) {
        case 'throttle':
          return error(res, 400, 'Throttling', 'Request was denied due to request throttling.', call);
        case 'throttle-user':
          return error(res, 400, 'Throttling.User', 'Request was denied due to user flow control.', call);
        case 'no-privilege':
          return error(res, 403, 'NoPrivilege', 'Access denied for this user.', call);
        case 'system-error':
          return error(res, 500, 'SystemError', 'Unknown error.', call);
        case 'html-502':
          call.status = 502;
          res.writeHead(502, { 'content-type': 'text/html' });
          return res.end('<html><body>502 Bad Gateway</body></html>');
        case 'html-503':
          call.status = 503;
          res.writeHead(503, { 'content-type': 'text/html' });
          return res.end('<html><body>503 Service Temporarily Unavailable</body></html>');
        case 'empty-500':
          call.status = 500;
          res.writeHead(500);
          return res.end();
        case 'json-without-code':
          return send(res, 502, { message: 'upstream failed' }, call);
        case 'reset':
          call.status = -1;
          return req.socket.destroy();
        case 'hang':
          call.status = -2;
          return; // never answers; the client's timeout must fire
        case 'repeat-page':
          break;
      }
    }
    if (options.denied?.includes(action)) return error(res, 403, 'NoPrivilege', 'Access denied for this user.', call);
    const inst = options.instances.find((i) => i.instanceId === params.InstanceId);
    if (!inst || inst.regionId !== region)
      return send(
        res,
        200,
        { RequestId: randomUUID(), Code: 'INSTANCE_NOT_EXIST', IsSuccess: false, Message: 'instance not exist' },
        call,
      );

    const asked = Math.max(1, Number(params.PageSize ?? 30));
    const size = Math.min(asked, options.maxPageSize ?? 100);
    const served = fault?.kind === 'repeat-page' ? Math.max(1, pageNo - 1) : pageNo;
    const from = (Math.max(1, served) - 1) * size;
    if (action === 'ListRepoSyncTask') {
      // The documented request filters: one push's tasks (SyncRecordId), or one source image's.
      const image = (t: RawTask) => (t.ImageFrom ?? {}) as Record<string, unknown>;
      const filtered =
        params.SyncRecordId !== undefined ||
        params.RepoNamespaceName !== undefined ||
        params.RepoName !== undefined ||
        params.Tag !== undefined;
      const all = ordered(inst.tasks, options.order);
      const list = !filtered
        ? all
        : all.filter(
            (t) =>
              (params.SyncRecordId === undefined || t.SyncBatchTaskId === params.SyncRecordId) &&
              (params.RepoNamespaceName === undefined || image(t).RepoNamespaceName === params.RepoNamespaceName) &&
              (params.RepoName === undefined || image(t).RepoName === params.RepoName) &&
              (params.Tag === undefined || image(t).ImageTag === params.Tag),
          );
      return send(
        res,
        200,
        {
          RequestId: randomUUID().toUpperCase(),
          Code: 'success',
          IsSuccess: true,
          PageNo: pageNo,
          PageSize: size,
          TotalCount: String(options.totalCount ? options.totalCount(list.length) : list.length),
          SyncTasks: list.slice(from, from + size),
        },
        call,
      );
    }
    return send(
      res,
      200,
      {
        RequestId: randomUUID().toUpperCase(),
        Code: 'success',
        IsSuccess: true,
        PageNo: pageNo,
        PageSize: size,
        TotalCount: inst.rules.length,
        SyncRules: inst.rules.slice(from, from + size),
      },
      call,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpointTemplate: `http://127.0.0.1:${port}/{regionId}`,
    calls,
    instances: options.instances,
    options,
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
