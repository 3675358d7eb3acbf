import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import TableStore from 'tablestore';
import { PlainBufferError, readRow, readVariant, type Cell, type Variant } from './plainbuffer.js';

// The SDK's own compiled protobuf definitions: the server decodes exactly what the client encodes.
type ProtoType = { decode(b: Uint8Array): Record<string, unknown>; encode(m: unknown): { finish(): Uint8Array } };
const compiled = createRequire(import.meta.url)('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: { proto: Record<string, ProtoType> };
  filter: { proto: Record<string, ProtoType> };
};
const P = compiled.main.proto;
const F = compiled.filter.proto;
const builder = (TableStore as unknown as { PlainBufferBuilder: { serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer } }).PlainBufferBuilder;

export type OtsAction = 'CreateTable' | 'ListTable' | 'DescribeTable' | 'DeleteTable' | 'GetRow' | 'PutRow' | 'UpdateRow' | 'DeleteRow';

/** A scripted failure for the next matching calls. */
export type OtsFault =
  | { action?: OtsAction; kind: 'error'; status: number; code: string; message?: string; times?: number }
  | { action?: OtsAction; kind: 'down'; times?: number }
  /** Applies the write, then drops the connection: the client cannot know whether it happened. */
  | { action?: OtsAction; kind: 'lost-answer'; times?: number };

interface StoredCell {
  value: Variant;
  timestamp: number;
}
interface Table {
  pk: { name: string; type: number }[];
  ttl: number;
  maxVersions: number;
  rows: Map<string, { pk: Cell[]; cols: Map<string, StoredCell> }>;
}

export interface OtsCall {
  action: string;
  status: number;
  signatureValid: boolean;
}

export interface TablestoreServer {
  endpoint: string;
  instance: string;
  calls: OtsCall[];
  /** Capacity units the service would have charged: 1 per 4 KB read or written, rounded up. */
  consumed: { read: number; write: number };
  tables: Map<string, Table>;
  fault(f: OtsFault): void;
  /** Drops every scripted fault: the service is back. */
  heal(): void;
  close(): Promise<void>;
}

class OtsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const NOT_EXIST = () => new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.');
const CONDITION = () => new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
const cu = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

function pkKey(pk: Cell[]): string {
  return JSON.stringify(pk.map((c) => [c.name, c.value?.type, c.value && 'v' in c.value ? (Buffer.isBuffer(c.value.v) ? c.value.v.toString('base64') : String(c.value.v)) : null]));
}

function compare(a: Variant, b: Variant): number | undefined {
  if (a.type !== b.type || !('v' in a) || !('v' in b)) return undefined;
  if (Buffer.isBuffer(a.v) && Buffer.isBuffer(b.v)) return Buffer.compare(a.v, b.v);
  const x = a.v as bigint | number | string | boolean;
  const y = b.v as typeof x;
  return x < y ? -1 : x > y ? 1 : 0;
}

function passes(filterBytes: Uint8Array, row: { cols: Map<string, StoredCell> } | undefined): boolean {
  const f = F.Filter!.decode(filterBytes) as { type: number; filter: Uint8Array };
  if (f.type === 1) {
    const s = F.SingleColumnValueFilter!.decode(f.filter) as { comparator: number; columnName: string; columnValue: Uint8Array; filterIfMissing: boolean };
    const cell = row?.cols.get(s.columnName);
    if (!cell) return !s.filterIfMissing;
    // A value of another type never matches (an INTEGER column against a DOUBLE literal fails the check).
    const c = compare(cell.value, readVariant(Buffer.from(s.columnValue)));
    if (c === undefined) return false;
    return [c === 0, c !== 0, c > 0, c >= 0, c < 0, c <= 0][s.comparator - 1] ?? false;
  }
  if (f.type === 2) {
    const c = F.CompositeColumnValueFilter!.decode(f.filter) as { combinator: number; subFilters: { type: number; filter: Uint8Array }[] };
    const subs = c.subFilters.map((sf) => passes(F.Filter!.encode(sf).finish(), row));
    if (c.combinator === 1) return !subs[0];
    return c.combinator === 2 ? subs.every(Boolean) : subs.some(Boolean);
  }
  throw new OtsError(400, 'OTSParameterInvalid', `Unsupported filter type ${f.type}.`);
}

function checkCondition(cond: { rowExistence: number; columnCondition?: Uint8Array } | undefined, row: { cols: Map<string, StoredCell> } | undefined): void {
  if (!cond) throw new OtsError(400, 'OTSParameterInvalid', 'Condition is required.');
  if (cond.rowExistence === 1 && !row) throw CONDITION();
  if (cond.rowExistence === 2 && row) throw CONDITION();
  if (cond.columnCondition && cond.columnCondition.length > 0 && !passes(cond.columnCondition, row)) throw CONDITION();
}

function toSdkValue(v: Variant): unknown {
  switch (v.type) {
    case 'INTEGER': return TableStore.Long.fromNumber(Number(v.v));
    case 'STRING': case 'DOUBLE': case 'BOOLEAN': case 'BLOB': return v.v;
    default: return null;
  }
}

/**
 * A local Tablestore endpoint speaking the real wire protocol for the operations this product uses: POST /<Action>
 * with protobuf bodies and PlainBuffer rows. It checks the x-ots-* headers, content MD5 and HMAC-SHA1 signature,
 * the instance name and STS token, enforces table schemas and conditional writes, and answers errors as the
 * service does (HTTP status plus a protobuf Error with the OTS code).
 */
export interface TablestoreServerOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  instance: string;
  latencyMs?: number;
  /**
   * Called when an authenticated request arrives (`received`) and after a write was applied (`applied`), before the
   * answer; returning 'drop' closes the connection unanswered. Tests use it to crash a client at an exact point.
   */
  onRequest?(action: string, phase: 'received' | 'applied'): 'drop' | void | Promise<'drop' | void>;
}

export async function startTablestoreServer(opts: TablestoreServerOptions): Promise<TablestoreServer> {
  const tables = new Map<string, Table>();
  const calls: OtsCall[] = [];
  const consumed = { read: 0, write: 0 };
  const faults: (OtsFault & { left: number })[] = [];

  const table = (name: string) => {
    const t = tables.get(name);
    if (!t) throw NOT_EXIST();
    return t;
  };
  /** The primary key cells, checked against the table's schema as the service does. */
  const checkPk = (t: Table, pk: Cell[]): Cell[] => {
    if (pk.map((c) => c.name).join() !== t.pk.map((p) => p.name).join()) throw new OtsError(400, 'OTSParameterInvalid', 'Validate PK name fail.');
    pk.forEach((c, i) => {
      const want = { 1: 'INTEGER', 2: 'STRING', 3: 'BLOB' }[t.pk[i]!.type];
      if (c.value?.type !== want) throw new OtsError(400, 'OTSParameterInvalid', 'Validate PK type fail.');
    });
    return pk;
  };
  const readPk = (t: Table, bytes: Uint8Array): Cell[] => checkPk(t, readRow(Buffer.from(bytes)).pk);
  /** What every conditional write starts with: the row change read once, its key checked, the condition applied. */
  const conditionalWrite = (tableName: string, bytes: Uint8Array, condition: { rowExistence: number; columnCondition?: Uint8Array }) => {
    const t = table(tableName);
    const change = readRow(Buffer.from(bytes));
    const key = pkKey(checkPk(t, change.pk));
    const existing = t.rows.get(key);
    checkCondition(condition, existing);
    return { t, change, key, existing };
  };
  const encodeRow = (pk: Cell[], cols: Map<string, StoredCell>, only?: string[]) => {
    const attrs = [...cols.entries()].filter(([k]) => !only || only.length === 0 || only.includes(k)).map(([k, c]) => ({ [k]: toSdkValue(c.value), timestamp: c.timestamp }));
    return Buffer.from(builder.serializeForPutRow(pk.map((c) => ({ [c.name]: toSdkValue(c.value!) })), attrs));
  };
  const capacity = (read: number, write: number) => {
    consumed.read += read;
    consumed.write += write;
    return { capacityUnit: { read, write } };
  };

  const handlers: Record<OtsAction, (body: Uint8Array) => { type: string; message: unknown }> = {
    CreateTable(body) {
      const req = P.CreateTableRequest!.decode(body) as { tableMeta: { tableName: string; primaryKey: { name: string; type: number }[] }; tableOptions?: { timeToLive?: number; maxVersions?: number } };
      const o = req.tableOptions;
      if (o?.timeToLive === undefined || o.timeToLive === null) throw new OtsError(400, 'OTSParameterInvalid', 'Time-to-live is missing while creating table.');
      if (o.maxVersions === undefined || o.maxVersions === null) throw new OtsError(400, 'OTSParameterInvalid', 'MaxVersions is missing while creating table.');
      if (o.timeToLive !== -1 && o.timeToLive < 86_400) throw new OtsError(400, 'OTSParameterInvalid', 'TimeToLive must be -1 or at least 86400.');
      if (tables.has(req.tableMeta.tableName)) throw new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
      tables.set(req.tableMeta.tableName, { pk: req.tableMeta.primaryKey.map((p) => ({ name: p.name, type: p.type })), ttl: o.timeToLive, maxVersions: o.maxVersions, rows: new Map() });
      return { type: 'CreateTableResponse', message: {} };
    },
    ListTable() {
      return { type: 'ListTableResponse', message: { tableNames: [...tables.keys()] } };
    },
    DescribeTable(body) {
      const req = P.DescribeTableRequest!.decode(body) as { tableName: string };
      const t = table(req.tableName);
      return {
        type: 'DescribeTableResponse',
        message: {
          tableMeta: { tableName: req.tableName, primaryKey: t.pk },
          reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
          tableOptions: { timeToLive: t.ttl, maxVersions: t.maxVersions },
          tableStatus: 1,
        },
      };
    },
    DeleteTable(body) {
      const req = P.DeleteTableRequest!.decode(body) as { tableName: string };
      table(req.tableName);
      tables.delete(req.tableName);
      return { type: 'DeleteTableResponse', message: {} };
    },
    GetRow(body) {
      const req = P.GetRowRequest!.decode(body) as { tableName: string; primaryKey: Uint8Array; columnsToGet?: string[] };
      const t = table(req.tableName);
      const row = t.rows.get(pkKey(readPk(t, req.primaryKey)));
      const out = row ? encodeRow(row.pk, row.cols, req.columnsToGet) : Buffer.alloc(0);
      return { type: 'GetRowResponse', message: { consumed: capacity(cu(out.length), 0), row: out } };
    },
    PutRow(body) {
      const req = P.PutRowRequest!.decode(body) as { tableName: string; row: Uint8Array; condition: { rowExistence: number; columnCondition?: Uint8Array } };
      const { t, change, key } = conditionalWrite(req.tableName, req.row, req.condition);
      const now = Date.now();
      t.rows.set(key, { pk: change.pk, cols: new Map(change.data.map((c) => [c.name, { value: c.value!, timestamp: c.timestamp ?? now }])) });
      return { type: 'PutRowResponse', message: { consumed: capacity(req.condition.rowExistence === 0 ? 0 : 1, cu(req.row.length)) } };
    },
    UpdateRow(body) {
      const req = P.UpdateRowRequest!.decode(body) as { tableName: string; rowChange: Uint8Array; condition: { rowExistence: number; columnCondition?: Uint8Array } };
      const { t, change, key, existing } = conditionalWrite(req.tableName, req.rowChange, req.condition);
      const cols = new Map(existing?.cols);
      const now = Date.now();
      for (const c of change.data) {
        if (c.op === 1 || c.op === 3) cols.delete(c.name);
        else if (c.op === 4) {
          const cur = cols.get(c.name);
          if (c.value?.type !== 'INTEGER' || (cur && cur.value.type !== 'INTEGER')) throw new OtsError(400, 'OTSParameterInvalid', 'Increment needs INTEGER values.');
          const base = cur?.value.type === 'INTEGER' ? cur.value.v : 0n;
          cols.set(c.name, { value: { type: 'INTEGER', v: base + c.value.v }, timestamp: now });
        } else cols.set(c.name, { value: c.value!, timestamp: c.timestamp ?? now });
      }
      t.rows.set(key, { pk: change.pk, cols });
      return { type: 'UpdateRowResponse', message: { consumed: capacity(req.condition.rowExistence === 0 ? 0 : 1, cu(req.rowChange.length)) } };
    },
    DeleteRow(body) {
      const req = P.DeleteRowRequest!.decode(body) as { tableName: string; primaryKey: Uint8Array; condition: { rowExistence: number; columnCondition?: Uint8Array } };
      const t = table(req.tableName);
      const key = pkKey(readPk(t, req.primaryKey));
      checkCondition(req.condition, t.rows.get(key));
      t.rows.delete(key);
      return { type: 'DeleteRowResponse', message: { consumed: capacity(0, 1) } };
    },
  };

  const answer = (res: ServerResponse, status: number, body: Uint8Array) => {
    const md5 = createHash('md5').update(body).digest('base64');
    const date = new Date().toUTCString();
    const rid = randomUUID();
    const headers: Record<string, string> = { 'x-ots-requestid': rid, 'x-ots-date': date, 'x-ots-contentmd5': md5, 'x-ots-contenttype': 'protocol buffer' };
    res.writeHead(status, headers);
    res.end(Buffer.from(body));
  };
  const fail = (res: ServerResponse, e: OtsError) => answer(res, e.status, P.Error!.encode({ code: e.code, message: e.message }).finish());

  const authenticate = (req: IncomingMessage, action: string, body: Buffer): OtsError | undefined => {
    const h = req.headers;
    for (const name of ['x-ots-date', 'x-ots-apiversion', 'x-ots-accesskeyid', 'x-ots-instancename', 'x-ots-contentmd5', 'x-ots-signature']) {
      if (!h[name]) return new OtsError(400, 'OTSParameterInvalid', `Missing header: ${name}.`);
    }
    if (h['x-ots-accesskeyid'] !== opts.accessKeyId) return new OtsError(403, 'OTSAuthFailed', 'The AccessKeyID does not exist.');
    if (h['x-ots-instancename'] !== opts.instance) return new OtsError(403, 'OTSAuthFailed', 'The instance is not found.');
    if (createHash('md5').update(body).digest('base64') !== h['x-ots-contentmd5']) return new OtsError(403, 'OTSAuthFailed', 'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
    const canonical = Object.keys(h).filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature').sort().map((k) => `${k}:${String(h[k])}`).join('\n');
    const expected = createHmac('sha1', opts.accessKeySecret).update(`/${action}\nPOST\n\n${canonical}\n`).digest('base64');
    if (expected !== h['x-ots-signature']) return new OtsError(403, 'OTSAuthFailed', 'Signature mismatch.');
    if (opts.securityToken !== undefined && h['x-ots-ststoken'] !== opts.securityToken) return new OtsError(403, 'OTSAuthFailed', 'The STS token is invalid.');
    if (Math.abs(Date.now() - Date.parse(String(h['x-ots-date']))) > 15 * 60_000) return new OtsError(403, 'OTSAuthFailed', 'Mismatch between system time and x-ots-date.');
    return undefined;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const action = (req.url ?? '/').slice(1) as OtsAction;
    const call: OtsCall = { action, status: 0, signatureValid: false };
    calls.push(call);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    const authError = req.method === 'POST' ? authenticate(req, action, body) : new OtsError(405, 'OTSMethodNotAllowed', 'Only POST is allowed.');
    call.signatureValid = authError === undefined;
    const handlerFn = (handlers as Partial<typeof handlers>)[action];
    let e: OtsError | undefined = authError ?? (handlerFn ? undefined : new OtsError(400, 'OTSUnsupportOperation', `Unsupported operation: '${action}'.`));
    const fault = e ? undefined : faults.find((f) => f.left > 0 && (!f.action || f.action === action));
    if (fault) {
      fault.left -= 1;
      if (fault.kind === 'down') {
        call.status = -1;
        return req.socket.destroy();
      }
      if (fault.kind === 'error') e = new OtsError(fault.status, fault.code, fault.message ?? fault.code);
    }
    if (e) {
      call.status = e.status;
      return fail(res, e);
    }
    if ((await opts.onRequest?.(action, 'received')) === 'drop') {
      call.status = -3;
      return req.socket.destroy();
    }
    try {
      const { type, message } = handlerFn!(body);
      if (fault?.kind === 'lost-answer' || (await opts.onRequest?.(action, 'applied')) === 'drop') {
        call.status = -2;
        return req.socket.destroy();
      }
      call.status = 200;
      answer(res, 200, P[type]!.encode(message).finish());
    } catch (err) {
      const oe = err instanceof OtsError ? err : new OtsError(400, 'OTSParameterInvalid', err instanceof PlainBufferError ? err.message : String(err));
      call.status = oe.status;
      fail(res, oe);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    instance: opts.instance,
    calls,
    consumed,
    tables,
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    heal: () => {
      faults.length = 0;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
