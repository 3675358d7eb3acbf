import { describe, expect, it } from 'vitest';
import { ROW_REFRESH_MS, ROW_TTL_MS, type Owed } from '../../../src/model/state.js';
import { legacyFixture, shifted } from '../../support/legacy.js';
import { OverlayTable } from '../../../src/state/overlay.js';
import { fitAlert, keysFor, MAX_ALERT_JSON, part, read, write } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { batches, MemoryTable, type WriteOp } from '../../../src/state/table.js';
import { failureAlert, syncTask } from '../../support/build.js';

const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(1_000);
const inRange = (key: string, [from, to]: [string, string]) => key >= from && key < to;

describe('the row layout', () => {
  const k = keysFor('prod-alerts');
  it("keeps each instance's rows in one contiguous range of its own, and the deployment's rows in another", () => {
    const hz = k.scopeRange('cn-hangzhou:cri-a');
    for (const key of [
      k.cursor('cn-hangzhou:cri-a'),
      k.watch('cn-hangzhou:cri-a', 'rst-1'),
      k.failing('cn-hangzhou:cri-a', 'img'),
      k.handled('cn-hangzhou:cri-a', 'rst-2'),
    ])
      expect(inRange(key, hz)).toBe(true);
    expect(inRange(k.cursor('cn-hangzhou:cri-b'), hz)).toBe(false);
    expect(inRange(k.watch('cn-hangzhou:cri-a', 'rst-1'), k.watchRange('cn-hangzhou:cri-a'))).toBe(true);
    expect(inRange(k.failing('cn-hangzhou:cri-a', 'x'), k.watchRange('cn-hangzhou:cri-a'))).toBe(false);
    expect(inRange(k.owed('team/slack', 'i/rst-1'), k.owedRange('team/slack'))).toBe(true);
    expect(inRange(k.owed('slack', 'i/rst-1'), k.owedRange('team/slack'))).toBe(false);
  });

  it('spreads instances over the table by a hash that leads each key', () => {
    const leads = new Set(Array.from({ length: 20 }, (_, i) => k.cursor(`cn-hangzhou:cri-${i}`).slice(0, 4)));
    expect(leads.size).toBeGreaterThan(15);
    expect(keysFor('other').cursor('cn-hangzhou:cri-0')).not.toBe(k.cursor('cn-hangzhou:cri-0'));
  });

  it('hashes any key part that is not a plain identifier, so every key is printable ASCII and short', () => {
    expect(part('rst-abc123')).toBe('rst-abc123');
    for (const hostile of ['rst|x', 'rst 名前', 'x'.repeat(2_000), 'a\u202Eb', '']) {
      expect(part(hostile)).toMatch(/^#[A-Za-z0-9_-]{22}$/);
      expect(k.watch('i', hostile)).toMatch(/^[\x20-\x7e]{1,300}$/);
    }
    expect(part('rst|x')).not.toBe(part('rst|y'));
  });

  it('stores an alert whole, or cut in its free text with a note when it would not fit a row', () => {
    const small = failureAlert(syncTask({ taskId: 'rst-1' }));
    expect(fitAlert(small)).toBe(small);
    const huge = failureAlert(
      syncTask({ taskId: 'rst-2', issue: 'X'.repeat(20_000), from: { ...small.task.from, repo: 'r'.repeat(20_000) } }),
    );
    const fitted = fitAlert(huge) as typeof huge & { trimmed: boolean };
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_ALERT_JSON);
    expect(fitted.trimmed).toBe(true);
    expect(fitted.task.issue).toMatch(/^X{256}…$/);
    expect(fitted.id).toBe(huge.id);
  });

  it('reads a damaged row as an error naming its key', () => {
    expect(() => read.failing('the-key', { j: '{"since":1}' })).toThrow(
      /the state row the-key is damaged \(lastFailure/,
    );
    expect(() => read.watch('w-key', { j: 'not json' })).toThrow(/w-key is damaged \(not JSON\)/);
  });
});

describe('the table and its requests', () => {
  it('splits writes into requests of at most 200 rows and about 4 MB, in order', () => {
    const ops: WriteOp[] = Array.from({ length: 450 }, (_, i) => ({ op: 'put', key: `k${i}`, cols: { j: 'x' } }));
    expect(batches(ops).map((b) => b.length)).toEqual([200, 200, 50]);
    const big: WriteOp[] = Array.from({ length: 10 }, (_, i) => ({
      op: 'put',
      key: `b${i}`,
      cols: { j: 'x'.repeat(1024 * 1024) },
    }));
    expect(batches(big).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(() => batches([{ op: 'put', key: 'k', cols: { j: 'x'.repeat(2 * 1024 * 1024 + 1) } }])).toThrow(
      /over 2097152 bytes/,
    );
    expect(() => batches([{ op: 'put', key: 'kéy', cols: { j: '' } }])).toThrow(/not printable ASCII/);
  });

  it('claims a row only once and writes a versioned row only over the version read', async () => {
    const t = new MemoryTable();
    expect(await t.writeRows([{ op: 'put', key: 'a', cols: { j: '1' }, when: 'absent' }])).toEqual({ failed: [] });
    expect(await t.writeRows([{ op: 'put', key: 'a', cols: { j: '2' }, when: 'absent' }])).toEqual({ failed: ['a'] });
    expect(await t.writeRows([{ op: 'put', key: 'v', cols: { ver: 1 }, when: { version: 1 } }])).toEqual({
      failed: ['v'],
    });
    await expect(
      t.writeRows([
        { op: 'delete', key: 'a' },
        { op: 'delete', key: 'a' },
      ]),
    ).rejects.toThrow(/same row twice/);
  });

  it('lets a dry run read the real rows and its own, and write nothing to the real table', async () => {
    const real = new MemoryTable();
    await real.writeRows([
      { op: 'put', key: 'r1', cols: { j: 'real' } },
      { op: 'put', key: 'r3', cols: { j: 'real' } },
    ]);
    const dry = new OverlayTable(real);
    expect(
      await dry.writeRows(
        [
          { op: 'put', key: 'r1', cols: { j: 'again' }, when: 'absent' },
          { op: 'put', key: 'r2', cols: { j: 'mine' } },
          { op: 'delete', key: 'r3' },
        ],
        1_000,
      ),
    ).toEqual({ failed: ['r1'] });
    expect((await dry.rangePage('r', 's', 1_000)).rows.map((r) => [r.key, r.cols.j])).toEqual([
      ['r1', 'real'],
      ['r2', 'mine'],
    ]);
    expect((await real.rangePage('r', 's')).rows.map((r) => [r.key, r.cols.j])).toEqual([
      ['r1', 'real'],
      ['r3', 'real'],
    ]);
  });
});

describe('the state store', () => {
  it('starts a table with no state at all from nothing, marking the layout once', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const s = await store.begin(['cn-hangzhou:cri-a'], ['default']);
    expect(s).toMatchObject({
      control: { version: 0, value: { owed: {}, pauses: {} } },
      cursors: new Map(),
      digests: new Map(),
    });
    expect(s.upgraded).toBeUndefined();
    expect((await t.getRows([store.keys.meta])).get(store.keys.meta)).toBeDefined();
    const writes = t.counter.writes;
    await store.begin(['cn-hangzhou:cri-a'], ['default']);
    expect(t.counter.writes).toBe(writes);
  });

  it('reads what a target is owed a page at a time, in key order', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const owed: Owed[] = Array.from({ length: 7 }, (_, i) => ({
      target: 'slack',
      alert: failureAlert(syncTask({ taskId: `rst-${i}` })),
      detectedAt: 1,
    }));
    await store.apply(
      owed.map((o) => write.owed(store.keys, o)),
      'claim',
    );
    const seen: string[] = [];
    for await (const page of store.owed('slack')) seen.push(...page.map((p) => p.owed.alert.id));
    expect(seen.sort()).toEqual(owed.map((o) => o.alert.id).sort());
    expect([
      ...(await (async () => {
        const out: string[] = [];
        for await (const p of store.owed('dingtalk')) out.push(...p.map((x) => x.key));
        return out;
      })()),
    ]).toEqual([]);
  });

  it('keeps what only it writes from the TTL: the meta row and the silences in force, written again once a week', async () => {
    const T0 = 1_800_000_000_000;
    const DAY = 86_400_000;
    let now = T0;
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct, () => now);
    await store.begin([], []);
    const silence = (id: string, ends: number) => ({
      id,
      repo: ['api'],
      comment: 'c',
      createdBy: 'me',
      createdAt: new Date(T0).toISOString(),
      expires: new Date(ends).toISOString(),
    });
    expect(await store.saveSilence(silence('s-long', T0 + 90 * DAY), 0)).toBe(true);
    expect(await store.saveSilence(silence('s-short', T0 + DAY), 0)).toBe(true);
    expect(await store.saveSilence(silence('s-long', T0 + DAY), 0)).toBe(false);
    const writes = t.counter.writes;
    now = T0 + ROW_REFRESH_MS - 1;
    await store.begin([], []);
    expect(t.counter.writes).toBe(writes);
    now = T0 + ROW_REFRESH_MS;
    await store.begin([], []);
    expect(t.counter.writes).toBe(writes + 1);
    const saved = Object.fromEntries((await store.silences()).map((s) => [s.value.id, s]));
    expect(saved['s-long']).toMatchObject({
      version: 2,
      value: { savedAt: now, expires: new Date(T0 + 90 * DAY).toISOString() },
    });
    expect(saved['s-short']).toMatchObject({ version: 1, value: { savedAt: T0 } });
    expect(read.meta(store.keys.meta, (await t.getRows([store.keys.meta])).get(store.keys.meta)!)).toMatchObject({
      since: T0,
      savedAt: now,
    });
    expect(ROW_REFRESH_MS).toBeLessThanOrEqual(ROW_TTL_MS / 4);
  });

  it('does not move an earlier document again once the move is a day old: only a move killed halfway is resumed', async () => {
    const T0 = 1_800_000_000_000;
    const doc = shifted(legacyFixture.checkpoint, T0 - 60_000 - legacyFixture.savedAt);
    const table = (retiredAt: number) =>
      Object.assign(new MemoryTable(), {
        legacy: async () => ({ doc, version: 4, retired: true, retiredAt }),
        retireLegacy: async () => {
          throw new Error('already retired');
        },
      });
    const resumed = new StateStore(table(T0 - 3_600_000), 'd', direct, () => T0);
    expect((await resumed.begin([], [])).upgraded?.rows).toBeGreaterThan(0);
    const old = table(T0 - 25 * 3_600_000);
    expect((await new StateStore(old, 'd', direct, () => T0).begin([], [])).upgraded).toBeUndefined();
    expect(old.counter.rowsWritten).toBe(1);
  });

  it("recognises its own control write whose answer was lost, and refuses another run's", async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const start = { value: { owed: {}, pauses: {} }, version: 0 };
    const mine = { owed: {}, pauses: {}, lease: { owner: 'me', until: 5 } };
    expect(await store.saveControl(start, mine, 'take')).toBe(1);
    expect(await store.saveControl(start, mine, 'take again')).toBe(1);
    await expect(
      store.saveControl(start, { owed: {}, pauses: {}, lease: { owner: 'other', until: 5 } }, 'take'),
    ).rejects.toThrow(/control row changed/);
  });
});

describe('what the state store hands back', () => {
  const inst = 'cn-hangzhou:cri-a';
  const collect = async <T>(pages: AsyncIterable<T[]>) => {
    const out: T[] = [];
    for await (const p of pages) out.push(...p);
    return out;
  };

  it('gives the syncs watched on one instance, and none of another', async () => {
    const store = new StateStore(new MemoryTable(), 'd', direct);
    const w = (id: string) => ({ task: syncTask({ taskId: id, status: 'SYNCHRONIZING' }), firstSeen: 1 });
    await store.apply(
      [
        write.watch(store.keys, inst, w('rst-1')),
        write.watch(store.keys, inst, w('rst-2')),
        write.watch(store.keys, 'cn-shanghai:cri-b', w('rst-3')),
      ],
      'watch',
    );
    expect((await store.watched(inst)).map((x) => x.task.taskId).sort()).toEqual(['rst-1', 'rst-2']);
    expect(await store.watched('cn-beijing:cri-c')).toEqual([]);
  });

  it('looks up which failures were claimed and which images are failing, telling the two apart', async () => {
    const store = new StateStore(new MemoryTable(), 'd', direct);
    const f = { since: 1, lastFailure: 2, taskId: 'rst-f', issue: 'TAG_CONFLICT' };
    await store.apply(
      [
        write.handled(store.keys, inst, 'rst-claimed', 5),
        write.failing(store.keys, inst, 'img-1', f),
        write.handled(store.keys, 'cn-shanghai:cri-b', 'rst-other', 5),
      ],
      'claim',
    );
    const known = await store.lookup(inst, ['rst-claimed', 'rst-new', 'rst-other'], ['img-1', 'img-2']);
    expect([...known.handled]).toEqual(['rst-claimed']);
    expect([...known.failing]).toEqual([['img-1', f]]);
    expect(await collect(store.failingAll(inst))).toEqual([f]);
    expect(await collect(store.failingAll('cn-shanghai:cri-b'))).toEqual([]);
  });
});
