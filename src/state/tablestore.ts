/**
 * The state table in Tablestore: one function per request kind (BatchGetRow, GetRange, BatchWriteRow, and GetRow and
 * UpdateRow for the earlier single document), each one request within the service's limits, over the SDK's edge in
 * tablestore-client.ts.
 */
import TableStore from 'tablestore';
import type { Credentials } from '../lib/secret.js';
import type { LegacySource } from './upgrade.js';
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
  type WriteResult,
} from './table.js';
import {
  attrsOf,
  clientFor,
  colsOf,
  keyOf,
  long,
  otsError,
  pk,
  retryLater,
  send,
  type Attr,
  type Ots,
} from './tablestore-client.js';
import { markLegacyRow, readLegacyRow } from './tablestore-legacy.js';

export { normalizeOtsError, STATE_TTL_SEC } from './tablestore-client.js';

/**
 * The RAM actions the state table needs (Tablestore authorises each API by its name): the reads and writes of every
 * run, the table's creation, and GetRow and UpdateRow for the one upgrade from the earlier single document.
 */
export const OTS_RAM_ACTIONS = [
  'ots:BatchGetRow',
  'ots:BatchWriteRow',
  'ots:GetRange',
  'ots:CreateTable',
  'ots:GetRow',
  'ots:UpdateRow',
] as const;

/** A primary key as the SDK answers it (ours has one column). */
type PrimaryKey = { value: unknown }[];

/** The rows that exist among `keys` (at most MAX_GET_ROWS), in one BatchGetRow. */
async function getRows(ots: Ots, keys: readonly string[], timeoutMs: number): Promise<Map<string, Cols>> {
  if (keys.length > MAX_GET_ROWS) throw new Error(`at most ${MAX_GET_ROWS} rows per read, got ${keys.length}`);
  const out = new Map<string, Cols>();
  if (keys.length === 0) return out;
  ots.counter.reads += 1;
  const params = { tables: [{ tableName: ots.table, primaryKey: keys.map(pk), maxVersions: 1 }] };
  const r = (await send(ots, {
    action: 'BatchGetRow',
    method: 'batchGetRow',
    params,
    timeoutMs,
    whenMissing: () => ({ tables: [[]] }),
  })) as {
    tables: {
      isOk: boolean;
      errorCode?: string;
      errorMessage?: string | null;
      primaryKey?: PrimaryKey;
      attributes?: Attr[];
    }[][];
  };
  for (const row of r.tables[0] ?? []) {
    if (!row.isOk)
      throw otsError('BatchGetRow', row.errorCode ?? undefined, { message: row.errorMessage ?? undefined });
    if (row.primaryKey && (row.attributes?.length ?? 0) > 0) out.set(keyOf(row.primaryKey), colsOf(row.attributes));
  }
  return out;
}

/** One page of rows with `from <= key < to`, in one GetRange. */
async function rangePage(ots: Ots, [from, to]: [string, string], timeoutMs: number, limit = MAX_RANGE_ROWS) {
  ots.counter.reads += 1;
  const params = {
    direction: 'FORWARD',
    inclusiveStartPrimaryKey: pk(from),
    exclusiveEndPrimaryKey: pk(to),
    maxVersions: 1,
    limit: Math.min(limit, MAX_RANGE_ROWS),
  };
  const r = (await send(ots, {
    action: 'GetRange',
    method: 'getRange',
    params,
    timeoutMs,
    whenMissing: () => ({ rows: [], nextStartPrimaryKey: null }),
  })) as { rows: { primaryKey: PrimaryKey; attributes: Attr[] }[]; nextStartPrimaryKey: PrimaryKey | null };
  const rows: KeyedRow[] = r.rows.map((x) => ({ key: keyOf(x.primaryKey), cols: colsOf(x.attributes) }));
  return r.nextStartPrimaryKey ? { rows, next: keyOf(r.nextStartPrimaryKey) } : { rows };
}

/** The service's condition for a write: none, the row absent, or its `ver` column equal to the version read. */
function conditionOf(op: WriteOp) {
  if (op.op === 'delete' || op.when === undefined)
    return new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
  if (op.when === 'absent') return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
  // passIfMissing=false: a row without a version column must not pass as "unchanged".
  const same = new TableStore.SingleColumnCondition(
    'ver',
    long(op.when.version),
    TableStore.ComparatorType.EQUAL,
    false,
    true,
  );
  return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, same);
}

/** One BatchWriteRow's row for a write. */
const rowOf = (op: WriteOp) =>
  op.op === 'delete'
    ? { type: 'DELETE', condition: conditionOf(op), primaryKey: pk(op.key) }
    : { type: 'PUT', condition: conditionOf(op), primaryKey: pk(op.key), attributeColumns: attrsOf(op.cols) };

/**
 * Applies `ops` in one BatchWriteRow. The service answers each row on its own (BatchWriteRow API reference): a failed
 * condition is reported in `failed`, any other refusal of a row (OTSServerBusy, …) in `refused`; the other rows of
 * the request are applied either way.
 */
async function writeRows(ots: Ots, ops: readonly WriteOp[], timeoutMs: number): Promise<WriteResult> {
  if (ops.length === 0) return { failed: [] };
  if (ops.length > MAX_WRITE_ROWS) throw new Error(`at most ${MAX_WRITE_ROWS} rows per write, got ${ops.length}`);
  ots.counter.writes += 1;
  const params = { tables: [{ tableName: ots.table, rows: ops.map(rowOf) }] };
  const r = (await send(ots, {
    action: 'BatchWriteRow',
    method: 'batchWriteRow',
    params,
    timeoutMs,
    whenMissing: retryLater,
  })) as { tables: { isOk: boolean; errorCode?: string; errorMessage?: string | null }[] };
  const failed: string[] = [];
  const refused: NonNullable<WriteResult['refused']> = [];
  r.tables.forEach((row, i) => {
    const op = ops[i]!;
    if (row.isOk) {
      ots.counter.rowsWritten += 1;
      ots.counter.bytesWritten += opBytes(op);
    } else if (row.errorCode === 'OTSConditionCheckFail') failed.push(op.key);
    else {
      const error = otsError('BatchWriteRow', row.errorCode ?? undefined, { message: row.errorMessage ?? undefined });
      refused.push({ key: op.key, error });
    }
  });
  return refused.length > 0 ? { failed, refused } : { failed };
}

export type TablestoreTable = RowTable & LegacySource;

/**
 * The state table in Tablestore, through the `tablestore` SDK: one STRING primary key `id`, created on first use
 * (TTL STATE_TTL_SEC, one version). Each method is one request within the service's limits; the SDK's own retries are
 * off: the run's retry stage decides.
 */
export function createTablestoreTable(opts: {
  endpoint: string;
  instance: string;
  table: string;
  credentials: Credentials;
}): TablestoreTable {
  const counter: TableCounter = { reads: 0, writes: 0, rowsWritten: 0, bytesWritten: 0 };
  const ots: Ots = {
    table: opts.table,
    name: `${opts.instance}/${opts.table}`,
    counter,
    client: (timeoutMs) => clientFor(opts, timeoutMs),
  };
  return {
    where: `tablestore ${opts.instance}/${opts.table}`,
    counter,
    getRows: (keys, timeoutMs) => getRows(ots, keys, timeoutMs),
    rangePage: (from, to, timeoutMs, limit) => rangePage(ots, [from, to], timeoutMs, limit),
    writeRows: (ops, timeoutMs) => writeRows(ots, ops, timeoutMs),
    legacy: (key, timeoutMs) => readLegacyRow(ots, key, timeoutMs),
    retireLegacy: (key, version, timeoutMs) => markLegacyRow(ots, key, version, timeoutMs),
  };
}
