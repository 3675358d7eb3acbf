import type { LegacySource } from './upgrade.js';
import {
  byBytes,
  MAX_GET_ROWS,
  MAX_RANGE_ROWS,
  MemoryTable,
  type Cols,
  type KeyedRow,
  type RowTable,
  type TableCounter,
  type WriteOp,
} from './table.js';
import type { LegacyDoc } from './earlier-document.js';

/**
 * A table for a dry run: reads see the real table with this run's own writes laid over it, and writes go no further
 * than memory. A dry run then runs exactly the code a real run does, and leaves the real state as it found it.
 */
export class OverlayTable implements RowTable, LegacySource {
  private readonly over = new MemoryTable('dry run');
  private readonly deleted = new Set<string>();
  private retired = false;

  constructor(private readonly base: RowTable & Partial<LegacySource>) {}

  /** A dry run upgrades the earlier single document too, in memory: it reads the document and marks nothing. */
  async legacy(key: string, timeoutMs: number): Promise<LegacyDoc | undefined> {
    const doc = await this.base.legacy?.(key, timeoutMs);
    return doc && { ...doc, retired: doc.retired || this.retired };
  }

  async retireLegacy(): Promise<void> {
    this.retired = true;
  }

  get where(): string {
    return `${this.base.where} (dry run: nothing is written)`;
  }

  get counter(): TableCounter {
    return this.base.counter;
  }

  async getRows(keys: readonly string[], timeoutMs: number): Promise<Map<string, Cols>> {
    const out = await this.base.getRows(
      keys.filter((k) => !this.deleted.has(k)),
      timeoutMs,
    );
    for (const [k, c] of await this.over.getRows(keys)) out.set(k, c);
    return out;
  }

  async rangePage(
    from: string,
    to: string,
    timeoutMs: number,
    limit = MAX_RANGE_ROWS,
  ): Promise<{ rows: KeyedRow[]; next?: string }> {
    const max = Math.min(limit, MAX_RANGE_ROWS);
    const page = await this.base.rangePage(from, to, timeoutMs, max);
    // This run's own rows in the same stretch of keys, merged in key order; what it deleted is gone.
    const upTo = page.next ?? to;
    const mine = new Map<string, Cols>();
    for (let start: string | undefined = from; start !== undefined;) {
      const p: { rows: KeyedRow[]; next?: string } = await this.over.rangePage(start, upTo);
      for (const r of p.rows) mine.set(r.key, r.cols);
      start = p.next;
    }
    const rows = page.rows.filter((r) => !this.deleted.has(r.key) && !mine.has(r.key));
    for (const [key, cols] of mine) rows.push({ key, cols });
    rows.sort((a, b) => byBytes(a.key, b.key));
    // Within the page's limit as the real table's are: the next page starts at the first row left out.
    if (rows.length > max) return { rows: rows.slice(0, max), next: rows[max]!.key };
    return page.next ? { rows, next: page.next } : { rows };
  }

  async writeRows(ops: readonly WriteOp[], timeoutMs: number): Promise<{ failed: string[] }> {
    // The rows the conditions are checked against, in reads within the service's limit (a write may hold 200).
    const current = new Map<string, Cols>();
    for (let i = 0; i < ops.length; i += MAX_GET_ROWS) {
      const chunk = ops.slice(i, i + MAX_GET_ROWS).map((o) => o.key);
      for (const [k, c] of await this.getRows(chunk, timeoutMs)) current.set(k, c);
    }
    const failed: string[] = [];
    const apply: WriteOp[] = [];
    for (const o of ops) {
      const existing = current.get(o.key);
      if (o.op === 'put' && o.when === 'absent' && existing) failed.push(o.key);
      else if (o.op === 'put' && typeof o.when === 'object' && existing?.ver !== o.when.version) failed.push(o.key);
      else {
        if (o.op === 'delete') this.deleted.add(o.key);
        else this.deleted.delete(o.key);
        apply.push(o.op === 'put' ? { op: 'put', key: o.key, cols: o.cols } : o);
      }
    }
    await this.over.writeRows(apply);
    return { failed };
  }
}
