/**
 * `npm start`: the real handler against a local ACR simulator, with a file checkpoint, printing every message it
 * sends. No cloud account needed. Failures in the `release` namespace are routed to their own Slack hook, in Chinese
 * with Singapore times; the rest go to the default DingTalk robot and Slack hook. With DINGTALK_WEBHOOK or
 * SLACK_WEBHOOK set, messages go to those webhooks instead (and ROUTES is yours to set).
 * Run it twice: the second run announces nothing new. Delete .acr-sync-alert/ to start over.
 *
 * `npm start -- --tablestore`: the checkpoint goes to a local Tablestore server through the real SDK instead. That
 * server keeps its tables in memory, so the demo runs the handler twice in one go and shows the stored row.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_CHECKPOINT_FILE } from '../config/config.js';
import type { RunSummary } from '../handler/run.js';
import { handler, setLogSink } from '../index.js';
import { startCrSimulator } from '../sim/cr-server.js';
import { demoInstances } from '../sim/seed.js';
import { startTablestoreServer } from '../sim/tablestore-server.js';
import { startWebhookReceivers } from '../sim/webhook-server.js';
import { formatMessage } from './print.js';

const DEMO_KEY = { id: 'STS.demo-access-key-id', secret: 'demo-access-key-secret', token: 'demo-sts-token' };
const RELEASE_HOOK = '/services/TDEMO/BDEMO/release-team';

/**
 * The simulated tasks' times are fixed at the first run (kept beside the checkpoint), as real tasks' times are:
 * a later run sees the same history however much later it runs.
 */
function seedAnchor(checkpointFile: string): number {
  const file = join(dirname(checkpointFile), 'demo-seed.json');
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

async function main(): Promise<void> {
  const env = process.env;
  env.CHECKPOINT_FILE ??= DEFAULT_CHECKPOINT_FILE;
  const sim = await startCrSimulator({
    accessKeyId: DEMO_KEY.id,
    accessKeySecret: DEMO_KEY.secret,
    securityToken: DEMO_KEY.token,
    instances: demoInstances(seedAnchor(env.CHECKPOINT_FILE)),
  });
  const withTablestore = process.argv.includes('--tablestore');
  const ots = withTablestore
    ? await startTablestoreServer({
        accessKeyId: DEMO_KEY.id,
        accessKeySecret: DEMO_KEY.secret,
        securityToken: DEMO_KEY.token,
        instance: 'demo-alerts',
      })
    : undefined;
  const local = !env.DINGTALK_WEBHOOK && !env.SLACK_WEBHOOK;
  const printed: string[] = [];
  const receivers = local
    ? await startWebhookReceivers({
        dingtalkToken: 'demo-robot-token',
        dingtalkSecret: 'SECdemo-local-signing-secret',
        slackPath: '/services/TDEMO/BDEMO/demo',
        moreSlackPaths: [RELEASE_HOOK],
        onMessage: (m) =>
          printed.push(formatMessage(m.channel, m.body, m.hook === RELEASE_HOOK ? 'release-team/slack' : undefined)),
      })
    : undefined;
  try {
    env.ACR_INSTANCES ??= sim.instances.map((i) => `${i.regionId}:${i.instanceId}`).join(',');
    env.ACR_ENDPOINT = sim.endpointTemplate;
    env.LOOKBACK_MINUTES ??= '180';
    if (receivers) {
      env.DINGTALK_WEBHOOK = receivers.dingtalkUrl;
      env.DINGTALK_SECRET = 'SECdemo-local-signing-secret';
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
    const problems: string[] = [];
    setLogSink((level, line) => {
      if (level === 'warn' || level === 'error') problems.push(line);
    });
    const event = Buffer.from(
      JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'demo', payload: '' }),
    );
    const context = {
      requestId: randomUUID(),
      credentials: { accessKeyId: DEMO_KEY.id, accessKeySecret: DEMO_KEY.secret, securityToken: DEMO_KEY.token },
      function: { name: 'acr-sync-alert-demo', timeout: 60, memory: 128 },
    };
    const where = ots ? `local Tablestore ${ots.endpoint} (instance ${ots.instance})` : env.CHECKPOINT_FILE;
    console.log(`acr-sync-alert demo: ${sim.instances.length} simulated ACR EE instances, checkpoint in ${where}`);
    if (receivers)
      console.log(
        'Routes: namespace "release" -> release-team Slack hook (zh, Asia/Singapore); everything else -> the default DingTalk robot and Slack hook',
      );
    const summary = JSON.parse(await handler(event, context)) as RunSummary;
    if (printed.length > 0) console.log(printed.join('\n'));
    else if (local)
      console.log(
        '\nNo new failures: everything was announced by an earlier run. Delete .acr-sync-alert/ to see the first run again.',
      );
    for (const p of problems) console.log(`log: ${p}`);
    console.log('\nRun summary:');
    console.log(JSON.stringify(summary, null, 2));
    if (ots) {
      const firstCu = { ...ots.consumed };
      const again = JSON.parse(await handler(event, { ...context, requestId: randomUUID() })) as RunSummary;
      console.log(
        `\nSecond run: ${again.outcome}, ${again.failuresFound} new failures, state reads ${again.apiCalls.stateReads}, writes ${again.apiCalls.stateWrites}`,
      );
      for (const [name, table] of ots.tables) {
        // Rows by kind: the part of the key after the instance (c cursor, w watched, f failing, h claimed, o owed, ...).
        const kinds = new Map<string, { rows: number; bytes: number }>();
        for (const row of table.allRows()) {
          const id = String(row.pk[0]?.value && 'v' in row.pk[0].value ? row.pk[0].value.v : '');
          const kind = id.split('|')[3] ?? '?';
          const k = kinds.get(kind) ?? { rows: 0, bytes: 0 };
          k.rows += 1;
          k.bytes += [...row.cols.values()].reduce((n, c) => n + ('v' in c.value ? String(c.value.v).length : 0), 0);
          kinds.set(kind, k);
        }
        console.log(
          `Table ${name} (TTL ${table.ttl} s, ${table.maxVersions} version): ${[...kinds].map(([k, v]) => `${k}: ${v.rows} rows, ${v.bytes} bytes`).join('; ')}`,
        );
      }
      console.log(
        `Capacity units: first run ${firstCu.read} read / ${firstCu.write} write; second run ${ots.consumed.read - firstCu.read} read / ${ots.consumed.write - firstCu.write} write`,
      );
    }
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
