import { describe, expect, it } from 'vitest';
import {
  MAX_GET_ROWS,
  MAX_KEY_BYTES,
  MAX_RANGE_ROWS,
  MAX_VALUE_BYTES,
  MAX_WRITE_ROWS,
  type Cols,
  type RowTable,
  type WriteOp,
} from '../../src/state/table.js';

const T = 5_000;
const MB = 1024 * 1024;
const put = (key: string, cols: Cols = { j: key }, when?: 'absent' | { version: number }): WriteOp => ({
  op: 'put',
  key,
  cols,
  ...(when ? { when } : {}),
});
const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
const j = (rows: Map<string, Cols>) => Object.fromEntries([...rows].map(([k, c]) => [k, c.j]));

/** Every row of `[from, to)`, following `next`, and the size of each page. */
async function scan(t: RowTable, from: string, to: string, limit?: number) {
  const rows: string[] = [];
  const pages: number[] = [];
  for (let start: string | undefined = from; start !== undefined;) {
    const p: { rows: { key: string }[]; next?: string } = await t.rangePage(start, to, T, limit);
    rows.push(...p.rows.map((r) => r.key));
    pages.push(p.rows.length);
    start = p.next;
  }
  return { rows, pages };
}

/** Writes `ops` in requests of at most MAX_WRITE_ROWS. */
async function fill(t: RowTable, ops: WriteOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += MAX_WRITE_ROWS) await t.writeRows(ops.slice(i, i + MAX_WRITE_ROWS), T);
}

/**
 * What every RowTable does, as Tablestore does it: the contract StateStore relies on. `fresh` gives an empty table for
 * each test (a table of its own, or one no other test writes).
 */
export function rowTableContract(name: string, fresh: () => Promise<RowTable>): void {
  describe(`${name}: reading rows by key`, () => {
    it('answers only the rows that exist, with their columns as written: strings, and whole numbers as numbers', async () => {
      const t = await fresh();
      await t.writeRows([put('a', { j: 'x', ver: 3 }), put('b', { j: '' })], T);
      const got = await t.getRows(['b', 'missing', 'a'], T);
      expect(Object.fromEntries(got)).toEqual({ a: { j: 'x', ver: 3 }, b: { j: '' } });
      expect(await t.getRows([], T)).toEqual(new Map());
    });

    it('reads 100 rows in one request and refuses more', async () => {
      const t = await fresh();
      await fill(
        t,
        keys(101).map((k) => put(k)),
      );
      expect((await t.getRows(keys(MAX_GET_ROWS), T)).size).toBe(100);
      await expect(t.getRows(keys(MAX_GET_ROWS + 1), T)).rejects.toThrow();
    });
  });

  describe(`${name}: writing rows`, () => {
    it('writes 200 rows in one request and refuses 201, writing none of them', async () => {
      const t = await fresh();
      expect(
        await t.writeRows(
          keys(MAX_WRITE_ROWS).map((k) => put(k)),
          T,
        ),
      ).toEqual({ failed: [] });
      expect((await scan(t, 'k', 'l')).rows).toHaveLength(200);
      await expect(
        t.writeRows(
          keys(MAX_WRITE_ROWS + 1, 'm').map((k) => put(k)),
          T,
        ),
      ).rejects.toThrow();
      expect((await scan(t, 'm', 'n')).rows).toEqual([]);
    });

    it('claims a row only where none is: a claim of a row that exists is reported failed, the others applied', async () => {
      const t = await fresh();
      await t.writeRows([put('taken', { j: 'first' })], T);
      const r = await t.writeRows([put('new1', { j: 'n' }, 'absent'), put('taken', { j: 'again' }, 'absent')], T);
      expect(r).toEqual({ failed: ['taken'] });
      expect(j(await t.getRows(['new1', 'taken'], T))).toEqual({ new1: 'n', taken: 'first' });
    });

    it('writes a versioned row only over the version read: not over another, a missing row, or a row without one', async () => {
      const t = await fresh();
      await t.writeRows([put('v', { j: 'v1', ver: 1 }), put('plain', { j: 'p' })], T);
      const r = await t.writeRows(
        [
          put('v', { j: 'v3', ver: 3 }, { version: 2 }),
          put('missing', { j: 'm', ver: 2 }, { version: 1 }),
          put('plain', { j: 'p2', ver: 2 }, { version: 1 }),
        ],
        T,
      );
      expect([...r.failed].sort()).toEqual(['missing', 'plain', 'v']);
      expect(await t.writeRows([put('v', { j: 'v2', ver: 2 }, { version: 1 })], T)).toEqual({ failed: [] });
      expect(Object.fromEntries(await t.getRows(['v', 'missing', 'plain'], T))).toEqual({
        v: { j: 'v2', ver: 2 },
        plain: { j: 'p' },
      });
    });

    it('replaces a whole row on a put, and deletes rows (a missing one too) without condition', async () => {
      const t = await fresh();
      await t.writeRows([put('a', { j: 'a', ver: 1, x: 'extra' }), put('b')], T);
      expect(
        await t.writeRows([put('a', { j: 'a2' }), { op: 'delete', key: 'b' }, { op: 'delete', key: 'never' }], T),
      ).toEqual({ failed: [] });
      expect(Object.fromEntries(await t.getRows(['a', 'b', 'never'], T))).toEqual({ a: { j: 'a2' } });
    });

    it.each([
      ['a key over 1 KB', [put('k'.repeat(MAX_KEY_BYTES + 1))]],
      ['a value over 2 MB', [put('big', { j: 'x'.repeat(MAX_VALUE_BYTES + 1) })]],
      ['the same row twice', [put('twice'), put('twice', { j: 'again' })]],
      ['over 4 MB in all', [1, 2, 3].map((i) => put(`b${i}`, { j: 'x'.repeat(1.5 * MB) }))],
    ])('refuses a write holding %s, writing nothing of it', async (_what, bad) => {
      const t = await fresh();
      await t.writeRows([put('kept')], T);
      await expect(t.writeRows([put('fine'), { op: 'delete', key: 'kept' }, ...bad], T)).rejects.toThrow();
      expect(j(await t.getRows(['fine', 'kept', 'twice', 'big', 'b1'], T))).toEqual({ kept: 'kept' });
    });

    it('accepts a key of exactly 1 KB', async () => {
      const t = await fresh();
      const key = 'k'.repeat(MAX_KEY_BYTES);
      await t.writeRows([put(key, { j: 'edge' })], T);
      expect(j(await t.getRows([key], T))).toEqual({ [key]: 'edge' });
    });
  });

  describe(`${name}: reading a range of keys`, () => {
    it('reads from its first key up to (not including) its end, in the order of the keys’ bytes', async () => {
      const t = await fresh();
      const all = ['r|b', 'r|B', 'r|a', 'r|a|1', 'r|~', 'r|0', 'r}', 'r|', 'q'];
      await t.writeRows(
        all.map((k) => put(k)),
        T,
      );
      expect((await scan(t, 'r|', 'r}')).rows).toEqual(['r|', 'r|0', 'r|B', 'r|a', 'r|a|1', 'r|b', 'r|~']);
      expect((await scan(t, 'r|a', 'r|b')).rows).toEqual(['r|a', 'r|a|1']);
      expect(await t.rangePage('s', 't', T)).toEqual({ rows: [] });
    });

    it('pages with `next`: at most `limit` rows a page, every row once, in order', async () => {
      const t = await fresh();
      await t.writeRows(
        keys(25).map((k) => put(k)),
        T,
      );
      const { rows, pages } = await scan(t, 'k', 'l', 10);
      expect(rows).toEqual(keys(25));
      expect(pages.every((n) => n <= 10)).toBe(true);
      const first = await t.rangePage('k', 'l', T, 10);
      expect(first.rows.map((r) => r.key)).toEqual(keys(10));
      expect(first.rows[0]!.cols).toEqual({ j: 'k00000' });
      expect(first.next).toBe('k00010');
    });

    it('answers at most 5,000 rows a page, whatever the limit asked', async () => {
      const t = await fresh();
      await fill(
        t,
        keys(MAX_RANGE_ROWS + 1).map((k) => put(k, { j: '' })),
      );
      const { rows, pages } = await scan(t, 'k', 'l', 10_000);
      expect(rows).toHaveLength(MAX_RANGE_ROWS + 1);
      expect(Math.max(...pages)).toBeLessThanOrEqual(MAX_RANGE_ROWS);
    });

    it('sees the rows written since, and not those deleted', async () => {
      const t = await fresh();
      await t.writeRows(
        ['a', 'b', 'c'].map((k) => put(k)),
        T,
      );
      await t.writeRows([{ op: 'delete', key: 'b' }, put('bb')], T);
      expect((await scan(t, 'a', 'z')).rows).toEqual(['a', 'bb', 'c']);
    });
  });
}
