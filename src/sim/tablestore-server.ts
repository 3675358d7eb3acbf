import { randomUUID, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlainBufferError } from './plainbuffer.js';
import { authError } from './tablestore-auth.js';
import { TABLE_OPERATIONS, type Operation } from './tablestore-ops.js';
import { READ_OPERATIONS } from './tablestore-reads.js';
import { invalid, OtsError, type SimTable } from './tablestore-table.js';
import { P } from './tablestore-wire.js';
import { WRITE_OPERATIONS } from './tablestore-writes.js';

const OPERATIONS = { ...TABLE_OPERATIONS, ...READ_OPERATIONS, ...WRITE_OPERATIONS };
export type OtsAction = keyof typeof OPERATIONS;

/** A scripted failure for the next matching calls. */
export type OtsFault =
  | { action?: OtsAction; kind: 'error'; status: number; code: string; message?: string; times?: number }
  | { action?: OtsAction; kind: 'down'; times?: number }
  /** Applies the write, then drops the connection: the client cannot know whether it happened. */
  | { action?: OtsAction; kind: 'lost-answer'; times?: number }
  /**
   * Answers the rows of a BatchWriteRow whose primary key (as text) matches `rows` with `code` on their own, unapplied,
   * and applies the others, as the service answers each row of a batch write; `times` counts the requests it affects.
   */
  | {
      action?: 'BatchWriteRow';
      kind: 'row-error';
      rows: RegExp | ((key: string) => boolean);
      code: string;
      message?: string;
      times?: number;
    };

export interface OtsCall {
  action: string;
  status: number;
  /** The OTS error code of a refused call. */
  code?: string;
  signatureValid: boolean;
  /** Rows the call wrote (including deletes) and the bytes of their row changes, for cost figures. */
  rowsWritten: number;
  bytesWritten: number;
  /** Rows the call returned. */
  rowsRead: number;
}

/**
 * The networks a request can reach an instance through, each its own endpoint: the Internet
 * (`<inst>.<region>.ots.aliyuncs.com`), a VPC (`<inst>.<region>.vpc.tablestore.aliyuncs.com`) and the classic network
 * (`<inst>.<region>.ots-internal.aliyuncs.com`). Here each is a port of its own.
 */
export type OtsNetwork = 'internet' | 'vpc' | 'classic';

/**
 * The networks a new instance accepts: Internet access is off until enabled (Tablestore, "Troubleshoot the 'Request
 * denied by instance ACL policies' error", 2026-06; the Terraform provider's default network_type_acl is VPC,
 * CLASSIC).
 */
export const DEFAULT_NETWORK_ACL: readonly OtsNetwork[] = ['vpc', 'classic'];

export interface TablestoreServer {
  /** The VPC endpoint (what a function in the instance's VPC uses); `endpoints` has one per network. */
  endpoint: string;
  endpoints: Record<OtsNetwork, string>;
  /** Sets the networks the instance accepts, as its Network Management settings do. */
  setNetworkAcl(allowed: readonly OtsNetwork[]): void;
  instance: string;
  calls: OtsCall[];
  /** Capacity units the service would have charged: 1 per 4 KB read or written, rounded up, per row. */
  consumed: { read: number; write: number };
  tables: Map<string, SimTable>;
  fault(f: OtsFault): void;
  /** Drops every scripted fault: the service is back. */
  heal(): void;
  close(): Promise<void>;
}

/** The credentials and instance the server accepts, and how tests steer it. */
export interface TablestoreServerOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  instance: string;
  latencyMs?: number;
  /** The networks the instance accepts (DEFAULT_NETWORK_ACL unless told). */
  networkAcl?: readonly OtsNetwork[];
  /** The service's clock for TTL and cell versions (tests move it forward to see rows expire); default Date.now. */
  clock?: () => number;
  /**
   * Called when an authenticated request arrives (`received`) and after a write was applied (`applied`), before the
   * answer; returning 'drop' closes the connection unanswered. Tests use it to crash a client at an exact point.
   */
  onRequest?(action: string, phase: 'received' | 'applied'): 'drop' | void | Promise<'drop' | void>;
}

type ArmedFault = OtsFault & { left: number };

/** Everything one server keeps: its tables, what it was asked, what it charged, and the faults still to play. */
interface ServerState {
  opts: TablestoreServerOptions;
  clock: () => number;
  tables: Map<string, SimTable>;
  calls: OtsCall[];
  consumed: { read: number; write: number };
  faults: ArmedFault[];
  acl: Set<OtsNetwork>;
}

/** One request being answered, with its record in `calls`. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: OtsCall;
  action: string;
  body: Buffer;
  /** The network the request came through: the endpoint it was sent to. */
  network: OtsNetwork;
}

const operationOf = (action: string): Operation | undefined =>
  Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action as OtsAction] : undefined;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Answers as the service does: the protobuf body with its MD5 and a request id in x-ots-* headers. */
function answer(res: ServerResponse, status: number, body: Uint8Array): void {
  const md5 = createHash('md5').update(body).digest('base64');
  const headers: Record<string, string> = {
    'x-ots-requestid': randomUUID(),
    'x-ots-date': new Date().toUTCString(),
    'x-ots-contentmd5': md5,
    'x-ots-contenttype': 'protocol buffer',
  };
  res.writeHead(status, headers);
  res.end(Buffer.from(body));
}

/** Refuses the request with the service's HTTP status and protobuf Error, and records it. */
function refuse(x: Exchange, e: OtsError): void {
  x.record.status = e.status;
  x.record.code = e.code;
  answer(x.res, e.status, P.Error!.encode({ code: e.code, message: e.message }).finish());
}

/** Closes the connection unanswered; the record's status says where (-1 down, -2 after applying, -3 before). */
function drop(x: Exchange, status: -1 | -2 | -3): void {
  x.record.status = status;
  x.req.socket.destroy();
}

/** The first scripted fault of the whole request that matches `action`, used up by one. */
function takeFault(faults: ArmedFault[], action: string): ArmedFault | undefined {
  const fault = faults.find((f) => f.left > 0 && f.kind !== 'row-error' && (!f.action || f.action === action));
  if (fault) fault.left -= 1;
  return fault;
}

/** Why the request is refused before any operation: not a POST, not authentic, or not an operation the server has. */
function refusal(s: ServerState, x: Exchange): OtsError | undefined {
  // The service's answer to a network its ACL does not allow (Tablestore's troubleshooting page quotes it; the
  // "binded VPC" variant is for an instance that allows only its bound VPCs).
  if (!s.acl.has(x.network)) return new OtsError(403, 'OTSAuthFailed', 'Request denied by instance ACL policies.');
  const auth =
    x.req.method === 'POST'
      ? authError(x.req.headers, x, s.opts)
      : new OtsError(405, 'OTSMethodNotAllowed', 'Only POST is allowed.');
  x.record.signatureValid = auth === undefined;
  if (auth) return auth;
  if (!operationOf(x.action))
    return new OtsError(400, 'OTSUnsupportOperation', `Unsupported operation: '${x.action}'.`);
  return undefined;
}

/**
 * How the scripted row faults answer the rows of one BatchWriteRow: the first armed one matching a row refuses it, and
 * each fault that refused a row is used up by one once the request is answered (`settle`).
 */
function rowFaults(faults: ArmedFault[], action: string) {
  const armed = faults.filter(
    (f): f is Extract<ArmedFault, { kind: 'row-error' }> =>
      f.kind === 'row-error' && f.left > 0 && action === 'BatchWriteRow',
  );
  const used = new Set<ArmedFault>();
  const refuseRow = (key: string): OtsError | undefined => {
    const f = armed.find((x) => (x.rows instanceof RegExp ? x.rows.test(key) : x.rows(key)));
    if (!f) return undefined;
    used.add(f);
    return new OtsError(503, f.code, f.message ?? f.code);
  };
  return { refuseRow, settle: () => used.forEach((f) => (f.left -= 1)) };
}

/** Runs the operation and answers it, unless a lost answer is scripted or the test drops it once applied. */
async function perform(s: ServerState, x: Exchange, op: Operation, lostAnswer: boolean): Promise<void> {
  try {
    const call = { rowsWritten: 0, bytesWritten: 0, rowsRead: 0 };
    const rows = rowFaults(s.faults, x.action);
    // Operations run synchronously, so every check-and-set is atomic, as a row operation is on the service.
    const ctx = { tables: s.tables, clock: s.clock, consumed: s.consumed, call, refuseRow: rows.refuseRow };
    const { type, message } = op(ctx, x.body);
    rows.settle();
    Object.assign(x.record, call);
    if (lostAnswer || (await s.opts.onRequest?.(x.action, 'applied')) === 'drop') return drop(x, -2);
    x.record.status = 200;
    answer(x.res, 200, P[type]!.encode(message).finish());
  } catch (err) {
    refuse(x, err instanceof OtsError ? err : invalid(err instanceof PlainBufferError ? err.message : String(err)));
  }
}

/** Serves one request: record it, refuse it or play a scripted fault, or perform its operation. */
async function serve(s: ServerState, network: OtsNetwork, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const action = (req.url ?? '/').slice(1);
  const record: OtsCall = { action, status: 0, signatureValid: false, rowsWritten: 0, bytesWritten: 0, rowsRead: 0 };
  s.calls.push(record);
  if (s.opts.latencyMs) await new Promise((r) => setTimeout(r, s.opts.latencyMs));
  const x: Exchange = { req, res, record, action, body, network };
  const refused = refusal(s, x);
  const fault = refused ? undefined : takeFault(s.faults, action);
  if (fault?.kind === 'down') return drop(x, -1);
  const e = fault?.kind === 'error' ? new OtsError(fault.status, fault.code, fault.message ?? fault.code) : refused;
  if (e) return refuse(x, e);
  if ((await s.opts.onRequest?.(action, 'received')) === 'drop') return drop(x, -3);
  await perform(s, x, operationOf(action)!, fault?.kind === 'lost-answer');
}

/**
 * A local Tablestore endpoint speaking the real wire protocol for the operations this product uses: POST /<Action>
 * with protobuf bodies and PlainBuffer rows. It checks the x-ots-* headers, content MD5 and HMAC-SHA1 signature,
 * the instance name and STS token, refuses a network its ACL does not allow, enforces table schemas, conditions, TTL
 * and the service's size and count limits, and answers errors as the service does (HTTP status plus a protobuf Error
 * with the OTS code).
 */
export async function startTablestoreServer(opts: TablestoreServerOptions): Promise<TablestoreServer> {
  const s: ServerState = {
    opts,
    clock: opts.clock ?? Date.now,
    tables: new Map(),
    calls: [],
    consumed: { read: 0, write: 0 },
    faults: [],
    acl: new Set(opts.networkAcl ?? DEFAULT_NETWORK_ACL),
  };
  const networks: OtsNetwork[] = ['vpc', 'classic', 'internet'];
  const servers = networks.map((n) => createServer((req, res) => void serve(s, n, req, res)));
  await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
  const url = (i: number) => `http://127.0.0.1:${(servers[i]!.address() as AddressInfo).port}`;
  const endpoints = { vpc: url(0), classic: url(1), internet: url(2) };
  return {
    endpoint: endpoints.vpc,
    endpoints,
    setNetworkAcl: (allowed) => {
      s.acl = new Set(allowed);
    },
    instance: opts.instance,
    calls: s.calls,
    consumed: s.consumed,
    tables: s.tables,
    fault: (f) => s.faults.push({ ...f, left: f.times ?? 1 }),
    heal: () => {
      s.faults.length = 0;
    },
    close: async () => {
      await Promise.all(
        servers.map(
          (srv) =>
            new Promise<void>((r) => {
              srv.closeAllConnections();
              srv.close(() => r());
            }),
        ),
      );
    },
  };
}
