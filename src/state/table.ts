/**
 * The storage primitive the state is kept in: rows of a few columns under a string key, read by key or by key range,
 * written with conditions. One call of each method is one request to the backend, within Tablestore's limits; the
 * state layer above makes many calls, in order, each retried on its own.
 */
import type { IntegrationError } from '../lib/errors.js';

/** Column values: strings, and whole numbers stored as integers. */
export type Cols = Record<string, string | number>;

export interface KeyedRow {
  key: string;
  cols: Cols;
}

/**
 * One row write. `put` replaces the whole row; `when: 'absent'` writes only a row that does not exist yet (the claim
 * of an alert), `when: { version }` only a row whose `ver` column is that number (compare-and-set).
 */
export type WriteOp =
  { op: 'put'; key: string; cols: Cols; when?: 'absent' | { version: number } } | { op: 'delete'; key: string };

// Tablestore's limits (general limits; BatchGetRow, BatchWriteRow, GetRange API references). Writes are kept a little
// under the byte limit, which counts the request's encoding, not only our values.
export const MAX_GET_ROWS = 100;
export const MAX_WRITE_ROWS = 200;
export const MAX_WRITE_BYTES = 4 * 1024 * 1024;
export const WRITE_BYTES_BUDGET = MAX_WRITE_BYTES - 256 * 1024;
export const MAX_VALUE_BYTES = 2 * 1024 * 1024;
export const MAX_KEY_BYTES = 1024;
export const MAX_RANGE_ROWS = 5000;

/** What a store did, for the run summary and the cost figures. */
export interface TableCounter {
  reads: number;
  writes: number;
  rowsWritten: number;
  bytesWritten: number;
}

/**
 * What one write request did: the keys whose condition failed, and the rows the service refused one by one for
 * another reason (busy, …), not applied; `refused` is absent when there are none. Every other row was applied.
 */
export interface WriteResult {
  failed: string[];
  refused?: { key: string; error: IntegrationError }[];
}

/** Runs one request with the run's retries and time budget: `fn` gets the timeout of each attempt. */
export type Call = <T>(label: string, fn: (timeoutMs: number) => Promise<T>) => Promise<T>;

/** A table of rows; every method is one request. */
export interface RowTable {
  /** Where, for log lines ("tablestore inst/table", "file .acr-sync-alert/state.json"). */
  readonly where: string;
  readonly counter: TableCounter;
  /** The rows that exist among `keys` (at most MAX_GET_ROWS). */
  getRows(keys: readonly string[], timeoutMs: number): Promise<Map<string, Cols>>;
  /** Rows with `from <= key < to` in key order, one page; `next` is where the following page starts. */
  rangePage(from: string, to: string, timeoutMs: number, limit?: number): Promise<{ rows: KeyedRow[]; next?: string }>;
  /**
   * Applies `ops` (at most MAX_WRITE_ROWS and WRITE_BYTES_BUDGET, each key once); returns the keys whose condition
   * failed and the rows refused for another reason, the others are applied. Throws when the request as a whole is
   * refused.
   */
  writeRows(ops: readonly WriteOp[], timeoutMs: number): Promise<WriteResult>;
}

/** The bytes one write adds to a request: its key and values (the service's framing is in the budget's margin). */
export function opBytes(op: WriteOp): number {
  let n = Buffer.byteLength(op.key, 'utf8') + 16;
  if (op.op === 'put')
    for (const [k, v] of Object.entries(op.cols))
      n += k.length + 8 + (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 8);
  return n;
}

/** Refuses, before anything is sent, a write the service would refuse whatever the batching. */
export function checkOp(op: WriteOp): void {
  if (!/^[\x20-\x7e]+$/.test(op.key))
    throw new Error(`state row key is not printable ASCII: ${JSON.stringify(op.key.slice(0, 80))}`);
  if (op.key.length > MAX_KEY_BYTES)
    throw new Error(`state row key over ${MAX_KEY_BYTES} bytes: ${op.key.slice(0, 80)}…`);
  if (op.op !== 'put') return;
  for (const [k, v] of Object.entries(op.cols)) {
    if (typeof v === 'string' && Buffer.byteLength(v, 'utf8') > MAX_VALUE_BYTES)
      throw new Error(`state row ${op.key.slice(0, 80)} column ${k} over ${MAX_VALUE_BYTES} bytes`);
  }
}

/** Splits writes into requests within the row and byte limits, keeping their order. */
export function batches(ops: readonly WriteOp[]): WriteOp[][] {
  const out: WriteOp[][] = [];
  let cur: WriteOp[] = [];
  let size = 0;
  for (const op of ops) {
    checkOp(op);
    const b = opBytes(op);
    if (cur.length > 0 && (cur.length >= MAX_WRITE_ROWS || size + b > WRITE_BYTES_BUDGET)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(op);
    size += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Rows in memory with Tablestore's semantics and limits: the local store's core, the overlay a dry run writes to,
 * and the store unit tests use.
 */
export class MemoryTable implements RowTable {
  readonly counter: TableCounter = { reads: 0, writes: 0, rowsWritten: 0, bytesWritten: 0 };
  protected readonly rows = new Map<string, Cols>();
  private sorted: string[] | undefined;

  constructor(readonly where = 'memory') {}

  async getRows(keys: readonly string[]): Promise<Map<string, Cols>> {
    if (keys.length > MAX_GET_ROWS) throw new Error(`at most ${MAX_GET_ROWS} rows per read, got ${keys.length}`);
    this.counter.reads += 1;
    const out = new Map<string, Cols>();
    for (const k of keys) {
      const r = this.rows.get(k);
      if (r) out.set(k, r);
    }
    return out;
  }

  async rangePage(
    from: string,
    to: string,
    _t?: number,
    limit = MAX_RANGE_ROWS,
  ): Promise<{ rows: KeyedRow[]; next?: string }> {
    this.counter.reads += 1;
    this.sorted ??= [...this.rows.keys()].sort(byBytes);
    let i = lowerBound(this.sorted, from);
    const rows: KeyedRow[] = [];
    for (; i < this.sorted.length && byBytes(this.sorted[i]!, to) < 0; i++) {
      if (rows.length >= Math.min(limit, MAX_RANGE_ROWS)) return { rows, next: this.sorted[i] };
      rows.push({ key: this.sorted[i]!, cols: this.rows.get(this.sorted[i]!)! });
    }
    return { rows };
  }

  async writeRows(ops: readonly WriteOp[]): Promise<{ failed: string[] }> {
    if (ops.length > MAX_WRITE_ROWS) throw new Error(`at most ${MAX_WRITE_ROWS} rows per write, got ${ops.length}`);
    if (new Set(ops.map((o) => o.key)).size !== ops.length) throw new Error('the same row twice in one write');
    const bytes = ops.reduce((n, o) => (checkOp(o), n + opBytes(o)), 0);
    if (bytes > MAX_WRITE_BYTES) throw new Error(`write of ${bytes} bytes over ${MAX_WRITE_BYTES}`);
    this.counter.writes += 1;
    const failed: string[] = [];
    for (const o of ops) {
      const existing = this.rows.get(o.key);
      if (o.op === 'put' && o.when === 'absent' && existing) failed.push(o.key);
      else if (o.op === 'put' && typeof o.when === 'object' && existing?.ver !== o.when.version) failed.push(o.key);
      else {
        if (o.op === 'delete') this.rows.delete(o.key);
        else this.rows.set(o.key, o.cols);
        this.counter.rowsWritten += 1;
        this.counter.bytesWritten += opBytes(o);
        this.sorted = undefined;
      }
    }
    return { failed };
  }
}

/**
 * Keys compare as the service compares STRING keys, by their UTF-8 bytes; for the ASCII keys the state layer builds
 * (checkOp refuses others) that is plain string order.
 */
export function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byBytes(sorted[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
