/**
 * The table model behind the local Tablestore server: rows ordered by primary key, conditions, TTL and the service's
 * documented limits. Everything the service refuses, this refuses with the same error code, so a client that would
 * break on the service breaks here first.
 */
import type { Cell, Variant } from './plainbuffer.js';

// Limits: https://help.aliyun.com/zh/tablestore/general-limits-of-tablestore (general limits) and the BatchWriteRow,
// BatchGetRow and GetRange API references.
export const LIMITS = {
  /** A STRING or BINARY primary key column value. */
  pkValueBytes: 1024,
  /** A STRING or BINARY attribute column value. */
  attributeBytes: 2 * 1024 * 1024,
  /** Attribute columns written by one row operation. */
  columnsPerWrite: 1024,
  /** PutRow or UpdateRow data, and the whole of one BatchWriteRow. */
  writeBytes: 4 * 1024 * 1024,
  batchWriteRows: 200,
  batchGetRows: 100,
  rangeRows: 5000,
  rangeBytes: 4 * 1024 * 1024,
  columnsToGet: 128,
} as const;

/** An error as the service answers it: HTTP status, OTS error code and message. */
export class OtsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The service's OTSParameterInvalid (HTTP 400) with its message. */
export const invalid = (message: string) => new OtsError(400, 'OTSParameterInvalid', message);
/** The service's answer to a write whose row or column condition does not hold. */
export const conditionFailed = () => new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');

export interface StoredCell {
  value: Variant;
  timestamp: number;
}
export interface StoredRow {
  pk: Cell[];
  cols: Map<string, StoredCell>;
}

/** What one write does to one row: the change read from the request, and the condition it needs. */
export interface RowWrite {
  type: 'PUT' | 'UPDATE' | 'DELETE';
  pk: Cell[];
  data: Cell[];
  rowExistence: number;
  /** Checks a column condition against the row as it is (undefined when absent). */
  columnCheck?: (row: StoredRow | undefined) => boolean;
}

const valueBytes = (v: Variant | undefined) =>
  v === undefined ? 0 : v.type === 'STRING' ? Buffer.byteLength(v.v, 'utf8') : v.type === 'BLOB' ? v.v.length : 8;

/** Orders two primary keys column by column as the service does: INF_MIN lowest, INF_MAX highest, strings bytewise. */
export function comparePk(a: Cell[], b: Cell[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareValue(a[i]?.value, b[i]?.value);
    if (c !== 0) return c;
  }
  return 0;
}

function compareValue(x: Variant | undefined, y: Variant | undefined): number {
  const rank = (v: Variant | undefined) => (v === undefined || v.type === 'INF_MIN' ? 0 : v.type === 'INF_MAX' ? 2 : 1);
  const r = rank(x) - rank(y);
  if (r !== 0 || rank(x) !== 1) return r;
  const a = x as Variant & { v: unknown };
  const b = y as Variant & { v: unknown };
  if (a.type === 'STRING' && b.type === 'STRING')
    return Buffer.compare(Buffer.from(a.v as string, 'utf8'), Buffer.from(b.v as string, 'utf8'));
  if (a.type === 'BLOB' && b.type === 'BLOB') return Buffer.compare(a.v as Buffer, b.v as Buffer);
  if (a.type === 'INTEGER' && b.type === 'INTEGER') return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  throw invalid('Validate PK type fail.');
}

/** A primary key as a map key: equal for equal keys, whatever object holds them. */
export const pkKey = (pk: Cell[]): string =>
  JSON.stringify(
    pk.map((c) => [
      c.name,
      c.value?.type,
      c.value && 'v' in c.value
        ? Buffer.isBuffer(c.value.v)
          ? c.value.v.toString('base64')
          : String(c.value.v)
        : null,
    ]),
  );

/** A table: rows by primary key, a TTL read against `clock`, one version per column. */
export class SimTable {
  private readonly rows = new Map<string, StoredRow>();
  /** Keys in primary-key order; rebuilt on the first range read after a change. */
  private sorted: StoredRow[] | undefined;

  readonly name: string;
  readonly pk: { name: string; type: number }[];
  /** Seconds a cell lives after it was written; -1 forever. */
  readonly ttl: number;
  readonly maxVersions: number;
  private readonly clock: () => number;

  constructor(o: {
    name: string;
    pk: { name: string; type: number }[];
    ttl: number;
    maxVersions: number;
    clock: () => number;
  }) {
    this.name = o.name;
    this.pk = o.pk;
    this.ttl = o.ttl;
    this.maxVersions = o.maxVersions;
    this.clock = o.clock;
  }

  /** The primary key of a request, checked against the schema and the value size limit. */
  checkPk(pk: Cell[], allowInfinite = false): Cell[] {
    if (pk.map((c) => c.name).join() !== this.pk.map((p) => p.name).join()) throw invalid('Validate PK name fail.');
    pk.forEach((c, i) => {
      const want = { 1: 'INTEGER', 2: 'STRING', 3: 'BLOB' }[this.pk[i]!.type];
      const inf = c.value?.type === 'INF_MIN' || c.value?.type === 'INF_MAX';
      if (!(allowInfinite && inf) && c.value?.type !== want) throw invalid('Validate PK type fail.');
      if (valueBytes(c.value) > LIMITS.pkValueBytes)
        throw invalid(
          `The length of primary key column: '${c.name}' exceeds the MaxLength:${LIMITS.pkValueBytes} ` +
            `with CurrentLength:${valueBytes(c.value)}.`,
        );
    });
    return pk;
  }

  /** Checks the attribute columns of a write against the service's limits before anything is applied. */
  checkWrite(w: RowWrite): void {
    this.checkPk(w.pk);
    if (w.data.length > LIMITS.columnsPerWrite)
      throw invalid(`The number of attribute columns exceeds the limit: ${w.data.length} > ${LIMITS.columnsPerWrite}.`);
    for (const c of w.data) {
      if (this.pk.some((p) => p.name === c.name))
        throw invalid(`Attribute column '${c.name}' has the name of a primary key column.`);
      if (valueBytes(c.value) > LIMITS.attributeBytes)
        throw invalid(
          `The length of attribute column: '${c.name}' exceeds the MaxLength:${LIMITS.attributeBytes} ` +
            `with CurrentLength:${valueBytes(c.value)}.`,
        );
    }
  }

  /** The row as a reader sees it: cells past the TTL are gone, and a row without a live cell does not exist. */
  get(pk: Cell[]): StoredRow | undefined {
    return this.visible(this.rows.get(pkKey(pk)));
  }

  private visible(row: StoredRow | undefined): StoredRow | undefined {
    if (!row || this.ttl === -1) return row;
    const oldest = this.clock() - this.ttl * 1000;
    const cols = new Map([...row.cols].filter(([, c]) => c.timestamp >= oldest));
    return cols.size > 0 ? { pk: row.pk, cols } : undefined;
  }

  /** Applies one checked write if its condition holds; throws OTSConditionCheckFail otherwise. */
  apply(w: RowWrite): void {
    const key = pkKey(w.pk);
    const existing = this.get(w.pk);
    if (w.rowExistence === 1 && !existing) throw conditionFailed();
    if (w.rowExistence === 2 && existing) throw conditionFailed();
    if (w.columnCheck && !w.columnCheck(existing)) throw conditionFailed();
    const now = this.clock();
    if (w.type === 'DELETE') {
      this.rows.delete(key);
    } else if (w.type === 'PUT') {
      this.rows.set(key, {
        pk: w.pk,
        cols: new Map(w.data.map((c) => [c.name, { value: c.value!, timestamp: c.timestamp ?? now }])),
      });
    } else {
      const cols = updated(existing?.cols, w.data, now);
      // An update that leaves no attribute column leaves no row.
      if (cols.size === 0) this.rows.delete(key);
      else this.rows.set(key, { pk: w.pk, cols });
    }
    this.sorted = undefined;
  }

  /**
   * The visible rows from `start` (inclusive) towards `end` (exclusive), in primary-key order (or reversed), at most
   * `limit`; `take` decides, row by row, whether one more still fits the answer.
   */
  range(
    { start, end, backward, limit }: { start: Cell[]; end: Cell[]; backward: boolean; limit: number },
    take: (row: StoredRow) => boolean,
  ): { rows: StoredRow[]; next?: Cell[] } {
    this.sorted ??= [...this.rows.values()].sort((a, b) => comparePk(a.pk, b.pk));
    const inRange = (pk: Cell[]) =>
      backward
        ? comparePk(pk, start) <= 0 && comparePk(pk, end) > 0
        : comparePk(pk, start) >= 0 && comparePk(pk, end) < 0;
    const list = backward ? [...this.sorted].reverse() : this.sorted;
    let i = lowerIndex(list, start, backward);
    const rows: StoredRow[] = [];
    for (; i < list.length && inRange(list[i]!.pk); i++) {
      const row = this.visible(list[i]);
      if (!row) continue;
      if (rows.length >= limit || !take(row)) return { rows, next: row.pk };
      rows.push(row);
    }
    return { rows };
  }

  /** Every stored row, for a demo that shows what the table holds. */
  allRows(): StoredRow[] {
    return [...this.rows.values()].flatMap((r) => this.visible(r) ?? []);
  }
}

/** The columns after an UpdateRow: each cell deleted (ops 1 and 3), incremented (op 4) or put. */
function updated(before: Map<string, StoredCell> | undefined, data: Cell[], now: number): Map<string, StoredCell> {
  const cols = new Map(before);
  for (const c of data) {
    if (c.op === 1 || c.op === 3) cols.delete(c.name);
    else if (c.op === 4) {
      const cur = cols.get(c.name);
      if (c.value?.type !== 'INTEGER' || (cur && cur.value.type !== 'INTEGER'))
        throw invalid('Increment needs INTEGER values.');
      const base = cur?.value.type === 'INTEGER' ? cur.value.v : 0n;
      cols.set(c.name, { value: { type: 'INTEGER', v: base + c.value.v }, timestamp: now });
    } else cols.set(c.name, { value: c.value!, timestamp: c.timestamp ?? now });
  }
  return cols;
}

/** The index of the first row at or past `start` in the walking direction (binary search). */
function lowerIndex(list: StoredRow[], start: Cell[], backward: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = comparePk(list[mid]!.pk, start);
    if (backward ? c > 0 : c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
