/**
 * `npm run bench`: the deployed bundle against the local CR, Tablestore and webhook servers, each run in a fresh
 * process (as a Function Compute instance), with BENCH_LATENCY_MS of simulated network latency per CR and
 * Tablestore call (default 20). Prints one markdown table. Not part of the tests.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { startCrSimulator, type RawTask, type SimInstance } from '../src/sim/cr-server.js';
import { generateTasks } from '../src/sim/seed.js';
import { startTablestoreServer } from '../src/sim/tablestore-server.js';
import { startWebhookReceivers, type WebhookReceivers } from '../src/sim/webhook-server.js';

const root = resolve(import.meta.dirname, '..');
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 20);
const INSTANCES = 5;
const HISTORY = 20_000;
const BURST = 10_000;
const PAGE = 50;
const KEY = { accessKeyId: 'STS.bench-key-id', accessKeySecret: 'bench-key-secret', securityToken: 'bench-sts-token' };
const sYamlEnv = (parse(readFileSync(join(root, 's.yaml'), 'utf8')) as { resources: Record<string, { props: { environmentVariables: Record<string, string> } }> }).resources['acr-sync-alert']!.props.environmentVariables;
// The process options the deployed function runs with (s.yaml), so memory is measured as it would be there.
const NODE_OPTIONS = sYamlEnv.NODE_OPTIONS ?? '';

interface RunResult {
  summary: { outcome: string; failuresFound: number; notified: Record<string, number>; apiCalls: { cr: number; stateReads: number; stateWrites: number; webhookPosts: number }; instances: { pages: number }[] };
  wallMs: number;
  cpuMs: number;
}
interface ChildResult {
  runs: RunResult[];
  importMs: number;
  maxRssMB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Three routes for the routed burst: a team by namespace, network causes to their own robot, the rest by default. */
const routesFor = (hooks: WebhookReceivers) => [
  { name: 'team-a', match: { namespace: ['team0', 'team1', 'team2'] }, slack: { webhook: hooks.slackUrlFor('/services/T/B/team-a') }, lang: 'zh' },
  { name: 'network', match: { cause: 'NETWORK_ERROR' }, dingtalk: { webhook: hooks.dingtalkUrlFor('bench-network-token') }, timezone: 'Europe/Berlin' },
];

async function world(concurrency: number, routed = false) {
  const now = Date.now();
  const instances: SimInstance[] = Array.from({ length: INSTANCES }, (_, i) => {
    const instanceId = `cri-bench${i}`;
    return { regionId: 'cn-hangzhou', instanceId, rules: [], tasks: generateTasks({ instanceId, regionId: 'cn-hangzhou', count: HISTORY, newest: now - 30 * 60_000, spacingMs: 30_000, failEvery: 50 }) };
  });
  const cr = await startCrSimulator({ ...KEY, instances, latencyMs: LATENCY });
  const ots = await startTablestoreServer({ ...KEY, instance: 'bench', latencyMs: LATENCY });
  const hooks = await startWebhookReceivers({
    dingtalkToken: 'bench-token', dingtalkSecret: 'SECbench', slackPath: '/services/T/B/bench', moreRobots: [{ token: 'bench-network-token' }], moreSlackPaths: ['/services/T/B/team-a'],
  });
  const env = {
    PATH: process.env.PATH ?? '', NODE_OPTIONS, NO_PROXY: '127.0.0.1,localhost',
    ACR_INSTANCES: instances.map((i) => `${i.regionId}:${i.instanceId}`).join(','), ACR_ENDPOINT: cr.endpointTemplate, ACR_PAGE_SIZE: String(PAGE),
    FETCH_CONCURRENCY: String(concurrency), TABLESTORE_ENDPOINT: ots.endpoint, TABLESTORE_INSTANCE: ots.instance, STATE_KEY: 'bench',
    DINGTALK_WEBHOOK: hooks.dingtalkUrl, DINGTALK_SECRET: 'SECbench', SLACK_WEBHOOK: hooks.slackUrl, LOOKBACK_MINUTES: '10',
    CHECKPOINT_FILE: join(mkdtempSync(join(tmpdir(), 'bench-')), 'unused.json'),
    ...(routed ? { ROUTES: JSON.stringify(routesFor(hooks)) } : {}),
  };
  /** `runs` invocations in one fresh process: one Function Compute instance, cold for the first. */
  const run = (runs = 1) =>
    new Promise<ChildResult>((ok, fail) => {
      const c = spawn(process.execPath, [join(root, 'bench/child.cjs')], {
        env: { ...env, BENCH_RUNS: String(runs), BENCH_BUNDLE: join(root, 'dist/index.js'), BENCH_REQUEST_ID: randomUUID(), BENCH_CREDENTIALS: JSON.stringify({ ...KEY }) },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', () => {
        const line = out.split('\n').find((l) => l.startsWith('{"runs"') || l.startsWith('{"error"'));
        const r = line ? (JSON.parse(line) as ChildResult & { error?: string }) : undefined;
        if (!r || r.error) fail(new Error(`bench run failed: ${r?.error ?? out.slice(-500)}`));
        else ok(r);
      });
    });
  const counters = () => ({ cr: cr.calls.length, reads: ots.calls.filter((c) => c.action === 'GetRow').length, writes: ots.calls.filter((c) => /PutRow|UpdateRow/.test(c.action)).length, posts: hooks.attempts.length });
  const addBurst = () => {
    const t = Date.now();
    instances.forEach((inst, i) => {
      const fresh: RawTask[] = generateTasks({ instanceId: inst.instanceId, regionId: inst.regionId, count: BURST / INSTANCES, newest: t, spacingMs: 100, failEvery: 1, prefix: `b${i}` });
      inst.tasks.push(...fresh);
    });
  };
  const close = async () => {
    await hooks.close();
    await ots.close();
    await cr.close();
  };
  return { run, counters, addBurst, close, hooks };
}

function dingtalkPerEvent(events: number, spreadMs: number): { delivered: number; dropped: number } {
  // A robot takes 20 messages a minute; the 21st within a minute blocks it for 10 minutes (DingTalk robot docs).
  let delivered = 0;
  let windowStart = 0;
  let inWindow = 0;
  let blockedUntil = -1;
  for (let i = 0; i < events; i++) {
    const t = (spreadMs * i) / events;
    if (t < blockedUntil) continue;
    if (t - windowStart >= 60_000) {
      windowStart = t;
      inWindow = 0;
    }
    if (inWindow >= 20) {
      blockedUntil = t + 600_000;
      continue;
    }
    inWindow += 1;
    delivered += 1;
  }
  return { delivered, dropped: events - delivered };
}

async function importMs(code: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`], { cwd: root }).toString();
    times.push(Number(out.trim()));
  }
  return median(times);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts'], { cwd: root, stdio: 'ignore' });
  const rows: string[][] = [];
  const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

  // Steady state: after a first run, nothing changes.
  const steady = await world(2);
  await steady.run();
  const before = steady.counters();
  // Five ticks served by one warm instance, and five served by a fresh instance each.
  const warm = (await steady.run(6)).runs.slice(1);
  const cold: RunResult[] = [];
  let coldRss = 0;
  for (let i = 0; i < 5; i++) {
    const r = await steady.run();
    cold.push(r.runs[0]!);
    coldRss = Math.max(coldRss, r.maxRssMB);
  }
  const after = steady.counters();
  const runs = [...warm, ...cold];
  const per = (k: keyof typeof before) => (after[k] - before[k] - (k === 'cr' ? INSTANCES : k === 'reads' ? 1 : 0)) / runs.length;
  const minimum = { cr: INSTANCES, reads: 1, writes: 0, posts: 0 };
  row('Steady state', 'CR API calls per run', fmt(per('cr'), 1), `${minimum.cr} (one page per instance)`, fmt(per('cr') / minimum.cr, 2));
  row('', 'Tablestore reads / writes per run', `${fmt(per('reads'), 1)} / ${fmt(per('writes'), 1)}`, '1 / 0', fmt((per('reads') + per('writes')) / 1, 2));
  row('', 'webhook posts per run', fmt(per('posts'), 1), '0', per('posts') === 0 ? '1.00' : '∞');
  const warmCpu = median(warm.map((r) => r.cpuMs));
  row('', 'wall time per run, warm instance (median of 5)', `${fmt(median(warm.map((r) => r.wallMs)))} ms`, `${LATENCY} ms latency per call`, '');
  row('', 'CPU time per run, warm instance (median of 5)', `${fmt(warmCpu, 1)} ms`, 'target < 50 ms', warmCpu < 50 ? 'met' : 'missed');
  row('', 'CPU time of the first run in a fresh instance (median of 5)', `${fmt(median(cold.map((r) => r.cpuMs)))} ms`, '(after import; JIT warm-up)', '');
  row('', 'peak RSS, fresh instance', `${fmt(coldRss)} MB`, '', '');
  await steady.close();

  /** One run over a fresh burst after a first run saw the history: its result and the calls it made. */
  const burst = async (concurrency: number, routed: boolean) => {
    const w = await world(concurrency, routed);
    await w.run();
    w.addBurst();
    const c0 = w.counters();
    const child = await w.run();
    const c1 = w.counters();
    await w.close();
    return { r: { ...child.runs[0]!, maxRssMB: child.maxRssMB }, cr: c1.cr - c0.cr, posts: c1.posts - c0.posts };
  };
  const announced = (label: string, found: number) => row(label, 'failures announced', fmt(found), fmt(BURST), fmt(found / BURST, 2));
  const peak = (mb: number) => row('', 'peak RSS', `${fmt(mb)} MB`, 'target 128 MB', mb <= 128 ? 'met' : 'missed');

  // Burst: 10,000 new failures across the instances, read with one instance at a time and with all at once.
  for (const concurrency of [1, INSTANCES]) {
    const { r, cr, posts } = await burst(concurrency, false);
    const pagesMin = INSTANCES * (Math.ceil(BURST / INSTANCES / PAGE) + 1);
    const pages = r.summary.instances.reduce((n, i) => n + i.pages, 0);
    announced(`Burst, ${fmt(BURST)} new failures, ${concurrency === 1 ? 'instances one at a time' : `${concurrency} instances at once`}`, r.summary.failuresFound);
    row('', 'task pages read', fmt(pages), `${fmt(pagesMin)} (new / page size + 1 per instance)`, fmt(pages / pagesMin, 2));
    row('', 'CR calls (pages + rule lookups)', fmt(cr), '', '');
    row('', 'messages sent', `${posts} (1 DingTalk + 1 Slack)`, '2', fmt(posts / 2, 2));
    row('', 'wall time', `${fmt(r.wallMs)} ms`, '', '');
    row('', 'CPU time', `${fmt(r.cpuMs)} ms`, '', '');
    peak(r.maxRssMB);
  }

  // The same burst split by routes: each target gets one message with its share, in its own language and zone.
  {
    const { r, posts } = await burst(2, true);
    const targets = Object.entries(r.summary.notified).filter(([, n]) => n > 0);
    announced(`Burst, ${fmt(BURST)} new failures, 2 routes + default, 2 instances at once`, r.summary.failuresFound);
    row('', 'messages sent', `${posts} (${targets.map(([t, n]) => `${t} ${fmt(n)}`).join(', ')})`, `${targets.length} (one per target)`, fmt(posts / targets.length, 2));
    row('', 'CPU time', `${fmt(r.cpuMs)} ms`, '', '');
    peak(r.maxRssMB);
  }

  // ACR's built-in notifier: one message per sync event, here every failure of the burst over 10 minutes.
  const perEvent = dingtalkPerEvent(BURST, 10 * 60_000);
  row('One message per event (built-in notifier), same burst over 10 min', 'messages sent', fmt(BURST), 'this function: 2', '');
  row('', 'DingTalk: delivered / dropped by 20 per minute + 10-min block', `${fmt(perEvent.delivered)} / ${fmt(perEvent.dropped)}`, 'this function: all counted in 1 message', '');

  // Cold start.
  const bundleKiB = statSync(join(root, 'dist/index.js')).size / 1024;
  const bundled = await importMs(`require(${JSON.stringify(join(root, 'dist/index.js'))})`);
  const unbundled = await importMs("require('tablestore');require('@alicloud/pop-core');require('axios');require('valibot');require('p-retry')".replace("require('p-retry')", "0"));
  row('Cold start', 'bundle size', `${fmt(bundleKiB)} KiB`, '', '');
  row('', 'import time, bundle (median of 7 fresh processes)', `${fmt(bundled)} ms`, 'target < 150 ms', bundled < 150 ? 'met' : 'missed');
  row('', 'import time, SDKs unbundled (tablestore, pop-core, axios, valibot)', `${fmt(unbundled)} ms`, '', '');

  const header = ['scenario', 'measure', 'measured', 'minimum / target', 'ratio / met'];
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  console.log(`acr-sync-alert benchmark: ${INSTANCES} instances x ${fmt(HISTORY)} tasks, page size ${PAGE}, ${LATENCY} ms per call, NODE_OPTIONS="${NODE_OPTIONS}", Node ${process.version}\n`);
  console.log(lines.join('\n'));
  console.log(`\n(took ${fmt((Date.now() - t0) / 1000, 1)} s)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
