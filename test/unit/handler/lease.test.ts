import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlLease, LostRace } from '../../../src/handler/lease.js';
import { emptyControl } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { FileTable } from '../../../src/state/file.js';
import { MemoryTable } from '../../../src/state/table.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const storeOver = (table: MemoryTable) =>
  new StateStore(
    table,
    'lease-test',
    (_label, fn) => fn(5_000),
    () => NOW,
  );

describe('the lease', () => {
  it('is a lost race when another run holds the local state file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lease-')), 'state.json');
    writeFileSync(`${path}.lock`, '');
    const lease = new ControlLease(storeOver(new FileTable(path)), { value: emptyControl(), version: 0 }, 'me', NOW);
    await expect(lease.take()).rejects.toBeInstanceOf(LostRace);
    expect(lease.isHeld).toBe(false);
  });

  it('is a lost race when another run wrote the control row first', async () => {
    const table = new MemoryTable();
    const store = storeOver(table);
    const first = new ControlLease(store, { value: emptyControl(), version: 0 }, 'other', NOW + 60_000);
    await first.take();
    const late = new ControlLease(store, { value: emptyControl(), version: 0 }, 'me', NOW + 60_000);
    await expect(late.take()).rejects.toBeInstanceOf(LostRace);
  });

  it('is taken once, and holds', async () => {
    const lease = new ControlLease(storeOver(new MemoryTable()), { value: emptyControl(), version: 0 }, 'me', NOW);
    await lease.take();
    await lease.take();
    expect(lease.isHeld).toBe(true);
    expect(lease.control.lease).toEqual({ owner: 'me', until: NOW });
  });
});
