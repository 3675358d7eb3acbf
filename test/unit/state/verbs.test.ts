import { describe, expect, it } from 'vitest';
import type { Cursor, FailingImage, RouteDigest, WatchedSync } from '../../../src/model/state.js';
import { write } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { ChunkNotClaimedError, IntegrationError } from '../../../src/lib/errors.js';
import { MemoryTable, type WriteOp, type WriteResult } from '../../../src/state/table.js';
import { otsError } from '../../../src/state/tablestore-client.js';
import { failureAlert, owed, syncTask } from '../../support/build.js';
import { readState } from '../../support/state.js';

const INST = 'cn-hangzhou:cri-a';
const T0 = 1_800_000_000_000;

/**
 * A table that keeps, for every write request, its label and the keys it wrote or deleted, in order; and that refuses
 * alone, as the service answers a busy row of a batch write, the rows `refuse` names (`times` requests each, or always).
 */
class RecordingTable extends MemoryTable {
  readonly requests: { label: string; ops: string[] }[] = [];
  label = '';
  refuse: { rows: (key: string) => boolean; times: number } | undefined;

  override async writeRows(ops: readonly WriteOp[]): Promise<WriteResult> {
    this.requests.push({ label: this.label, ops: ops.map((o) => `${o.op} ${o.key}`) });
    const r = this.refuse;
    const refused = r && r.times > 0 ? ops.filter((o) => r.rows(o.key)) : [];
    if (refused.length === 0) return super.writeRows(ops);
    r!.times -= 1;
    const result = await super.writeRows(ops.filter((o) => !refused.includes(o)));
    return {
      ...result,
      refused: refused.map((o) => ({ key: o.key, error: otsError('BatchWriteRow', 'OTSServerBusy') })),
    };
  }
}

/** The run's retries as the handler's call makes them: up to 3 more attempts of a retryable error. */
function storeOver(t: RecordingTable): StateStore {
  return new StateStore(t, 'verbs', async (label, fn) => {
    for (let attempt = 0; ; attempt++) {
      t.label = label;
      try {
        return await fn(1_000);
      } catch (err) {
        if (attempt >= 3 || !(err instanceof IntegrationError) || err.kind !== 'retryable') throw err;
      }
    }
  });
}

const failing = (taskId: string): FailingImage => ({ since: T0, lastFailure: T0, taskId, issue: 'TAG_CONFLICT' });
const watching = (taskId: string): WatchedSync => ({
  task: syncTask({ taskId, status: 'SYNCHRONIZING' }),
  firstSeen: T0,
});
const cursor = (top: number): Cursor => ({ top, gaps: [] });
const digest = (n: number): RouteDigest => ({
  stats: { since: T0, byCause: { TAG_CONFLICT: n }, byRepo: {}, recoveries: 0, recoveryMs: 0 },
});

describe('claiming a batch (StateStore.claim)', () => {
  it('writes the owed alerts first, alone, then claimed failures, watched and unwatched syncs and failing images in that order', async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    const k = store.keys;
    const a = failureAlert(syncTask({ taskId: 'rst-1' }), INST);
    await store.apply([{ op: 'put', key: k.watch(INST, 'rst-old'), cols: { j: '{}' } }], 'seed');
    await store.claim(INST, {
      owed: [owed(a, 'slack'), owed(a, 'team/dingtalk')],
      handled: [a.task],
      watch: [watching('rst-2')],
      unwatch: ['rst-old'],
      failing: new Map([
        ['prod/api:v1', failing('rst-1')],
        ['prod/gone:v1', null],
      ]),
    });
    expect(t.requests.slice(-2)).toEqual([
      {
        label: `claim ${INST}: alerts owed`,
        ops: [`put ${k.owed('slack', a.id)}`, `put ${k.owed('team/dingtalk', a.id)}`],
      },
      {
        label: `claim ${INST}`,
        ops: [
          `put ${k.handled(INST, 'rst-1')}`,
          `put ${k.watch(INST, 'rst-2')}`,
          `delete ${k.watch(INST, 'rst-old')}`,
          `put ${k.failing(INST, 'prod/api:v1')}`,
          `delete ${k.failing(INST, 'prod/gone:v1')}`,
        ],
      },
    ]);
    const state = await readState(t, 'verbs', [INST]);
    expect(Object.keys(state.owed)).toEqual(['slack', 'team/dingtalk']);
    expect(state.watched[INST]!.map((w) => w.task.taskId)).toEqual(['rst-2']);
    expect(state.failing[INST]!.map((f) => f.taskId)).toEqual(['rst-1']);
  });

  it('names the alerts an earlier run claimed already, and counts only the rows owed it added, by target', async () => {
    const store = storeOver(new RecordingTable());
    const a = failureAlert(syncTask({ taskId: 'rst-1' }), INST);
    const b = failureAlert(syncTask({ taskId: 'rst-2' }), INST);
    const rows = (alerts: (typeof a)[]) => ({
      owed: alerts.flatMap((x) => [owed(x, 'slack'), owed(x, 'dingtalk')]),
      handled: [],
      watch: [],
      unwatch: [],
      failing: new Map(),
    });
    const first = await store.claim(INST, rows([a]));
    expect(first).toEqual({
      alreadyClaimed: new Set(),
      owedWritten: new Map([
        ['slack', 1],
        ['dingtalk', 1],
      ]),
    });
    const second = await store.claim(INST, rows([a, b]));
    expect(second.alreadyClaimed).toEqual(new Set([a.id]));
    expect(second.owedWritten).toEqual(
      new Map([
        ['slack', 1],
        ['dingtalk', 1],
      ]),
    );
  });
});

describe('claiming a batch whose rows owed the table refuses alone (StateStore.claim)', () => {
  const setup = async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    const k = store.keys;
    const a = failureAlert(syncTask({ taskId: 'rst-1' }), INST);
    await store.apply(
      [{ op: 'put', key: k.watch(INST, 'rst-1'), cols: { j: JSON.stringify(watching('rst-1')) } }],
      'seed',
    );
    const rows = {
      owed: [owed(a, 'slack'), owed(a, 'dingtalk')],
      handled: [a.task],
      watch: [watching('rst-2')],
      unwatch: ['rst-1'],
      failing: new Map([['prod/api:v1', failing('rst-1')]]),
    };
    return { t, store, k, a, rows };
  };

  it('marks nothing handled when a row owed is refused on every attempt: the rows owed it wrote are removed again', async () => {
    const { t, store, k, a, rows } = await setup();
    t.refuse = { rows: (key) => key === k.owed('dingtalk', a.id), times: Infinity };
    await expect(store.claim(INST, rows)).rejects.toThrow(ChunkNotClaimedError);
    const state = await readState(t, 'verbs', [INST]);
    expect(state.owed).toEqual({});
    expect(state.handled).toEqual({});
    expect(state.watched[INST]!.map((w) => w.task.taskId)).toEqual(['rst-1']);
    expect(state.failing).toEqual({});
  });

  it('retries only the rows refused, then claims; the alert counts as claimed now, not by an earlier run', async () => {
    const { t, store, k, a, rows } = await setup();
    t.refuse = { rows: (key) => key === k.owed('dingtalk', a.id), times: 1 };
    const claimed = await store.claim(INST, rows);
    expect(claimed).toEqual({
      alreadyClaimed: new Set(),
      owedWritten: new Map([
        ['slack', 1],
        ['dingtalk', 1],
      ]),
    });
    expect(t.requests.slice(-2).map((r) => r.ops[0])).toEqual([
      `put ${k.owed('dingtalk', a.id)}`,
      `put ${k.handled(INST, 'rst-1')}`,
    ]);
    const state = await readState(t, 'verbs', [INST]);
    expect(Object.keys(state.owed).sort()).toEqual(['dingtalk', 'slack']);
    expect(state.handled[INST]).toHaveLength(1);
  });

  it('leaves in place the rows owed an earlier run wrote when it cannot claim', async () => {
    const { t, store, k, a, rows } = await setup();
    await store.apply([write.owed(k, owed(a, 'slack'))], 'an earlier run');
    t.refuse = { rows: (key) => key === k.owed('dingtalk', a.id), times: Infinity };
    await expect(store.claim(INST, rows)).rejects.toThrow(/could not claim what cn-hangzhou:cri-a found/);
    expect(Object.keys((await readState(t, 'verbs', [INST])).owed)).toEqual(['slack']);
  });
});

describe('saving cursors (StateStore.saveCursors)', () => {
  it('writes only the cursors that changed, over the version read, and sends nothing when none did', async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    expect(
      await store.saveCursors(
        new Map([
          [INST, cursor(1)],
          ['other', cursor(1)],
        ]),
        new Map(),
      ),
    ).toBe(0);
    const read = (await store.begin([INST, 'other'], [])).cursors;
    const before = t.requests.length;
    expect(
      await store.saveCursors(
        new Map([
          [INST, cursor(1)],
          ['other', cursor(1)],
        ]),
        read,
      ),
    ).toBe(0);
    expect(t.requests.length).toBe(before);
    expect(
      await store.saveCursors(
        new Map([
          [INST, cursor(2)],
          ['other', cursor(1)],
        ]),
        read,
      ),
    ).toBe(0);
    expect(t.requests.at(-1)).toEqual({ label: 'save cursors', ops: [`put ${store.keys.cursor(INST)}`] });
    expect((await readState(t, 'verbs', [INST])).cursors[INST]).toEqual(cursor(2));
  });

  it('counts the cursors another run moved first, and leaves its reading as it is', async () => {
    const store = storeOver(new RecordingTable());
    await store.saveCursors(new Map([[INST, cursor(1)]]), new Map());
    const read = (await store.begin([INST], [])).cursors;
    await store.saveCursors(new Map([[INST, cursor(5)]]), read); // the other run
    expect(await store.saveCursors(new Map([[INST, cursor(2)]]), read)).toBe(1);
    expect((await store.begin([INST], [])).cursors.get(INST)!.value).toEqual(cursor(5));
  });
});

describe('saving digest statistics (StateStore.saveDigests)', () => {
  it("writes each route's statistics, and nothing when no route changed", async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    await store.saveDigests(new Map());
    expect(t.requests).toEqual([]);
    await store.saveDigests(
      new Map([
        ['default', digest(2)],
        ['team', digest(1)],
      ]),
    );
    expect(t.requests).toEqual([
      {
        label: 'save digest statistics',
        ops: [`put ${store.keys.digest('default')}`, `put ${store.keys.digest('team')}`],
      },
    ]);
    expect((await store.begin([], ['default', 'team'])).digests.get('team')).toEqual(digest(1));
  });
});

describe('removing owed rows (StateStore.clearDelivered, StateStore.dropOwed)', () => {
  const owedRows = async (store: StateStore, target: string, n: number) => {
    const alerts = Array.from({ length: n }, (_, i) => failureAlert(syncTask({ taskId: `rst-${i}` }), INST));
    await store.claim(INST, {
      owed: alerts.map((a) => owed(a, target)),
      handled: [],
      watch: [],
      unwatch: [],
      failing: new Map(),
    });
    const keys: string[] = [];
    for await (const page of store.owed(target)) keys.push(...page.map((p) => p.key));
    return keys;
  };

  it('removes what a target took by the keys its pages gave, in requests named for the target', async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    const keys = await owedRows(store, 'slack', 2_500);
    const before = t.requests.length;
    await store.clearDelivered('slack', keys.slice(0, 2_400));
    const requests = t.requests.slice(before);
    expect(new Set(requests.map((r) => r.label))).toEqual(new Set(['clear what slack took']));
    expect(requests.flatMap((r) => r.ops)).toEqual(keys.slice(0, 2_400).map((k) => `delete ${k}`));
    expect((await readState(t, 'verbs', [])).owed.slack).toHaveLength(100);
  });

  it('removes what a channel no longer configured was owed, in requests that say so', async () => {
    const t = new RecordingTable();
    const store = storeOver(t);
    const keys = await owedRows(store, 'old/slack', 3);
    await store.dropOwed('old/slack', keys);
    expect(t.requests.at(-1)).toEqual({ label: 'drop what old/slack was owed', ops: keys.map((k) => `delete ${k}`) });
    expect((await readState(t, 'verbs', [])).owed).toEqual({});
  });
});
