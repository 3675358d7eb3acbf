import pLimit from 'p-limit';
import type { Changes } from '../detect/detect.js';
import { observeInstance, readingOrder, type InstanceReport, type Judged } from '../detect/observe.js';
import { describeError } from '../lib/errors.js';
import { canonicalJson } from '../lib/json.js';
import { aboutTask, isFailure, type Alert } from '../model/alert.js';
import type { ChannelPause, Control } from '../model/state.js';
import { deliverTo, planDelivery, readFloorOf, type Target, type TargetResult } from '../notify/deliver.js';
import { alertsOf, namedFailing } from '../plan/alerts.js';
import { tagOwners, type StillFailing } from '../plan/digest.js';
import { RunPlanner } from '../plan/plan.js';
import { write } from '../state/rows.js';
import type { WriteOp } from '../state/table.js';
import type { RunDeps } from './deps.js';
import { ControlLease, heldByOther, LostRace } from './lease.js';
import { buildSummary, type Outcome, type RunSummary } from './summary.js';

export type { Outcome, RunSummary } from './summary.js';

/** Row deletions made per request group (a multiple of BatchWriteRow's 200 rows, so no request is smaller than it could be). */
const REMOVE_SLICE = 1_000;

/** What the run claimed, for its summary. */
interface Tally {
  failures: number;
  recovered: number;
  stuck: number;
  muted: number;
  /** Rows of owed alerts this run wrote, by target. */
  owedNow: Map<string, number>;
}

/**
 * One run: read the state's starting rows; observe each instance (most behind first), claiming each judged chunk as
 * it comes (the lease, then the alerts owed, the failures claimed, watched syncs and failing images, in that order, so
 * a run killed anywhere leaves nothing half-known); raise notices and digests; store the cursors; deliver what each
 * target is owed; release the lease with what is still owed. A dry run does all of it against a store that forgets and
 * notifiers that capture. Throws only when the state cannot be read or written.
 */
export async function runOnce(deps: RunDeps): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const { log, store } = deps;
  const problems: string[] = [];
  const instances = deps.observe.settings.instances;
  const snap = await store.begin(
    instances.map((i) => i.key),
    deps.plan.routes.map((r) => r.name),
  );
  if (snap.upgraded) log.info('moved the earlier single-document checkpoint into rows', { rows: snap.upgraded.rows });
  let reports: InstanceReport[] = [];
  const tally: Tally = { failures: 0, recovered: 0, stuck: 0, muted: 0, owedNow: new Map() };
  const summarise = (outcome: Outcome, extra: Partial<RunSummary> = {}, posts = 0) =>
    buildSummary(
      {
        runId: deps.runId,
        dryRun: deps.dryRun,
        startedAt,
        now: deps.clock.now(),
        calls: {
          cr: deps.counter.cr,
          stateReads: store.counter.reads,
          stateWrites: store.counter.writes,
          rowsWritten: store.counter.rowsWritten,
          bytesWritten: store.counter.bytesWritten,
        },
      },
      outcome,
      reports,
      problems,
      { failuresFound: tally.failures, recovered: tally.recovered, stuck: tally.stuck, muted: tally.muted, ...extra },
      posts,
    );

  const now = deps.clock.now();
  if (!deps.dryRun && heldByOther(snap.control.value.lease, deps.runId, now)) {
    log.info('another run holds the lease; leaving this tick to it', {
      holder: snap.control.value.lease?.owner,
      until: snap.control.value.lease?.until,
    });
    return summarise('locked');
  }
  // The platform stops the function 1 s after our deadline, so a lease 2 s past it outlives any run that holds it.
  const lease = new ControlLease(store, snap.control, deps.runId, deps.budget.deadline + 2_000);
  const planner = new RunPlanner(deps.plan, snap.digests, now);

  // Silences kept in the state are read once, and only by a run with something they could mute or a digest to list.
  let silencesRead: Promise<void> | undefined;
  const readSilences = () =>
    (silencesRead ??= store.silences().then((rows) => planner.addSilences(rows.map((r) => r.value))));

  /** Claims what a batch found: owed alerts, claimed failures, watched syncs, failing images, in that order. */
  const claim = async (
    instance: string,
    changes: Pick<Changes, 'handled' | 'watch' | 'unwatch' | 'failing'>,
    alerts: readonly Alert[],
  ) => {
    if (alerts.some(aboutTask)) await readSilences();
    const planned = planner.plan(alerts);
    tagOwners(alerts, changes.failing, planned.owner);
    const k = store.keys;
    const owed = planned.owed.map((o) => write.owed(k, o));
    const ops: WriteOp[] = [
      ...owed,
      ...changes.handled.map((t) => write.handled(k, instance, t.taskId, t.createTime)),
      ...changes.watch.map((w) => write.watch(k, instance, w)),
      ...changes.unwatch.map((id) => write.remove(k.watch(instance, id))),
      ...[...changes.failing].map(([key, f]) =>
        f ? write.failing(k, instance, key, f) : write.remove(k.failing(instance, key)),
      ),
    ];
    for (const m of planned.muted)
      log.info('muted by a silence', { id: m.alert.id, silence: m.silence.comment ?? JSON.stringify(m.silence) });
    if (planned.unroutable.length > 0)
      log.error('no route can send these alerts; check ROUTES', {
        count: planned.unroutable.length,
        ids: planned.unroutable.slice(0, 20).map((a) => a.id),
      });
    if (ops.length === 0) return;
    await lease.take();
    const targets = new Set(planned.owed.map((o) => o.target));
    await lease.owe(targets, now);
    const failed = new Set(await store.apply(ops, `claim ${instance}`));
    for (const o of planned.owed)
      if (!failed.has(k.outbox(o.target, o.alert.id)))
        tally.owedNow.set(o.target, (tally.owedNow.get(o.target) ?? 0) + 1);
    // An alert whose every row was already there was claimed by an earlier run (one killed before it recorded more):
    // it is owed once, and counted once.
    const already = new Set(
      planned.owed.filter((o) => failed.has(k.outbox(o.target, o.alert.id))).map((o) => o.alert.id),
    );
    const mutedNow = new Set(planned.muted.map((m) => m.alert));
    const claimedNow = alerts.filter((a) => !already.has(a.id) && !mutedNow.has(a));
    planner.count(
      claimedNow,
      planned.muted.map((m) => m.alert),
      planned.owner,
    );
    // Failures found count muted ones too: a silence keeps them from the channels, not from the summary.
    tally.failures += planned.muted.filter((m) => isFailure(m.alert) && !already.has(m.alert.id)).length;
    for (const a of claimedNow) {
      if (isFailure(a)) tally.failures += 1;
      else if (a.kind === 'recovered') tally.recovered += 1;
      else if (a.kind === 'stuck' || a.kind === 'unstuck') tally.stuck += 1;
    }
    tally.muted += planned.muted.length;
  };

  const ordered = readingOrder(instances, (i) => snap.cursors.get(i.key)?.value);
  let lost: LostRace | undefined;
  const limit = pLimit(deps.observe.settings.concurrency);
  const settled = await Promise.allSettled(
    ordered.map((inst) =>
      limit(async () => {
        const gen = observeInstance(inst, snap.cursors.get(inst.key)?.value, deps.observe);
        for (;;) {
          if (lost) throw lost;
          const r = await gen.next();
          if (r.done) return r.value;
          const j: Judged = r.value;
          const c = j.changes;
          const rules =
            c.failures.length + c.recoveries.length + c.stuck.length + c.unstuck.length > 0
              ? await j.rules()
              : undefined;
          try {
            await claim(inst.key, { ...c, failing: namedFailing(c.failing, rules) }, alertsOf(inst.key, c, rules, now));
          } catch (err) {
            // The other instances stop at their next chunk: nothing more of this run is written.
            if (err instanceof LostRace) lost = err;
            throw err;
          }
        }
      }),
    ),
  );
  for (const s of settled) {
    if (s.status === 'fulfilled') reports.push(s.value);
    else if (s.reason instanceof LostRace) lost = s.reason;
    else throw s.reason;
  }
  if (lost) {
    log.info('another run took the lease first; it announces what this run found', { detail: lost.message });
    return summarise('lost-race');
  }
  reports = instances.map((i) => reports.find((r) => r.inst.key === i.key)!);
  for (const r of reports) if (r.error) problems.push(`${r.inst.key}: ${describeError(r.error)}`);

  // The function's own sight of each instance, then the digests due: both go out with this run's message.
  for (const r of reports) {
    if (r.notice?.kind === 'blind')
      log.error('alerting is blind for an instance; telling the channels', {
        instance: r.inst.key,
        runs: r.notice.runs,
      });
    if (r.notice?.kind === 'restored')
      log.info('alerting sees the instance again', { instance: r.inst.key, runs: r.notice.runs });
  }
  const notices = reports.flatMap((r) => (r.notice ? [r.notice] : []));
  if (notices.length > 0) await claim('~', { handled: [], watch: [], unwatch: [], failing: new Map() }, notices);
  const dueDigests = planner.digestsDue(deps.forceDigest);
  if (dueDigests.length > 0) {
    await readSilences();
    const still = await stillFailing(deps, planner);
    const digests = dueDigests.map((route) =>
      planner.digest(
        route,
        still.filter((f) => f.owner === route),
      ),
    );
    await claim(
      '~',
      { handled: [], watch: [], unwatch: [], failing: new Map() },
      digests.map((d) => d.alert),
    );
  }
  const digestRows = [...planner.changed()].map(([route, d]) => write.digest(store.keys, route, d));
  if (digestRows.length > 0 && lease.isHeld) await store.apply(digestRows, 'save digest statistics');

  // Cursors last: a run killed before this point reads the same tasks again, and finds them claimed.
  const cursorOps = reports.flatMap((r) => {
    const prev = snap.cursors.get(r.inst.key);
    return r.cursor && canonicalJson(prev?.value) !== canonicalJson(r.cursor)
      ? [write.cursor(store.keys, r.inst.key, r.cursor, prev?.version ?? 0)]
      : [];
  });
  if (cursorOps.length > 0) {
    const failed = await store.apply(cursorOps, 'save cursors');
    if (failed.length > 0)
      log.warn('another run moved some cursors first; its reading stands', { rows: failed.length });
  }

  // Delivery: every target owed something, from the rows (this run's and earlier ones').
  const owedTargets = new Set([...Object.keys(lease.control.owed), ...tally.owedNow.keys()]);
  const plan = planDelivery(
    owedTargets,
    deps.targets,
    deps.dryRun ? undefined : lease.control.pauses,
    deps.clock.now(),
  );
  const stillOwed = (c: Control) => Object.values(c.owed).reduce((n, o) => n + o.count, 0);
  if (!plan.actionable && !lease.isHeld) {
    for (const [ch, p] of Object.entries(plan.pauses)) problems.push(pausedProblem(ch, p.until, p.error));
    return summarise(deps.dryRun ? 'dry-run' : 'nothing-new', { pendingDelivery: stillOwed(lease.control) });
  }
  await lease.take();
  // After a burst a target takes 100,000 rows at once: their delete operations are made a slice at a time.
  const removeRows = async (keys: readonly string[], label: string) => {
    for (let i = 0; i < keys.length; i += REMOVE_SLICE)
      await store.apply(keys.slice(i, i + REMOVE_SLICE).map(write.remove), label);
  };
  // One target's delivery in a function of its own: the row keys it took (100,000 after a burst) go when it returns. A
  // local of this function's loop would stay in its suspended frame while the next target reads what it is owed.
  const deliverOne = async (target: Target, readFloorMs: number): Promise<Omit<TargetResult, 'done'>> => {
    const { done, ...r } = await deliverTo(target, store.owed(target.id), {
      now: deps.clock.now(),
      budget: deps.budget,
      log,
      previousPause: lease.control.pauses[target.id],
      owedSince: lease.control.owed[target.id]?.since,
      readFloorMs,
    });
    await removeRows(done, `clear what ${target.id} took`);
    if (r.expired > 0)
      log.error('giving up alerts no channel accepted for 7 days', { target: target.id, count: r.expired });
    return r;
  };
  const results = new Map<string, Omit<TargetResult, 'done'>>();
  for (const d of plan.due)
    if (d.paused)
      log.info('channel paused; its alerts wait', {
        target: d.target.id,
        until: new Date(d.paused.until).toISOString(),
      });
  // Reading stops with half the reserve left, and until then each target may read for its share of the time left: a
  // channel owed a great deal (or dead, and slow to fail) cannot leave the ones after it no time at all.
  const floor = readFloorOf(deps.budget);
  const sending = plan.due.filter((d) => !d.paused);
  for (const [i, d] of sending.entries()) {
    const after = sending.length - i - 1;
    const spare = Math.max(0, deps.budget.remaining() - floor);
    results.set(d.target.id, await deliverOne(d.target, floor + (spare * after) / (after + 1)));
  }
  // A channel no longer configured loses what it was owed, a page at a time (nothing of it is sent, and a dead
  // channel's week can be 700,000 rows); what the run has no time for stays counted, and the next run goes on.
  const dropping = new Map<string, number>();
  for (const gone of plan.unroutable) {
    let count = 0;
    for await (const page of store.owed(gone)) {
      if (deps.budget.remaining() < floor) {
        dropping.set(gone, Math.max(1, (lease.control.owed[gone]?.count ?? 0) - count));
        break;
      }
      await removeRows(
        page.map((p) => p.key),
        `drop what ${gone} was owed`,
      );
      count += page.length;
    }
    log.warn(
      dropping.has(gone)
        ? 'alerts pending only for a channel no longer configured are being removed; the rest next run'
        : 'alerts pending only for a channel no longer configured were removed',
      { target: gone, count },
    );
  }
  const next = afterDelivery(
    lease.control,
    plan.due.map((d) => d.target.id),
    results,
    tally.owedNow,
    plan.pauses,
    now,
    dropping,
  );
  await lease.release(next);

  const notified: Record<string, number> = {};
  let expired = 0;
  for (const [target, r] of results) {
    notified[target] = r.delivered;
    expired += r.expired;
    if (r.error) problems.push(r.pause ? pausedProblem(target, r.pause.until, r.error) : `${target}: ${r.error}`);
  }
  for (const d of plan.due) if (d.paused) problems.push(pausedProblem(d.target.id, d.paused.until, d.paused.error));
  if (expired > 0) problems.push(`${expired} alerts were given up after 7 days undelivered`);
  const posts = [...results.values()].filter((r) => r.delivered > 0).length;
  return summarise(
    deps.dryRun ? 'dry-run' : 'completed',
    { notified, pendingDelivery: stillOwed({ ...next, owed: next.owed }) },
    posts,
  );
}

/**
 * The control row after delivery: a target whose rows were all taken leaves the owed list, one delivery could not
 * reach keeps its rows counted (as read, or as before plus what this run added); pauses are kept or set. A target
 * with rows left past its message stays owed: counted as before less what went (at least what is known to be left),
 * and, when the message went, owed from now (the channel works: a later failure starts its backoff afresh). A channel
 * no longer configured whose rows were not all removed stays counted (`dropping`), so the next run removes the rest.
 */
function afterDelivery(
  c: Control,
  configured: readonly string[],
  results: ReadonlyMap<string, Omit<TargetResult, 'done'>>,
  added: ReadonlyMap<string, number>,
  inForce: Record<string, ChannelPause>,
  now: number,
  dropping: ReadonlyMap<string, number>,
): Omit<Control, 'lease'> {
  const owed: Control['owed'] = {};
  for (const [t, o] of Object.entries(c.owed)) {
    const r = results.get(t);
    const left = dropping.get(t);
    if (left !== undefined) {
      owed[t] = { since: o.since, count: left };
      continue;
    }
    if (r?.more) {
      owed[t] = {
        since: r.delivered > 0 ? now : o.since,
        count: Math.max(r.pending + 1, o.count + (added.get(t) ?? 0) - r.delivered - r.expired),
      };
    } else if (r) {
      if (r.pending > 0) owed[t] = { since: o.since, count: r.pending };
    } else if (configured.includes(t)) owed[t] = { since: o.since, count: o.count + (added.get(t) ?? 0) };
  }
  const pauses: Record<string, ChannelPause> = { ...inForce };
  for (const [t, r] of results) {
    if (r.pause) pauses[t] = r.pause;
    else delete pauses[t];
  }
  for (const [t, p] of Object.entries(pauses)) if (p.until <= now) delete pauses[t];
  return { owed, pauses };
}

/** Every image still failing on every instance, with the route its digest belongs to. */
async function stillFailing(deps: RunDeps, planner: RunPlanner): Promise<(StillFailing & { owner: string })[]> {
  const out: (StillFailing & { owner: string })[] = [];
  const now = deps.clock.now();
  for (const inst of deps.observe.settings.instances) {
    for await (const page of deps.store.failingAll(inst.key)) {
      for (const f of page) {
        if (f.held || now - f.lastFailure > 7 * 24 * 3_600_000) continue;
        out.push({
          instance: inst.key,
          since: f.since,
          issue: f.issue,
          taskId: f.taskId,
          ...(f.image ? { image: f.image } : {}),
          ...(f.target ? { target: f.target } : {}),
          ...(f.rule ? { rule: f.rule } : {}),
          owner: planner.ownerOf(f.route),
        });
      }
    }
  }
  return out;
}

const pausedProblem = (channel: string, until: number, error: string) =>
  `${channel}: paused until ${new Date(until).toISOString()} after: ${error}`;
