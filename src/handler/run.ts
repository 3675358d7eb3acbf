import type { InstanceReport } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';
import { owedCount } from '../notify/after-delivery.js';
import { deliverOwed, planDelivery } from '../notify/delivery.js';
import { RunPlanner } from '../plan/plan.js';
import type { Snapshot, StateStore } from '../state/store.js';
import { silenceReader, type ClaimContext } from './claim.js';
import type { RunDeps } from './deps.js';
import { observeAndClaim } from './instances.js';
import { ControlLease, heldByOther, LostRace } from './lease.js';
import { raiseNoticesAndDigests } from './notices.js';
import { buildSummary, deliverySummary, pausedProblem, type Outcome, type RunSummary } from './summary.js';
import { emptyTally, type Tally } from './tally.js';

export type { Outcome, RunSummary } from './summary.js';

/**
 * One run: read the state's starting rows; observe each instance (most behind first), claiming each judged chunk as
 * it comes (the lease, then the alerts owed, the failures claimed, watched syncs and failing images, in that order, so
 * a run killed anywhere leaves nothing half-known); raise notices and digests; save the cursors; deliver what each
 * target is owed; release the lease with what is still owed. A dry run does all of it against a store that forgets and
 * notifiers that capture. Throws only when the state cannot be read or written.
 */
export async function runOnce(deps: RunDeps): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const snap = await readState(deps);
  const now = deps.clock.now();
  if (!deps.dryRun && heldByOther(snap.control.value.lease, deps.runId, now)) {
    const { lease } = snap.control.value;
    deps.log.info('another run holds the lease; leaving this tick to it', {
      holder: lease?.owner,
      until: lease?.until,
    });
    return summarise(deps, { startedAt, outcome: 'locked' });
  }
  // The platform stops the function 1 s after our deadline, so a lease 2 s past it outlives any run that holds it.
  const lease = new ControlLease(deps.store, snap.control, deps.runId, deps.budget.deadline + 2_000);
  const planner = new RunPlanner(deps.plan, snap.digests, now);
  const tally = emptyTally();
  const claims: ClaimContext = {
    store: deps.store,
    lease,
    planner,
    tally,
    log: deps.log,
    now,
    readSilences: silenceReader(deps.store, planner),
  };

  const observed = await observeAndClaim({
    observe: deps.observe,
    cursors: snap.cursors,
    claims,
    counter: deps.counter,
  });
  if (observed.lost) return lostRace(deps, { startedAt, lost: observed.lost, reports: observed.reports, tally });
  const { reports } = observed;
  const { store, forceDigest, clock } = deps;
  try {
    await raiseNoticesAndDigests({
      claims,
      reports,
      store,
      instances: deps.observe.settings.instances,
      forceDigest,
      clock,
    });
    await saveCursors(deps, reports, snap);
    const delivery = await deliverAndRelease(deps, lease, tally, now);
    const problems = [...reports.flatMap(instanceProblem), ...delivery.problems];
    const outcome = deps.dryRun ? 'dry-run' : delivery.ran ? 'completed' : 'nothing-new';
    return summarise(deps, { startedAt, outcome, reports, tally, problems, delivery });
  } catch (err) {
    // A run that claimed nothing while observing takes the lease only here (for a notice, a digest or what earlier
    // runs left owed): another run may have taken it first, and then that run does this work.
    if (err instanceof LostRace) return lostRace(deps, { startedAt, lost: err, reports, tally });
    throw err;
  }
}

/** The summary of a run that found another run holding the lease when it went to take it: it stops there. */
function lostRace(
  deps: Parameters<typeof summarise>[0] & Pick<RunDeps, 'log'>,
  s: { startedAt: number; lost: LostRace; reports: readonly InstanceReport[]; tally: Tally },
): RunSummary {
  deps.log.info('another run took the lease first; it announces what this run found', { detail: s.lost.message });
  return summarise(deps, { startedAt: s.startedAt, outcome: 'lost-race', reports: s.reports, tally: s.tally });
}

/** The state's starting rows: the control row, each instance's cursor and each route's digest statistics. */
async function readState(deps: Pick<RunDeps, 'store' | 'observe' | 'plan' | 'log'>): Promise<Snapshot> {
  const snap = await deps.store.begin(
    deps.observe.settings.instances.map((i) => i.key),
    deps.plan.routes.map((r) => r.name),
  );
  if (snap.upgraded) deps.log.info('moved the earlier single document into rows', { rows: snap.upgraded.rows });
  return snap;
}

/** Cursors last: a run killed before this point reads the same tasks again, and finds them claimed. */
async function saveCursors(
  deps: Pick<RunDeps, 'store' | 'log'>,
  reports: readonly InstanceReport[],
  snap: Pick<Snapshot, 'cursors'>,
): Promise<void> {
  const next = new Map(reports.flatMap((r) => (r.cursor ? [[r.inst.key, r.cursor] as const] : [])));
  const refused = await deps.store.saveCursors(next, snap.cursors);
  if (refused > 0) deps.log.warn('another run moved some cursors first; its reading stands', { rows: refused });
}

/** What the delivery phase tells the summary. */
interface DeliveryReport {
  /** False when the phase left the state alone: the run held no lease and had nothing to send. */
  ran: boolean;
  /** Alerts each target accepted. */
  notified: Record<string, number>;
  quarantined: Record<string, number>;
  posts: number;
  stillOwed: number;
  problems: string[];
}

/**
 * Delivers to every target owed something, from the rows (this run's and earlier ones'), then releases the lease with
 * what is still owed and paused. A run that holds no lease and has nothing to send (nothing is owed, or every channel
 * owed something is paused) leaves the state alone.
 */
async function deliverAndRelease(
  deps: Pick<RunDeps, 'store' | 'targets' | 'dryRun' | 'clock' | 'budget' | 'log'>,
  lease: ControlLease,
  tally: Pick<Tally, 'owedNow'>,
  now: number,
): Promise<DeliveryReport> {
  const { store, clock, budget, log } = deps;
  const owedTargets = new Set([...Object.keys(lease.control.owed), ...tally.owedNow.keys()]);
  const pauses = deps.dryRun ? undefined : lease.control.pauses;
  const plan = planDelivery(owedTargets, deps.targets, pauses, clock.now());
  if (!plan.actionable && !lease.isHeld) {
    const problems = Object.entries(plan.pauses).map(([ch, p]) => pausedProblem(ch, p.until, p.error));
    return { ran: false, notified: {}, quarantined: {}, posts: 0, stillOwed: owedCount(lease.control.owed), problems };
  }
  await lease.take();
  const added = tally.owedNow;
  const { results, next } = await deliverOwed(plan, { store, control: lease.control, added, clock, budget, log, now });
  await lease.release(next);
  return { ran: true, ...deliverySummary(results, plan.due), stillOwed: owedCount(next.owed) };
}

const instanceProblem = (r: InstanceReport): string[] => (r.error ? [`${r.inst.key}: ${describeError(r.error)}`] : []);

/** The run's summary as it stands: what it claimed, read and delivered, and the calls it made. */
function summarise(
  deps: Pick<RunDeps, 'runId' | 'dryRun' | 'clock' | 'counter'> & { store: Pick<StateStore, 'counter'> },
  s: {
    startedAt: number;
    outcome: Outcome;
    reports?: readonly InstanceReport[];
    tally?: Tally;
    problems?: string[];
    delivery?: DeliveryReport;
  },
): RunSummary {
  const c = deps.store.counter;
  const t = s.tally ?? emptyTally();
  const d = s.delivery;
  return buildSummary({
    run: {
      runId: deps.runId,
      dryRun: deps.dryRun,
      startedAt: s.startedAt,
      now: deps.clock.now(),
      calls: {
        cr: deps.counter.cr,
        stateReads: c.reads,
        stateWrites: c.writes,
        rowsWritten: c.rowsWritten,
        bytesWritten: c.bytesWritten,
      },
    },
    outcome: s.outcome,
    reports: s.reports ?? [],
    problems: s.problems ?? [],
    extra: {
      failuresFound: t.failures,
      recovered: t.recovered,
      stuck: t.stuck,
      muted: t.muted,
      ...(d?.ran ? { notified: d.notified, quarantined: d.quarantined } : {}),
      ...(d ? { stillOwed: d.stillOwed } : {}),
    },
    webhookPosts: d?.posts ?? 0,
  });
}
