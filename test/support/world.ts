import { bannerTotal } from './banner.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler, setLogSink } from '../../src/index.js';
import type { RunSummary } from '../../src/handler/run.js';
import { startCrSimulator, type CrSimOptions, type CrSimulator, type SimInstance } from '../../src/sim/cr-server.js';
import { startTablestoreServer, type TablestoreServer } from '../../src/sim/tablestore-server.js';
import { Secret } from '../../src/lib/secret.js';
import type { Control } from '../../src/model/state.js';
import { FileTable } from '../../src/state/file.js';
import { keysFor, write } from '../../src/state/rows.js';
import type { RowTable } from '../../src/state/table.js';
import { createTablestoreTable } from '../../src/state/tablestore.js';
import { readState, type StateView } from './state.js';
import { startWebhookReceivers, type ReceiverOptions, type WebhookReceivers } from '../../src/sim/webhook-server.js';

export const KEYS = {
  id: 'STS.test-access-key-id-0001',
  secret: 'test-access-key-secret-9f3a',
  token: 'test-sts-security-token-77c1',
};
export const DING = { token: 'dingtalk-robot-token-5e1d', secret: 'SECdingtalk-signing-secret-0b2c' };
export const SLACK_PATH = '/services/T0TEST/B0TEST/slack-hook-secret-a41f';

/** Every string that must never appear in a log line, error or summary. */
export const SECRETS = [
  KEYS.id,
  KEYS.secret,
  KEYS.token,
  DING.token,
  DING.secret,
  SLACK_PATH,
  'slack-hook-secret-a41f',
];

/** Where a child run is killed: when a server sees the matching request (the nth such one in that run). */
export type KillPoint =
  | { at: 'cr'; action: 'ListRepoSyncTask' | 'ListRepoSyncRule' }
  | { at: 'ots'; action: string; phase: 'received' | 'applied'; nth?: number }
  | { at: 'webhook'; channel: 'dingtalk' | 'slack' };

export interface ChildResult {
  summary?: RunSummary;
  killed: boolean;
  failed?: string;
  output: string;
}

export interface World {
  cr: CrSimulator;
  ots?: TablestoreServer;
  hooks: WebhookReceivers;
  dir: string;
  /** The local state file (used when the world has no Tablestore server). */
  stateFile: string;
  env: Record<string, string>;
  /** Every log line written by every run so far. */
  logs: string[];
  /** Invokes the real handler as Function Compute would (Buffer event, context with STS credentials). */
  run(opts?: {
    payload?: string;
    env?: Record<string, string | undefined>;
    requestId?: string;
    timeout?: number;
    /** The timer's trigger time (ISO 8601) the event carries; now unless told. */
    triggerTime?: string;
    /** The whole event, instead of a timer event around `payload` (what `s invoke -e` sends). */
    event?: string;
  }): Promise<RunSummary>;
  /** Everything the state holds, decoded (from the file, or from the Tablestore server through the real SDK). */
  state(): Promise<StateView>;
  /** Called on every CR call before it is answered (after any barrier), e.g. to change the list between pages. */
  onCrCall?: (action: string, params: Record<string, string>) => void;
  /** Rewrites the control row, e.g. to let a channel pause run out without waiting for it. */
  editControl(edit: (c: Control) => Control): Promise<void>;
  /** The table the runs keep their state in. */
  table(): RowTable;
  /** Runs the handler in a child process, killing it at `kill` if given. */
  runChild(opts?: { kill?: KillPoint; requestId?: string; timeout?: number; payload?: string }): Promise<ChildResult>;
  close(): Promise<void>;
}

const root = new URL('../..', import.meta.url).pathname;

/** The worlds started in this test file and not closed yet. */
const open = new Set<World>();

/**
 * Closes every world started since the last call (its servers and its folder): the teardown an integration test file
 * registers with `afterEach(closeWorlds)`, so that no test leaves a server running for the next.
 */
export async function closeWorlds(): Promise<void> {
  const worlds = [...open];
  open.clear();
  for (const w of worlds) await w.close();
}

export async function startWorld(opts: {
  instances: SimInstance[];
  cr?: Partial<CrSimOptions>;
  hooks?: Partial<ReceiverOptions>;
  env?: Record<string, string>;
  tablestore?: boolean;
  /** Holds the first N ListRepoSyncTask calls until all N have arrived, so N runs are certain to overlap. */
  overlap?: number;
  /**
   * The test closes this world itself, and closeWorlds leaves it alone: a concurrent test's world must outlive the
   * teardown that runs after each of the other tests.
   */
  closedByTest?: boolean;
}): Promise<World> {
  let waiting: (() => void)[] = [];
  let held = 0;
  const barrier = async (action: string) => {
    if (!opts.overlap || action !== 'ListRepoSyncTask' || held >= opts.overlap) return;
    held += 1;
    if (held === opts.overlap) {
      waiting.forEach((go) => go());
      waiting = [];
      return;
    }
    await new Promise<void>((go) => waiting.push(go));
  };
  // The kill switch the servers consult: set by runChild for the child currently running.
  let armed: { point: KillPoint; child: ChildProcess; seen: Map<string, number>; fired: boolean } | undefined;
  const trip = (matches: (p: KillPoint, seen: Map<string, number>) => boolean): 'drop' | undefined => {
    if (!armed || armed.fired || !matches(armed.point, armed.seen)) return undefined;
    armed.fired = true;
    armed.child.kill('SIGKILL');
    return 'drop';
  };
  const cr = await startCrSimulator({
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    securityToken: KEYS.token,
    instances: opts.instances,
    ...opts.cr,
    onCall: async (action, params) => {
      await barrier(action);
      self.onCrCall?.(action, params);
      return trip((p) => p.at === 'cr' && p.action === action);
    },
  });
  const hooks = await startWebhookReceivers({
    dingtalkToken: DING.token,
    dingtalkSecret: DING.secret,
    slackPath: SLACK_PATH,
    ...opts.hooks,
    onMessage: (m) => void trip((p) => p.at === 'webhook' && p.channel === m.channel),
  });
  const ots = opts.tablestore
    ? await startTablestoreServer({
        accessKeyId: KEYS.id,
        accessKeySecret: KEYS.secret,
        securityToken: KEYS.token,
        instance: 'alertstate',
        onRequest: (action, phase) =>
          trip((p, seen) => {
            if (p.at !== 'ots' || p.action !== action || p.phase !== phase) return false;
            const n = (seen.get(`${action}/${phase}`) ?? 0) + 1;
            seen.set(`${action}/${phase}`, n);
            return n === (p.nth ?? 1);
          }),
      })
    : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'acr-sync-alert-'));
  const stateFile = join(dir, 'state.json');
  const env: Record<string, string> = {
    ACR_INSTANCES: opts.instances.map((i) => `${i.regionId}:${i.instanceId}`).join(','),
    ACR_ENDPOINT: cr.endpointTemplate,
    STATE_FILE: stateFile,
    DINGTALK_WEBHOOK: hooks.dingtalkUrl,
    DINGTALK_SECRET: DING.secret,
    SLACK_WEBHOOK: hooks.slackUrl,
    ALERT_LANG: 'en',
    LOOKBACK_MINUTES: '1440',
    ...(ots ? { TABLESTORE_ENDPOINT: ots.endpoint, TABLESTORE_INSTANCE: ots.instance, STATE_KEY: 'test' } : {}),
    ...opts.env,
  };
  const context = (requestId: string, timeout: number) => ({
    requestId,
    credentials: { accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token },
    function: { name: 'acr-sync-alert', timeout, memory: 128 },
    region: 'cn-hangzhou',
  });
  // Unless a test gives one, the trigger time is the middle of the current hour: never the first tick of an hour, at
  // which a run that cannot reach its state tells the channels (a test that counts posts would see it 1 time in 12).
  const midHour = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1_800_000).toISOString();
  const timerEvent = (payload: string, triggerTime = midHour()) =>
    JSON.stringify({ triggerTime, triggerName: 'timer', payload });
  const logs: string[] = [];
  // The deployment's name in the table: STATE_KEY, else the function's name when FC sets one, else "default".
  const deployment = () => env.STATE_KEY ?? 'default';
  const self: World = {
    cr,
    hooks,
    ots,
    dir,
    stateFile,
    env,
    logs,
    async run(o = {}) {
      const saved = { ...process.env };
      for (const k of Object.keys(process.env))
        if (
          /^(ACR_|TABLESTORE_|DINGTALK_|SLACK_|CHECKPOINT_|STATE_|ALERT_|LOOKBACK_|FETCH_|FC_|ALIBABA_CLOUD_)/.test(k)
        )
          delete process.env[k];
      Object.assign(process.env, env);
      for (const [k, v] of Object.entries(o.env ?? {})) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      setLogSink((_level, line) => logs.push(line));
      try {
        const out = await handler(
          Buffer.from(o.event ?? timerEvent(o.payload ?? '', o.triggerTime)),
          context(o.requestId ?? randomUUID(), o.timeout ?? 60),
        );
        logs.push(out);
        return JSON.parse(out) as RunSummary;
      } finally {
        setLogSink(undefined);
        process.env = saved;
      }
    },
    table() {
      return ots
        ? createTablestoreTable({
            endpoint: ots.endpoint,
            instance: ots.instance,
            table: 'acr_sync_alert',
            credentials: {
              accessKeyId: new Secret(KEYS.id),
              accessKeySecret: new Secret(KEYS.secret),
              securityToken: new Secret(KEYS.token),
            },
          })
        : new FileTable(stateFile);
    },
    async state() {
      return readState(
        self.table(),
        deployment(),
        opts.instances.map((i) => `${i.regionId}:${i.instanceId}`),
      );
    },
    async editControl(edit) {
      const k = keysFor(deployment());
      const t = self.table();
      const s = await self.state();
      const op = write.control(k, edit(s.control), s.controlVersion);
      await t.writeRows([op.op === 'put' ? { op: 'put', key: op.key, cols: op.cols } : op], 5_000);
    },
    runChild(o = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/handler-child.ts'], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          NO_PROXY: '127.0.0.1,localhost',
          ...env,
          CHILD_EVENT: timerEvent(o.payload ?? ''),
          CHILD_CONTEXT: JSON.stringify(context(o.requestId ?? randomUUID(), o.timeout ?? 60)),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (o.kill) armed = { point: o.kill, child, seen: new Map(), fired: false };
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      return new Promise((resolve) => {
        child.on('close', (_code, signal) => {
          if (armed?.child === child) armed = undefined;
          logs.push(...output.split('\n').filter(Boolean));
          const line = output.split('\n').find((l) => l.startsWith('SUMMARY:'));
          const failed = output.split('\n').find((l) => l.startsWith('FAILED:'));
          resolve({
            summary: line ? (JSON.parse(line.slice(8)) as RunSummary) : undefined,
            killed: signal === 'SIGKILL',
            failed: failed?.slice(7),
            output,
          });
        });
      });
    },
    async close() {
      open.delete(self);
      await ots?.close();
      await hooks.close();
      await cr.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!opts.closedByTest) open.add(self);
  return self;
}

/** Task ids named in the messages a channel received (each line of a message carries one task id). */
export function announcedIds(hooks: WebhookReceivers, channel: 'dingtalk' | 'slack'): string[] {
  const ids: string[] = [];
  for (const m of hooks.received.filter((r) => r.channel === channel)) {
    ids.push(...(JSON.stringify(m.body).match(/rst-[A-Za-z0-9]+/g) ?? []));
  }
  return ids;
}

export { bannerTotal };

/** The failure counts in received messages' banners, so announced totals can be checked. */
export function failureCounts(hooks: WebhookReceivers, channel: 'dingtalk' | 'slack'): number[] {
  return hooks.received.filter((r) => r.channel === channel).map((m) => bannerTotal(m.body));
}
