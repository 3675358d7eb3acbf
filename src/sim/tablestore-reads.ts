/** The local Tablestore server's reads: GetRow, GetRange and BatchGetRow. */
import { readRow } from './plainbuffer.js';
import { capacity, cu, tableOf, type Operation } from './tablestore-ops.js';
import { invalid, LIMITS } from './tablestore-table.js';
import { decode, encodePk, encodeRow } from './tablestore-wire.js';

function columnsToGet(cols: string[] | undefined): string[] | undefined {
  if ((cols?.length ?? 0) > LIMITS.columnsToGet)
    throw invalid(`The number of columns to get exceeds the limit: ${cols!.length} > ${LIMITS.columnsToGet}.`);
  return cols;
}

const getRow: Operation = (ctx, body) => {
  const req = decode<{ tableName: string; primaryKey: Uint8Array; columnsToGet?: string[] }>('GetRowRequest', body);
  const t = tableOf(ctx, req.tableName);
  const row = t.get(t.checkPk(readRow(Buffer.from(req.primaryKey)).pk));
  const out = row ? encodeRow(row, columnsToGet(req.columnsToGet)) : Buffer.alloc(0);
  ctx.call.rowsRead = row ? 1 : 0;
  return { type: 'GetRowResponse', message: { consumed: capacity(ctx, cu(out.length), 0), row: out } };
};

interface GetRangeRequest {
  tableName: string;
  direction: number;
  columnsToGet?: string[];
  limit?: number;
  inclusiveStartPrimaryKey: Uint8Array;
  exclusiveEndPrimaryKey: Uint8Array;
}

/** The row limit a GetRange asked for, checked; undefined when it asked for none. */
function rangeLimit(req: GetRangeRequest): number | undefined {
  // proto2 optional fields decode to their default when absent: ask whether the client sent one.
  const limit = Object.prototype.hasOwnProperty.call(req, 'limit') ? req.limit! : undefined;
  if (limit !== undefined && limit <= 0) throw invalid('The limit must be greater than 0.');
  return limit;
}

const getRange: Operation = (ctx, body) => {
  const req = decode<GetRangeRequest>('GetRangeRequest', body);
  const t = tableOf(ctx, req.tableName);
  const start = t.checkPk(readRow(Buffer.from(req.inclusiveStartPrimaryKey)).pk, true);
  const end = t.checkPk(readRow(Buffer.from(req.exclusiveEndPrimaryKey)).pk, true);
  const cols = columnsToGet(req.columnsToGet);
  const limit = rangeLimit(req);
  // One answer holds at most 5,000 rows or 4 MB; the rest is reached through next_start_primary_key.
  const encoded: Buffer[] = [];
  let size = 0;
  const bounds = {
    start,
    end,
    backward: req.direction === 1,
    limit: Math.min(limit ?? LIMITS.rangeRows, LIMITS.rangeRows),
  };
  const { next } = t.range(bounds, (row) => {
    const b = encodeRow(row, cols);
    if (encoded.length > 0 && size + b.length > LIMITS.rangeBytes) return false;
    encoded.push(encoded.length === 0 ? b : b.subarray(4));
    size += b.length;
    return true;
  });
  ctx.call.rowsRead = encoded.length;
  const rows = Buffer.concat(encoded);
  return {
    type: 'GetRangeResponse',
    message: {
      consumed: capacity(ctx, cu(rows.length), 0),
      rows,
      ...(next ? { nextStartPrimaryKey: encodePk(next) } : {}),
    },
  };
};

const batchGetRow: Operation = (ctx, body) => {
  const req = decode<{ tables: { tableName: string; primaryKey: Uint8Array[]; columnsToGet?: string[] }[] }>(
    'BatchGetRowRequest',
    body,
  );
  const count = req.tables.reduce((n, x) => n + x.primaryKey.length, 0);
  if (count > LIMITS.batchGetRows)
    throw invalid(`Rows count exceeds the upper limit: ${count} > ${LIMITS.batchGetRows}.`);
  const tables = req.tables.map((x) => {
    const t = tableOf(ctx, x.tableName);
    const cols = columnsToGet(x.columnsToGet);
    const pks = x.primaryKey.map((b) => t.checkPk(readRow(Buffer.from(b)).pk));
    const rows = pks.map((pk) => {
      const row = t.get(pk);
      const b = row ? encodeRow(row, cols) : Buffer.alloc(0);
      if (row) ctx.call.rowsRead += 1;
      return { isOk: true, consumed: capacity(ctx, cu(b.length), 0), row: b };
    });
    return { tableName: x.tableName, rows };
  });
  return { type: 'BatchGetRowResponse', message: { tables } };
};

/** The row reads. */
export const READ_OPERATIONS = {
  GetRow: getRow,
  GetRange: getRange,
  BatchGetRow: batchGetRow,
} satisfies Record<string, Operation>;
