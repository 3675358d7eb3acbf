import { IntegrationError, UpgradeConflictError } from '../../src/lib/errors.js';
import type { LegacySource } from '../../src/state/upgrade.js';
import { MemoryTable, type KeyedRow, type WriteOp } from '../../src/state/table.js';
import type { LegacyDoc } from '../../src/state/earlier-document.js';

/**
 * A table in memory that also holds an earlier version's single document, with the semantics the Tablestore table
 * and the local file give it: marking it as moved is conditional on its version and moves that version on.
 */
export class LegacyMemoryTable extends MemoryTable implements LegacySource {
  doc: LegacyDoc | undefined;

  constructor(
    doc?: LegacyDoc,
    private readonly clock: () => number = Date.now,
  ) {
    super('memory with an earlier single document');
    this.doc = doc;
  }

  async legacy(): Promise<LegacyDoc | undefined> {
    return this.doc && { ...this.doc };
  }

  async retireLegacy(_key: string, version: number): Promise<void> {
    if (this.doc?.version !== version) throw new UpgradeConflictError(this.where);
    this.doc = { ...this.doc, version: version + 1, retired: true, retiredAt: this.clock(), movedVersion: version + 1 };
  }

  /** An earlier release running again after a rollback saves the document over the move. */
  saveAgain(doc: unknown): void {
    if (!this.doc) throw new Error('no earlier single document');
    this.doc = { ...this.doc, doc, version: this.doc.version + 1 };
  }
}

/** A table that answers range reads `size` rows a page, as the service does for a large range. */
export class SmallPagesTable extends MemoryTable {
  constructor(private readonly size: number) {
    super('memory in small pages');
  }

  override rangePage(
    from: string,
    to: string,
    t?: number,
    limit?: number,
  ): Promise<{ rows: KeyedRow[]; next?: string }> {
    return super.rangePage(from, to, t, Math.min(limit ?? this.size, this.size));
  }
}

/**
 * A table holding an earlier single document whose run dies part-way through the upgrade: after `writes` write
 * requests every request throws (a killed run sends nothing more), and a request holding the key `refuse` has that row
 * refused while the service applies the others (BatchWriteRow answers per row), as a row the service stays too busy for
 * until the run's retries are spent. `revive()` is the next run, against the same table.
 */
export class DyingTable extends LegacyMemoryTable {
  private writes = Infinity;
  private refuse: string | undefined;

  dieAfter(writes: number): this {
    this.writes = writes;
    return this;
  }

  refuseRow(key: string): this {
    this.refuse = key;
    return this;
  }

  revive(): void {
    this.writes = Infinity;
    this.refuse = undefined;
  }

  override async writeRows(ops: readonly WriteOp[]): Promise<{ failed: string[] }> {
    if (this.writes <= 0) throw new Error('the run was killed');
    this.writes -= 1;
    const refused = ops.some((o) => o.key === this.refuse);
    const r = await super.writeRows(ops.filter((o) => o.key !== this.refuse));
    if (refused) throw new IntegrationError('Tablestore BatchWriteRow: service busy', SERVICE_BUSY);
    return r;
  }
}

const SERVICE_BUSY = { service: 'tablestore', kind: 'retryable', code: 'OTSServerBusy' } as const;
