/** The local Tablestore server's writes: PutRow, UpdateRow, DeleteRow and BatchWriteRow. */
import { readRow } from './plainbuffer.js';
import { capacity, cu, tableOf, type Answer, type OpContext, type Operation } from './tablestore-ops.js';
import { invalid, LIMITS, OtsError, type RowWrite, type SimTable } from './tablestore-table.js';
import { decode, passes, type Condition } from './tablestore-wire.js';

/** One row change as a request carries it. */
interface RowChange {
  op: RowWrite['type'];
  bytes: Uint8Array;
  condition: Condition | undefined;
}

/** A row change from a request, read once and checked against the schema and limits, not yet applied. */
function rowWrite(t: SimTable, change: RowChange): RowWrite {
  const { op, bytes, condition } = change;
  if (!condition) throw invalid('Condition is required.');
  const row = readRow(Buffer.from(bytes));
  const w: RowWrite = {
    type: op,
    pk: row.pk,
    // A delete carries only the primary key.
    data: op === 'DELETE' ? [] : row.data,
    rowExistence: condition.rowExistence,
    columnCheck:
      condition.columnCondition && condition.columnCondition.length > 0
        ? (stored) => passes(condition.columnCondition!, stored)
        : undefined,
  };
  t.checkWrite(w);
  return w;
}

/** PutRow, UpdateRow or DeleteRow: one row change, applied if its condition holds. */
function single(ctx: OpContext, req: { response: string; tableName: string } & RowChange): Answer {
  const t = tableOf(ctx, req.tableName);
  if (req.bytes.length > LIMITS.writeBytes)
    throw invalid(`The total data size of single row exceeds the limit: ${req.bytes.length} > ${LIMITS.writeBytes}.`);
  t.apply(rowWrite(t, req));
  ctx.call.rowsWritten = 1;
  ctx.call.bytesWritten = req.bytes.length;
  const read = req.condition!.rowExistence === 0 ? 0 : 1;
  return { type: req.response, message: { consumed: capacity(ctx, read, cu(req.bytes.length)) } };
}

type SingleRequest = { tableName: string; condition: Condition };

const putRow: Operation = (ctx, body) => {
  const req = decode<SingleRequest & { row: Uint8Array }>('PutRowRequest', body);
  const { tableName, condition } = req;
  return single(ctx, { response: 'PutRowResponse', tableName, op: 'PUT', bytes: req.row, condition });
};

const updateRow: Operation = (ctx, body) => {
  const req = decode<SingleRequest & { rowChange: Uint8Array }>('UpdateRowRequest', body);
  const { tableName, condition } = req;
  return single(ctx, { response: 'UpdateRowResponse', tableName, op: 'UPDATE', bytes: req.rowChange, condition });
};

const deleteRow: Operation = (ctx, body) => {
  const req = decode<SingleRequest & { primaryKey: Uint8Array }>('DeleteRowRequest', body);
  const { tableName, condition } = req;
  return single(ctx, { response: 'DeleteRowResponse', tableName, op: 'DELETE', bytes: req.primaryKey, condition });
};

type BatchTable = { tableName: string; rows: { type: number; rowChange: Uint8Array; condition: Condition }[] };

/** The checks on a BatchWriteRow as a whole: any broken rule refuses the whole request, nothing applied. */
function checkBatch(tables: BatchTable[]): void {
  const count = tables.reduce((n, x) => n + x.rows.length, 0);
  if (tables.length === 0 || tables.some((x) => x.rows.length === 0))
    throw invalid('The input parameter is invalid: a table without row operations.');
  if (count > LIMITS.batchWriteRows)
    throw invalid(`Rows count exceeds the upper limit: ${count} > ${LIMITS.batchWriteRows}.`);
  const bytes = tables.reduce((n, x) => n + x.rows.reduce((m, r) => m + r.rowChange.length, 0), 0);
  if (bytes > LIMITS.writeBytes)
    throw invalid(`The total data size of the request exceeds the limit: ${bytes} > ${LIMITS.writeBytes}.`);
}

/** One table's row changes of a BatchWriteRow, each read and checked; a row named twice refuses the request. */
function planTable(ctx: OpContext, x: BatchTable): { t: SimTable; x: BatchTable; writes: RowWrite[] } {
  const t = tableOf(ctx, x.tableName);
  const writes = x.rows.map((r) =>
    rowWrite(t, {
      op: (['PUT', 'UPDATE', 'DELETE'] as const)[r.type - 1] ?? 'PUT',
      bytes: r.rowChange,
      condition: r.condition,
    }),
  );
  const keys = new Set(
    writes.map((w) => JSON.stringify(w.pk.map((c) => (c.value && 'v' in c.value ? String(c.value.v) : c.value?.type)))),
  );
  if (keys.size !== writes.length)
    throw invalid('The input parameter is invalid: the same row appears twice in one request.');
  return { t, x, writes };
}

/** A row's primary key as text, as scripted row faults match it: its columns' values joined by ','. */
const pkText = (w: RowWrite): string =>
  w.pk.map((c) => (c.value && 'v' in c.value ? String(c.value.v) : (c.value?.type ?? ''))).join(',');

const batchWriteRow: Operation = (ctx, body) => {
  const req = decode<{ tables: BatchTable[] }>('BatchWriteRowRequest', body);
  // The whole request is refused, nothing applied, when any row breaks a rule (BatchWriteRow API reference).
  checkBatch(req.tables);
  const planned = req.tables.map((x) => planTable(ctx, x));
  const tables = planned.map(({ t, x, writes }) => ({
    tableName: x.tableName,
    rows: writes.map((w, i) => {
      const bytes = x.rows[i]!.rowChange.length;
      try {
        const refused = ctx.refuseRow?.(pkText(w));
        if (refused) throw refused;
        t.apply(w);
        ctx.call.rowsWritten += 1;
        ctx.call.bytesWritten += bytes;
        return { isOk: true, consumed: capacity(ctx, w.rowExistence === 0 ? 0 : 1, cu(bytes)) };
      } catch (err) {
        // A row whose condition fails, or that the service refuses alone (busy), fails alone; the others are applied.
        if (!(err instanceof OtsError)) throw err;
        return { isOk: false, error: { code: err.code, message: err.message }, consumed: capacity(ctx, 1, 0) };
      }
    }),
  }));
  return { type: 'BatchWriteRowResponse', message: { tables } };
};

/** The row writes. */
export const WRITE_OPERATIONS = {
  PutRow: putRow,
  UpdateRow: updateRow,
  DeleteRow: deleteRow,
  BatchWriteRow: batchWriteRow,
} satisfies Record<string, Operation>;
