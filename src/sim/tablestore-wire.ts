/**
 * The local Tablestore server's wire formats: the SDK's own protobuf messages, PlainBuffer rows as the service returns
 * them, and the column-value filters a condition carries.
 */
import { createRequire } from 'node:module';
import TableStore from 'tablestore';
import { readVariant, type Cell, type Variant } from './plainbuffer.js';
import { invalid, type StoredRow } from './tablestore-table.js';

// The SDK's own compiled protobuf definitions: the server decodes exactly what the client encodes.
type ProtoType = { decode(b: Uint8Array): Record<string, unknown>; encode(m: unknown): { finish(): Uint8Array } };
const compiled = createRequire(import.meta.url)('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: { proto: Record<string, ProtoType> };
  filter: { proto: Record<string, ProtoType> };
};
/** The service's request and response messages, by name (`GetRowRequest`, `Error`, ...). */
export const P = compiled.main.proto;
const F = compiled.filter.proto;
const builder = (
  TableStore as unknown as {
    PlainBufferBuilder: {
      serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer;
      serializePrimaryKey(pk: unknown[]): Buffer;
    };
  }
).PlainBufferBuilder;

/** A row condition as a write request carries it: row existence, and a column filter when there is one. */
export type Condition = { rowExistence: number; columnCondition?: Uint8Array };

/** Decodes the protobuf request `type` (`GetRowRequest`, ...) as the shape `T` the operation reads. */
export const decode = <T>(type: string, body: Uint8Array): T => P[type]!.decode(body) as T;

function compare(a: Variant, b: Variant): number | undefined {
  if (a.type !== b.type || !('v' in a) || !('v' in b)) return undefined;
  if (Buffer.isBuffer(a.v) && Buffer.isBuffer(b.v)) return Buffer.compare(a.v, b.v);
  const x = a.v as bigint | number | string | boolean;
  const y = b.v as typeof x;
  return x < y ? -1 : x > y ? 1 : 0;
}

function passesSingle(bytes: Uint8Array, row: StoredRow | undefined): boolean {
  const s = F.SingleColumnValueFilter!.decode(bytes) as {
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

/** Whether `row` (undefined: absent) passes the encoded column filter of a condition. */
export function passes(filterBytes: Uint8Array, row: StoredRow | undefined): boolean {
  const f = F.Filter!.decode(filterBytes) as { type: number; filter: Uint8Array };
  if (f.type === 1) return passesSingle(f.filter, row);
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
export function encodeRow(row: StoredRow, only?: string[]): Buffer {
  const attrs = [...row.cols.entries()]
    .filter(([k]) => !only || only.length === 0 || only.includes(k))
    .map(([k, c]) => ({ [k]: toSdkValue(c.value), timestamp: c.timestamp }));
  return Buffer.from(builder.serializeForPutRow(sdkPk(row.pk), attrs));
}

/** A primary key as PlainBuffer, e.g. where a range read stopped. */
export const encodePk = (pk: Cell[]): Buffer => builder.serializePrimaryKey(sdkPk(pk));
