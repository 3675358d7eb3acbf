import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import TableStore from 'tablestore';
import { PlainBufferError, readRow, readVariant, type Cell, type Variant } from './plainbuffer.js';
import { invalid, LIMITS, OtsError, SimTable, type RowWrite, type StoredRow } from './tablestore-table.js';

// The SDK's own compiled protobuf definitions: the server decodes exactly what the client encodes.
type ProtoType = { decode(b: Uint8Array): Record<string, unknown>; encode(m: unknown): { finish(): Uint8Array } };
const compiled = createRequire(import.meta.url)('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: { proto: Record<string, ProtoType> };
  filter: { proto: Record<string, ProtoType> };
};
const P = compiled.main.proto;
const F = compiled.filter.proto;
const builder = (
  TableStore as unknown as {
    PlainBufferBuilder: {
      serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer;
      serializePrimaryKey(pk: unknown[]): Buffer;
    };
  }
).PlainBufferBuilder;

const ACTIONS = [
  'CreateTable',
  'ListTable',
  'DescribeTable',
  'DeleteTable',
  'GetRow',
  'PutRow',
  'UpdateRow',
  'DeleteRow',
  'GetRange',
  'BatchGetRow',
  'BatchWriteRow',
] as const;
export type OtsAction = (typeof ACTIONS)[number];

/** A scripted failure for the next matching calls. */
export type OtsFault =
  | { action?: OtsAction; kind: 'error'; status: number; code: string; message?: string; times?: number }
  | { action?: OtsAction; kind: 'down'; times?: number }
  /** Applies the write, then drops the connection: the client cannot know whether it happened. */
  | { action?: OtsAction; kind: 'lost-answer'; times?: number };

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

export interface TablestoreServer {
  endpoint: string;
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

const NOT_EXIST = () => new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.');
const cu = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

function compare(a: Variant, b: Variant): number | undefined {
  if (a.type !== b.type || !('v' in a) || !('v' in b)) return undefined;
  if (Buffer.isBuffer(a.v) && Buffer.isBuffer(b.v)) return Buffer.compare(a.v, b.v);
  const x = a.v as bigint | number | string | boolean;
  const y = b.v as typeof x;
  return x < y ? -1 : x > y ? 1 : 0;
}

function passes(filterBytes: Uint8Array, row: StoredRow | undefined): boolean {
  const f = F.Filter!.decode(filterBytes) as { type: number; filter: Uint8Array };
  if (f.type === 1) {
    const s = F.SingleColumnValueFilter!.decode(f.filter) as {
      comparator: number;
      columnName: string;
      columnValue: Uint8Array;
      filterIfMissing: boolean;
    };
    const cell = row?.cols.get(s.columnName);
    if (!cell) return !s.filterIfMissing;
    // A value of another type never matches (an INTEGER column against a DOUBLE literal fails the check).
    const c = compare(cell.value, readVariant(Buffer.from(s.columnValue)));
    if (c === undefined) return false;
    return [c === 0, c !== 0, c > 0, c >= 0, c < 0, c <= 0][s.comparator - 1] ?? false;
  }
  if (f.type === 2) {
    const c = F.CompositeColumnValueFilter!.decode(f.filter) as {
      combinator: number;
      subFilters: { type: number; filter: Uint8Array }[];
    };
    const subs = c.subFilters.map((sf) => passes(F.Filter!.encode(sf).finish(), row));
    if (c.combinator === 1) return !subs[0];
    return c.combinator === 2 ? subs.every(Boolean) : subs.some(Boolean);
  }
  throw invalid(`Unsupported filter type ${f.type}.`);
}

type Condition = { rowExistence: number; columnCondition?: Uint8Array };

function toSdkValue(v: Variant): unknown {
  switch (v.type) {
    case 'INTEGER':
      return TableStore.Long.fromNumber(Number(v.v));
    case 'STRING':
    case 'DOUBLE':
    case 'BOOLEAN':
    case 'BLOB':
      return v.v;
    default:
      return null;
  }
}
const sdkPk = (pk: Cell[]) => pk.map((c) => ({ [c.name]: toSdkValue(c.value!) }));

/** A row as the service returns it (with its cells' timestamps), limited to `only` columns when given. */
function encodeRow(row: StoredRow, only?: string[]): Buffer {
  const attrs = [...row.cols.entries()]
    .filter(([k]) => !only || only.length === 0 || only.includes(k))
    .map(([k, c]) => ({ [k]: toSdkValue(c.value), timestamp: c.timestamp }));
  return Buffer.from(builder.serializeForPutRow(sdkPk(row.pk), attrs));
}

/**
 * A local Tablestore endpoint speaking the real wire protocol for the operations this product uses: POST /<Action>
 * with protobuf bodies and PlainBuffer rows. It checks the x-ots-* headers, content MD5 and HMAC-SHA1 signature,
 * the instance name and STS token, enforces table schemas, conditions, TTL and the service's size and count limits,
 * and answers errors as the service does (HTTP status plus a protobuf Error with the OTS code).
 */
export interface TablestoreServerOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  instance: string;
  latencyMs?: number;
  /** The service's clock for TTL and cell versions (tests move it forward to see rows expire); default Date.now. */
  clock?: () => number;
  /**
   * Called when an authenticated request arrives (`received`) and after a write was applied (`applied`), before the
   * answer; returning 'drop' closes the connection unanswered. Tests use it to crash a client at an exact point.
   */
  onRequest?(action: string, phase: 'received' | 'applied'): 'drop' | void | Promise<'drop' | void>;
}

export async function startTablestoreServer(opts: TablestoreServerOptions): Promise<TablestoreServer> {
  const tables = new Map<string, SimTable>();
  const calls: OtsCall[] = [];
  const consumed = { read: 0, write: 0 };
  const faults: (OtsFault & { left: number })[] = [];
  const clock = opts.clock ?? Date.now;

  const table = (name: string) => {
    const t = tables.get(name);
    if (!t) throw NOT_EXIST();
    return t;
  };
  const capacity = (read: number, write: number) => {
    consumed.read += read;
    consumed.write += write;
    return { capacityUnit: { read, write } };
  };
  /** A row change from a request, read once and checked against the schema and limits, not yet applied. */
  const rowWrite = (
    t: SimTable,
    type: RowWrite['type'],
    bytes: Uint8Array,
    condition: Condition | undefined,
    pkOnly = false,
  ): RowWrite => {
    if (!condition) throw invalid('Condition is required.');
    const change = readRow(Buffer.from(bytes));
    const w: RowWrite = {
      type,
      pk: change.pk,
      data: pkOnly ? [] : change.data,
      rowExistence: condition.rowExistence,
      columnCheck:
        condition.columnCondition && condition.columnCondition.length > 0
          ? (row) => passes(condition.columnCondition!, row)
          : undefined,
    };
    t.checkWrite(w);
    return w;
  };
  const columnsToGet = (cols: string[] | undefined) => {
    if ((cols?.length ?? 0) > LIMITS.columnsToGet)
      throw invalid(`The number of columns to get exceeds the limit: ${cols!.length} > ${LIMITS.columnsToGet}.`);
    return cols;
  };
  const call = { rowsWritten: 0, bytesWritten: 0, rowsRead: 0 };

  const handlers: Record<OtsAction, (body: Uint8Array) => { type: string; message: unknown }> = {
    CreateTable(body) {
      const req = P.CreateTableRequest!.decode(body) as {
        tableMeta: { tableName: string; primaryKey: { name: string; type: number }[] };
        tableOptions?: { timeToLive?: number; maxVersions?: number };
      };
      const o = req.tableOptions;
      if (o?.timeToLive === undefined || o.timeToLive === null)
        throw invalid('Time-to-live is missing while creating table.');
      if (o.maxVersions === undefined || o.maxVersions === null)
        throw invalid('MaxVersions is missing while creating table.');
      if (o.timeToLive !== -1 && o.timeToLive < 86_400) throw invalid('TimeToLive must be -1 or at least 86400.');
      if (tables.has(req.tableMeta.tableName))
        throw new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
      tables.set(
        req.tableMeta.tableName,
        new SimTable(
          req.tableMeta.tableName,
          req.tableMeta.primaryKey.map((p) => ({ name: p.name, type: p.type })),
          o.timeToLive,
          o.maxVersions,
          clock,
        ),
      );
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
      const req = P.GetRowRequest!.decode(body) as {
        tableName: string;
        primaryKey: Uint8Array;
        columnsToGet?: string[];
      };
      const t = table(req.tableName);
      const row = t.get(t.checkPk(readRow(Buffer.from(req.primaryKey)).pk));
      const out = row ? encodeRow(row, columnsToGet(req.columnsToGet)) : Buffer.alloc(0);
      call.rowsRead = row ? 1 : 0;
      return { type: 'GetRowResponse', message: { consumed: capacity(cu(out.length), 0), row: out } };
    },
    PutRow(body) {
      const req = P.PutRowRequest!.decode(body) as { tableName: string; row: Uint8Array; condition: Condition };
      return single('PutRowResponse', req.tableName, 'PUT', req.row, req.condition);
    },
    UpdateRow(body) {
      const req = P.UpdateRowRequest!.decode(body) as {
        tableName: string;
        rowChange: Uint8Array;
        condition: Condition;
      };
      return single('UpdateRowResponse', req.tableName, 'UPDATE', req.rowChange, req.condition);
    },
    DeleteRow(body) {
      const req = P.DeleteRowRequest!.decode(body) as {
        tableName: string;
        primaryKey: Uint8Array;
        condition: Condition;
      };
      return single('DeleteRowResponse', req.tableName, 'DELETE', req.primaryKey, req.condition);
    },
    GetRange(body) {
      const req = P.GetRangeRequest!.decode(body) as {
        tableName: string;
        direction: number;
        columnsToGet?: string[];
        limit?: number;
        inclusiveStartPrimaryKey: Uint8Array;
        exclusiveEndPrimaryKey: Uint8Array;
      };
      const t = table(req.tableName);
      const start = t.checkPk(readRow(Buffer.from(req.inclusiveStartPrimaryKey)).pk, true);
      const end = t.checkPk(readRow(Buffer.from(req.exclusiveEndPrimaryKey)).pk, true);
      const cols = columnsToGet(req.columnsToGet);
      // proto2 optional fields decode to their default when absent: ask whether the client sent one.
      const limit = Object.prototype.hasOwnProperty.call(req, 'limit') ? req.limit! : undefined;
      if (limit !== undefined && limit <= 0) throw invalid('The limit must be greater than 0.');
      // One answer holds at most 5,000 rows or 4 MB; the rest is reached through next_start_primary_key.
      const encoded: Buffer[] = [];
      let size = 0;
      const { next } = t.range(
        start,
        end,
        req.direction === 1,
        Math.min(limit ?? LIMITS.rangeRows, LIMITS.rangeRows),
        (row) => {
          const b = encodeRow(row, cols);
          if (encoded.length > 0 && size + b.length > LIMITS.rangeBytes) return false;
          encoded.push(encoded.length === 0 ? b : b.subarray(4));
          size += b.length;
          return true;
        },
      );
      call.rowsRead = encoded.length;
      const rows = Buffer.concat(encoded);
      return {
        type: 'GetRangeResponse',
        message: {
          consumed: capacity(cu(rows.length), 0),
          rows,
          ...(next ? { nextStartPrimaryKey: builder.serializePrimaryKey(sdkPk(next)) } : {}),
        },
      };
    },
    BatchGetRow(body) {
      const req = P.BatchGetRowRequest!.decode(body) as {
        tables: { tableName: string; primaryKey: Uint8Array[]; columnsToGet?: string[] }[];
      };
      const count = req.tables.reduce((n, x) => n + x.primaryKey.length, 0);
      if (count > LIMITS.batchGetRows)
        throw invalid(`Rows count exceeds the upper limit: ${count} > ${LIMITS.batchGetRows}.`);
      const out = req.tables.map((x) => {
        const t = table(x.tableName);
        const cols = columnsToGet(x.columnsToGet);
        const pks = x.primaryKey.map((b) => t.checkPk(readRow(Buffer.from(b)).pk));
        return {
          tableName: x.tableName,
          rows: pks.map((pk) => {
            const row = t.get(pk);
            const b = row ? encodeRow(row, cols) : Buffer.alloc(0);
            if (row) call.rowsRead += 1;
            return { isOk: true, consumed: capacity(cu(b.length), 0), row: b };
          }),
        };
      });
      return { type: 'BatchGetRowResponse', message: { tables: out } };
    },
    BatchWriteRow(body) {
      const req = P.BatchWriteRowRequest!.decode(body) as {
        tables: { tableName: string; rows: { type: number; rowChange: Uint8Array; condition: Condition }[] }[];
      };
      // The whole request is refused, nothing applied, when any row breaks a rule (BatchWriteRow API reference).
      const count = req.tables.reduce((n, x) => n + x.rows.length, 0);
      if (req.tables.length === 0 || req.tables.some((x) => x.rows.length === 0))
        throw invalid('The input parameter is invalid: a table without row operations.');
      if (count > LIMITS.batchWriteRows)
        throw invalid(`Rows count exceeds the upper limit: ${count} > ${LIMITS.batchWriteRows}.`);
      const bytes = req.tables.reduce((n, x) => n + x.rows.reduce((m, r) => m + r.rowChange.length, 0), 0);
      if (bytes > LIMITS.writeBytes)
        throw invalid(`The total data size of the request exceeds the limit: ${bytes} > ${LIMITS.writeBytes}.`);
      const planned = req.tables.map((x) => {
        const t = table(x.tableName);
        const writes = x.rows.map((r) =>
          rowWrite(
            t,
            (['PUT', 'UPDATE', 'DELETE'] as const)[r.type - 1] ?? 'PUT',
            r.rowChange,
            r.condition,
            r.type === 3,
          ),
        );
        const keys = new Set(
          writes.map((w) =>
            JSON.stringify(w.pk.map((c) => (c.value && 'v' in c.value ? String(c.value.v) : c.value?.type))),
          ),
        );
        if (keys.size !== writes.length)
          throw invalid('The input parameter is invalid: the same row appears twice in one request.');
        return { t, x, writes };
      });
      const tablesOut = planned.map(({ t, x, writes }) => ({
        tableName: x.tableName,
        rows: writes.map((w, i) => {
          try {
            t.apply(w);
            call.rowsWritten += 1;
            call.bytesWritten += x.rows[i]!.rowChange.length;
            return { isOk: true, consumed: capacity(w.rowExistence === 0 ? 0 : 1, cu(x.rows[i]!.rowChange.length)) };
          } catch (err) {
            // A row whose condition fails fails alone; the others are applied.
            if (!(err instanceof OtsError)) throw err;
            return { isOk: false, error: { code: err.code, message: err.message }, consumed: capacity(1, 0) };
          }
        }),
      }));
      return { type: 'BatchWriteRowResponse', message: { tables: tablesOut } };
    },
  };

  function single(type: string, tableName: string, op: RowWrite['type'], bytes: Uint8Array, condition: Condition) {
    const t = table(tableName);
    if (bytes.length > LIMITS.writeBytes)
      throw invalid(`The total data size of single row exceeds the limit: ${bytes.length} > ${LIMITS.writeBytes}.`);
    t.apply(rowWrite(t, op, bytes, condition, op === 'DELETE'));
    call.rowsWritten = 1;
    call.bytesWritten = bytes.length;
    return { type, message: { consumed: capacity(condition.rowExistence === 0 ? 0 : 1, cu(bytes.length)) } };
  }

  const answer = (res: ServerResponse, status: number, body: Uint8Array) => {
    const md5 = createHash('md5').update(body).digest('base64');
    const headers: Record<string, string> = {
      'x-ots-requestid': randomUUID(),
      'x-ots-date': new Date().toUTCString(),
      'x-ots-contentmd5': md5,
      'x-ots-contenttype': 'protocol buffer',
    };
    res.writeHead(status, headers);
    res.end(Buffer.from(body));
  };
  const fail = (res: ServerResponse, e: OtsError) =>
    answer(res, e.status, P.Error!.encode({ code: e.code, message: e.message }).finish());

  const authenticate = (req: IncomingMessage, action: string, body: Buffer): OtsError | undefined => {
    const h = req.headers;
    for (const name of [
      'x-ots-date',
      'x-ots-apiversion',
      'x-ots-accesskeyid',
      'x-ots-instancename',
      'x-ots-contentmd5',
      'x-ots-signature',
    ]) {
      if (!h[name]) return invalid(`Missing header: ${name}.`);
    }
    if (h['x-ots-accesskeyid'] !== opts.accessKeyId)
      return new OtsError(403, 'OTSAuthFailed', 'The AccessKeyID does not exist.');
    if (h['x-ots-instancename'] !== opts.instance)
      return new OtsError(403, 'OTSAuthFailed', 'The instance is not found.');
    if (createHash('md5').update(body).digest('base64') !== h['x-ots-contentmd5'])
      return new OtsError(
        403,
        'OTSAuthFailed',
        'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
      );
    const canonical = Object.keys(h)
      .filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature')
      .sort()
      .map((k) => `${k}:${String(h[k])}`)
      .join('\n');
    const expected = createHmac('sha1', opts.accessKeySecret)
      .update(`/${action}\nPOST\n\n${canonical}\n`)
      .digest('base64');
    if (expected !== h['x-ots-signature']) return new OtsError(403, 'OTSAuthFailed', 'Signature mismatch.');
    if (opts.securityToken !== undefined && h['x-ots-ststoken'] !== opts.securityToken)
      return new OtsError(403, 'OTSAuthFailed', 'The STS token is invalid.');
    if (Math.abs(Date.now() - Date.parse(String(h['x-ots-date']))) > 15 * 60_000)
      return new OtsError(403, 'OTSAuthFailed', 'Mismatch between system time and x-ots-date.');
    return undefined;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const action = (req.url ?? '/').slice(1) as OtsAction;
    const record: OtsCall = { action, status: 0, signatureValid: false, rowsWritten: 0, bytesWritten: 0, rowsRead: 0 };
    calls.push(record);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    const authError =
      req.method === 'POST'
        ? authenticate(req, action, body)
        : new OtsError(405, 'OTSMethodNotAllowed', 'Only POST is allowed.');
    record.signatureValid = authError === undefined;
    const handlerFn = (ACTIONS as readonly string[]).includes(action) ? handlers[action] : undefined;
    let e: OtsError | undefined =
      authError ??
      (handlerFn ? undefined : new OtsError(400, 'OTSUnsupportOperation', `Unsupported operation: '${action}'.`));
    const fault = e ? undefined : faults.find((f) => f.left > 0 && (!f.action || f.action === action));
    if (fault) {
      fault.left -= 1;
      if (fault.kind === 'down') {
        record.status = -1;
        return req.socket.destroy();
      }
      if (fault.kind === 'error') e = new OtsError(fault.status, fault.code, fault.message ?? fault.code);
    }
    if (e) {
      record.status = e.status;
      record.code = e.code;
      return fail(res, e);
    }
    if ((await opts.onRequest?.(action, 'received')) === 'drop') {
      record.status = -3;
      return req.socket.destroy();
    }
    try {
      Object.assign(call, { rowsWritten: 0, bytesWritten: 0, rowsRead: 0 });
      // Handlers run synchronously, so every check-and-set is atomic, as a row operation is on the service.
      const { type, message } = handlerFn!(body);
      Object.assign(record, call);
      if (fault?.kind === 'lost-answer' || (await opts.onRequest?.(action, 'applied')) === 'drop') {
        record.status = -2;
        return req.socket.destroy();
      }
      record.status = 200;
      answer(res, 200, P[type]!.encode(message).finish());
    } catch (err) {
      const oe = err instanceof OtsError ? err : invalid(err instanceof PlainBufferError ? err.message : String(err));
      record.status = oe.status;
      record.code = oe.code;
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
