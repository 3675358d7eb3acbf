import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointConflictError, IntegrationError } from '../../src/lib/errors.js';
import { Secret } from '../../src/lib/secret.js';
import { rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { startTablestoreServer, type TablestoreServer } from '../../src/sim/tablestore-server.js';
import { emptyCheckpoint } from '../../src/model/checkpoint.js';
import { createTablestoreStore, STATE_TTL_SEC } from '../../src/state/tablestore.js';
import { announcedIds, KEYS, startWorld, type KillPoint, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-ots0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-ots0sh', regionId: 'cn-shanghai' };
const failing = (n: number): TaskSpec[] =>
  Array.from({ length: n }, (_, i) => ({ id: `rst-ots${i}`, status: 'ERROR', issue: 'TAG_CONFLICT', createTime: Date.now() - (i + 1) * 60_000, ruleId: 'crsr-1', from: { ...HZ, namespace: 'prod', repo: `svc${i}`, tag: 'v1' }, to: SH }));
const world3 = () => startWorld({ instances: [{ ...HZ, tasks: failing(3).map(rawTask), rules: [] }], tablestore: true });
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

const credentials = (secret = KEYS.secret) => ({ accessKeyId: new Secret(KEYS.id), accessKeySecret: new Secret(secret), securityToken: new Secret(KEYS.token) });
async function store(secret?: string) {
  server = await startTablestoreServer({ accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token, instance: 'alertstate' });
  return createTablestoreStore({ endpoint: server.endpoint, instance: 'alertstate', table: 'acr_sync_alert', key: 'k1', credentials: credentials(secret) });
}

describe('Tablestore checkpoint store, through the real tablestore SDK', () => {
  it('creates its table on first use with a string key, a TTL and one version', async () => {
    const s = await store();
    expect(await s.load(2_000)).toEqual({ checkpoint: emptyCheckpoint(), version: 0 });
    const t = server!.tables.get('acr_sync_alert')!;
    expect(t).toMatchObject({ pk: [{ name: 'id', type: 2 }], ttl: STATE_TTL_SEC, maxVersions: 1 });
    expect(server!.calls.map((c) => [c.action, c.status, c.signatureValid])).toEqual([['GetRow', 404, true], ['CreateTable', 200, true]]);
  });

  it('writes only on the version it read, stores integers as INTEGER and the document compressed', async () => {
    const s = await store();
    await s.load(2_000);
    const cp = { ...emptyCheckpoint(), lease: { owner: 'run-a', until: 1_800_000_000_123 } };
    expect(await s.save(cp, 0, 2_000)).toBe(1);
    await expect(s.save(cp, 0, 2_000)).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(await s.save(emptyCheckpoint(), 1, 2_000)).toBe(2);
    await expect(s.save(emptyCheckpoint(), 1, 2_000)).rejects.toBeInstanceOf(CheckpointConflictError);
    const row = [...server!.tables.get('acr_sync_alert')!.rows.values()][0]!;
    expect(row.cols.get('version')!.value).toEqual({ type: 'INTEGER', v: 2n });
    expect(row.cols.get('lease_until')!.value.type).toBe('INTEGER');
    expect(row.cols.get('updated_at')!.value.type).toBe('INTEGER');
    expect(row.cols.get('doc')!.value.type).toBe('BLOB');
    expect(await s.load(2_000)).toEqual({ checkpoint: emptyCheckpoint(), version: 2 });
  });

  it('normalises service errors: busy is retryable, auth is a configuration problem, neither echoes the raw body', async () => {
    const s = await store();
    server!.fault({ action: 'GetRow', kind: 'error', status: 503, code: 'OTSServerBusy', message: 'Server is busy.' });
    const busy = (await s.load(2_000).then(() => undefined, (e: unknown) => e)) as IntegrationError;
    expect(busy).toMatchObject({ service: 'tablestore', kind: 'retryable', code: 'OTSServerBusy', status: 503 });
    expect(busy.message).toBe('Tablestore GetRow: service busy or unavailable');
    const wrong = createTablestoreStore({ endpoint: server!.endpoint, instance: 'alertstate', table: 'acr_sync_alert', key: 'k1', credentials: credentials('wrong') });
    await expect(wrong.load(2_000)).rejects.toMatchObject({ kind: 'config', code: 'OTSAuthFailed' });
    server!.fault({ kind: 'down' });
    await expect(s.load(2_000)).rejects.toMatchObject({ kind: 'retryable' });
  });
});

describe('the handler with a Tablestore checkpoint', () => {
  it('announces once, then reads one row and writes nothing when nothing is new', async () => {
    world = await world3();
    const first = await world.run();
    expect(first.failuresFound).toBe(3);
    expect(first.apiCalls).toMatchObject({ stateReads: 1, stateWrites: 2 });
    const before = { ...world.ots!.consumed };
    const second = await world.run();
    expect(second).toMatchObject({ outcome: 'nothing-new', apiCalls: { cr: 1, stateReads: 1, stateWrites: 0 } });
    expect(world.ots!.consumed.write).toBe(before.write);
    expect(world.ots!.consumed.read - before.read).toBe(1);
    expect(count(announcedIds(world.hooks, 'dingtalk'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
    expect((await world.storedCheckpoint()).checkpoint.outbox).toEqual([]);
  });

  it('lets exactly one of two runs started at the same moment announce, when the table does not exist yet', async () => {
    world = await startWorld({ instances: [{ ...HZ, tasks: failing(3).map(rawTask), rules: [] }], tablestore: true, overlap: 2 });
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
    world.ots!.fault({ action: 'GetRow', kind: 'error', status: 503, code: 'OTSServerBusy', times: 100 });
    await expect(world.run({ timeout: 8 })).rejects.toThrow(/Tablestore GetRow: service busy or unavailable/);
    expect(world.hooks.attempts).toHaveLength(0);
    world.ots!.heal();
    const back = await world.run();
    expect(back.failuresFound).toBe(3);
    expect(count(announcedIds(world.hooks, 'slack'))).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
  });

  it('sends nothing when the claim cannot be written', async () => {
    world = await world3();
    await world.run({ payload: '{"dryRun":true}' });
    world.ots!.fault({ action: 'PutRow', kind: 'down', times: 100 });
    await expect(world.run({ timeout: 8 })).rejects.toThrow(/Tablestore PutRow/);
    expect(world.hooks.attempts).toHaveLength(0);
  });

  it('adopts its own write when the answer to it was lost, and delivers', async () => {
    world = await world3();
    world.ots!.fault({ action: 'PutRow', kind: 'lost-answer' });
    const s = await world.run();
    expect(s.outcome).toBe('completed');
    expect(s.notified).toEqual({ dingtalk: 3, slack: 3 });
    const stored = (await world.storedCheckpoint()).checkpoint;
    expect(stored.outbox).toEqual([]);
    expect(stored.lease).toBeUndefined();
  });
});

describe('a run killed at any point loses nothing', () => {
  // The claim is the first write (PutRow on a new row), the final save the second (UpdateRow).
  const points: { name: string; kill: KillPoint; slackRepeats: boolean }[] = [
    { name: 'while reading tasks', kill: { at: 'cr', action: 'ListRepoSyncTask' }, slackRepeats: false },
    { name: 'after fetching, before its claim is stored', kill: { at: 'ots', action: 'PutRow', phase: 'received' }, slackRepeats: false },
    { name: 'after its claim is stored, before sending', kill: { at: 'ots', action: 'PutRow', phase: 'applied' }, slackRepeats: false },
    { name: 'after DingTalk accepted, before Slack', kill: { at: 'webhook', channel: 'dingtalk' }, slackRepeats: false },
    { name: 'after Slack accepted, before saving', kill: { at: 'webhook', channel: 'slack' }, slackRepeats: true },
    { name: 'mid-save, before the save is stored', kill: { at: 'ots', action: 'UpdateRow', phase: 'received' }, slackRepeats: true },
    { name: 'after the save is stored', kill: { at: 'ots', action: 'UpdateRow', phase: 'applied' }, slackRepeats: false },
  ];
  for (const p of points) {
    it.concurrent(`killed ${p.name}: every failure reaches both channels; DingTalk never twice`, async () => {
      const w = await world3();
      try {
        const crashed = await w.runChild({ kill: p.kill, timeout: 4 });
        expect(crashed.killed).toBe(true);
        // Later ticks: a lease left by the dead run holds them off until it expires (deadline + 2 s).
        let last;
        for (let i = 0; i < 12; i++) {
          last = await w.runChild({ timeout: 4 });
          if (last.summary?.outcome !== 'locked') break;
          await new Promise((r) => setTimeout(r, 700));
        }
        expect(['completed', 'nothing-new']).toContain(last?.summary?.outcome);
        const ding = count(announcedIds(w.hooks, 'dingtalk'));
        const slack = count(announcedIds(w.hooks, 'slack'));
        expect(ding).toEqual({ 'rst-ots0': 1, 'rst-ots1': 1, 'rst-ots2': 1 });
        for (const id of IDS) expect(slack[id]).toBe(p.slackRepeats ? 2 : 1);
        expect((await w.storedCheckpoint()).checkpoint.outbox).toEqual([]);
      } finally {
        await w.close();
      }
    }, 40_000);
  }
});

