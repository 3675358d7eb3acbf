/**
 * What every operation of the local Tablestore server works with (its tables, clock and capacity count, and the
 * counts of the call it answers), and the table operations: CreateTable, ListTable, DescribeTable, DeleteTable.
 */
import { decode } from './tablestore-wire.js';
import { invalid, OtsError, SimTable } from './tablestore-table.js';

/** Rows one call wrote (with the bytes of their row changes) and read, copied to the call's record. */
export interface CallCounts {
  rowsWritten: number;
  bytesWritten: number;
  rowsRead: number;
}

/** What an operation works on: the server's tables and clock, its capacity count, and this call's counts. */
export interface OpContext {
  tables: Map<string, SimTable>;
  clock: () => number;
  consumed: { read: number; write: number };
  call: CallCounts;
  /**
   * The error a scripted fault answers one row of a batch write with, by the row's primary key as text (its columns'
   * values joined by ','); undefined lets the row be applied.
   */
  refuseRow?: (key: string) => OtsError | undefined;
}

/** An operation's answer: the protobuf response type and its message. */
export interface Answer {
  type: string;
  message: unknown;
}

/** An operation: decodes its request, applies it and answers; throws OtsError for what the service refuses. */
export type Operation = (ctx: OpContext, body: Uint8Array) => Answer;

/** Capacity units the service charges: 1 per 4 KB read or written, rounded up, per row. */
export const cu = (bytes: number): number => Math.max(1, Math.ceil(bytes / 4096));

/** The table `name`, or the service's OTSObjectNotExist. */
export function tableOf(ctx: OpContext, name: string): SimTable {
  const t = ctx.tables.get(name);
  if (!t) throw new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.');
  return t;
}

/** Counts capacity units consumed and returns them as the answer reports them. */
export function capacity(ctx: OpContext, read: number, write: number) {
  ctx.consumed.read += read;
  ctx.consumed.write += write;
  return { capacityUnit: { read, write } };
}

const createTable: Operation = (ctx, body) => {
  const req = decode<{
    tableMeta: { tableName: string; primaryKey: { name: string; type: number }[] };
    tableOptions?: { timeToLive?: number; maxVersions?: number };
  }>('CreateTableRequest', body);
  const o = req.tableOptions;
  if (o?.timeToLive === undefined || o.timeToLive === null)
    throw invalid('Time-to-live is missing while creating table.');
  if (o.maxVersions === undefined || o.maxVersions === null)
    throw invalid('MaxVersions is missing while creating table.');
  if (o.timeToLive !== -1 && o.timeToLive < 86_400) throw invalid('TimeToLive must be -1 or at least 86400.');
  const name = req.tableMeta.tableName;
  if (ctx.tables.has(name)) throw new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
  const pk = req.tableMeta.primaryKey.map((p) => ({ name: p.name, type: p.type }));
  ctx.tables.set(name, new SimTable({ name, pk, ttl: o.timeToLive, maxVersions: o.maxVersions, clock: ctx.clock }));
  return { type: 'CreateTableResponse', message: {} };
};

const listTable: Operation = (ctx) => ({ type: 'ListTableResponse', message: { tableNames: [...ctx.tables.keys()] } });

const describeTable: Operation = (ctx, body) => {
  const req = decode<{ tableName: string }>('DescribeTableRequest', body);
  const t = tableOf(ctx, req.tableName);
  return {
    type: 'DescribeTableResponse',
    message: {
      tableMeta: { tableName: req.tableName, primaryKey: t.pk },
      reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
      tableOptions: { timeToLive: t.ttl, maxVersions: t.maxVersions },
      tableStatus: 1,
    },
  };
};

const deleteTable: Operation = (ctx, body) => {
  const req = decode<{ tableName: string }>('DeleteTableRequest', body);
  tableOf(ctx, req.tableName);
  ctx.tables.delete(req.tableName);
  return { type: 'DeleteTableResponse', message: {} };
};

/** The operations on tables themselves. */
export const TABLE_OPERATIONS = {
  CreateTable: createTable,
  ListTable: listTable,
  DescribeTable: describeTable,
  DeleteTable: deleteTable,
} satisfies Record<string, Operation>;
