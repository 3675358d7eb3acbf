import { gunzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import { CheckpointConflictError, IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import type { LegacyDoc } from './earlier-document.js';
import { ROW_TTL_MS } from '../model/state.js';
import {
  MAX_GET_ROWS,
  MAX_RANGE_ROWS,
  MAX_WRITE_ROWS,
  opBytes,
  type Cols,
  type KeyedRow,
  type RowTable,
  type TableCounter,
  type WriteOp,
} from './table.js';

/** The table's TTL (ROW_TTL_MS; Tablestore requires at least 86400 s, or -1 for none). */
export const STATE_TTL_SEC = ROW_TTL_MS / 1000;
const PK = 'id';

/**
 * The RAM actions the state table needs (Tablestore authorises each API by its name): the reads and writes of every
 * run, the table's creation, and GetRow and UpdateRow for the one upgrade from an earlier version's checkpoint.
 */
export const OTS_RAM_ACTIONS = [
  'ots:BatchGetRow',
  'ots:BatchWriteRow',
  'ots:GetRange',
  'ots:CreateTable',
  'ots:GetRow',
  'ots:UpdateRow',
] as const;

const RETRYABLE = new Set([
  'OTSServerBusy',
  'OTSPartitionUnavailable',
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'OTSNotEnoughCapacityUnit',
  'OTSOperationThrottled',
  'OTSQuotaExhausted',
  'OTSTableNotReady',
  'OTSRowOperationConflict',
]);
const CONFIG = new Set(['OTSAuthFailed', 'OTSNoPermissionAccess', 'OTSAccessDenied', 'OTSInvalidInstance']);

interface OtsSdkError {
  code?: unknown;
  message?: unknown;
  headers?: Record<string, unknown>;
}

/** A table that does not exist yet; the store creates it. */
class TableMissing extends Error {}

/**
 * Normalises the SDK's errors. The Node SDK sets `err.code` to the HTTP status and puts the raw protobuf error
 * body (whose text holds the `OTS...` code) in `err.message`; network problems have code `NetworkingError`.
 * A failed condition is a `CheckpointConflictError`; the message never repeats the raw body.
 */
export function normalizeOtsError(err: unknown, action: string): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OtsSdkError;
  const text = typeof e.message === 'string' ? e.message : '';
  const ots = /\b(OTS[A-Za-z]+)\b/.exec(text)?.[1];
  const status = typeof e.code === 'number' ? e.code : undefined;
  const rid = e.headers?.['x-ots-requestid'] ?? e.headers?.['x-ots-request-id'] ?? /requestId:(\S+)/.exec(text)?.[1];
  const requestId = typeof rid === 'string' && rid !== '' ? rid : undefined;
  if (ots === 'OTSConditionCheckFail')
    return new CheckpointConflictError(`Tablestore ${action}: the row changed since it was read`);
  if (ots === 'OTSObjectNotExist') return new TableMissing(action);
  return otsError(action, ots ?? (typeof e.code === 'string' ? e.code : undefined), status, requestId);
}

function otsError(action: string, code: string | undefined, status?: number, requestId?: string): IntegrationError {
  const fields = { service: 'tablestore' as const, code, status, requestId };
  if (code === 'NetworkingError' || code === 'TimeoutError') {
    return new IntegrationError(`Tablestore ${action}: network error or no answer in time`, {
      ...fields,
      kind: 'retryable',
    });
  }
  if ((code && RETRYABLE.has(code)) || (status !== undefined && status >= 500)) {
    return new IntegrationError(`Tablestore ${action}: service busy or unavailable`, { ...fields, kind: 'retryable' });
  }
  if ((code && CONFIG.has(code)) || code === 'Forbidden') {
    return new IntegrationError(
      `Tablestore ${action} was refused (${code}): check the instance name, endpoint and the role's ots: permissions on the table`,
      { ...fields, kind: 'config' },
    );
  }
  return new IntegrationError(`Tablestore ${action} failed (${code ?? 'unknown'})`, { ...fields, kind: 'permanent' });
}

type Attr = { columnName: string; columnValue: unknown };
type Params = Record<string, unknown>;

const long = (n: number) => TableStore.Long.fromNumber(n);
const toNumber = (x: unknown) =>
  typeof x === 'number'
    ? x
    : typeof (x as { toNumber?: () => number })?.toNumber === 'function'
      ? (x as { toNumber: () => number }).toNumber()
      : NaN;
const colsOf = (attrs: Attr[] | undefined): Cols =>
  Object.fromEntries(
    (attrs ?? []).map((a) => [
      a.columnName,
      typeof a.columnValue === 'string' ? a.columnValue : toNumber(a.columnValue),
    ]),
  );
const attrsOf = (cols: Cols) => Object.entries(cols).map(([k, v]) => ({ [k]: typeof v === 'number' ? long(v) : v }));
const keyOf = (pk: { value?: unknown }[] | undefined) => String(pk?.[0]?.value ?? '');

export interface TablestoreTable extends RowTable {
  /** The earlier single-document checkpoint under `key`, if the table holds one. */
  legacy(key: string, timeoutMs: number): Promise<LegacyDoc | undefined>;
  /** Marks that document as migrated, conditional on its version, so a run of an earlier version can no longer save it. */
  retireLegacy(key: string, version: number, timeoutMs: number): Promise<void>;
}

/**
 * The state table in Tablestore, through the `tablestore` SDK: one STRING primary key `id`, created on first use
 * (TTL STATE_TTL_SEC, one version). Each method is one request within the service's limits; the SDK's own retries are
 * off (it is process-global and never matches this SDK's error shape): the run's retry stage decides.
 */
export function createTablestoreTable(opts: {
  endpoint: string;
  instance: string;
  table: string;
  credentials: Credentials;
}): TablestoreTable {
  const counter: TableCounter = { reads: 0, writes: 0, rowsWritten: 0, bytesWritten: 0 };
  const client = (timeoutMs: number) =>
    new TableStore.Client({
      accessKeyId: opts.credentials.accessKeyId.reveal(),
      secretAccessKey: opts.credentials.accessKeySecret.reveal(),
      stsToken: opts.credentials.securityToken?.reveal(),
      endpoint: opts.endpoint,
      instancename: opts.instance,
      maxRetries: 0,
      httpOptions: { timeout: timeoutMs },
    } as unknown as ConstructorParameters<typeof TableStore.Client>[0]) as unknown as Record<
      string,
      (p: Params) => Promise<unknown>
    >;

  async function createTable(timeoutMs: number): Promise<void> {
    try {
      await client(timeoutMs).createTable!({
        tableMeta: { tableName: opts.table, primaryKey: [{ name: PK, type: 'STRING' }] },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        tableOptions: { timeToLive: STATE_TTL_SEC, maxVersions: 1 },
      });
    } catch (err) {
      // Two first runs racing both try to create it; the loser's "already exists" is success.
      if (/OTSObjectAlreadyExist/.test(String((err as OtsSdkError).message ?? ''))) return;
      throw normalizeOtsError(err, 'CreateTable');
    }
  }

  /** One request; a missing table is created and, for a read, answered as empty. */
  async function send<T>(
    action: string,
    method: string,
    params: Params,
    timeoutMs: number,
    whenMissing: () => T,
  ): Promise<T | unknown> {
    try {
      return await client(timeoutMs)[method]!({ tableName: opts.table, ...params });
    } catch (err) {
      const e = normalizeOtsError(err, action);
      if (!(e instanceof TableMissing)) throw e;
      await createTable(timeoutMs);
      return whenMissing();
    }
  }

  const pk = (key: string) => [{ [PK]: key }];
  const condition = (op: WriteOp) => {
    if (op.op === 'delete' || op.when === undefined)
      return new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
    if (op.when === 'absent')
      return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
    // passIfMissing=false: a row without a version column must not pass as "unchanged".
    const same = new TableStore.SingleColumnCondition(
      'ver',
      long(op.when.version),
      TableStore.ComparatorType.EQUAL,
      false,
      true,
    );
    return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, same);
  };
  const retryLater = () => {
    throw new IntegrationError('Tablestore table was just created; retrying the write', {
      service: 'tablestore',
      kind: 'retryable',
      code: 'OTSObjectNotExist',
    });
  };

  return {
    where: `tablestore ${opts.instance}/${opts.table}`,
    counter,
    async getRows(keys, timeoutMs) {
      if (keys.length > MAX_GET_ROWS) throw new Error(`at most ${MAX_GET_ROWS} rows per read, got ${keys.length}`);
      const out = new Map<string, Cols>();
      if (keys.length === 0) return out;
      counter.reads += 1;
      const r = (await send(
        'BatchGetRow',
        'batchGetRow',
        { tables: [{ tableName: opts.table, primaryKey: keys.map(pk), maxVersions: 1 }] },
        timeoutMs,
        () => ({ tables: [[]] }),
      )) as {
        tables: { isOk: boolean; errorCode?: string; primaryKey?: { value: unknown }[]; attributes?: Attr[] }[][];
      };
      for (const row of r.tables[0] ?? []) {
        if (!row.isOk) throw otsError('BatchGetRow', row.errorCode ?? undefined);
        if (row.primaryKey && (row.attributes?.length ?? 0) > 0) out.set(keyOf(row.primaryKey), colsOf(row.attributes));
      }
      return out;
    },
    async rangePage(from, to, timeoutMs, limit = MAX_RANGE_ROWS) {
      counter.reads += 1;
      const r = (await send(
        'GetRange',
        'getRange',
        {
          direction: 'FORWARD',
          inclusiveStartPrimaryKey: pk(from),
          exclusiveEndPrimaryKey: pk(to),
          maxVersions: 1,
          limit: Math.min(limit, MAX_RANGE_ROWS),
        },
        timeoutMs,
        () => ({ rows: [], nextStartPrimaryKey: null }),
      )) as {
        rows: { primaryKey: { value: unknown }[]; attributes: Attr[] }[];
        nextStartPrimaryKey: { value: unknown }[] | null;
      };
      const rows: KeyedRow[] = r.rows.map((x) => ({ key: keyOf(x.primaryKey), cols: colsOf(x.attributes) }));
      return r.nextStartPrimaryKey ? { rows, next: keyOf(r.nextStartPrimaryKey) } : { rows };
    },
    async writeRows(ops, timeoutMs) {
      if (ops.length === 0) return { failed: [] };
      if (ops.length > MAX_WRITE_ROWS) throw new Error(`at most ${MAX_WRITE_ROWS} rows per write, got ${ops.length}`);
      counter.writes += 1;
      const rows = ops.map((op) =>
        op.op === 'delete'
          ? { type: 'DELETE', condition: condition(op), primaryKey: pk(op.key) }
          : { type: 'PUT', condition: condition(op), primaryKey: pk(op.key), attributeColumns: attrsOf(op.cols) },
      );
      const r = (await send(
        'BatchWriteRow',
        'batchWriteRow',
        { tables: [{ tableName: opts.table, rows }] },
        timeoutMs,
        retryLater,
      )) as { tables: { isOk: boolean; errorCode?: string }[] };
      const failed: string[] = [];
      r.tables.forEach((row, i) => {
        const op = ops[i]!;
        if (row.isOk) {
          counter.rowsWritten += 1;
          counter.bytesWritten += opBytes(op);
        } else if (row.errorCode === 'OTSConditionCheckFail') failed.push(op.key);
        else throw otsError('BatchWriteRow', row.errorCode ?? undefined);
      });
      return { failed };
    },
    async legacy(key, timeoutMs) {
      counter.reads += 1;
      const data = (await send('GetRow', 'getRow', { primaryKey: pk(key), maxVersions: 1 }, timeoutMs, () => ({}))) as {
        row?: { attributes?: Attr[] };
      };
      const attrs = new Map((data.row?.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
      if (!attrs.has('version')) return undefined;
      const version = toNumber(attrs.get('version'));
      const doc = attrs.get('doc');
      // A moved document outlives its doc cell by its later writes (TTL counts per cell): nothing is left to move.
      if (attrs.has('migrated_at') && doc === undefined) return undefined;
      if (!Number.isInteger(version) || !Buffer.isBuffer(doc))
        throw new Error(
          `the earlier checkpoint in ${opts.instance}/${opts.table}/${key} is damaged (version or doc column has the wrong type)`,
        );
      try {
        const migrated = attrs.get('migrated_at');
        const moved = attrs.get('migrated_version');
        return {
          doc: JSON.parse(gunzipSync(doc).toString('utf8')) as unknown,
          version,
          retired: migrated !== undefined,
          ...(migrated !== undefined ? { retiredAt: toNumber(migrated) } : {}),
          ...(moved !== undefined ? { movedVersion: toNumber(moved) } : {}),
        };
      } catch {
        throw new Error(
          `the earlier checkpoint in ${opts.instance}/${opts.table}/${key} is damaged (doc is not gzip JSON)`,
        );
      }
    },
    async retireLegacy(key, version, timeoutMs) {
      counter.writes += 1;
      // The version is what earlier versions' writes are conditional on: bumping it makes any still running fail.
      const same = new TableStore.SingleColumnCondition(
        'version',
        long(version),
        TableStore.ComparatorType.EQUAL,
        false,
        true,
      );
      await send(
        'UpdateRow',
        'updateRow',
        {
          primaryKey: pk(key),
          updateOfAttributeColumns: [
            {
              PUT: [
                { version: long(version + 1) },
                { migrated_at: long(Date.now()) },
                { migrated_version: long(version + 1) },
                { lease_owner: '' },
                { lease_until: long(0) },
              ],
            },
          ],
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, same),
        },
        timeoutMs,
        retryLater,
      );
    },
  };
}
