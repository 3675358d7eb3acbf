import { describe, expect, it } from 'vitest';
import { OverlayTable } from '../../../src/state/overlay.js';
import { StateStore } from '../../../src/state/store.js';
import { MemoryTable, type Cols, type WriteOp } from '../../../src/state/table.js';
import { legacyFixture, shifted } from '../../support/legacy.js';
import { LegacyMemoryTable, SmallPagesTable } from '../../support/state-tables.js';

const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(1_000);
const T0 = 1_800_000_000_000;
const keysAndJ = (rows: { key: string; cols: Cols }[]) => rows.map((r) => [r.key, r.cols.j]);

const seeded = async <T extends MemoryTable>(t: T, rows: Record<string, Cols>): Promise<T> => {
  await t.writeRows(Object.entries(rows).map(([key, cols]) => ({ op: 'put', key, cols })));
  return t;
};

describe("a dry run's table", () => {
  it("says it writes nothing, and counts the real table's requests", async () => {
    const real = new MemoryTable('tablestore inst/t');
    const dry = new OverlayTable(real);
    expect(dry.where).toBe('tablestore inst/t (dry run: nothing is written)');
    await dry.getRows(['a'], 1_000);
    expect(dry.counter).toBe(real.counter);
    expect(real.counter.reads).toBe(1);
  });

  it('reads its own writes over the real rows, and not the rows it deleted', async () => {
    const real = await seeded(new MemoryTable(), { a: { j: 'real-a' }, b: { j: 'real-b' }, c: { j: 'real-c' } });
    const dry = new OverlayTable(real);
    expect(
      await dry.writeRows(
        [
          { op: 'put', key: 'a', cols: { j: 'mine-a' } },
          { op: 'delete', key: 'b' },
          { op: 'put', key: 'n', cols: { j: 'mine-n' } },
        ],
        1_000,
      ),
    ).toEqual({ failed: [] });
    const got = await dry.getRows(['a', 'b', 'c', 'n', 'x'], 1_000);
    expect(Object.fromEntries([...got].map(([k, c]) => [k, c.j]))).toEqual({ a: 'mine-a', c: 'real-c', n: 'mine-n' });
    expect(Object.fromEntries([...(await real.getRows(['a', 'b', 'n']))].map(([k, c]) => [k, c.j]))).toEqual({
      a: 'real-a',
      b: 'real-b',
    });
  });

  it('holds its writes to the same conditions as the real table, against the real rows and its own', async () => {
    const real = await seeded(new MemoryTable(), {
      v: { j: 'real', ver: 1 },
      claimed: { j: 'real' },
      gone: { j: 'real' },
    });
    const dry = new OverlayTable(real);
    expect(
      await dry.writeRows(
        [
          { op: 'put', key: 'v', cols: { j: 'v2', ver: 2 }, when: { version: 1 } },
          { op: 'put', key: 'claimed', cols: { j: 'again' }, when: 'absent' },
          { op: 'put', key: 'unversioned', cols: { j: 'x' }, when: { version: 1 } },
          { op: 'delete', key: 'gone' },
        ],
        1_000,
      ),
    ).toEqual({ failed: ['claimed', 'unversioned'] });
    expect((await dry.getRows(['v'], 1_000)).get('v')).toEqual({ j: 'v2', ver: 2 });
    expect(
      await dry.writeRows([{ op: 'put', key: 'v', cols: { j: 'v2b', ver: 2 }, when: { version: 1 } }], 1_000),
    ).toEqual({ failed: ['v'] });
    expect(
      await dry.writeRows([{ op: 'put', key: 'v', cols: { j: 'v3', ver: 3 }, when: { version: 2 } }], 1_000),
    ).toEqual({ failed: [] });
    // A row this run deleted can be claimed again, and is then read as this run wrote it.
    expect(await dry.writeRows([{ op: 'put', key: 'gone', cols: { j: 'back' }, when: 'absent' }], 1_000)).toEqual({
      failed: [],
    });
    expect(keysAndJ((await dry.rangePage('a', 'z', 1_000)).rows)).toEqual([
      ['claimed', 'real'],
      ['gone', 'back'],
      ['v', 'v3'],
    ]);
    expect((await real.getRows(['v'])).get('v')).toEqual({ j: 'real', ver: 1 });
  });

  it('reads a range as the real one page by page, with its own rows of each stretch merged in key order', async () => {
    const real = await seeded(new SmallPagesTable(2), {
      k1: { j: 'r1' },
      k3: { j: 'r3' },
      k5: { j: 'r5' },
      k7: { j: 'r7' },
    });
    const dry = new OverlayTable(real);
    await dry.writeRows(
      [
        { op: 'put', key: 'k2', cols: { j: 'm2' } },
        { op: 'put', key: 'k3', cols: { j: 'm3' } },
        { op: 'put', key: 'k6', cols: { j: 'm6' } },
        { op: 'delete', key: 'k1' },
        { op: 'put', key: 'k9', cols: { j: 'm9' } },
      ],
      1_000,
    );
    const first = await dry.rangePage('k', 'l', 1_000);
    expect(keysAndJ(first.rows)).toEqual([
      ['k2', 'm2'],
      ['k3', 'm3'],
    ]);
    expect(first.next).toBe('k5');
    const second = await dry.rangePage(first.next!, 'l', 1_000);
    expect(keysAndJ(second.rows)).toEqual([
      ['k5', 'r5'],
      ['k6', 'm6'],
      ['k7', 'r7'],
      ['k9', 'm9'],
    ]);
    expect('next' in second).toBe(false);
    expect(keysAndJ((await dry.rangePage('k6', 'k8', 1_000)).rows)).toEqual([
      ['k6', 'm6'],
      ['k7', 'r7'],
    ]);
  });

  it('claims more than 100 alerts in one request, checking each against the real rows', async () => {
    const real = await seeded(new MemoryTable(), { 'o|120': { j: 'claimed by an earlier run' } });
    const store = new StateStore(new OverlayTable(real), 'd', direct);
    const claims: WriteOp[] = Array.from({ length: 200 }, (_, i) => ({
      op: 'put',
      key: `o|${String(i).padStart(3, '0')}`,
      cols: { j: 'mine' },
      when: 'absent',
    }));
    expect(await store.apply(claims, 'claim')).toEqual(['o|120']);
    expect(real.counter.reads).toBe(2);
    expect((await real.rangePage('o|', 'o}')).rows).toHaveLength(1);
  });

  it('pages its own rows and the real ones merged within the limit asked, each row once', async () => {
    const real = await seeded(new MemoryTable(), { k0: { j: 'r' }, k2: { j: 'r' }, k4: { j: 'r' } });
    const dry = new OverlayTable(real);
    await dry.writeRows(
      ['k1', 'k3', 'k5', 'k6'].map((key) => ({ op: 'put', key, cols: { j: 'm' } })),
      1_000,
    );
    const first = await dry.rangePage('k', 'l', 1_000, 3);
    expect(keysAndJ(first.rows)).toEqual([
      ['k0', 'r'],
      ['k1', 'm'],
      ['k2', 'r'],
    ]);
    expect(first.next).toBe('k3');
    const rest = await dry.rangePage('k3', 'l', 1_000, 3);
    expect(rest.rows.map((r) => r.key)).toEqual(['k3', 'k4', 'k5']);
    expect((await dry.rangePage(rest.next!, 'l', 1_000, 3)).rows.map((r) => r.key)).toEqual(['k6']);
  });

  it('upgrades the earlier single document in memory: it reads the document, takes it as moved for the rest of the run, and marks nothing', async () => {
    const doc = shifted(legacyFixture.checkpoint, T0 - 60_000 - legacyFixture.savedAt);
    const real = new LegacyMemoryTable({ doc, version: 4, retired: false });
    const dry = new OverlayTable(real);
    expect(await dry.legacy('d', 1_000)).toMatchObject({ version: 4, retired: false });
    const store = new StateStore(dry, 'd', direct, () => T0);
    expect((await store.begin([], [])).upgraded?.rows).toBeGreaterThan(0);
    expect(await dry.legacy('d', 1_000)).toMatchObject({ version: 4, retired: true });
    expect(real.doc).toMatchObject({ version: 4, retired: false });
    expect((await real.rangePage('', '~')).rows).toEqual([]);
    expect((await store.begin([], [])).upgraded).toBeUndefined();
  });

  it('finds no earlier single document over a table that cannot hold one', async () => {
    expect(await new OverlayTable(new MemoryTable()).legacy('d', 1_000)).toBeUndefined();
    expect(await new OverlayTable(new LegacyMemoryTable(undefined)).legacy('d', 1_000)).toBeUndefined();
  });
});
