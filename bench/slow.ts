/**
 * The bench's "slow API" part (issue 25): 2 s per CR call, scaled 1:100 as the backlog part is (20 ms a call, and a
 * function timeout that leaves a scaled run a hundredth of the reading time a deployed 120 s run has), a run every 5
 * minutes, at most 40 runs (3 h 20 min; 24 for reach).
 *
 * - Re-checks: one instance (300 tasks an hour) with 100 watched syncs open 1–48 h; after the run that found them
 *   open, the oldest 50 fail and the newest 50 keep running. Then 1,000 open syncs that all fail (reading the list
 *   back is cheaper than 1,000 targeted calls). Counts the runs until every failure is announced.
 * - Reach: 80 busy instances with 5 new failures each. Counts the runs until every instance was read and every
 *   failure announced, and the ListRepoSyncRule calls.
 *
 * Time: a run's decisions read the clock (`Date.now()` through `systemClock`; the timer event's `triggerTime` is not
 * used for it), and the 15-minute re-checks of long-open syncs are due by it. The runs follow each other within
 * seconds of real time, so the clock is moved instead (bench/clock.cjs): after each run the function's process waits
 * over IPC (child.cjs, BENCH_STEPPED) while the bench moves its own `Date` 5 minutes on, adds the 5 minutes' tasks,
 * and sends the new offset, so the local servers' clock-skew checks, the sync tasks' times and the rows' cell times
 * agree with the function's clock. Nothing of the state is edited. The runs of a scenario share one warm process, as
 * the backlog part's do; its first run, without latency and at the deployed timeout, sets the scene.
 *
 * Every figure is counted at the servers: the CR server's calls (by instance and action), and the failures in the
 * messages the webhook receivers accepted: counted in their banners ("ACR: 30 syncs failed"), and by the task ids
 * they name (a message names at most 10 a group, fewer when trimmed to the platform's limits), an id named by two
 * messages being a failure announced twice. Costs the scale does not shrink (CPU, the local Tablestore server, the
 * client's per-call overhead) take a hundred times their share of a scaled run, so a run makes fewer calls than the
 * 47 (one at a time) or 94 (two instances at once) of a deployed one; the rows show the calls the runs made.
 */
import { rawRule, rawTask, generateTasks } from '../src/sim/seed.js';
import type { SimInstance } from '../src/sim/cr-server.js';
import type { WebhookReceivers } from '../src/sim/webhook-server.js';
import { shiftClock } from './clock.cjs';
import type { SlowWorld as World, StepAnswer, WorldOptions } from './world-types.js';

const MIN = 60_000;
const H = 60 * MIN;
/** 2 s a call in the service, a hundredth of it here. */
export const SCALE = 100;
const CALL_MS = 2_000;
const TARGET = { instanceId: 'cri-target00', regionId: 'cn-shanghai' };
/** FETCH_CONCURRENCY's default: instances read at once (one instance's calls go one after another). */
const CONCURRENCY = 2;

/**
 * The scaled run for a function timeout of `fcTimeoutSec`: a deployed run reads until 1 s is left of the 80% not
 * reserved for delivery (`readMs`); a short run keeps half its time in reserve (see Budget.forTimeout) and also stops
 * reading 1 s before the reserve, so the scaled timeout is 2 × (readMs / SCALE + 1 s) + 1 s. `calls`: CR calls one
 * stream of calls makes in that time at 2 s each.
 */
export function scaledRun(fcTimeoutSec: number): { readMs: number; timeout: number; calls: number } {
  const readMs = (fcTimeoutSec * 1000 - 1000) * 0.8 - 1000;
  return { readMs, timeout: (2 * (readMs / SCALE + 1000) + 1000) / 1000, calls: Math.floor(readMs / CALL_MS) };
}

export interface SlowDeps {
  world: (instances: SimInstance[], o: WorldOptions) => Promise<World>;
  row: (...cells: (string | number)[]) => void;
  fcTimeoutSec: number;
  fmt: (n: number, d?: number) => string;
  ratio: (x: number, min: number) => string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** A sync of its own image (and push) on `inst`, by rule `ruleId`. */
const syncTask = (inst: SimInstance, o: { id: string; status: string; createTime: number; ruleId: string }) =>
  rawTask({
    ...o,
    issue: o.status === 'ERROR' ? 'NETWORK_ERROR' : undefined,
    from: { instanceId: inst.instanceId, regionId: inst.regionId, namespace: 'bench', repo: `r-${o.id}`, tag: 'v1' },
    to: TARGET,
  });

/** The rules tasks on `inst` name: crsr-g0…g6 (generateTasks) and crsr-s0…s4 (the watched syncs). */
const rulesOf = (inst: { instanceId: string; regionId: string }) =>
  [...Array.from({ length: 7 }, (_, i) => `crsr-g${i}`), ...Array.from({ length: 5 }, (_, i) => `crsr-s${i}`)].map(
    (id) =>
      rawRule({
        id,
        name: `bench-${id}`,
        scope: 'NAMESPACE',
        namespace: 'bench',
        local: inst,
        target: { ...TARGET, namespace: 'bench' },
      }),
  );

/** 5 minutes of a 300-tasks-an-hour instance's successful syncs, newest first before what the instance had. */
const traffic = (inst: SimInstance, tag: string) => {
  const tasks = generateTasks({
    instanceId: inst.instanceId,
    regionId: inst.regionId,
    count: 25,
    newest: Date.now() - 1_000,
    spacingMs: 12_000,
    status: 'SUCCESS',
    prefix: tag,
  });
  inst.tasks = [...tasks, ...inst.tasks];
};

/**
 * What the messages received from index `from` on announce of `ids`, per channel: the failures their banners count
 * ("ACR: 30 syncs failed"), the ids they name (a message names at most 10 failures a group, fewer when trimmed to fit
 * the platform's limits), and the ids named by more than one message (announced twice).
 */
function announced(hooks: WebhookReceivers, from: number, ids: ReadonlySet<string>) {
  const per = () => ({ counted: 0, named: new Set<string>(), twice: new Set<string>() });
  const out = { dingtalk: per(), slack: per() };
  for (const r of hooks.received.slice(from)) {
    const text = JSON.stringify(r.body);
    // The banner's total of failures ("…N syncs failed in all…"), after the lead group's own count.
    const n = Number((/ACR: [^"]*?([\d,]+) syncs? failed/.exec(text)?.[1] ?? '0').replace(/,/g, ''));
    if (n === 0) continue;
    const ch = out[r.channel];
    ch.counted += n;
    for (const id of new Set(text.match(/rst-[a-z0-9]+/g))) {
      if (!ids.has(id)) continue;
      if (ch.named.has(id)) ch.twice.add(id);
      ch.named.add(id);
    }
  }
  return out;
}
type Announced = ReturnType<typeof announced>;
/** Failures both channels got, by the banners' count. */
const onBoth = (a: Announced) => Math.min(a.dingtalk.counted, a.slack.counted);

interface Steps {
  /** The scaled run's timeout (seconds). */
  timeout: number;
  maxRuns: number;
  /** Before the first measured run: what changed since the run that set the scene. */
  start: () => void;
  /** Before measured run n (from 1), 5 minutes after the run before it. */
  before: (n: number) => void;
  /** After measured run n: whether what is measured is done. */
  done: (n: number) => boolean;
}

/**
 * One warm process, as the backlog part's runs are: a run at the deployed timeout and without latency that sets the
 * scene, then up to `maxRuns` scaled runs 5 minutes apart on the moved clock, until `done`. The runs it took
 * (undefined when not done) and the CR calls of each.
 */
async function every5Minutes(w: World, clock: { offsetMs: number }, s: Steps) {
  const calls: number[] = [];
  /** Runs that threw or reported a problem (a refused call, a failed post), with the first such message. */
  const troubled = { runs: 0, first: '' };
  let runs: number | undefined;
  let mark = w.mark();
  const tick = (n: number): StepAnswer => {
    clock.offsetMs += 5 * MIN;
    s.before(n);
    mark = w.mark();
    return { offsetMs: clock.offsetMs };
  };
  w.cr.options.latencyMs = 0;
  await w.run(1 + s.maxRuns, undefined, async (i, r) => {
    const problem = r.error ?? r.summary?.problems[0];
    if (problem !== undefined) {
      troubled.runs += 1;
      troubled.first ||= problem;
    }
    if (i === 0) {
      s.start();
      w.cr.options.latencyMs = CALL_MS / SCALE;
      return { ...tick(1), timeout: s.timeout };
    }
    calls.push(w.since(mark).crCalls);
    if (s.done(i)) runs = i;
    return runs !== undefined || i === s.maxRuns ? { stop: true } : tick(i + 1);
  });
  return { runs, calls, troubled };
}

/**
 * `open` watched syncs open 1–48 h on one instance (300 tasks an hour beside them); after the run that found them open,
 * those `fails` picks (by age rank, 0 the newest) fail and the rest keep running.
 */
async function rechecks(
  d: SlowDeps,
  clock: { offsetMs: number },
  o: { open: number; fails: (i: number) => boolean; maxRuns: number },
) {
  const inst: SimInstance = { regionId: 'cn-hangzhou', instanceId: 'cri-slow0', tasks: [], rules: [] };
  inst.rules = rulesOf(inst);
  const now = Date.now();
  const open = Array.from({ length: o.open }, (_, i) =>
    syncTask(inst, {
      id: `rst-open${pad(i, 4)}`,
      status: 'SYNCHRONIZING',
      createTime: now - H - Math.round((i * 47 * H) / (o.open - 1)),
      ruleId: `crsr-s${i % 5}`,
    }),
  );
  const history = generateTasks({
    ...inst,
    count: 300 * 49,
    newest: now - 30_000,
    spacingMs: 12_000,
    status: 'SUCCESS',
  });
  inst.tasks = [...history, ...open].sort(
    (a, b) => Number(b.CreateTime) - Number(a.CreateTime) || b.SyncTaskId.localeCompare(a.SyncTaskId),
  );
  const w = await d.world([inst], { otsLatencyMs: 0, clockOffsetMs: () => clock.offsetMs });
  const failing = new Set(open.filter((_, i) => o.fails(i)).map((t) => t.SyncTaskId));
  let watchedRows = 0;
  let from = 0;
  let crFrom = 0;
  let pagesDown = 0;
  const r = await every5Minutes(w, clock, {
    timeout: scaledRun(d.fcTimeoutSec).timeout,
    maxRuns: o.maxRuns,
    start: () => {
      watchedRows = w.stored().w?.rows ?? 0;
      const at = Date.now();
      inst.tasks = inst.tasks.map((t) =>
        failing.has(t.SyncTaskId)
          ? { ...t, TaskStatus: 'ERROR', TaskIssue: 'NETWORK_ERROR', ModifiedTime: at, ModifedTime: at }
          : t,
      );
      from = w.hooks.received.length;
      crFrom = w.cr.calls.length;
    },
    before: (n) => {
      traffic(inst, `t${n}`);
      // Pages from the top down to the oldest watched sync, as the first measured run finds the list (50 a page).
      if (n === 1) {
        const oldest = Math.min(...open.map((t) => Number(t.CreateTime)));
        pagesDown = Math.ceil(inst.tasks.filter((t) => Number(t.CreateTime) >= oldest).length / 50);
      }
    },
    done: () => onBoth(announced(w.hooks, from, failing)) >= failing.size,
  });
  const tasks = w.cr.calls.slice(crFrom).filter((c) => c.action === 'ListRepoSyncTask');
  const rechecked = tasks.filter((c) => c.params.SyncRecordId || c.params.RepoName).length;
  const a = announced(w.hooks, from, failing);
  await w.close();
  return { ...r, a, watchedRows, rechecked, pages: tasks.length - rechecked, failing: failing.size, pagesDown };
}

/** 80 busy instances with 5 new failures each, after a run that read them all. */
async function reach(d: SlowDeps, clock: { offsetMs: number }, maxRuns: number) {
  const now = Date.now();
  const instances: SimInstance[] = Array.from({ length: 80 }, (_, i) => {
    const ref = { regionId: 'cn-hangzhou', instanceId: `cri-reach${pad(i, 2)}` };
    return {
      ...ref,
      rules: rulesOf(ref),
      tasks: generateTasks({ ...ref, count: 100, newest: now - 10 * MIN, spacingMs: 12_000, status: 'SUCCESS' }),
    };
  });
  const w = await d.world(instances, { otsLatencyMs: 0, clockOffsetMs: () => clock.offsetMs });
  const failing = new Set<string>();
  const read = new Set<string>();
  let allRead: number | undefined;
  let from = 0;
  let crFrom = 0;
  let crSeen = 0;
  const r = await every5Minutes(w, clock, {
    timeout: scaledRun(d.fcTimeoutSec).timeout,
    maxRuns,
    start: () => {
      for (const inst of instances) {
        const at = Date.now() - 500;
        const failures = Array.from({ length: 5 }, (_, k) =>
          syncTask(inst, {
            id: `rst-f${inst.instanceId.slice(4)}x${k}`,
            status: 'ERROR',
            createTime: at - k * 1_000,
            ruleId: 'crsr-g1',
          }),
        );
        failures.forEach((f) => failing.add(f.SyncTaskId));
        inst.tasks = [...failures, ...inst.tasks];
      }
      from = w.hooks.received.length;
      crFrom = crSeen = w.cr.calls.length;
    },
    before: (n) => instances.forEach((inst) => traffic(inst, `t${n}`)),
    done: (n) => {
      for (const c of w.cr.calls.slice(crSeen))
        if (c.action === 'ListRepoSyncTask') read.add(c.params.InstanceId ?? '');
      crSeen = w.cr.calls.length;
      if (read.size === instances.length) allRead ??= n;
      return onBoth(announced(w.hooks, from, failing)) >= failing.size && allRead !== undefined;
    },
  });
  const rules = w.cr.calls.slice(crFrom).filter((c) => c.action === 'ListRepoSyncRule').length;
  const a = announced(w.hooks, from, failing);
  await w.close();
  return { ...r, a, read: read.size, allRead, rules, failing: failing.size };
}

/** Announced on DingTalk / Slack, as the banners count, and what the messages name. */
const announcedCells = (d: SlowDeps, a: Announced, n: number) => [
  `${d.fmt(a.dingtalk.counted)} / ${d.fmt(a.slack.counted)} (named ${a.dingtalk.named.size} / ${a.slack.named.size}, twice ${a.dingtalk.twice.size} / ${a.slack.twice.size})`,
  `${d.fmt(n)} / ${d.fmt(n)} (twice 0)`,
  `${d.ratio(a.dingtalk.counted, n)} / ${d.ratio(a.slack.counted, n)}`,
];
const ANNOUNCED =
  'failures announced: DingTalk / Slack (counted in the banners; task ids the messages name, named twice)';

/** How many runs threw or reported a problem, with the first one's words. */
const troubleCell = (t: { runs: number; first: string }) =>
  t.runs === 0 ? '0' : `${t.runs} (${t.first.slice(0, 80).replaceAll('|', '/')})`;

const MAX_RECHECK_RUNS = 40;
const MAX_REACH_RUNS = 24;

/** The re-check scenarios' rows. */
async function recheckRows(d: SlowDeps, clock: { offsetMs: number }, scale: string) {
  const s = scaledRun(d.fcTimeoutSec);
  for (const [open, label, fails] of [
    [100, 'the oldest 50 fail, the newest 50 keep running', (i: number) => i >= 50],
    [1_000, 'all fail', () => true],
  ] as const) {
    const rc = await rechecks(d, clock, { open, fails, maxRuns: MAX_RECHECK_RUNS });
    // Each watched sync read once after the failures (which ones failed is not known): a targeted call each beside a
    // page a run, or reading the list back to the oldest.
    const targeted = Math.ceil(open / (s.calls - 1));
    const readBack = Math.ceil(rc.pagesDown / s.calls);
    const min = Math.min(targeted, readBack);
    const most = Math.max(...rc.calls);
    d.row(
      `Slow API, re-checks: ${d.fmt(open)} watched syncs open 1–48 h (300 tasks/h), ${label}; ${scale}`,
      'runs until every failure is announced on both channels',
      rc.runs !== undefined
        ? `${rc.runs} runs`
        : `not all after ${MAX_RECHECK_RUNS} runs (${d.fmt(onBoth(rc.a))} of ${d.fmt(rc.failing)})`,
      `${min} (${d.fmt(open)} re-checks at ${s.calls - 1} a run: ${targeted}; or reading back ${rc.pagesDown} pages at ${s.calls}: ${readBack})`,
      rc.runs !== undefined ? d.ratio(rc.runs, min) : '–',
      '',
    );
    d.row('', ANNOUNCED, ...announcedCells(d, rc.a, rc.failing), '');
    d.row(
      '',
      'CR calls in a run (most); pages / re-checks in all; watched rows after the run that found them; runs with an error or problem',
      `${most}; ${d.fmt(rc.pages)} / ${d.fmt(rc.rechecked)}; ${d.fmt(rc.watchedRows)}; ${troubleCell(rc.troubled)}`,
      `${s.calls}; – ; ${d.fmt(open)}; 0`,
      '',
      '',
    );
  }
}

/** The reach scenario's rows. */
async function reachRows(d: SlowDeps, clock: { offsetMs: number }, scale: string) {
  const s = scaledRun(d.fcTimeoutSec);
  const re = await reach(d, clock, MAX_REACH_RUNS);
  const min = Math.ceil((80 * 2) / (s.calls * CONCURRENCY));
  const made = median(re.calls);
  d.row(
    `Slow API, reach: 80 instances (300 tasks/h each), 5 new failures on each; ${scale}`,
    'runs until every instance was read / every failure announced on both channels',
    re.runs !== undefined
      ? `${re.allRead} / ${re.runs} runs`
      : `not all after ${MAX_REACH_RUNS} runs (${re.read} of 80 read, ${onBoth(re.a)} of ${re.failing} announced)`,
    `${min} (80 × 2 calls, a page and the rules, at ${s.calls} × ${CONCURRENCY} a run; ${Math.ceil(160 / Math.max(1, made))} at the ${made} a run made here)`,
    re.runs !== undefined ? d.ratio(re.runs, min) : '–',
    '',
  );
  d.row('', ANNOUNCED, ...announcedCells(d, re.a, re.failing), '');
  d.row(
    '',
    'ListRepoSyncRule calls in all; CR calls a run (median); runs with an error or problem',
    `${re.rules}; ${made}; ${troubleCell(re.troubled)}`,
    `80; ${s.calls * CONCURRENCY}; 0`,
    '',
    '',
  );
}

/** The part: the scenarios on the moved clock (put back after), rows in the bench's table. */
export async function slowApi(d: SlowDeps): Promise<void> {
  const clock = { offsetMs: 0 };
  const restore = shiftClock(() => clock.offsetMs);
  try {
    const s = scaledRun(d.fcTimeoutSec);
    const scale = `2 s per CR call, scaled 1:${SCALE} (${CALL_MS / SCALE} ms a call, ${d.fmt(s.timeout, 3)} s timeout), a run every 5 min`;
    await recheckRows(d, clock, scale);
    await reachRows(d, clock, scale);
  } finally {
    restore();
  }
}
