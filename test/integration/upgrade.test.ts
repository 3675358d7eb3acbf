import { writeFileSync } from 'node:fs';
import TableStore from 'tablestore';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawTask } from '../../src/sim/cr-server.js';
import { rawTask } from '../../src/sim/seed.js';
import { keysFor } from '../../src/state/rows.js';
import { legacyFixture, plantLegacyRow, shifted } from '../support/legacy.js';
import { announcedIds, startWorld, type World } from '../support/world.js';

const fixture = legacyFixture;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The CR world: the fixture's tasks, where the watched sync has since failed and a failing image has since synced. */
function tasksSince(by: number): RawTask[] {
  const tasks = shifted(fixture.tasks, by);
  const up03 = tasks.find((t) => t.SyncTaskId === 'rst-up03')!;
  Object.assign(up03, { TaskStatus: 'ERROR', TaskIssue: 'DATA_LENGTH_EXCEEDED', ModifiedTime: Date.now() - 30_000 });
  const from = { ...fixture.instance, namespace: 'prod', repo: 'payments', tag: 'v1' };
  tasks.push(rawTask({ id: 'rst-up06', status: 'SUCCESS', createTime: Date.now() - 60_000, ruleId: 'crsr-upgrade', from, to: fixture.target }));
  return tasks;
}

/** What an upgraded deployment must do: nothing it announced again, what it owed delivered, what it watched caught. */
async function expectUpgraded(w: World): Promise<void> {
  const first = await w.run();
  expect(first.outcome).toBe('completed');
  expect(w.logs.some((l) => l.includes('moved the earlier single-document checkpoint into rows'))).toBe(true);
  // DingTalk had every failure; it gets only what happened since: rst-up03's failure and rst-up02's recovery.
  expect(announcedIds(w.hooks, 'dingtalk').sort()).toEqual(['rst-up03', 'rst-up06']);
  // Slack still owed rst-up05 (it refused before the upgrade): it gets that too, once.
  expect(announcedIds(w.hooks, 'slack').sort()).toEqual(['rst-up03', 'rst-up05', 'rst-up06']);
  expect(JSON.stringify(w.hooks.received)).toMatch(/prod\/payments:v1/);
  const state = await w.state();
  expect(state.meta).toMatchObject({ layout: 2, from: 'single-document checkpoint' });
  expect(state.owed).toEqual({});
  expect(state.watched).toEqual({});
  expect(state.digests.default!.stats.byCause).toMatchObject({ TAG_CONFLICT: 1, NETWORK_ERROR: 1, OSS_POLICY_UNAUTHORIZED: 1, DATA_LENGTH_EXCEEDED: 1 });
  const second = await w.run();
  expect(second.outcome).toBe('nothing-new');
  // One message per channel in the upgrade run, and none after.
  expect(w.hooks.received).toHaveLength(2);
}

describe('upgrading a deployment that holds the earlier single-document checkpoint', () => {
  it('in Tablestore: moves it into rows once, repeats nothing, delivers what was owed, catches what was watched, and retires the document', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({ instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }], tablestore: true, env: { STATE_KEY: fixture.stateKey } });
    // The row exactly as the earlier version wrote it: version, the gzip JSON document, lease columns.
    const client = await plantLegacyRow(world.ots!, fixture.stateKey, fixture.version, shifted(fixture.checkpoint, by));
    await expectUpgraded(world);
    // The document stays for a rollback, marked and with its version moved so that an earlier version still running
    // cannot save over the rows' truth.
    const legacy = (await client.getRow!({ tableName: 'acr_sync_alert', primaryKey: [{ id: fixture.stateKey }], maxVersions: 1 })) as { row: { attributes: { columnName: string; columnValue: { toNumber(): number } }[] } };
    const cols = Object.fromEntries(legacy.row.attributes.map((a) => [a.columnName, a.columnValue]));
    expect(cols.version!.toNumber()).toBe(fixture.version + 1);
    expect(cols.migrated_at).toBeDefined();
    expect(world.ots!.calls.filter((c) => c.action === 'UpdateRow')).toHaveLength(1);
  });

  it('a move done long ago is not done again when the TTL has removed the meta row, nor when it removed the document', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({ instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }], tablestore: true, env: { STATE_KEY: fixture.stateKey } });
    const client = await plantLegacyRow(world.ots!, fixture.stateKey, fixture.version, shifted(fixture.checkpoint, by));
    await world.run();
    const sent = world.hooks.received.length;
    const pk = [{ id: fixture.stateKey }];
    const meta = keysFor(fixture.stateKey).meta;
    const dropMeta = () => world!.table().writeRows([{ op: 'delete', key: meta }], 5_000);
    // Thirty days on: the meta row is gone; the document, marked as moved two days after its last save, is still there.
    await dropMeta();
    await client.updateRow!({
      tableName: 'acr_sync_alert', primaryKey: pk, updateOfAttributeColumns: [{ PUT: [{ migrated_at: TableStore.Long.fromNumber(Date.now() - 2 * 86_400_000) }] }],
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null),
    });
    expect((await world.run()).outcome).toBe('nothing-new');
    expect((await world.state()).meta).toMatchObject({ layout: 2 });
    expect((await world.state()).meta).not.toHaveProperty('from');
    // Later still the TTL took the document's own cell, leaving the ones the move wrote.
    await dropMeta();
    await client.updateRow!({ tableName: 'acr_sync_alert', primaryKey: pk, updateOfAttributeColumns: [{ DELETE_ALL: ['doc'] }], condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null) });
    expect((await world.run()).outcome).toBe('nothing-new');
    expect(world.hooks.received).toHaveLength(sent);
    expect(world.logs.filter((l) => l.includes('moved the earlier single-document checkpoint into rows'))).toHaveLength(1);
  });

  it('in the local file: reads the earlier format the same way', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({ instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }], env: { STATE_KEY: fixture.stateKey } });
    writeFileSync(world.checkpointFile, JSON.stringify({ version: fixture.version, checkpoint: shifted(fixture.checkpoint, by) }));
    await expectUpgraded(world);
  });
});
