import { observeInstances, type InstanceOutcome } from '../detect/observe.js';
import { CheckpointConflictError, describeError } from '../lib/errors.js';
import { canonicalJson } from '../lib/json.js';
import { withRetry } from '../lib/retry.js';
import type { Checkpoint, Lease } from '../model/checkpoint.js';
import { deliver, planDelivery, type DeliveryReport } from '../notify/deliver.js';
import { planRun } from '../plan/plan.js';
import type { RunDeps } from './deps.js';
import { buildSummary, type Outcome, type RunSummary } from './summary.js';

export type { Outcome, RunSummary } from './summary.js';

const STATE_CALL_TIMEOUT_MS = 5_000;

type StateCall = <T>(label: string, fn: (t: number) => Promise<T>) => Promise<T>;

/** True when a lease held by someone else is still in force. */
export function heldByOther(lease: Lease | undefined, me: string, now: number): boolean {
  return lease !== undefined && lease.owner !== me && lease.until > now;
}

/**
 * One run: load the checkpoint, read each instance's tasks, find failures not announced yet, claim them in the
 * checkpoint (a conditional write, so an overlapping run that read the same state loses and stops), deliver, and save
 * what was delivered. A dry run delivers the same way to notifiers that capture, and saves nothing. Returns the
 * summary; throws only when the checkpoint cannot be read or the final save fails, so the platform's retry or the
 * next run picks the work up.
 */
export async function runOnce(deps: RunDeps): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const { log } = deps;
  const problems: string[] = [];
  const stateCall: StateCall = (label, fn) =>
    withRetry(fn, { budget: deps.budget, log, label, attemptTimeoutMs: STATE_CALL_TIMEOUT_MS, retries: 3 });

  const loaded = await stateCall('load checkpoint', (t) => deps.store.load(t));
  const prev = loaded.checkpoint;
  let outcomes: InstanceOutcome[] = [];
  let mutedNow = 0;
  const summarise = (outcome: Outcome, extra: Partial<RunSummary> = {}, webhookPosts = 0) =>
    buildSummary(
      { runId: deps.runId, dryRun: deps.dryRun, startedAt, now: deps.clock.now(), calls: { cr: deps.counter.cr, stateReads: deps.store.counter.reads, stateWrites: deps.store.counter.writes } },
      outcome, outcomes, problems, { muted: mutedNow, ...extra }, webhookPosts,
    );

  if (!deps.dryRun && heldByOther(prev.lease, deps.runId, startedAt)) {
    log.info('another run holds the checkpoint; leaving this tick to it', { holder: prev.lease?.owner, until: prev.lease?.until });
    return summarise('locked', { pendingDelivery: prev.outbox.length });
  }

  outcomes = await observeInstances(deps.observe, prev);
  for (const o of outcomes) if (o.error) problems.push(`${o.inst.key}: ${describeError(o.error)}`);

  const now = deps.clock.now();
  const { alerts, muted, fresh, next } = planRun(prev, outcomes, deps.plan, now, deps.forceDigest);
  for (const a of alerts) {
    if (a.kind === 'blind') log.error('alerting is blind for an instance; telling the channels', { instance: a.instance, runs: a.runs });
    if (a.kind === 'restored') log.info('alerting sees the instance again', { instance: a.instance, runs: a.runs });
  }
  // Silenced alerts are not sent, but never vanish: each is logged, counted in the summary and tallied for a digest.
  for (const m of muted) log.info('muted by a silence', { id: m.alert.id, silence: m.silence.comment ?? JSON.stringify(m.silence) });
  mutedNow = muted.length;
  const unsendable = fresh.filter((e) => e.pending.length === 0);
  if (!deps.dryRun && unsendable.length > 0) log.error('no route can send these alerts; check ROUTES', { count: unsendable.length, ids: unsendable.slice(0, 20).map((e) => e.alert.id) });
  const newFailures = outcomes.reduce((n, o) => n + (o.detection?.failures.length ?? 0), 0);

  // A dry run shows every target what it would get, paused or not, and records nothing.
  const plan = planDelivery(next.outbox, deps.targets, deps.dryRun ? undefined : prev.channels, now);
  if (deps.dryRun) {
    await deliver(plan, { now, budget: deps.budget, log });
    return summarise('dry-run', { failuresFound: newFailures, pendingDelivery: next.outbox.length });
  }

  // Nothing to record and nothing that can be sent now (alerts waiting only for paused channels): no write.
  if (fresh.length === 0 && !plan.actionable && sameState(prev, next)) {
    for (const [ch, p] of Object.entries(plan.pauses)) problems.push(pausedProblem(ch, p.until, p.error));
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
    ({ outbox, report, pauses } = await deliver(plan, { now: deps.clock.now(), budget: deps.budget, log, previousPauses: prev.channels }));
  }
  for (const [ch, r] of Object.entries(report.channels)) {
    if (r.error) problems.push(r.pausedUntil ? pausedProblem(ch, r.pausedUntil, r.error) : `${ch}: ${r.error}`);
  }
  if (report.expired > 0) problems.push(`${report.expired} alerts were given up after 7 days undelivered`);

  // Release: save what was delivered. Failing here means alerts that went out are still pending in the store, so
  // the error propagates and the next attempt re-sends them (the documented duplicate window).
  const channelsAfter = pauses && Object.keys(pauses).length > 0 ? pauses : undefined;
  await saveOrAdopt(deps, stateCall, 'save checkpoint', { ...next, outbox, channels: channelsAfter }, version);

  const notified: Record<string, number> = {};
  for (const [target, r] of Object.entries(report.channels)) notified[target] = r.delivered;
  const posts = Object.values(report.channels).filter((r) => r.delivered > 0).length;
  return summarise('completed', { failuresFound: newFailures, notified, pendingDelivery: outbox.length }, posts);
}

/**
 * A conditional save that survives a lost answer: when a write went through but its answer was lost, the retry finds
 * the version moved and reports a conflict. Re-reading shows whether the stored checkpoint is exactly the one this
 * run wrote; if so the write was ours and its version is adopted, otherwise the conflict stands.
 */
async function saveOrAdopt(deps: RunDeps, stateCall: StateCall, label: string, next: Checkpoint, expected: number): Promise<number> {
  try {
    return await stateCall(label, (t) => deps.store.save(next, expected, t));
  } catch (err) {
    if (!(err instanceof CheckpointConflictError)) throw err;
    const now = await stateCall(`${label} (re-read after conflict)`, (t) => deps.store.load(t));
    if (now.version === expected + 1 && canonicalJson(now.checkpoint) === canonicalJson(next)) return now.version;
    throw err;
  }
}

const pausedProblem = (channel: string, until: number, error: string) => `${channel}: paused until ${new Date(until).toISOString()} after: ${error}`;

function sameState(a: Checkpoint, b: Checkpoint): boolean {
  const key = (c: Checkpoint) => canonicalJson([c.instances, c.health ?? {}, c.digests ?? {}]);
  return key(a) === key(b);
}
