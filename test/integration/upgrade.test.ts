import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawTask } from '../../src/sim/cr-server.js';
import { rawTask } from '../../src/sim/seed.js';
import { keysFor } from '../../src/state/rows.js';
import { legacyFixture, plantLegacyRow, shifted } from '../support/legacy.js';
import { main } from '../../src/cli/main.js';
import { announcedIds, closeWorlds, KEYS, startWorld, type World } from '../support/world.js';

const fixture = legacyFixture;

let world: World | undefined;
afterEach(closeWorlds);

/** The CR world: the fixture's tasks, where the watched sync has since failed and a failing image has since synced. */
function tasksSince(by: number): RawTask[] {
  const tasks = shifted(fixture.tasks, by);
  const up03 = tasks.find((t) => t.SyncTaskId === 'rst-up03')!;
  Object.assign(up03, { TaskStatus: 'ERROR', TaskIssue: 'DATA_LENGTH_EXCEEDED', ModifiedTime: Date.now() - 30_000 });
  const from = { ...fixture.instance, namespace: 'prod', repo: 'payments', tag: 'v1' };
  tasks.push(
    rawTask({
      id: 'rst-up06',
      status: 'SUCCESS',
      createTime: Date.now() - 60_000,
      ruleId: 'crsr-upgrade',
      from,
      to: fixture.target,
    }),
  );
  return tasks;
}

/** What an upgraded deployment must do: nothing it announced again, what it owed delivered, what it watched caught. */
async function expectUpgraded(w: World): Promise<void> {
  const first = await w.run();
  expect(first.outcome).toBe('completed');
  expect(w.logs.some((l) => l.includes('moved the earlier single document into rows'))).toBe(true);
  // DingTalk had every failure; it gets only what happened since: rst-up03's failure and rst-up02's recovery.
  expect(announcedIds(w.hooks, 'dingtalk').sort()).toEqual(['rst-up03', 'rst-up06']);
  // Slack still owed rst-up05 (it refused before the upgrade): it gets that too, once.
  expect(announcedIds(w.hooks, 'slack').sort()).toEqual(['rst-up03', 'rst-up05', 'rst-up06']);
  expect(JSON.stringify(w.hooks.received)).toMatch(/prod\/payments:v1/);
  const state = await w.state();
  expect(state.meta).toMatchObject({ layout: 2, from: 'single-document checkpoint' });
  expect(state.owed).toEqual({});
  expect(state.watched).toEqual({});
  expect(state.digests.default!.stats.byCause).toMatchObject({
    TAG_CONFLICT: 1,
    NETWORK_ERROR: 1,
    OSS_POLICY_UNAUTHORIZED: 1,
    DATA_LENGTH_EXCEEDED: 1,
  });
  const second = await w.run();
  expect(second.outcome).toBe('nothing-new');
  // One message per channel in the upgrade run, and none after.
  expect(w.hooks.received).toHaveLength(2);
}

describe('upgrading a deployment that holds the earlier single-document checkpoint', () => {
  it('in Tablestore: moves it into rows once, repeats nothing, delivers what was owed, catches what was watched, and retires the document', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({
      instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }],
      tablestore: true,
      env: { STATE_KEY: fixture.stateKey },
    });
    // The row exactly as the earlier version wrote it: version, the gzip JSON document, lease columns.
    const client = await plantLegacyRow(world.ots!, fixture.stateKey, fixture.version, shifted(fixture.checkpoint, by));
    await expectUpgraded(world);
    // The document stays for a rollback, marked and with its version moved so that an earlier version still running
    // cannot save over the rows' truth.
    const legacy = (await client.getRow!({
      tableName: 'acr_sync_alert',
      primaryKey: [{ id: fixture.stateKey }],
      maxVersions: 1,
    })) as { row: { attributes: { columnName: string; columnValue: { toNumber(): number } }[] } };
    const cols = Object.fromEntries(legacy.row.attributes.map((a) => [a.columnName, a.columnValue]));
    expect(cols.version!.toNumber()).toBe(fixture.version + 1);
    expect(cols.migrated_at).toBeDefined();
    expect(world.ots!.calls.filter((c) => c.action === 'UpdateRow')).toHaveLength(1);
  });

  it('a move done long ago is not done again when the TTL has removed the meta row, nor when it removed the document', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({
      instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }],
      tablestore: true,
      env: { STATE_KEY: fixture.stateKey },
    });
    const client = await plantLegacyRow(world.ots!, fixture.stateKey, fixture.version, shifted(fixture.checkpoint, by));
    await world.run();
    const sent = world.hooks.received.length;
    const pk = [{ id: fixture.stateKey }];
    const meta = keysFor(fixture.stateKey).meta;
    const dropMeta = () => world!.table().writeRows([{ op: 'delete', key: meta }], 5_000);
    // Thirty days on: the meta row is gone; the document, marked as moved two days after its last save, is still there.
    await dropMeta();
    await client.updateRow!({
      tableName: 'acr_sync_alert',
      primaryKey: pk,
      updateOfAttributeColumns: [{ PUT: [{ migrated_at: TableStore.Long.fromNumber(Date.now() - 2 * 86_400_000) }] }],
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null),
    });
    expect((await world.run()).outcome).toBe('nothing-new');
    expect((await world.state()).meta).toMatchObject({ layout: 2 });
    expect((await world.state()).meta).not.toHaveProperty('from');
    // Later still the TTL took the document's own cell, leaving the ones the move wrote.
    await dropMeta();
    await client.updateRow!({
      tableName: 'acr_sync_alert',
      primaryKey: pk,
      updateOfAttributeColumns: [{ DELETE_ALL: ['doc'] }],
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null),
    });
    expect((await world.run()).outcome).toBe('nothing-new');
    expect(world.hooks.received).toHaveLength(sent);
    expect(world.logs.filter((l) => l.includes('moved the earlier single document into rows'))).toHaveLength(1);
  });

  it('a rollback and back: state --move-again moves what the earlier release did meanwhile; nothing repeated, nothing lost', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    const tasks = tasksSince(by);
    world = await startWorld({
      instances: [{ ...fixture.instance, tasks, rules: [] }],
      tablestore: true,
      env: { STATE_KEY: fixture.stateKey },
    });
    const client = await plantLegacyRow(world.ots!, fixture.stateKey, fixture.version, shifted(fixture.checkpoint, by));
    await world.run();
    const sent = {
      dingtalk: announcedIds(world.hooks, 'dingtalk').length,
      slack: announcedIds(world.hooks, 'slack').length,
    };

    // Rolled back: the earlier release reads its document (as the move left it) and does what this release did since
    // (rst-up03 failed, rst-up02's image recovered with rst-up06), then announces rst-rb1 to DingTalk, cannot reach
    // Slack (rst-rb1 stays in its outbox), and saves over the version the move set.
    const now = Date.now();
    const from = { ...fixture.instance, namespace: 'prod', repo: 'rollback', tag: 'v1' };
    tasks.push(
      rawTask({
        id: 'rst-rb1',
        status: 'ERROR',
        issue: 'TAG_CONFLICT',
        createTime: now - 20_000,
        ruleId: 'crsr-upgrade',
        from,
        to: fixture.target,
      }),
    );
    type Doc = {
      instances: Record<
        string,
        {
          watermark: number;
          handled: Record<string, number>;
          open: Record<string, unknown>;
          failing: Record<string, { taskId: string }>;
        }
      >;
      outbox: unknown[];
    };
    const cp = shifted(fixture.checkpoint, by) as unknown as Doc;
    const inst = cp.instances[`${fixture.instance.regionId}:${fixture.instance.instanceId}`]!;
    inst.watermark = now - 20_000;
    inst.handled['rst-rb1'] = now - 20_000;
    inst.handled['rst-up03'] = tasks.find((t) => t.SyncTaskId === 'rst-up03')!.CreateTime as number;
    delete inst.open['rst-up03'];
    for (const [key, f] of Object.entries(inst.failing)) if (f.taskId === 'rst-up02') delete inst.failing[key];
    const rb1 = {
      id: `${fixture.instance.regionId}:${fixture.instance.instanceId}/rst-rb1`,
      instance: `${fixture.instance.regionId}:${fixture.instance.instanceId}`,
      task: {
        taskId: 'rst-rb1',
        ruleId: 'crsr-upgrade',
        status: 'ERROR',
        issue: 'TAG_CONFLICT',
        trigger: 'PASSIVE',
        createTime: now - 20_000,
        crossUser: false,
        from,
        to: { ...fixture.target, namespace: 'prod', repo: 'rollback', tag: 'v1' },
      },
    };
    cp.outbox = [{ alert: rb1, pending: ['slack'], detectedAt: now - 10_000, attempts: 1 }];
    await client.updateRow!({
      tableName: 'acr_sync_alert',
      primaryKey: [{ id: fixture.stateKey }],
      // (The move is dated two days back: a rollback may last that long, past the window for resuming a move.)
      updateOfAttributeColumns: [
        {
          PUT: [
            { version: TableStore.Long.fromNumber(fixture.version + 2) },
            { doc: gzipSync(Buffer.from(JSON.stringify(cp))) },
            { migrated_at: TableStore.Long.fromNumber(now - 2 * 86_400_000) },
          ],
        },
      ],
      condition: new TableStore.Condition(
        TableStore.RowExistenceExpectation.EXPECT_EXIST,
        new TableStore.SingleColumnCondition(
          'version',
          TableStore.Long.fromNumber(fixture.version + 1),
          TableStore.ComparatorType.EQUAL,
          false,
          true,
        ),
      ),
    });

    // Back on this release: the operator asks for the move again.
    const out: string[] = [];
    const op = (args: string[]) =>
      main(args, {
        out: (l) => void out.push(l),
        err: (l) => void out.push(l),
        env: {
          ...world!.env,
          ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret,
          ALIBABA_CLOUD_SECURITY_TOKEN: KEYS.token,
        },
      });
    expect(await op(['state'])).toBe(0);
    expect(out.join('\n')).toMatch(/moved from the single-document checkpoint[\s\S]*saved since by an earlier release/);
    expect(await op(['state', '--move-again'])).toBe(0);
    const s = await world.run();
    expect(s.outcome).toBe('completed');
    expect(announcedIds(world.hooks, 'dingtalk')).toHaveLength(sent.dingtalk);
    expect(announcedIds(world.hooks, 'slack').slice(sent.slack)).toEqual(['rst-rb1']);
    expect((await world.state()).owed).toEqual({});
    expect((await world.run()).outcome).toBe('nothing-new');
    // Asked again with nothing new saved since, it refuses and changes nothing.
    out.length = 0;
    expect(await op(['state', '--move-again'])).toBe(2);
    expect(out.join()).toMatch(/has not been saved since it was moved/);
  });

  it('in the local file: reads the earlier format the same way', async () => {
    const by = Date.now() - 60_000 - fixture.savedAt;
    world = await startWorld({
      instances: [{ ...fixture.instance, tasks: tasksSince(by), rules: [] }],
      env: { STATE_KEY: fixture.stateKey },
    });
    writeFileSync(
      world.stateFile,
      JSON.stringify({ version: fixture.version, checkpoint: shifted(fixture.checkpoint, by) }),
    );
    await expectUpgraded(world);
  });
});
