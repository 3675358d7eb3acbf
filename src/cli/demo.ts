/**
 * `npm start`: the real handler against a local ACR simulator, with a local state file, printing every message it
 * sends. No cloud account needed. Failures in the `release` namespace are routed to their own Slack hook, in Chinese
 * with Singapore times; the rest go to the default DingTalk robot and Slack hook. With DINGTALK_WEBHOOK or
 * SLACK_WEBHOOK set, messages go to those webhooks instead (and ROUTES is yours to set).
 * Run it twice: the second run announces nothing new. Delete .acr-sync-alert/ to start over.
 *
 * `npm start -- --tablestore`: the state goes to a local Tablestore server through the real SDK instead. That
 * server keeps its tables in memory, so the demo runs the handler twice in one go and shows the stored rows.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateFileOf } from '../config/state-file.js';
import type { RunSummary } from '../handler/run.js';
import { handler, setLogSink } from '../index.js';
import { startCrSimulator, type CrSimulator } from '../sim/cr-server.js';
import { demoInstances } from '../sim/seed.js';
import { startTablestoreServer, type TablestoreServer } from '../sim/tablestore-server.js';
import { startWebhookReceivers, type WebhookReceivers } from '../sim/webhook-server.js';
import { formatMessage } from './print.js';

const DEMO_KEY = { id: 'STS.demo-access-key-id', secret: 'demo-access-key-secret', token: 'demo-sts-token' };
const DEMO_SIGNING_SECRET = 'SECdemo-local-signing-secret';
const RELEASE_HOOK = '/services/TDEMO/BDEMO/release-team';

type Env = Record<string, string | undefined>;

/** The local servers the demo runs against; `receivers` only when no real webhook is set. */
interface Servers {
  sim: CrSimulator;
  ots?: TablestoreServer;
  receivers?: WebhookReceivers;
  /** Each message the local receivers accepted, laid out for the terminal. */
  printed: string[];
}

/**
 * The simulated tasks' times are fixed at the first run (kept beside the state file), as real tasks' times are:
 * a later run sees the same history however much later it runs.
 */
function seedAnchor(stateFile: string): number {
  const file = join(dirname(stateFile), 'demo-seed.json');
  try {
    const anchor = (JSON.parse(readFileSync(file, 'utf8')) as { anchor?: unknown }).anchor;
    if (typeof anchor === 'number') return anchor;
  } catch {
    // first run, or an unreadable file: start a new history
  }
  const anchor = Date.now();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ anchor }));
  return anchor;
}

async function startServers(o: { stateFile: string; tablestore: boolean; local: boolean }): Promise<Servers> {
  const keys = { accessKeyId: DEMO_KEY.id, accessKeySecret: DEMO_KEY.secret, securityToken: DEMO_KEY.token };
  const sim = await startCrSimulator({ ...keys, instances: demoInstances(seedAnchor(o.stateFile)) });
  const ots = o.tablestore ? await startTablestoreServer({ ...keys, instance: 'demo-alerts' }) : undefined;
  const printed: string[] = [];
  const receivers = o.local
    ? await startWebhookReceivers({
        dingtalkToken: 'demo-robot-token',
        dingtalkSecret: DEMO_SIGNING_SECRET,
        slackPath: '/services/TDEMO/BDEMO/demo',
        moreSlackPaths: [RELEASE_HOOK],
        onMessage: (m) =>
          printed.push(formatMessage(m.channel, m.body, m.hook === RELEASE_HOOK ? 'release-team/slack' : undefined)),
      })
    : undefined;
  return { sim, ots, receivers, printed };
}

/** Points the handler's settings at the local servers (what the operator set is kept, except the ACR endpoint). */
function pointAt(env: Env, { sim, ots, receivers }: Servers): void {
  env.ACR_INSTANCES ??= sim.instances.map((i) => `${i.regionId}:${i.instanceId}`).join(',');
  env.ACR_ENDPOINT = sim.endpointTemplate;
  env.LOOKBACK_MINUTES ??= '180';
  if (receivers) {
    env.DINGTALK_WEBHOOK = receivers.dingtalkUrl;
    env.DINGTALK_SECRET = DEMO_SIGNING_SECRET;
    env.SLACK_WEBHOOK = receivers.slackUrl;
    env.ROUTES = JSON.stringify([
      {
        name: 'release-team',
        match: { namespace: 'release' },
        slack: { webhook: receivers.slackUrlFor(RELEASE_HOOK) },
        lang: 'zh',
        timezone: 'Asia/Singapore',
      },
    ]);
  }
  delete env.FC_FUNCTION_NAME;
  if (ots) {
    env.TABLESTORE_ENDPOINT = ots.endpoint;
    env.TABLESTORE_INSTANCE = ots.instance;
  }
}

/** Runs the handler as Function Compute would, with a new request id each time. */
async function invoke(): Promise<RunSummary> {
  const event = Buffer.from(
    JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'demo', payload: '' }),
  );
  const context = {
    requestId: randomUUID(),
    credentials: { accessKeyId: DEMO_KEY.id, accessKeySecret: DEMO_KEY.secret, securityToken: DEMO_KEY.token },
    function: { name: 'acr-sync-alert-demo', timeout: 60, memory: 128 },
  };
  return JSON.parse(await handler(event, context)) as RunSummary;
}

/** One line per table: its rows by kind (the part of the key after the instance: c cursor, w watched, o owed, ...). */
function describeTables(ots: TablestoreServer): string[] {
  return [...ots.tables].map(([name, table]) => {
    const kinds = new Map<string, { rows: number; bytes: number }>();
    for (const row of table.allRows()) {
      const id = String(row.pk[0]?.value && 'v' in row.pk[0].value ? row.pk[0].value.v : '');
      const kind = id.split('|')[3] ?? '?';
      const k = kinds.get(kind) ?? { rows: 0, bytes: 0 };
      k.rows += 1;
      k.bytes += [...row.cols.values()].reduce((n, c) => n + ('v' in c.value ? String(c.value.v).length : 0), 0);
      kinds.set(kind, k);
    }
    const byKind = [...kinds].map(([k, v]) => `${k}: ${v.rows} rows, ${v.bytes} bytes`).join('; ');
    return `Table ${name} (TTL ${table.ttl} s, ${table.maxVersions} version): ${byKind}`;
  });
}

/** With Tablestore (kept in memory), the second run happens now: it finds nothing new; then what the table holds. */
async function secondRun(ots: TablestoreServer): Promise<void> {
  const firstCu = { ...ots.consumed };
  const again = await invoke();
  const { stateReads, stateWrites } = again.apiCalls;
  console.log(
    `\nSecond run: ${again.outcome}, ${again.failuresFound} new failures, ` +
      `state reads ${stateReads}, writes ${stateWrites}`,
  );
  for (const line of describeTables(ots)) console.log(line);
  console.log(
    `Capacity units: first run ${firstCu.read} read / ${firstCu.write} write; ` +
      `second run ${ots.consumed.read - firstCu.read} read / ${ots.consumed.write - firstCu.write} write`,
  );
}

async function main(): Promise<void> {
  // The demo sets the handler's settings for it: the handler reads them from the environment, as in the cloud.
  const env = process.env;
  const stateFile = stateFileOf(env);
  const servers = await startServers({
    stateFile,
    tablestore: process.argv.includes('--tablestore'),
    local: !env.DINGTALK_WEBHOOK && !env.SLACK_WEBHOOK,
  });
  const { sim, ots, receivers, printed } = servers;
  try {
    pointAt(env, servers);
    const problems: string[] = [];
    setLogSink((level, line) => {
      if (level === 'warn' || level === 'error') problems.push(line);
    });
    const where = ots ? `local Tablestore ${ots.endpoint} (instance ${ots.instance})` : stateFile;
    console.log(`acr-sync-alert demo: ${sim.instances.length} simulated ACR EE instances, state in ${where}`);
    if (receivers)
      console.log(
        'Routes: namespace "release" -> release-team Slack hook (zh, Asia/Singapore); ' +
          'everything else -> the default DingTalk robot and Slack hook',
      );
    const summary = await invoke();
    if (printed.length > 0) console.log(printed.join('\n'));
    else if (receivers)
      console.log(
        '\nNo new failures: everything was announced by an earlier run. ' +
          'Delete .acr-sync-alert/ to see the first run again.',
      );
    for (const p of problems) console.log(`log: ${p}`);
    console.log('\nRun summary:');
    console.log(JSON.stringify(summary, null, 2));
    if (ots) await secondRun(ots);
  } finally {
    setLogSink(undefined);
    await receivers?.close();
    await ots?.close();
    await sim.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
