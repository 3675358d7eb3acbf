import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../../../src/lib/errors.js';
import { ROW_REFRESH_MS } from '../../../src/model/state.js';
import { keysFor, write } from '../../../src/state/rows.js';
import { StateStore, type Call } from '../../../src/state/store.js';
import { MemoryTable, type RowTable } from '../../../src/state/table.js';
import { legacyFixture, shifted } from '../../support/legacy.js';
import { LegacyMemoryTable } from '../../support/state-tables.js';

const T0 = 1_800_000_000_000;
const inst = 'cn-hangzhou:cri-a';

/**
 * What a run out of time reports at each step of `work`: the table is built afresh, the run given time for `n`
 * requests, for n = 0, 1, ... until the work completes. Each message names the request the run did not get to make.
 */
async function reportsWhenOutOfTime(
  table: () => RowTable | Promise<RowTable>,
  work: (store: StateStore) => Promise<unknown>,
  now = T0,
): Promise<string[]> {
  const messages: string[] = [];
  for (let n = 0; n < 20; n++) {
    let left = n;
    const call: Call = (label, fn) => (left-- > 0 ? fn(1_000) : Promise.reject(new BudgetExhaustedError(label)));
    try {
      await work(new StateStore(await table(), 'd', call, () => now));
      return messages;
    } catch (err) {
      messages.push((err as Error).message.replace('time budget exhausted before ', ''));
    }
  }
  throw new Error('the work never completed');
}

const drain = async (pages: AsyncIterable<unknown>) => {
  for await (const _ of pages);
};

describe('what a run out of time says it did not get to do in the state', () => {
  it('starting a new table', async () => {
    expect(
      await reportsWhenOutOfTime(
        () => new MemoryTable(),
        (s) => s.begin([inst], []),
      ),
    ).toEqual(['read state', 'write the upgraded state']);
  });

  it('upgrading the earlier single document', async () => {
    const doc = shifted(legacyFixture.checkpoint, T0 - 60_000 - legacyFixture.savedAt);
    expect(
      await reportsWhenOutOfTime(
        () => new LegacyMemoryTable({ doc, version: 4, retired: false }),
        (s) => s.begin([], []),
      ),
    ).toEqual([
      'read state',
      'read the earlier single document',
      'mark the earlier single document as moved',
      'write the rows of the earlier document',
      'write the upgraded state',
      'read state after the upgrade',
    ]);
  });

  it('keeping long-lived rows from the TTL', async () => {
    const table = async () => {
      const t = new MemoryTable();
      await t.writeRows([write.meta(keysFor('d'), { layout: 2, since: T0 - ROW_REFRESH_MS })]);
      return t;
    };
    expect(await reportsWhenOutOfTime(table, (s) => s.begin([], []))).toEqual([
      'read state',
      'read silences',
      'keep long-lived rows',
    ]);
  });

  it('the commands that show, forget and change stored state', async () => {
    const legacy = () => new LegacyMemoryTable(undefined);
    expect(await reportsWhenOutOfTime(legacy, (s) => s.status())).toEqual([
      'read the meta row',
      'read the earlier single document',
    ]);
    expect(await reportsWhenOutOfTime(legacy, (s) => s.forgetUpgrade())).toEqual(['remove the meta row']);
    const silence = {
      id: 's-1',
      repo: ['api'],
      comment: 'c',
      createdBy: 'me',
      createdAt: new Date(T0).toISOString(),
      expires: new Date(T0 + 1).toISOString(),
    };
    expect(await reportsWhenOutOfTime(legacy, (s) => s.saveSilence(silence, 0))).toEqual(['save silence s-1']);
  });

  it('reading what a run works on', async () => {
    const t = () => new MemoryTable();
    expect(await reportsWhenOutOfTime(t, (s) => s.watched(inst))).toEqual([`read watched syncs of ${inst}`]);
    expect(await reportsWhenOutOfTime(t, (s) => s.lookup(inst, ['rst-1'], []))).toEqual([`look up ${inst}`]);
    expect(await reportsWhenOutOfTime(t, (s) => drain(s.failingAll(inst)))).toEqual([`read failing images of ${inst}`]);
    expect(await reportsWhenOutOfTime(t, (s) => drain(s.owed('team/slack')))).toEqual([
      'read alerts owed to team/slack',
    ]);
  });

  it('saving the control row over a conflict', async () => {
    const taken = async () => {
      const t = new MemoryTable();
      await t.writeRows([write.control(keysFor('d'), { owed: {}, pauses: {} }, 0)]);
      return t;
    };
    const save = (s: StateStore) =>
      s.saveControl({ value: { owed: {}, pauses: {} }, version: 0 }, { owed: {}, pauses: {} }, 'take the lease');
    expect(await reportsWhenOutOfTime(taken, save)).toEqual([
      'take the lease',
      'take the lease (re-read after conflict)',
    ]);
  });
});
