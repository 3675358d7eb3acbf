/**
 * `npm run bench`: the deployed bundle against the local CR, Tablestore and webhook servers, each invocation in a
 * child process (as a Function Compute instance), beside the release that kept the state in one document (commit
 * 2549f4b, built from git) where it can run the same scenario. Every count comes from what the servers recorded:
 * the CR server's calls, the Tablestore server's requests with the rows and bytes each wrote, the webhook receivers'
 * attempts and messages. Prints one markdown table. Not part of the tests.
 *
 * BENCH_LATENCY_MS: simulated latency per CR and Tablestore call (default 20). BENCH_LEGACY=0 skips the earlier
 * release. BENCH_ONLY=steady,remembered,burst,backlog,slow,cold runs only those parts. BENCH_NODE_OPTIONS replaces the
 * NODE_OPTIONS of s.yaml (e.g. to cap the heap and see whether a peak is live data or collection left for later).
 * BENCH_FC_TIMEOUT (seconds) replaces s.yaml's timeout, for a machine too busy to run a burst within it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Secret } from '../src/lib/secret.js';
import type { Control } from '../src/model/state.js';
import { startCrSimulator, type CrSimulator, type SimInstance } from '../src/sim/cr-server.js';
import { generateTasks, rawTask } from '../src/sim/seed.js';
import { startTablestoreServer, type TablestoreServer } from '../src/sim/tablestore-server.js';
import { startWebhookReceivers, type WebhookReceivers } from '../src/sim/webhook-server.js';
import { keysFor, read, write } from '../src/state/rows.js';
import { createTablestoreTable } from '../src/state/tablestore.js';
import { SCALE, scaledRun, slowApi } from './slow.js';
import type { ChildResult, Mark, RunResult, StepAnswer, Tally, WorldOptions } from './world-types.js';

const root = resolve(import.meta.dirname, '..');
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 20);
const LEGACY_COMMIT = '2549f4b';
const WITH_LEGACY = process.env.BENCH_LEGACY !== '0';
const ONLY = process.env.BENCH_ONLY?.split(',');
const timings: string[] = [];
let partStarted = Date.now();
let partName = '';
const part = (name: string) => {
  if (partName) timings.push(`${partName} ${Math.round((Date.now() - partStarted) / 1000)} s`);
  partName = '';
  if (ONLY && !ONLY.includes(name)) return false;
  partName = name;
  partStarted = Date.now();
  return true;
};
const KEY = { accessKeyId: 'STS.bench-key-id', accessKeySecret: 'bench-key-secret', securityToken: 'bench-sts-token' };
const sYaml = parse(readFileSync(join(root, 's.yaml'), 'utf8')) as {
  resources: Record<string, { props: { timeout: number; environmentVariables: Record<string, string> } }>;
};
const fn = sYaml.resources['acr-sync-alert']!.props;
// The process options and timeout the deployed function runs with, so memory and time budgets are as there.
const NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? fn.environmentVariables.NODE_OPTIONS ?? '';
/** What the earlier release deployed with (its s.yaml): its document does not fit under this release's heap cap. */
/** glibc's malloc arenas, as s.yaml sets them (BENCH_MALLOC_ARENA_MAX replaces it). */
const MALLOC_ARENA_MAX =
  process.env.BENCH_MALLOC_ARENA_MAX ??
  (fn.environmentVariables as Record<string, string | undefined>).MALLOC_ARENA_MAX;
const LEGACY_NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? '--max-semi-space-size=1';
const FC_TIMEOUT = fn.timeout;
/** The function timeout a run gets: s.yaml's, or BENCH_FC_TIMEOUT on a machine too busy to finish a burst within it. */
const RUN_TIMEOUT = Number(process.env.BENCH_FC_TIMEOUT ?? FC_TIMEOUT);
const H = 3_600_000;
const MIN = 60_000;
const HZ = { regionId: 'cn-hangzhou', instanceId: 'cri-bench0' };
const TARGET = { instanceId: 'cri-target00', regionId: 'cn-shanghai' };
const STATE_KEY = 'bench';

type Code = 'rows' | 'document';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const kb = (bytes: number) =>
  bytes < 1024
    ? `${fmt(bytes)} B`
    : bytes < 1024 * 1024
      ? `${fmt(bytes / 1024, 1)} KiB`
      : `${fmt(bytes / 1024 / 1024, 2)} MiB`;
const ratio = (x: number, min: number) => (min === 0 ? (x === 0 ? '1.00' : '∞') : fmt(x / min, 2));
const children = { cpuMs: 0, processes: 0 };

/** The earlier release's bundle, built from git into a temporary directory (its source is not otherwise at hand). */
function buildLegacy(): string | undefined {
  const dir = join(tmpdir(), `acr-sync-alert-${LEGACY_COMMIT}`);
  const bundle = join(dir, 'dist/index.js');
  if (existsSync(bundle)) return bundle;
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${LEGACY_COMMIT} | tar -x -C ${JSON.stringify(dir)}`], {
      cwd: root,
      stdio: 'ignore',
    });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return bundle;
  } catch {
    return undefined;
  }
}

/** New tasks, newer than any the instance has: kept newest first, as the CR server serves them without sorting. */
const add = (inst: SimInstance, tasks: SimInstance['tasks']) => {
  inst.tasks = [...tasks, ...inst.tasks];
};

/** A failed, pending or finished sync of its own image on the bench instance. */
const task = (id: string, status: string, createTime: number, issue?: string) =>
  rawTask({
    id,
    status,
    issue,
    createTime,
    ruleId: 'crsr-g1',
    from: { ...HZ, namespace: 'bench', repo: `r-${id}`, tag: 'v1' },
    to: TARGET,
  });

async function world(code: Code, bundle: string, instances: SimInstance[], o: WorldOptions = {}) {
  const cr: CrSimulator = await startCrSimulator({ ...KEY, instances, latencyMs: LATENCY });
  const ots: TablestoreServer = await startTablestoreServer({
    ...KEY,
    instance: 'bench',
    latencyMs: o.otsLatencyMs ?? LATENCY,
  });
  const hooks: WebhookReceivers = await startWebhookReceivers({
    dingtalkToken: 'bench-token',
    dingtalkSecret: 'SECbench',
    slackPath: '/services/T/B/bench',
  });
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_OPTIONS: code === 'document' ? LEGACY_NODE_OPTIONS : NODE_OPTIONS,
    NO_PROXY: '127.0.0.1,localhost',
    ALERT_LANG: 'en',
    ...(MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX } : {}),
    ACR_INSTANCES: instances.map((i) => `${i.regionId}:${i.instanceId}`).join(','),
    ACR_ENDPOINT: cr.endpointTemplate,
    TABLESTORE_ENDPOINT: ots.endpoint,
    TABLESTORE_INSTANCE: ots.instance,
    STATE_KEY,
    DINGTALK_WEBHOOK: hooks.dingtalkUrl,
    DINGTALK_SECRET: 'SECbench',
    SLACK_WEBHOOK: hooks.slackUrl,
    STATE_FILE: join(mkdtempSync(join(tmpdir(), 'bench-')), 'unused.json'),
    ...o.env,
  };
  /**
   * `runs` invocations in one fresh process: one Function Compute instance, cold for the first. With `step`, the
   * process waits after each run for what `step` answers (stop, or the next run's clock offset and timeout).
   */
  const run = (runs = 1, timeout = RUN_TIMEOUT, step?: (i: number, r: RunResult) => Promise<StepAnswer>) =>
    new Promise<ChildResult>((ok, fail) => {
      const c = spawn(process.execPath, [join(root, 'bench/child.cjs')], {
        env: {
          ...env,
          BENCH_RUNS: String(runs),
          BENCH_TIMEOUT: String(timeout),
          BENCH_BUNDLE: bundle,
          BENCH_REQUEST_ID: randomUUID(),
          BENCH_CREDENTIALS: JSON.stringify(KEY),
          ...(o.clockOffsetMs ? { BENCH_CLOCK_OFFSET_MS: String(o.clockOffsetMs()) } : {}),
          ...(step ? { BENCH_STEPPED: '1' } : {}),
        },
        stdio: step ? ['ignore', 'pipe', 'ignore', 'ipc'] : ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      let stepError: unknown;
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.on('message', (m: { run: number; result: RunResult }) => {
        step!(m.run, m.result).then(
          (a) => c.send(a),
          (err: unknown) => {
            stepError = err;
            c.send({ stop: true });
          },
        );
      });
      c.on('close', () => {
        const line = out.split('\n').find((l) => l.startsWith('{"runs"') || l.startsWith('{"error"'));
        const r = line ? (JSON.parse(line) as ChildResult & { error?: string }) : undefined;
        if (stepError) return fail(stepError instanceof Error ? stepError : new Error(String(stepError)));
        if (!r || r.error) return fail(new Error(`bench run failed (${code}): ${r?.error ?? out.slice(-500)}`));
        children.cpuMs += r.processCpuMs;
        children.processes += 1;
        ok(r);
      });
    });
  const mark = (): Mark => ({
    cr: cr.calls.length,
    ots: ots.calls.length,
    attempts: hooks.attempts.length,
    received: hooks.received.length,
    at: Date.now(),
  });
  const since = (m: Mark): Tally => {
    const tasks = cr.calls.slice(m.cr).filter((c) => c.action === 'ListRepoSyncTask');
    const calls = ots.calls.slice(m.ots);
    const actions: Record<string, number> = {};
    for (const c of calls) actions[c.action] = (actions[c.action] ?? 0) + 1;
    const by = <T>(f: (ch: 'dingtalk' | 'slack') => T) => ({ dingtalk: f('dingtalk'), slack: f('slack') });
    const attempts = hooks.attempts.slice(m.attempts);
    const received = hooks.received.slice(m.received);
    return {
      crCalls: cr.calls.length - m.cr,
      pages: tasks.filter((c) => !c.params.SyncRecordId && !c.params.RepoName).length,
      rechecks: tasks.filter((c) => c.params.SyncRecordId || c.params.RepoName).length,
      otsCalls: calls.length,
      actions,
      refused: calls.filter((c) => c.status !== 200).map((c) => `${c.action} ${c.code ?? c.status}`),
      rowsWritten: calls.reduce((n, c) => n + c.rowsWritten, 0),
      bytesWritten: calls.reduce((n, c) => n + c.bytesWritten, 0),
      rowsRead: calls.reduce((n, c) => n + c.rowsRead, 0),
      posts: by((ch) => attempts.filter((a) => a.channel === ch).length),
      accepted: by((ch) => attempts.filter((a) => a.channel === ch && a.answered === 200).length),
      announced: by((ch) =>
        received
          .filter((r) => r.channel === ch)
          .reduce(
            (n, r) =>
              n +
              Number((/ACR: [^"]*?([\d,]+) syncs? failed/.exec(JSON.stringify(r.body))?.[1] ?? '0').replace(/,/g, '')),
            0,
          ),
      ),
    };
  };
  /** What the table holds, by kind of row (the last part of the key before an item's id), as the server stored it. */
  const stored = (sinceMs = 0) => {
    const out: Record<string, { rows: number; bytes: number; largest: number }> = {};
    for (const t of ots.tables.values()) {
      for (const row of t.allRows()) {
        const cells = [...row.cols.values()];
        if (!cells.some((c) => c.timestamp >= sinceMs)) continue;
        const key = String(row.pk[0]?.value && 'v' in row.pk[0].value ? row.pk[0].value.v : '');
        const kind = /\|~\|o\|/.test(key)
          ? 'owed'
          : (/\|[cwfh](\||$)/.exec(key)?.[0].replaceAll('|', '') ??
            /\|~\|(ctl|meta|d|s)/.exec(key)?.[1] ??
            (key === STATE_KEY ? 'document' : 'other'));
        const bytes =
          Buffer.byteLength(key) +
          cells.reduce(
            (n, c) =>
              n +
              ('v' in c.value
                ? Buffer.isBuffer(c.value.v)
                  ? c.value.v.length
                  : typeof c.value.v === 'string'
                    ? Buffer.byteLength(c.value.v)
                    : 8
                : 0),
            0,
          );
        const k = (out[kind] ??= { rows: 0, bytes: 0, largest: 0 });
        k.rows += 1;
        k.bytes += bytes;
        k.largest = Math.max(k.largest, bytes);
      }
    }
    return out;
  };
  const table = () =>
    createTablestoreTable({
      endpoint: ots.endpoint,
      instance: ots.instance,
      table: 'acr_sync_alert',
      credentials: {
        accessKeyId: new Secret(KEY.accessKeyId),
        accessKeySecret: new Secret(KEY.accessKeySecret),
        securityToken: new Secret(KEY.securityToken),
      },
    });
  /** Makes an instance's slow re-checks due now, as the 15 minutes between them passing would (each sync's own time). */
  const letQuarterHourPass = async (instance: string) => {
    const k = keysFor(STATE_KEY);
    const t = table();
    const [from, to] = k.watchRange(instance);
    for (let start: string | undefined = from; start !== undefined;) {
      const page = await t.rangePage(start, to, 5_000, 200);
      const back = page.rows.map((r) => ({ ...read.watch(r.key, r.cols), checkedAt: Date.now() - 16 * MIN }));
      if (back.length > 0)
        await t.writeRows(
          back.map((x) => write.watch(k, instance, x)),
          5_000,
        );
      start = page.next;
    }
  };
  /** Changes the control row in place (the bench's stand-in for time passing), through the store's own row code. */
  const editControl = async (edit: (c: Control) => Control) => {
    const k = keysFor(STATE_KEY);
    const t = table();
    const c = read.control(k.control, (await t.getRows([k.control], 5_000)).get(k.control));
    await t.writeRows([write.control(k, edit(c.value), c.version)], 5_000);
  };
  /** Makes a target owed for a day already, as a webhook dead since yesterday would be. */
  const letADayPass = (target: string) =>
    editControl((c) => ({
      ...c,
      owed: { ...c.owed, [target]: { ...c.owed[target]!, since: Date.now() - 24 * 60 * MIN } },
    }));
  /** Ends a target's pause, as the hour passing would. */
  const expirePause = (target: string) =>
    editControl((c) => {
      const { [target]: _ended, ...pauses } = c.pauses;
      return { ...c, pauses };
    });
  const close = async () => {
    await hooks.close();
    await ots.close();
    await cr.close();
  };
  return { code, cr, ots, hooks, run, mark, since, stored, letQuarterHourPass, letADayPass, expirePause, close };
}

const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const notes: string[] = [];

/** Steady runs with nothing new on a 300-tasks-an-hour instance, with `open` syncs open for 24 h. */
async function steady(code: Code, bundle: string, open: number) {
  const now = Date.now();
  const history = generateTasks({ ...HZ, count: 300 * 26, newest: now - MIN, spacingMs: 12_000, status: 'SUCCESS' });
  const syncs = Array.from({ length: open }, (_, i) =>
    task(`rst-open${String(i).padStart(4, '0')}`, 'SYNCHRONIZING', now - 24 * H - i * 1_000),
  );
  // The first run looks back far enough to see the open syncs, in both releases.
  const w = await world(
    code,
    bundle,
    [
      {
        ...HZ,
        tasks: [...history, ...syncs].sort(
          (a, b) => Number(b.CreateTime) - Number(a.CreateTime) || b.SyncTaskId.localeCompare(a.SyncTaskId),
        ),
        rules: [],
      },
    ],
    { env: { LOOKBACK_MINUTES: '1500' } },
  );
  // The first run's 150 pages are not what is measured: served without latency.
  w.cr.options.latencyMs = 0;
  await w.run();
  w.cr.options.latencyMs = LATENCY;
  const quietRuns = open === 0 ? 6 : code === 'rows' ? 3 : 1;
  const m = w.mark();
  const warm = await w.run(quietRuns);
  const quiet = w.since(m);
  let due: Tally | undefined;
  if (code === 'rows' && open > 0) {
    await w.letQuarterHourPass(`${HZ.regionId}:${HZ.instanceId}`);
    const m2 = w.mark();
    await w.run();
    due = w.since(m2);
  }
  await w.close();
  return { quiet, quietRuns, due, warm };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts'], {
    cwd: root,
    stdio: 'ignore',
  });
  const bundle = join(root, 'dist/index.js');
  const legacy = WITH_LEGACY ? buildLegacy() : undefined;
  if (WITH_LEGACY && !legacy)
    notes.push(
      `the earlier release (${LEGACY_COMMIT}) could not be built here; its column shows the issue's measurements`,
    );
  const issue = (s: string) => `${s} (issue's measurement)`;

  if (part('steady')) {
    // A 15-minute cycle at the 5-minute schedule: two runs without re-checks due, one with.
    for (const open of [0, 1, 10, 100]) {
      const now = await steady('rows', bundle, open);
      const old = legacy ? await steady('document', legacy, open) : undefined;
      const quiet = now.quiet.crCalls / now.quietRuns;
      const dueCalls = now.due?.crCalls ?? quiet;
      const perRun = (2 * quiet + dueCalls) / 3;
      const minimum = 1 + open / 3;
      const oldPerRun = old ? old.quiet.crCalls / old.quietRuns : undefined;
      const label = `Steady, nothing new, ${open} sync${open === 1 ? '' : 's'} open for 24 h (300 tasks/h)`;
      row(
        label,
        'CR calls per run (pages + re-checks), averaged over 15 min',
        fmt(perRun, 1),
        `${fmt(minimum, 1)} (1 page + ${open} re-checks / 3 runs)`,
        ratio(perRun, minimum),
        oldPerRun !== undefined
          ? `${fmt(oldPerRun, 1)} (${ratio(oldPerRun, minimum)})`
          : open > 0
            ? issue('~142 pages (47 h sync)')
            : '',
      );
      if (open > 0)
        row(
          '',
          'CR calls: run without / with re-checks due',
          `${fmt(quiet, 1)} / ${fmt(dueCalls)}`,
          `1 / ${1 + open}`,
          `${ratio(quiet, 1)} / ${ratio(dueCalls, 1 + open)}`,
          '',
        );
      row(
        '',
        'Tablestore requests / rows written per run',
        `${fmt(now.quiet.otsCalls / now.quietRuns, 1)} (${Object.entries(now.quiet.actions)
          .map(([a, n]) => `${a} ${fmt(n / now.quietRuns, 1)}`)
          .join(', ')}) / ${fmt(now.quiet.rowsWritten / now.quietRuns, 1)}`,
        '≥ 1 / 0',
        '',
        old ? `${fmt(old.quiet.otsCalls / old.quietRuns, 1)} / ${fmt(old.quiet.rowsWritten / old.quietRuns, 1)}` : '',
      );
      if (open === 0) {
        const warm = now.warm.runs.slice(1);
        const cpu = median(warm.map((r) => r.cpuMs));
        row(
          '',
          'CPU per run, warm instance (median of 5)',
          `${fmt(cpu, 1)} ms`,
          'target < 50 ms',
          cpu < 50 ? 'met' : 'missed',
          old ? `${fmt(median(old.warm.runs.slice(1).map((r) => r.cpuMs)), 1)} ms` : '',
        );
        row(
          '',
          'CPU of the first run in a fresh instance / peak RSS',
          `${fmt(now.warm.runs[0]!.cpuMs)} ms / ${fmt(now.warm.maxRssMB)} MB`,
          '',
          '',
          old ? `${fmt(old.warm.runs[0]!.cpuMs)} ms / ${fmt(old.warm.maxRssMB)} MB` : '',
        );
      }
    }
  }

  if (part('remembered')) {
    // 10,000 failing images remembered, seeded by a real run over a burst of failures; then a run with only
    // successful tasks new, and a run with one new failure.
    const remembered = async (code: Code, b: string) => {
      const now = Date.now();
      const inst: SimInstance = {
        ...HZ,
        tasks: generateTasks({ ...HZ, count: 600, newest: now - 30 * MIN, spacingMs: 12_000, status: 'SUCCESS' }),
        rules: [],
      };
      const w = await world(code, b, [inst], { env: { ACR_PAGE_SIZE: '100' } });
      await w.run();
      // The burst ends 10 minutes before the measured runs, past the 5-minute overlap a run reads again.
      add(
        inst,
        generateTasks({
          ...HZ,
          count: 10_000,
          newest: Date.now() - 10 * MIN,
          spacingMs: 100,
          failEvery: 1,
          prefix: 'f',
        }),
      );
      let m = w.mark();
      const seed = await w.run();
      const seeded = w.since(m);
      add(
        inst,
        generateTasks({ ...HZ, count: 25, newest: Date.now() - 1_000, spacingMs: 10, status: 'SUCCESS', prefix: 's' }),
      );
      m = w.mark();
      await w.run();
      const success = w.since(m);
      add(inst, [task('rst-one-new', 'ERROR', Date.now() - 500, 'NETWORK_ERROR')]);
      m = w.mark();
      const one = await w.run();
      const failure = { ...w.since(m), kinds: w.stored(m.at), error: one.runs[0]!.error };
      // A busy 5 minutes: more settled tasks in the overlap than the cursor keeps by id.
      add(
        inst,
        generateTasks({
          ...HZ,
          count: 1_500,
          newest: Date.now() - 200,
          spacingMs: 1,
          status: 'SUCCESS',
          prefix: 'busy',
        }),
      );
      add(inst, [task('rst-busy-new', 'ERROR', Date.now() - 100, 'NETWORK_ERROR')]);
      m = w.mark();
      await w.run();
      const busy = { ...w.since(m), kinds: w.stored(m.at) };
      await w.close();
      return { seed, seeded, success, failure, busy };
    };
    const now = await remembered('rows', bundle);
    const old = legacy ? await remembered('document', legacy) : undefined;
    row(
      '10,000 failing images remembered (seeded by one run over 10,000 new failures)',
      'seeding run: pages / Tablestore rows, bytes written',
      `${fmt(now.seeded.pages)} / ${fmt(now.seeded.rowsWritten)} rows, ${kb(now.seeded.bytesWritten)}`,
      '101 pages',
      ratio(now.seeded.pages, 101),
      old ? `${fmt(old.seeded.pages)} / ${fmt(old.seeded.rowsWritten)} rows, ${kb(old.seeded.bytesWritten)}` : '',
    );
    row(
      '',
      'seeding run: messages / CPU / peak RSS',
      `${now.seeded.posts.dingtalk + now.seeded.posts.slack} / ${fmt(now.seed.runs[0]!.cpuMs)} ms / ${fmt(now.seed.maxRssMB)} MB`,
      '2 / – / 128 MB',
      now.seed.maxRssMB <= 128 ? 'met' : 'missed',
      old
        ? `${old.seeded.posts.dingtalk + old.seeded.posts.slack} / ${fmt(old.seed.runs[0]!.cpuMs)} ms / ${fmt(old.seed.maxRssMB)} MB`
        : '',
    );
    row(
      '',
      'run with only SUCCESS tasks new: rows / bytes written',
      `${fmt(now.success.rowsWritten)} / ${kb(now.success.bytesWritten)}`,
      '1 (the cursor row)',
      ratio(now.success.rowsWritten, 1),
      old ? `${fmt(old.success.rowsWritten)} / ${kb(old.success.bytesWritten)}` : issue('whole document, twice'),
    );
    row(
      '',
      'run with one new failure: rows / bytes written',
      `${fmt(now.failure.rowsWritten)} / ${kb(now.failure.bytesWritten)}`,
      'goal ≤ 16 KiB',
      now.failure.bytesWritten <= 16 * 1024 ? 'met' : 'missed',
      old ? `${fmt(old.failure.rowsWritten)} / ${kb(old.failure.bytesWritten)}` : issue('~378 KB, twice'),
    );
    const kinds = (k: Record<string, { rows: number; bytes: number }>) =>
      Object.entries(k)
        .map(([n, v]) => `${n} ${v.rows}: ${kb(v.bytes)}`)
        .join(', ');
    row(
      '',
      'rows that run wrote, by kind (bytes as stored)',
      kinds(now.failure.kinds),
      '',
      '',
      old ? kinds(old.failure.kinds) : '',
    );
    row(
      '',
      'one new failure after a busy 5 minutes (1,500 tasks in the overlap): rows / bytes written',
      `${fmt(now.busy.rowsWritten)} / ${kb(now.busy.bytesWritten)}`,
      'goal ≤ 16 KiB',
      now.busy.bytesWritten <= 16 * 1024 ? 'met' : 'missed',
      old ? `${fmt(old.busy.rowsWritten)} / ${kb(old.busy.bytesWritten)}` : '',
    );
    row('', 'rows that run wrote, by kind (bytes as stored)', kinds(now.busy.kinds), '', '', '');
  }

  if (part('burst')) {
    // 100,000 new failures over 5 instances while the Slack webhook is down; it comes back three runs later.
    const INST = 5;
    const PER = 20_000;
    const OTS_MS = Math.min(LATENCY, 5);
    /** 5 minutes of a 300-tasks-an-hour instance's ordinary traffic, on every instance. */
    const traffic = (instances: SimInstance[], tag: string) =>
      instances.forEach((inst) =>
        add(
          inst,
          generateTasks({
            instanceId: inst.instanceId,
            regionId: inst.regionId,
            count: 25,
            newest: Date.now() - 1_000,
            spacingMs: 10,
            status: 'SUCCESS',
            prefix: tag,
          }),
        ),
      );
    const burst = async (code: Code, b: string, full: boolean) => {
      const now = Date.now();
      const instances: SimInstance[] = Array.from({ length: INST }, (_, i) => ({
        regionId: 'cn-hangzhou',
        instanceId: `cri-burst${i}`,
        rules: [],
        tasks: generateTasks({
          instanceId: `cri-burst${i}`,
          regionId: 'cn-hangzhou',
          count: 100,
          newest: now - 30 * MIN,
          spacingMs: 12_000,
          status: 'SUCCESS',
        }),
      }));
      const w = await world(code, b, instances, { otsLatencyMs: OTS_MS, env: { ACR_PAGE_SIZE: '100' } });
      await w.run();
      // It ended 6 minutes ago: the ordinary traffic since lies beyond the 5-minute overlap the next runs read again.
      instances.forEach((inst, i) =>
        add(
          inst,
          generateTasks({
            instanceId: inst.instanceId,
            regionId: inst.regionId,
            count: PER,
            newest: Date.now() - 6 * MIN,
            spacingMs: 50,
            failEvery: 1,
            prefix: `b${i}`,
          }),
        ),
      );
      w.hooks.fault('slack', { kind: 'down', times: 1_000_000 });
      const steps: { label: string; min: number; t: Tally; c: ChildResult }[] = [];
      const step = async (label: string, min: number) => {
        const m = w.mark();
        const c = await w.run();
        steps.push({ label, min, t: w.since(m), c });
        return c;
      };
      const first = await step('the burst', INST * (PER / 100 + 1));
      if (first.runs[0]!.error) console.error(`the burst run failed: ${first.runs[0]!.error}`);
      if (first.runs[0]!.error || !full) {
        await w.close();
        return { steps, error: first.runs[0]!.error, w: undefined };
      }
      await step('Slack down, no task since the burst', INST);
      traffic(instances, 't1');
      await step('Slack down, 5 min of ordinary traffic', INST);
      // A day later: the next failing try backs off for an hour, and the runs in that hour leave Slack's rows unread.
      await w.letADayPass('slack');
      await step('Slack down for a day: the try that backs off', INST);
      await step('Slack down for a day: a run while it waits', INST);
      w.hooks.heal('slack');
      await w.expirePause('slack');
      traffic(instances, 't2');
      await step('Slack back', INST);
      return { steps, error: undefined, w };
    };
    const now = await burst('rows', bundle, true);
    const old = legacy ? await burst('document', legacy, false) : undefined;
    const label = `Burst: ${fmt(INST * PER)} new failures on ${INST} instances (page size 100, ${OTS_MS} ms per Tablestore call), Slack down for a day`;
    const all = now.steps.map((s) => s.t);
    const refused = all.flatMap((t) => t.refused);
    const oldCell = (s: string) =>
      old?.error ? `refused: ${old.steps[0]!.t.refused[0] ?? old.error.slice(0, 80)}` : s;
    row(
      label,
      'Tablestore requests refused (the server enforces the service limits)',
      refused.length === 0 ? '0' : refused.slice(0, 3).join(', '),
      '0',
      refused.length === 0 ? 'met' : 'missed',
      old ? oldCell('0') : issue('OTSParameterInvalid past 2 MB'),
    );
    const dt = all.reduce((n, t) => n + t.announced.dingtalk, 0);
    const sl = all.reduce((n, t) => n + t.announced.slack, 0);
    row(
      '',
      'failures delivered: DingTalk / Slack (counted in the messages)',
      `${fmt(dt)} / ${fmt(sl)}`,
      `${fmt(INST * PER)} / ${fmt(INST * PER)}`,
      `${ratio(dt, INST * PER)} / ${ratio(sl, INST * PER)}`,
      old ? oldCell('') : '',
    );
    for (const s of now.steps) {
      row(
        '',
        `${s.label}: CR pages; posts DingTalk, Slack (accepted of tried)`,
        `${fmt(s.t.pages)}; ${s.t.accepted.dingtalk} of ${s.t.posts.dingtalk}, ${s.t.accepted.slack} of ${s.t.posts.slack}`,
        `${fmt(s.min)} pages`,
        ratio(s.t.pages, s.min),
        s.label === 'the burst' && old ? `${fmt(old.steps[0]!.t.pages)} pages` : '',
      );
      row(
        '',
        `${s.label}: Tablestore requests; rows read; rows, bytes written`,
        `${fmt(s.t.otsCalls)}; ${fmt(s.t.rowsRead)}; ${fmt(s.t.rowsWritten)}, ${kb(s.t.bytesWritten)}`,
        '',
        '',
        s.label === 'the burst' && old
          ? `${fmt(old.steps[0]!.t.otsCalls)}; ${fmt(old.steps[0]!.t.rowsRead)}; ${fmt(old.steps[0]!.t.rowsWritten)}, ${kb(old.steps[0]!.t.bytesWritten)}`
          : '',
      );
      row(
        '',
        `${s.label}: wall / CPU / peak RSS (heap, outside it)`,
        `${fmt(s.c.runs[0]!.wallMs)} ms / ${fmt(s.c.runs[0]!.cpuMs)} ms / ${fmt(s.c.maxRssMB)} MB (${s.c.heapMB}, ${s.c.externalMB})`,
        '128 MB',
        s.c.maxRssMB <= 128 ? 'met' : 'missed',
        s.label === 'the burst' && old
          ? `${fmt(old.steps[0]!.c.runs[0]!.wallMs)} ms / ${fmt(old.steps[0]!.c.runs[0]!.cpuMs)} ms / ${fmt(old.steps[0]!.c.maxRssMB)} MB`
          : '',
      );
    }
    if (now.w) {
      const left = now.w.stored().owed?.rows ?? 0;
      row(
        '',
        'owed rows left after Slack is back (one per alert and target)',
        fmt(left),
        '0',
        left === 0 ? 'met' : 'missed',
        '',
      );
      // One new failure after 100,000 remembered failing images.
      const inst = now.w.cr.instances[0]!;
      traffic(now.w.cr.instances, 't3');
      let m = now.w.mark();
      await now.w.run();
      const success = now.w.since(m);
      add(inst, [
        rawTask({
          id: 'rst-one-more',
          status: 'ERROR',
          issue: 'NETWORK_ERROR',
          createTime: Date.now() - 500,
          ruleId: 'crsr-g1',
          from: {
            instanceId: inst.instanceId,
            regionId: inst.regionId,
            namespace: 'bench',
            repo: 'one-more',
            tag: 'v1',
          },
          to: TARGET,
        }),
      ]);
      m = now.w.mark();
      await now.w.run();
      const failure = now.w.since(m);
      const kinds = now.w.stored(m.at);
      row(
        '100,000 failing images remembered (after the burst)',
        'run with only SUCCESS tasks new: rows / bytes written',
        `${fmt(success.rowsWritten)} / ${kb(success.bytesWritten)}`,
        `${INST} (the cursor rows)`,
        ratio(success.rowsWritten, INST),
        old ? oldCell('') : issue('whole document, twice'),
      );
      row(
        '',
        'run with one new failure: rows / bytes written',
        `${fmt(failure.rowsWritten)} / ${kb(failure.bytesWritten)}`,
        'goal ≤ 16 KiB',
        failure.bytesWritten <= 16 * 1024 ? 'met' : 'missed',
        old ? oldCell('') : issue('refused (over 2 MB)'),
      );
      row(
        '',
        'rows that run wrote, by kind (bytes as stored)',
        Object.entries(kinds)
          .map(([k, v]) => `${k} ${v.rows}: ${kb(v.bytes)}`)
          .join(', '),
        '',
        '',
        '',
      );
      await now.w.close();
    }
  }

  if (part('backlog')) {
    // 100,000 tasks behind an API answering in 2 s, time scaled down 100 times: 20 ms a call, and a function timeout
    // that leaves a hundredth of a deployed run's reading time. A deployed run (120 s) reads until 1 s is left of
    // the 95.2 s not reserved for delivery: 94.2 s, 47 calls. A short run keeps half its time in reserve (see
    // Budget.forTimeout) and also stops reading 1 s before the reserve, so the timeout is 2 × (0.942 s + 1 s) + 1 s.
    const { readMs, timeout } = scaledRun(FC_TIMEOUT);
    /** 100,000 new tasks `spacingMs` apart (one in 50 failing) after a run that read the history before them. */
    const backlog = async (code: Code, b: string, spacingMs: number, maxRuns: number) => {
      const now = Date.now();
      const inst: SimInstance = {
        ...HZ,
        tasks: generateTasks({
          ...HZ,
          count: 100,
          newest: now - 100_000 * spacingMs - 10 * MIN,
          spacingMs: 12_000,
          status: 'SUCCESS',
        }),
        rules: [],
      };
      const w = await world(code, b, [inst], { otsLatencyMs: 0 });
      await w.run();
      add(
        inst,
        generateTasks({ ...HZ, count: 100_000, newest: Date.now() - 1_000, spacingMs, failEvery: 50, prefix: 'k' }),
      );
      const m = w.mark();
      const c = await w.run(maxRuns, timeout);
      const t = w.since(m);
      await w.close();
      const runs = c.runs.map((r) => ({
        found: r.summary?.failuresFound ?? 0,
        complete: r.summary?.instances.every((i) => i.complete) ?? false,
        behind: r.summary?.instances[0]?.behindMinutes,
        pages: r.summary?.instances[0]?.pages ?? 0,
      }));
      const caughtUp = runs.findIndex((r) => r.complete) + 1;
      const found = runs.reduce((n, r) => n + r.found, 0);
      const upTo = caughtUp > 0 ? runs.slice(0, caughtUp) : runs;
      const progressing = upTo.every(
        (r, i) => r.found > 0 && (i === 0 || (r.behind ?? 0) <= (upTo[i - 1]!.behind ?? Infinity)),
      );
      return { runs, caughtUp, found, progressing, pages: t.pages, perRun: median(upTo.map((r) => r.pages)) };
    };
    const minRuns = Math.ceil((100_000 / 50 + 1) / Math.floor(readMs / 2000));
    const cell = (x: Awaited<ReturnType<typeof backlog>>) =>
      x.caughtUp > 0 ? `${x.caughtUp} runs` : `not caught up after ${x.runs.length} runs`;
    for (const [spacingMs, label, maxRuns, oldRuns] of [
      [864, 'over 24 h (1.2 a second)', 120, 10],
      [100, 'over 2.8 h (10 a second)', 120, 5],
    ] as const) {
      const now = await backlog('rows', bundle, spacingMs, maxRuns);
      const old = legacy ? await backlog('document', legacy, spacingMs, oldRuns) : undefined;
      row(
        `Backlog: 100,000 new tasks ${label}, 2,000 failing; 2 s per CR call, scaled 1:${SCALE} (20 ms a call, ${fmt(timeout, 3)} s timeout)`,
        'runs to catch up (5-minute ticks)',
        cell(now),
        `${minRuns} (2,001 pages at ${Math.floor(readMs / 2000)} a run)`,
        now.caughtUp > 0 ? ratio(now.caughtUp, minRuns) : '–',
        old ? cell(old) : '',
      );
      row(
        '',
        'pages a run (median); every run announced something, backlog only shrinking',
        `${now.perRun}; ${now.progressing ? 'yes' : 'no'}`,
        `${Math.floor(readMs / 2000)}; yes`,
        now.progressing ? 'met' : 'missed',
        old ? `${old.perRun}; ${old.progressing ? 'yes' : 'no'}` : '',
      );
      row(
        '',
        'failures announced / pages read in all',
        `${fmt(now.found)} / ${fmt(now.pages)}`,
        '2,000 / 2,001',
        `${ratio(now.found, 2000)} / ${ratio(now.pages, 2001)}`,
        old ? `${fmt(old.found)} / ${fmt(old.pages)} in ${old.runs.length} runs` : '',
      );
    }
  }

  if (part('slow')) {
    // Re-checks and reach at 2 s per CR call, scaled as the backlog is, on a clock moved 5 minutes a run (slow.ts).
    await slowApi({
      world: (instances, o) => world('rows', bundle, instances, o),
      row,
      fcTimeoutSec: FC_TIMEOUT,
      fmt,
      ratio,
    });
  }

  if (part('cold')) {
    // ACR's built-in notifier: one message per sync event; a DingTalk robot takes 20 a minute and then blocks for 10.
    const perEvent = dingtalkPerEvent(10_000, 10 * 60_000);
    row(
      'One message per event (ACR built-in notifier), 10,000 failures over 10 min',
      'messages sent',
      fmt(10_000),
      'this function: 1 per channel',
      '',
      '',
    );
    row(
      '',
      'DingTalk: delivered / dropped by 20 per minute + 10-min block',
      `${fmt(perEvent.delivered)} / ${fmt(perEvent.dropped)}`,
      'this function: all counted in 1 message',
      '',
      '',
    );
    const size = (p: string) => statSync(p).size / 1024;
    const bundled = await importMs(bundle);
    const oldImport = legacy ? await importMs(legacy) : undefined;
    row('Cold start', 'bundle size', `${fmt(size(bundle))} KiB`, '', '', legacy ? `${fmt(size(legacy))} KiB` : '');
    row(
      '',
      'import time (median of 7 fresh processes)',
      `${fmt(bundled)} ms`,
      'target < 150 ms',
      bundled < 150 ? 'met' : 'missed',
      oldImport !== undefined ? `${fmt(oldImport)} ms` : '',
    );
  }

  part('');
  const header = [
    'scenario',
    'measure',
    'this release (rows)',
    'minimum / target',
    'ratio / met',
    `single document (${LEGACY_COMMIT}; ratio)`,
  ];
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  const cpu = process.cpuUsage();
  console.log(
    `acr-sync-alert benchmark: ${LATENCY} ms per call, FC timeout ${FC_TIMEOUT} s, NODE_OPTIONS="${NODE_OPTIONS}" (earlier release: "${LEGACY_NODE_OPTIONS}"), Node ${process.version}\n`,
  );
  console.log(lines.join('\n'));
  for (const n of notes) console.log(`\nNote: ${n}`);
  console.log(
    `\n(took ${fmt((Date.now() - t0) / 1000, 1)} s wall; CPU: ${fmt(children.cpuMs / 1000, 1)} s in ${children.processes} function processes, ${fmt((cpu.user + cpu.system) / 1e6, 1)} s in the bench process with the local servers; ${timings.join(', ')})`,
  );
}

function dingtalkPerEvent(events: number, spreadMs: number): { delivered: number; dropped: number } {
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

async function importMs(bundle: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
      ],
      { cwd: root },
    ).toString();
    times.push(Number(out.trim()));
  }
  return median(times);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
