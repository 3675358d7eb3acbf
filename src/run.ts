import pLimit from 'p-limit';
import type { CallCounter, CrApi } from './acr/client.js';
import type { ScanResult } from './acr/scan.js';
import type { SyncRule } from './acr/types.js';
import type { Budget, Clock } from './budget.js';
import type { ChannelName, Config, InstanceRef } from './config.js';
import { deliver, type DeliveryReport } from './deliver.js';
import { detect, type Detection, type Reason } from './detect.js';
import { CheckpointConflictError, describeError, IntegrationError } from './errors.js';
import { fetchRules, fetchTasks } from './fetch.js';
import type { Logger } from './log.js';
import type { Notifier } from './notify/types.js';
import { renderFor } from './render/index.js';
import { withRetry } from './retry.js';
import { canonicalJson, heldByOther, type Alert, type Checkpoint, type InstanceHealth, type OutboxEntry } from './state/checkpoint.js';
import { updateHealth } from './monitor.js';
import type { StateStore } from './state/store.js';

export interface RunDeps {
  config: Config;
  clock: Clock;
  budget: Budget;
  log: Logger;
  store: StateStore;
  /** A CR client for a region, built from this invocation's credentials. */
  crFor(regionId: string): CrApi;
  notifiers: readonly Notifier[];
  /** Identifies this run as a lease owner (the invocation's request id). */
  runId: string;
  dryRun: boolean;
  counter: CallCounter;
  /** Dry runs hand each rendered message here instead of sending it. */
  onDryRunMessage?(channel: ChannelName, payload: unknown): void;
}

export type Outcome = 'completed' | 'nothing-new' | 'locked' | 'lost-race' | 'dry-run';

export interface InstanceSummary {
  instance: string;
  pages: number;
  tasks: number;
  newFailures: number;
  complete: boolean;
  order?: string;
  error?: string;
}

export interface RunSummary {
  outcome: Outcome;
  runId: string;
  dryRun: boolean;
  tasksScanned: number;
  /** New failed tasks found by this run (failures that already recovered count under `recovered`). */
  failuresFound: number;
  recovered: number;
  stuck: number;
  /** Alerts of every kind accepted per channel. */
  notified: Partial<Record<ChannelName, number>>;
  /** Alerts still waiting for some channel after this run. */
  pendingDelivery: number;
  skipped: { alreadyAnnounced: number; beforeWindow: number; stillRunning: number; succeeded: number; canceled: number; unknownStatus: number };
  instances: InstanceSummary[];
  apiCalls: { cr: number; stateReads: number; stateWrites: number; webhookPosts: number };
  problems: string[];
  durationMs: number;
}

interface InstanceOutcome {
  inst: InstanceRef;
  scan?: ScanResult;
  detection?: Detection;
  rules?: Map<string, SyncRule>;
  error?: unknown;
}

const STATE_CALL_TIMEOUT_MS = 5_000;

/**
 * One run: load the checkpoint, read each instance's tasks, find failures not announced yet, claim them in the
 * checkpoint (a conditional write, so an overlapping run that read the same state loses and stops), deliver, and save
 * what was delivered. Returns the summary; throws only when the checkpoint cannot be read or the final save fails,
 * so the platform's retry or the next run picks the work up.
 */
export async function runOnce(deps: RunDeps): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const { config, log } = deps;
  const problems: string[] = [];
  const stateCall = <T>(label: string, fn: (t: number) => Promise<T>) =>
    withRetry(fn, { budget: deps.budget, log, label, attemptTimeoutMs: STATE_CALL_TIMEOUT_MS, retries: 3 });

  const loaded = await stateCall('load checkpoint', (t) => deps.store.load(t));
  const prev = loaded.checkpoint;
  const summarise = (outcome: Outcome, extra: Partial<RunSummary> = {}, webhookPosts = 0) =>
    buildSummary(deps, startedAt, outcome, outcomes, problems, extra, webhookPosts);
  let outcomes: InstanceOutcome[] = [];

  if (!deps.dryRun && heldByOther(prev.lease, deps.runId, startedAt)) {
    log.info('another run holds the checkpoint; leaving this tick to it', { holder: prev.lease?.owner, until: prev.lease?.until });
    return summarise('locked', { pendingDelivery: prev.outbox.length });
  }

  outcomes = await scanInstances(deps, prev);
  for (const o of outcomes) if (o.error) problems.push(`${o.inst.key}: ${describeError(o.error)}`);

  const now = deps.clock.now();
  const fresh: OutboxEntry[] = [];
  const channels = deps.notifiers.map((n) => n.channel);
  const enqueue = (alert: Alert) => fresh.push({ alert, pending: [...channels], detectedAt: now, attempts: 0 });
  for (const o of outcomes) {
    const d = o.detection;
    if (!d) continue;
    // The outbox keeps what a message shows of the rule, not its filters and targets: it may hold thousands.
    const ruleOf = (ruleId?: string) => {
      const r = ruleId ? o.rules?.get(ruleId) : undefined;
      return r && { ruleId: r.ruleId, name: r.name, scope: r.scope };
    };
    const instance = o.inst.key;
    for (const task of d.failures) enqueue({ id: `${instance}/${task.taskId}`, instance, task, rule: ruleOf(task.ruleId) });
    for (const r of d.recoveries) {
      enqueue({ kind: 'recovered', id: `${instance}/${r.success.taskId}/recovered`, instance, task: r.success, rule: ruleOf(r.success.ruleId), failedTaskId: r.failure.taskId, issue: r.failure.issue, since: r.failure.since, unannounced: r.sameRun });
    }
    for (const task of d.stuck) enqueue({ kind: 'stuck', id: `${instance}/${task.taskId}/stuck`, instance, task, rule: ruleOf(task.ruleId), at: now });
    for (const task of d.unstuck) enqueue({ kind: 'unstuck', id: `${instance}/${task.taskId}/unstuck`, instance, task, rule: ruleOf(task.ruleId), at: now });
  }
  const newFailures = outcomes.reduce((n, o) => n + (o.detection?.failures.length ?? 0), 0);
  // The function's own sight: after BLIND_AFTER_RUNS failing reads of an instance, say so in the channels.
  const health: Record<string, InstanceHealth> = {};
  for (const o of outcomes) {
    const h = updateHealth(o.inst.key, prev.health?.[o.inst.key], o.error === undefined ? { ok: true } : { ok: false, error: describeError(o.error) }, now, config.blindAfterRuns);
    if (h.health) health[o.inst.key] = h.health;
    if (h.notice) {
      fresh.push({ alert: h.notice, pending: [...channels], detectedAt: now, attempts: 0 });
      log[h.notice.kind === 'blind' ? 'error' : 'info'](h.notice.kind === 'blind' ? 'alerting is blind for an instance; telling the channels' : 'alerting sees the instance again', { instance: o.inst.key, runs: h.notice.runs });
    }
  }
  const next: Checkpoint = {
    schema: 1,
    instances: { ...prev.instances },
    outbox: [...prev.outbox, ...fresh],
    health: Object.keys(health).length > 0 ? health : undefined,
    channels: prev.channels,
  };
  for (const o of outcomes) if (o.detection) next.instances[o.inst.key] = o.detection.cursor;

  if (deps.dryRun) {
    for (const n of deps.notifiers.length > 0 ? deps.notifiers.map((x) => x.channel) : (['dingtalk', 'slack'] as const)) {
      const alerts = next.outbox.filter((e) => e.pending.includes(n) || deps.notifiers.length === 0).map((e) => e.alert);
      if (alerts.length > 0) deps.onDryRunMessage?.(n, renderFor(n, alerts, config.lang));
    }
    return summarise('dry-run', { failuresFound: newFailures, pendingDelivery: next.outbox.length });
  }

  // Nothing to record and nothing that can be sent now (alerts waiting only for paused channels): no write.
  const sendable = next.outbox.some((e) => e.pending.some((c) => canSendTo(deps, prev, c, now)));
  if (fresh.length === 0 && !sendable && sameState(prev, next)) {
    for (const [ch, p] of Object.entries(prev.channels ?? {})) if (p.until > now) problems.push(`${ch}: paused until ${new Date(p.until).toISOString()} after: ${p.error}`);
    return summarise('nothing-new', { failuresFound: 0, pendingDelivery: next.outbox.length });
  }

  // Claim: record the new alerts and take the lease in one conditional write. Whoever wrote first owns them.
  // The platform stops the function 1 s after our deadline, so a lease 2 s past it outlives any run that holds it.
  const leaseUntil = deps.budget.deadline + 2_000;
  let version: number;
  try {
    version = await saveOrAdopt(deps, stateCall, 'claim checkpoint', { ...next, lease: { owner: deps.runId, until: leaseUntil } }, loaded.version);
  } catch (err) {
    if (err instanceof CheckpointConflictError) {
      log.info('another run saved the checkpoint first; it announces what this run found', { detail: err.message });
      return summarise('lost-race', { failuresFound: 0, pendingDelivery: next.outbox.length });
    }
    throw err;
  }

  let report: DeliveryReport = { channels: {}, expired: 0 };
  let outbox = next.outbox;
  let pauses = prev.channels;
  if (outbox.length > 0) {
    ({ outbox, report, pauses } = await deliver(outbox, { notifiers: deps.notifiers, lang: config.lang, now: deps.clock.now(), budget: deps.budget, log, pauses: prev.channels }));
  }
  for (const [ch, r] of Object.entries(report.channels)) {
    if (r.error) problems.push(`${ch}: ${r.pausedUntil ? `paused until ${new Date(r.pausedUntil).toISOString()} after: ` : ''}${r.error}`);
  }
  if (report.expired > 0) problems.push(`${report.expired} alerts were given up after 7 days undelivered`);

  // Release: save what was delivered. Failing here means alerts that went out are still pending in the store, so
  // the error propagates and the next attempt re-sends them (the documented duplicate window).
  const channelsAfter = pauses && Object.keys(pauses).length > 0 ? pauses : undefined;
  await saveOrAdopt(deps, stateCall, 'save checkpoint', { ...next, outbox, channels: channelsAfter }, version);

  const notified: Partial<Record<ChannelName, number>> = {};
  for (const [ch, r] of Object.entries(report.channels)) notified[ch as ChannelName] = r.delivered;
  const posts = Object.values(report.channels).filter((r) => r.delivered > 0).length;
  return summarise('completed', { failuresFound: newFailures, notified, pendingDelivery: outbox.length }, posts);
}

/**
 * A conditional save that survives a lost answer: when a write went through but its answer was lost, the retry finds
 * the version moved and reports a conflict. Re-reading shows whether the stored checkpoint is exactly the one this
 * run wrote; if so the write was ours and its version is adopted, otherwise the conflict stands.
 */
async function saveOrAdopt(
  deps: RunDeps,
  stateCall: <T>(label: string, fn: (t: number) => Promise<T>) => Promise<T>,
  label: string,
  next: Checkpoint,
  expected: number,
): Promise<number> {
  try {
    return await stateCall(label, (t) => deps.store.save(next, expected, t));
  } catch (err) {
    if (!(err instanceof CheckpointConflictError)) throw err;
    const now = await stateCall(`${label} (re-read after conflict)`, (t) => deps.store.load(t));
    if (now.version === expected + 1 && canonicalJson(now.checkpoint) === canonicalJson(next)) return now.version;
    throw err;
  }
}

async function scanInstances(deps: RunDeps, prev: Checkpoint): Promise<InstanceOutcome[]> {
  const limit = pLimit(deps.config.fetchConcurrency);
  const lookbackMs = deps.config.lookbackMinutes * 60_000;
  return Promise.all(
    deps.config.instances.map((inst) =>
      limit(async (): Promise<InstanceOutcome> => {
        const cr = deps.crFor(inst.regionId);
        const now = deps.clock.now();
        const fetchDeps = { cr, budget: deps.budget, log: deps.log, now, lookbackMs, pageSize: deps.config.pageSize, maxPages: deps.config.maxPagesPerInstance };
        let scan: ScanResult;
        try {
          scan = await fetchTasks(inst, prev.instances[inst.key], fetchDeps);
        } catch (error) {
          const level = error instanceof IntegrationError && error.kind === 'config' ? 'error' : 'warn';
          deps.log[level]('could not read sync tasks; this instance is retried next run', { instance: inst.key, error: describeError(error) });
          return { inst, error };
        }
        const detection = detect(prev.instances[inst.key], scan, now, { lookbackMs, stuckAfterMs: deps.config.stuckAfterMinutes * 60_000 });
        if (detection.unknownStatuses.length > 0) deps.log.warn('tasks with an undocumented TaskStatus are watched like running ones', { instance: inst.key, statuses: detection.unknownStatuses });
        if (detection.stoppedWatching.length > 0) deps.log.warn('stopped watching tasks that vanished or stayed unfinished too long', { instance: inst.key, tasks: detection.stoppedWatching.slice(0, 20) });
        let rules: Map<string, SyncRule> | undefined;
        if (detection.failures.length + detection.recoveries.length + detection.stuck.length + detection.unstuck.length > 0) {
          try {
            rules = await fetchRules(inst, fetchDeps);
          } catch (error) {
            // Names make a message better, but a failure must not wait for them.
            deps.log.warn('could not read sync rules; alerts go out without rule names', { instance: inst.key, error: describeError(error) });
          }
        }
        return { inst, scan, detection, rules };
      }),
    ),
  );
}

function sameState(a: Checkpoint, b: Checkpoint): boolean {
  return canonicalJson([a.instances, a.health ?? {}]) === canonicalJson([b.instances, b.health ?? {}]);
}

/** Whether an alert pending for `channel` could go out in this run: configured, and not paused (or reconfigured). */
function canSendTo(deps: RunDeps, prev: Checkpoint, channel: ChannelName, now: number): boolean {
  const n = deps.notifiers.find((x) => x.channel === channel);
  if (!n) return true; // deliver() removes it from the outbox, which is a change to record
  const p = prev.channels?.[channel];
  return !p || p.until <= now || p.fingerprint !== n.fingerprint;
}

function buildSummary(
  deps: RunDeps,
  startedAt: number,
  outcome: Outcome,
  outcomes: readonly InstanceOutcome[],
  problems: string[],
  extra: Partial<RunSummary>,
  webhookPosts: number,
): RunSummary {
  const reasons = (r: Reason) => outcomes.reduce((n, o) => n + (o.detection?.reasons[r] ?? 0), 0);
  return {
    outcome,
    runId: deps.runId,
    dryRun: deps.dryRun,
    tasksScanned: outcomes.reduce((n, o) => n + (o.scan?.tasks.length ?? 0), 0),
    failuresFound: 0,
    recovered: outcomes.reduce((n, o) => n + (o.detection?.recoveries.length ?? 0), 0),
    stuck: outcomes.reduce((n, o) => n + (o.detection?.stuck.length ?? 0), 0),
    notified: {},
    pendingDelivery: 0,
    skipped: {
      alreadyAnnounced: reasons('already-announced'),
      beforeWindow: reasons('before-window'),
      stillRunning: reasons('still-running'),
      succeeded: reasons('succeeded'),
      canceled: reasons('canceled'),
      unknownStatus: reasons('unknown-status'),
    },
    instances: outcomes.map((o) => ({
      instance: o.inst.key,
      pages: o.scan?.pagesRead ?? 0,
      tasks: o.scan?.tasks.length ?? 0,
      newFailures: o.detection?.failures.length ?? 0,
      complete: o.scan?.complete ?? false,
      order: o.scan?.order,
      error: o.error === undefined ? undefined : describeError(o.error),
    })),
    apiCalls: { cr: deps.counter.cr, stateReads: deps.store.counter.reads, stateWrites: deps.store.counter.writes, webhookPosts },
    problems,
    durationMs: deps.clock.now() - startedAt,
    ...extra,
  };
}
