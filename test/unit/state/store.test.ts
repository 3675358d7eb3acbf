import { describe, expect, it } from 'vitest';
import { ControlChangedError } from '../../../src/lib/errors.js';
import { ROW_REFRESH_MS } from '../../../src/model/state.js';
import { read, write, type SilenceRow } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { MemoryTable, type WriteOp } from '../../../src/state/table.js';
import { failureAlert, syncTask } from '../../support/build.js';
import { SmallPagesTable } from '../../support/state-tables.js';

const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(1_000);
const T0 = 1_800_000_000_000;
const DAY = 86_400_000;
const inst = 'cn-hangzhou:cri-a';

const collect = async <T>(pages: AsyncIterable<T[]>) => {
  const out: T[][] = [];
  for await (const p of pages) out.push(p);
  return out;
};

const silence = (id: string, expires: number, over: Partial<SilenceRow> = {}): SilenceRow => ({
  id,
  repo: ['api'],
  comment: 'maintenance',
  createdBy: 'ops',
  createdAt: new Date(T0).toISOString(),
  expires: new Date(expires).toISOString(),
  ...over,
});

const metaOf = async (t: MemoryTable, store: StateStore) => {
  const c = (await t.getRows([store.keys.meta])).get(store.keys.meta);
  return c && read.meta(store.keys.meta, c);
};

describe('the state store: where and what it costs', () => {
  it("names the table and the deployment its state is kept under, and reports the table's own counts", async () => {
    const t = new MemoryTable('tablestore inst/acr_sync_alert');
    const store = new StateStore(t, 'prod-alerts', direct);
    expect(store.where).toBe('tablestore inst/acr_sync_alert/prod-alerts');
    await store.apply([write.meta(store.keys, { layout: 2, since: 1 })], 'write');
    expect(store.counter).toBe(t.counter);
    expect(store.counter.writes).toBe(1);
  });

  it('reads any number of rows by key, each row once, in requests of at most 100', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const keys = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await store.apply(
      keys.map((key) => ({ op: 'put', key, cols: { j: key } })),
      'write',
    );
    const before = t.counter.reads;
    const got = await store.get([...keys, 'k000', 'k001', 'absent'], 'read');
    expect(got.size).toBe(250);
    expect(got.get('k249')).toEqual({ j: 'k249' });
    expect(got.has('absent')).toBe(false);
    expect(t.counter.reads - before).toBe(3);

    const again = t.counter.reads;
    await store.get([...keys.slice(0, 100), ...keys.slice(0, 50)], 'read the same rows twice over');
    expect(t.counter.reads - again).toBe(1);
  });

  it('writes any number of rows in requests within the limits, and reports every refused condition of all of them', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    await store.apply(
      [
        { op: 'put', key: 'a-taken', cols: { j: '1' } },
        { op: 'put', key: 'z-taken', cols: { j: '1' } },
      ],
      'first',
    );
    const writes = t.counter.writes;
    const ops: WriteOp[] = [
      { op: 'put', key: 'a-taken', cols: { j: '2' }, when: 'absent' },
      ...Array.from({ length: 300 }, (_, i): WriteOp => ({ op: 'put', key: `m${i}`, cols: { j: 'x' } })),
      { op: 'put', key: 'z-taken', cols: { j: '2' }, when: 'absent' },
    ];
    expect(await store.apply(ops, 'claim')).toEqual(['a-taken', 'z-taken']);
    expect(t.counter.writes - writes).toBe(2);
    expect((await store.get(['m299', 'a-taken'], 'read')).get('a-taken')).toEqual({ j: '1' });
    expect((await store.get(['m299'], 'read')).get('m299')).toEqual({ j: 'x' });
  });

  it('reads a long range a page at a time, to its end, and hands back no empty page', async () => {
    const t = new SmallPagesTable(2);
    const store = new StateStore(t, 'd', direct, () => T0);
    for (const id of ['s1', 's2', 's3', 's4', 's5'])
      expect(await store.saveSilence(silence(id, T0 + DAY), 0)).toBe(true);
    expect((await store.silences()).map((s) => s.value.id)).toEqual(['s1', 's2', 's3', 's4', 's5']);
    const f = { since: 1, lastFailure: 2, taskId: 'rst-f', issue: 'TAG_CONFLICT' };
    await store.apply(
      ['i1', 'i2', 'i3'].map((img) => write.failing(store.keys, inst, img, f)),
      'failing',
    );
    expect((await collect(store.failingAll(inst))).map((p) => p.length)).toEqual([2, 1]);
    expect(await collect(store.failingAll('cn-shanghai:cri-b'))).toEqual([]);
    expect(await collect(store.owed('slack'))).toEqual([]);
  });

  it('hands back each owed alert with the key of its row, so a delivered one can be removed', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const alert = failureAlert(syncTask({ taskId: 'rst-1' }));
    await store.apply([write.owed(store.keys, { target: 'slack', alert, detectedAt: 5 })], 'claim');
    const [page] = await collect(store.owed('slack'));
    const entry = page![0]!;
    expect(page).toHaveLength(1);
    expect(entry.key).toBe(store.keys.owed('slack', alert.id));
    expect(entry.owed.detectedAt).toBe(5);
    await store.apply([write.remove(entry.key)], 'delivered');
    expect(await collect(store.owed('slack'))).toEqual([]);
  });

  it('looks up more claimed failures and failing images than one read takes', async () => {
    const store = new StateStore(new MemoryTable(), 'd', direct);
    const ids = Array.from({ length: 150 }, (_, i) => `rst-${i}`);
    const f = { since: 1, lastFailure: 2, taskId: 'rst-f', issue: 'TAG_CONFLICT' };
    await store.apply(
      [
        ...ids.filter((_, i) => i % 2 === 0).map((id) => write.handled(store.keys, inst, id, 5)),
        write.failing(store.keys, inst, 'img-last', f),
      ],
      'claim',
    );
    const known = await store.lookup(inst, ids, ['img-0', 'img-last']);
    expect(known.handled.size).toBe(75);
    expect(known.handled.has('rst-148')).toBe(true);
    expect(known.handled.has('rst-149')).toBe(false);
    expect([...known.failing.keys()]).toEqual(['img-last']);
  });
});

describe('the state store: what a run starts from', () => {
  it('hands back the cursors of the instances asked for that have one, with their versions, and the digests of the routes that have one', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => T0);
    await store.begin([], []);
    const digest = { stats: { since: 1, byCause: { TAG_CONFLICT: 2 }, byRepo: {}, recoveries: 0, recoveryMs: 0 } };
    await store.apply(
      [
        write.cursor(store.keys, inst, { top: 42, gaps: [] }, 0),
        write.digest(store.keys, 'default', digest),
        write.control(store.keys, { owed: { slack: { since: 3, count: 1 } }, pauses: {} }, 0),
      ],
      'seed',
    );
    await store.apply([write.cursor(store.keys, inst, { top: 43, gaps: [] }, 1)], 'advance');
    const s = await store.begin([inst, 'cn-shanghai:cri-b'], ['default', 'team']);
    expect([...s.cursors.keys()]).toEqual([inst]);
    expect(s.cursors.get(inst)).toEqual({ value: { top: 43, gaps: [] }, version: 2 });
    expect([...s.digests.keys()]).toEqual(['default']);
    expect(s.digests.get('default')?.stats.byCause).toEqual({ TAG_CONFLICT: 2 });
    expect(s.control).toEqual({ value: { owed: { slack: { since: 3, count: 1 } }, pauses: {} }, version: 1 });
    expect(s.upgraded).toBeUndefined();
  });

  it('marks a new table with the layout, since now, and as not moved from anything', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => T0);
    const s = await store.begin([inst], ['default']);
    expect('upgraded' in s).toBe(false);
    expect(await metaOf(t, store)).toEqual({ layout: 2, since: T0, savedAt: T0 });
    expect(t.counter.rowsWritten).toBe(1);
  });

  it('writes the meta row again once it is a week old, counting from when it was made if never saved since', async () => {
    let now = T0;
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => now);
    await store.apply([write.meta(store.keys, { layout: 2, since: T0, from: 'single-document checkpoint' })], 'seed');
    now = T0 + ROW_REFRESH_MS - 1;
    await store.begin([], []);
    expect(await metaOf(t, store)).toEqual({ layout: 2, since: T0, from: 'single-document checkpoint' });
    now = T0 + ROW_REFRESH_MS;
    await store.begin([], []);
    expect(await metaOf(t, store)).toEqual({ layout: 2, since: T0, from: 'single-document checkpoint', savedAt: now });
  });

  it('keeps from the TTL only the silences still in force that were not written for a week, counting from their creation if never written since', async () => {
    let now = T0;
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => now);
    await store.begin([], []);
    const end = T0 + ROW_REFRESH_MS;
    // Rows written by an earlier release carry no savedAt: their age counts from createdAt.
    await store.apply(
      [
        write.silence(store.keys, silence('s-unsaved', end + DAY), 0),
        write.silence(store.keys, silence('s-ends-now', end), 0),
        write.silence(store.keys, silence('s-recent', end + DAY, { savedAt: T0 + 1 }), 0),
        write.silence(store.keys, silence('s-young', end + DAY, { createdAt: new Date(T0 + 1).toISOString() }), 0),
      ],
      'seed',
    );
    now = end;
    await store.begin([], []);
    const saved = Object.fromEntries((await store.silences()).map((s) => [s.value.id, s]));
    expect(saved['s-unsaved']).toMatchObject({ version: 2, value: { savedAt: end } });
    expect(saved['s-ends-now']).toEqual({ version: 1, value: silence('s-ends-now', end) });
    expect(saved['s-recent']).toMatchObject({ version: 1, value: { savedAt: T0 + 1 } });
    expect(saved['s-young']?.version).toBe(1);
  });

  it('stamps a saved silence with when it was saved, and refuses a change over a version it did not read', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => T0 + 5);
    expect(await store.saveSilence(silence('s-1', T0 + DAY), 0)).toBe(true);
    expect(await store.saveSilence(silence('s-1', T0 + 2 * DAY), 2)).toBe(false);
    expect(await store.saveSilence(silence('s-1', T0 + 2 * DAY), 1)).toBe(true);
    const [s] = await store.silences();
    expect(s).toEqual({ version: 2, value: { ...silence('s-1', T0 + 2 * DAY), savedAt: T0 + 5 } });
  });
});

describe('the state store: the control row', () => {
  const start = { value: { owed: {}, pauses: {} }, version: 0 };
  const lease = (owner: string) => ({ owed: {}, pauses: {}, lease: { owner, until: 5 } });

  it('refuses a control write when the row moved on twice since, even to what this run wrote', async () => {
    const store = new StateStore(new MemoryTable(), 'd', direct);
    expect(await store.saveControl(start, lease('me'), 'take')).toBe(1);
    expect(await store.saveControl({ value: lease('me'), version: 1 }, lease('me'), 'keep')).toBe(2);
    const err = await store.saveControl(start, lease('me'), 'take').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlChangedError);
    expect((err as Error).message).toMatch(/^memory\/d: the control row changed since it was read: /);
  });

  it("refuses a control write that meets another run's content at the version it would have made", async () => {
    const store = new StateStore(new MemoryTable(), 'd', direct);
    expect(await store.saveControl(start, lease('other'), 'take')).toBe(1);
    await expect(store.saveControl(start, lease('me'), 'take')).rejects.toBeInstanceOf(ControlChangedError);
    expect(await store.saveControl({ value: lease('other'), version: 1 }, lease('me'), 'take over')).toBe(2);
  });
});

describe('the state store: a control write that went through', () => {
  /** A table where another run writes the control row again right after each write of ours goes through. */
  class ContendedTable extends MemoryTable {
    override async writeRows(ops: readonly WriteOp[]): Promise<{ failed: string[] }> {
      const r = await super.writeRows(ops);
      for (const o of ops) {
        if (o.op === 'put' && !r.failed.includes(o.key) && typeof o.cols.ver === 'number') {
          await super.writeRows([
            {
              op: 'put',
              key: o.key,
              cols: {
                j: JSON.stringify({ owed: {}, pauses: {}, lease: { owner: 'other', until: 9 } }),
                ver: o.cols.ver + 1,
              },
            },
          ]);
        }
      }
      return r;
    }
  }

  it('takes a write that went through as its own, whatever another run writes after it', async () => {
    const store = new StateStore(new ContendedTable(), 'd', direct);
    expect(
      await store.saveControl(
        { value: { owed: {}, pauses: {} }, version: 0 },
        { owed: {}, pauses: {}, lease: { owner: 'me', until: 5 } },
        'take',
      ),
    ).toBe(1);
    // The next write over the version it made then meets the other run's.
    await expect(
      store.saveControl({ value: { owed: {}, pauses: {} }, version: 1 }, { owed: {}, pauses: {} }, 'release'),
    ).rejects.toBeInstanceOf(ControlChangedError);
  });
});
