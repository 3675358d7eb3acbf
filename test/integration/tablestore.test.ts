import TableStore from 'tablestore';
import { afterEach, describe, expect, it } from 'vitest';
import { IntegrationError, UpgradeConflictError } from '../../src/lib/errors.js';
import { Secret } from '../../src/lib/secret.js';
import type { SimInstance } from '../../src/sim/cr-server.js';
import { rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { startTablestoreServer, type OtsNetwork, type TablestoreServer } from '../../src/sim/tablestore-server.js';
import { StateStore } from '../../src/state/store.js';
import { createTablestoreTable, STATE_TTL_SEC } from '../../src/state/tablestore.js';
import type { TablestoreError } from '../../src/state/tablestore-errors.js';
import { plantLegacyRow } from '../support/legacy.js';
import { announcedIds, failureCounts, KEYS, startWorld, type KillPoint, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-ots0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-ots0sh', regionId: 'cn-shanghai' };
const failing = (n: number): TaskSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `rst-ots${i}`,
    status: 'ERROR',
    issue: 'TAG_CONFLICT',
    createTime: Date.now() - (i + 1) * 60_000,
    ruleId: 'crsr-1',
    from: { ...HZ, namespace: 'prod', repo: `svc${i}`, tag: 'v1' },
    to: SH,
  }));
const world3 = () =>
  startWorld({ instances: [{ ...HZ, tasks: failing(3).map(rawTask), rules: [] }], tablestore: true });
const IDS = ['rst-ots0', 'rst-ots1', 'rst-ots2'];
const count = (ids: string[]) => Object.fromEntries(IDS.map((id) => [id, ids.filter((x) => x === id).length]));

let world: World | undefined;
let server: TablestoreServer | undefined;
afterEach(async () => {
  await world?.close();
  await server?.close();
  world = undefined;
  server = undefined;
});

const credentials = (secret = KEYS.secret) => ({
  accessKeyId: new Secret(KEYS.id),
  accessKeySecret: new Secret(secret),
  securityToken: new Secret(KEYS.token),
});
async function table(secret?: string, network: OtsNetwork = 'vpc') {
  server ??= await startTablestoreServer({
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    securityToken: KEYS.token,
    instance: 'alertstate',
  });
  return createTablestoreTable({
    endpoint: server.endpoints[network],
    instance: 'alertstate',
    table: 'acr_sync_alert',
    credentials: credentials(secret),
  });
}
const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(2_000);

describe('the state table in Tablestore, through the real tablestore SDK', () => {
  it('creates its table on first use with a string key, a TTL and one version', async () => {
    const t = await table();
    expect(await t.getRows(['a'], 2_000)).toEqual(new Map());
    expect(server!.tables.get('acr_sync_alert')).toMatchObject({
      pk: [{ name: 'id', type: 2 }],
      ttl: STATE_TTL_SEC,
      maxVersions: 1,
    });
    expect(server!.calls.map((c) => [c.action, c.status, c.signatureValid])).toEqual([
      ['BatchGetRow', 404, true],
      ['CreateTable', 200, true],
    ]);
  });

  it('claims a row only once, writes a versioned row only over the version read, and keeps numbers as INTEGER', async () => {
    const t = await table();
    await t.getRows(['x'], 2_000);
    expect(await t.writeRows([{ op: 'put', key: 'claim', cols: { j: '{}' }, when: 'absent' }], 2_000)).toEqual({
      failed: [],
    });
    expect(
      await t.writeRows(
        [
          { op: 'put', key: 'claim', cols: { j: '{}' }, when: 'absent' },
          { op: 'put', key: 'other', cols: { j: '{}' }, when: 'absent' },
        ],
        2_000,
      ),
    ).toEqual({ failed: ['claim'] });
    expect(await t.writeRows([{ op: 'put', key: 'v', cols: { j: 'a', ver: 1 }, when: 'absent' }], 2_000)).toEqual({
      failed: [],
    });
    expect(await t.writeRows([{ op: 'put', key: 'v', cols: { j: 'b', ver: 2 }, when: { version: 0 } }], 2_000)).toEqual(
      { failed: ['v'] },
    );
    expect(await t.writeRows([{ op: 'put', key: 'v', cols: { j: 'b', ver: 2 }, when: { version: 1 } }], 2_000)).toEqual(
      { failed: [] },
    );
    const row = server!.tables
      .get('acr_sync_alert')!
      .allRows()
      .find((r) => r.pk[0]?.value && 'v' in r.pk[0].value && r.pk[0].value.v === 'v')!;
    expect(row.cols.get('ver')!.value).toEqual({ type: 'INTEGER', v: 2n });
    expect((await t.getRows(['v'], 2_000)).get('v')).toEqual({ j: 'b', ver: 2 });
  });

  it("reads a key range a page at a time, and writes hundreds of rows in requests within the service's limits", async () => {
    const t = await table();
    await t.getRows(['x'], 2_000);
    const store = new StateStore(t, 'dep', direct);
    const keys = Array.from({ length: 450 }, (_, i) => `r-${String(i).padStart(4, '0')}`);
    await store.apply(
      keys.map((key) => ({ op: 'put', key, cols: { j: 'x'.repeat(10_000) } })),
      'bulk',
    );
    const writes = server!.calls.filter((c) => c.action === 'BatchWriteRow' && c.status === 200);
    // 450 rows of 10 KB: the 4 MB limit, not the 200-row one, decides how many go per request.
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.every((c) => c.rowsWritten <= 200 && c.bytesWritten <= 4 * 1024 * 1024)).toBe(true);
    expect(writes.reduce((n, c) => n + c.rowsWritten, 0)).toBe(450);
    const seen: string[] = [];
    for await (const page of store.range(['r-', 'r.'], 'read back')) seen.push(...page.map((r) => r.key));
    expect(seen).toEqual(keys);
    await expect(
      store.apply([{ op: 'put', key: 'huge', cols: { j: 'x'.repeat(2 * 1024 * 1024 + 1) } }], 'too big'),
    ).rejects.toThrow(/over 2097152 bytes/);
    expect(server!.calls.filter((c) => c.status === 400)).toEqual([]);
  });

  it('normalises service errors: busy is retryable, auth is a configuration problem, neither echoes the raw body', async () => {
    const t = await table();
    server!.fault({
      action: 'BatchGetRow',
      kind: 'error',
      status: 503,
      code: 'OTSServerBusy',
      message: 'Server is busy.',
    });
    const busy = (await t.getRows(['a'], 2_000).then(
      () => undefined,
      (e: unknown) => e,
    )) as IntegrationError;
    expect(busy).toMatchObject({ service: 'tablestore', kind: 'retryable', code: 'OTSServerBusy', status: 503 });
    // The service's code and message are kept (issue 22), never the raw protobuf body.
    expect(busy.message).toBe(
      'Tablestore BatchGetRow: service busy or unavailable: OTSServerBusy "Server is busy." (HTTP 503)',
    );
    const wrong = await table('wrong');
    await expect(wrong.getRows(['a'], 2_000)).rejects.toMatchObject({ kind: 'config', code: 'OTSAuthFailed' });
    server!.fault({ kind: 'down' });
    await expect(t.getRows(['a'], 2_000)).rejects.toMatchObject({ kind: 'retryable' });
  });

  it("keeps the service's code and message of an ACL refusal and names the fix: the endpoint or the instance's ACL", async () => {
    const t = await table(undefined, 'internet');
    const e = (await t.getRows(['a'], 2_000).then(
      () => undefined,
      (err: unknown) => err,
    )) as TablestoreError;
    expect(e).toMatchObject({
      service: 'tablestore',
      kind: 'config',
      code: 'OTSAuthFailed',
      status: 403,
      serviceMessage: 'Request denied by instance ACL policies.',
      fault: 'network-acl',
    });
    expect(e.message).toMatch(
      /^Tablestore BatchGetRow was refused: OTSAuthFailed "Request denied by instance ACL policies\." \(HTTP 403\): /,
    );
    expect(e.message).toContain('ots-internal.aliyuncs.com');
    expect(e.message).toContain("instance's Network Management settings");
    // eslint-disable-next-line no-control-regex -- the protobuf framing is control bytes
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('reports a row the service refuses alone in a batch write as refused and retryable, and applies the others', async () => {
    const t = await table();
    await t.getRows(['calm'], 2_000); // creates the table
    server!.fault({ kind: 'row-error', action: 'BatchWriteRow', rows: /^busy$/, code: 'OTSServerBusy' });
    const r = await t.writeRows(
      [
        { op: 'put', key: 'calm', cols: { j: '1' } },
        { op: 'put', key: 'busy', cols: { j: '2' } },
      ],
      2_000,
    );
    expect(r.failed).toEqual([]);
    expect(r.refused).toEqual([
      {
        key: 'busy',
        error: expect.objectContaining({ service: 'tablestore', kind: 'retryable', code: 'OTSServerBusy' }),
      },
    ]);
    expect([...(await t.getRows(['calm', 'busy'], 2_000)).keys()]).toEqual(['calm']);
  });
});

describe('the earlier single document in Tablestore', () => {
  it('marks it as moved only over the version read, and stops the upgrade when a release from before saved it meanwhile', async () => {
    const t = await table();
    const client = await plantLegacyRow(server!, 'dep', 4, { schema: 1, instances: {}, outbox: [] });
    expect(await t.legacy('dep', 2_000)).toEqual({
      doc: { schema: 1, instances: {}, outbox: [] },
      version: 4,
      retired: false,
    });
    // The earlier release saves again between this run's read and its mark.
    await client.updateRow!({
      tableName: 'acr_sync_alert',
      primaryKey: [{ id: 'dep' }],
      updateOfAttributeColumns: [{ PUT: [{ version: TableStore.Long.fromNumber(5) }] }],
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
    });
    const err = await t.retireLegacy('dep', 4, 2_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpgradeConflictError);
    expect((err as Error).message).toMatch(
      /^tablestore alertstate\/acr_sync_alert\/dep: the earlier single document changed while it was being upgraded .*; stop that release/,
    );
    expect(await t.legacy('dep', 2_000)).toMatchObject({ version: 5, retired: false });
    await t.retireLegacy('dep', 5, 2_000);
    expect(await t.legacy('dep', 2_000)).toMatchObject({ version: 6, retired: true, movedVersion: 6 });
  });
});

describe('the handler with its state in Tablestore', () => {
  it('announces once, then reads its starting rows in one request and writes nothing when nothing is new', async () => {
    world = await world3();
    const first = await world.run();
    expect(first.failuresFound).toBe(3);
    const before = { ...world.ots!.consumed };
    const second = await world.run();
    expect(second).toMatchObject({ outcome: 'nothing-new', apiCalls: { cr: 1, stateReads: 1, stateWrites: 0 } });
    expect(world.ots!.consumed.write).toBe(before.write);
    // One BatchGetRow of four small rows (meta, control, the cursor, the default route's digest): 1 CU each.
    expect(world.ots!.consumed.read - before.read).toBe(4);
    expect(count(announcedIds(world.hooks, 'dingtalk'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
    expect((await world.state()).owed).toEqual({});
  });

  it('lets exactly one of two runs started at the same moment announce, when the table does not exist yet', async () => {
    world = await startWorld({
      instances: [{ ...HZ, tasks: failing(3).map(rawTask), rules: [] }],
      tablestore: true,
      overlap: 2,
    });
    const [a, b] = await Promise.all([world.runChild(), world.runChild()]);
    const outcomes = [a.summary?.outcome, b.summary?.outcome].sort();
    expect(outcomes[0]).toBe('completed');
    expect(['locked', 'lost-race']).toContain(outcomes[1]);
    expect(count(announcedIds(world.hooks, 'dingtalk'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
    expect(count(announcedIds(world.hooks, 'slack'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
    expect(world.ots!.calls.filter((c) => c.action === 'CreateTable' && c.status === 200)).toHaveLength(1);
  });

  it('sends nothing while Tablestore is down, fails with a clear message, and announces once it is back', async () => {
    world = await world3();
    world.ots!.fault({ action: 'BatchGetRow', kind: 'error', status: 503, code: 'OTSServerBusy', times: 100 });
    await expect(world.run({ timeout: 8 })).rejects.toThrow(/Tablestore BatchGetRow: service busy or unavailable/);
    expect(world.hooks.attempts).toHaveLength(0);
    world.ots!.heal();
    const back = await world.run();
    expect(back.failuresFound).toBe(3);
    expect(count(announcedIds(world.hooks, 'slack'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
  });

  it('sends nothing when the claim cannot be written', async () => {
    world = await world3();
    await world.run({ payload: '{"dryRun":true}' });
    world.ots!.fault({ action: 'BatchWriteRow', kind: 'down', times: 100 });
    await expect(world.run({ timeout: 8 })).rejects.toThrow(/Tablestore BatchWriteRow/);
    expect(world.hooks.attempts).toHaveLength(0);
  });

  it('adopts its own write when the answer to it was lost, and delivers', async () => {
    world = await world3();
    world.ots!.fault({ action: 'BatchWriteRow', kind: 'lost-answer' });
    const s = await world.run();
    expect(s.outcome).toBe('completed');
    expect(s.notified).toEqual({ dingtalk: 3, slack: 3 });
    const stored = await world.state();
    expect(stored.owed).toEqual({});
    expect(stored.control.lease).toBeUndefined();
  });
});

describe('a run killed at any point loses nothing', () => {
  // The first run's writes, in order (each one BatchWriteRow): 1 the layout's meta row, 2 the sync rules kept, 3 the
  // lease, 4 the targets owed, 5 the alerts owed, 6 the failures claimed (with the failing images), 7 the digest
  // statistics, 8 the cursor, 9 what DingTalk took, 10 what Slack took, 11 the release. Slack repeats a message only
  // when killed between its answer and write 10.
  const w = (nth: number, phase: 'received' | 'applied'): KillPoint => ({
    at: 'ots',
    action: 'BatchWriteRow',
    phase,
    nth,
  });
  const points: { name: string; kill: KillPoint; slackRepeats: boolean }[] = [
    { name: 'while reading tasks', kill: { at: 'cr', action: 'ListRepoSyncTask' }, slackRepeats: false },
    { name: 'keeping the sync rules', kill: w(2, 'received'), slackRepeats: false },
    { name: 'taking the lease', kill: w(3, 'received'), slackRepeats: false },
    { name: 'after taking the lease', kill: w(3, 'applied'), slackRepeats: false },
    { name: 'after recording the targets owed', kill: w(4, 'applied'), slackRepeats: false },
    { name: 'writing its claim', kill: w(5, 'received'), slackRepeats: false },
    {
      name: 'after the alerts owed are stored, before the failures claimed',
      kill: w(5, 'applied'),
      slackRepeats: false,
    },
    { name: 'after its claim is stored, before sending', kill: w(6, 'applied'), slackRepeats: false },
    { name: 'after its cursor is stored', kill: w(8, 'applied'), slackRepeats: false },
    {
      name: 'after DingTalk accepted, before Slack',
      kill: { at: 'webhook', channel: 'dingtalk' },
      slackRepeats: false,
    },
    { name: 'clearing what DingTalk took', kill: w(9, 'received'), slackRepeats: false },
    {
      name: 'after Slack accepted, before clearing what it took',
      kill: { at: 'webhook', channel: 'slack' },
      slackRepeats: true,
    },
    { name: 'clearing what Slack took', kill: w(10, 'received'), slackRepeats: true },
    { name: 'after clearing what Slack took', kill: w(10, 'applied'), slackRepeats: false },
    { name: 'releasing the lease', kill: w(11, 'received'), slackRepeats: false },
  ];
  for (const p of points) {
    it.concurrent(
      `killed ${p.name}: every failure reaches both channels; DingTalk never twice`,
      async () => {
        const wd = await world3();
        try {
          // Eight seconds per run: enough to reach every kill point with many child processes sharing two cores.
          const crashed = await wd.runChild({ kill: p.kill, timeout: 8 });
          expect(crashed.killed).toBe(true);
          // Later ticks: a lease left by the dead run holds them off until it expires (deadline + 2 s); then one
          // delivers what is owed.
          let last;
          for (let i = 0; i < 20; i++) {
            last = await wd.runChild({ timeout: 8 });
            if (
              last.summary?.outcome !== 'locked' &&
              Object.keys((await wd.state()).owed).length === 0 &&
              announcedIds(wd.hooks, 'dingtalk').length >= IDS.length
            )
              break;
            await new Promise((r) => setTimeout(r, 700));
          }
          expect(['completed', 'nothing-new']).toContain(last?.summary?.outcome);
          const ding = count(announcedIds(wd.hooks, 'dingtalk'));
          const slack = count(announcedIds(wd.hooks, 'slack'));
          expect(ding).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
          for (const id of IDS) expect(slack[id]).toBe(p.slackRepeats ? 2 : 1);
          expect((await wd.state()).owed).toEqual({});
        } finally {
          await wd.close();
        }
      },
      90_000,
    );
  }
});

describe('a claim split by per-row failures loses nothing', () => {
  // 50 watched syncs (seen running by one run) fail together; the next run's rows owed are refused one by one
  // (OTSServerBusy) while the rest of its claim would be accepted.
  const WATCHED = Array.from({ length: 50 }, (_, i) => `rst-w${i}`);
  const running = (): TaskSpec[] =>
    WATCHED.map((id, i) => ({
      id,
      status: 'SYNCHRONIZING',
      createTime: Date.now() - (i + 1) * 10_000,
      ruleId: 'crsr-1',
      from: { ...HZ, namespace: 'prod', repo: `w${i}`, tag: 'v1' },
      to: SH,
    }));
  async function watchedThenFailed(other?: SimInstance): Promise<World> {
    const w = await startWorld({
      instances: [{ ...HZ, tasks: running().map(rawTask), rules: [] }, ...(other ? [other] : [])],
      tablestore: true,
    });
    expect((await w.run()).skipped.stillRunning).toBe(50);
    for (const t of w.cr.instances[0]!.tasks) Object.assign(t, { TaskStatus: 'ERROR', TaskIssue: 'TAG_CONFLICT' });
    // The rows owed for this instance's alerts (their ids start with its key).
    const rows = /\|o\|[^|]+\|cn-hangzhou:cri-ots0hz\//;
    w.ots!.fault({ kind: 'row-error', action: 'BatchWriteRow', rows, code: 'OTSServerBusy', times: 1_000 });
    return w;
  }
  /**
   * After the fault: two more runs, then every failure reached each channel exactly once, counted by the messages'
   * banners (a message lists a few of them by id and counts the rest), and nothing is owed any more.
   */
  async function settleAndCount(w: World, expected = 50): Promise<void> {
    w.ots!.heal();
    for (let i = 0; i < 2; i++) await w.run();
    const total = (channel: 'dingtalk' | 'slack') => failureCounts(w.hooks, channel).reduce((n, x) => n + x, 0);
    expect({ dingtalk: total('dingtalk'), slack: total('slack') }).toEqual({ dingtalk: expected, slack: expected });
    expect((await w.state()).owed).toEqual({});
  }

  it('rows owed refused on every attempt: the run names the instance, marks nothing handled, and a later run announces all', async () => {
    world = await watchedThenFailed();
    const second = await world.run({ timeout: 20 });
    expect(second.problems.join('\n')).toMatch(/could not claim what cn-hangzhou:cri-ots0hz found.*OTSServerBusy/);
    expect(world.hooks.attempts).toHaveLength(0);
    await settleAndCount(world);
  });

  it('one instance that cannot be claimed leaves the others to complete and deliver, and keeps its own cursor', async () => {
    const BJ = { instanceId: 'cri-ots0bj', regionId: 'cn-beijing' };
    world = await watchedThenFailed({ ...BJ, tasks: [], rules: [] });
    const hzCursor = (await world.state()).cursors['cn-hangzhou:cri-ots0hz'];
    world.cr.instances[1]!.tasks.push(
      ...failing(3).map((t, i) =>
        rawTask({ ...t, id: `rst-bj${i}`, from: { ...BJ, namespace: 'prod', repo: `b${i}`, tag: 'v1' } }),
      ),
    );
    const second = await world.run({ timeout: 20 });
    expect(second.problems).toHaveLength(1);
    expect(second.problems[0]).toMatch(/^cn-hangzhou:cri-ots0hz: .*could not claim/);
    expect(second.notified).toEqual({ dingtalk: 3, slack: 3 });
    const after = await world.state();
    expect(after.cursors['cn-hangzhou:cri-ots0hz']).toEqual({ ...hzCursor, health: expect.anything() });
    expect(after.cursors['cn-beijing:cri-ots0bj']).toBeDefined();
    await settleAndCount(world, 53);
  });

  it('killed after the claim request whose rows owed were refused: a later run announces all', async () => {
    world = await watchedThenFailed();
    // The second run's writes: 1 the lease, 2 the targets owed, 3 its claim (the rows owed, all refused).
    const crashed = await world.runChild({
      kill: { at: 'ots', action: 'BatchWriteRow', phase: 'applied', nth: 3 },
      timeout: 8,
    });
    expect(crashed.killed).toBe(true);
    // The dead run's lease would hold the next ticks off until it expires; let it have expired.
    await world.editControl((c) => ({ ...c, lease: undefined }));
    await settleAndCount(world);
  });
});
