import type { InstanceReport } from '../detect/observe.js';
import type { Clock } from '../lib/budget.js';
import type { Logger } from '../lib/log.js';
import type { InstanceRef } from '../model/task.js';
import { stillFailingOf, type StillFailing } from '../plan/digest.js';
import type { RunPlanner } from '../plan/plan.js';
import type { StateStore } from '../state/store.js';
import { claim, noRows, type ClaimContext } from './claim.js';

/** What raising notices and digests reads. */
export interface NoticesInput {
  claims: ClaimContext;
  reports: readonly InstanceReport[];
  store: Pick<StateStore, 'failingAll' | 'saveDigests'>;
  instances: readonly InstanceRef[];
  /** Send every route's digest whatever the schedule. */
  forceDigest: boolean;
  clock: Clock;
}

/**
 * Claims the function's own sight of each instance (alerting blind there, or seeing it again) and the conditions that
 * keep runs from their work there (begun or ended, see `withLags`), then the digests due:
 * both go out with this run's message. Then saves the digest statistics this run changed, when it holds the lease
 * (a run that claimed nothing writes nothing).
 */
export async function raiseNoticesAndDigests(input: NoticesInput): Promise<void> {
  const { claims } = input;
  logNotices(input.reports, claims.log);
  const notices = input.reports.flatMap((r) => [...(r.notice ? [r.notice] : []), ...(r.lagNotices ?? [])]);
  if (notices.length > 0) await claim(claims, { instance: '~', changes: noRows(), alerts: notices });
  const due = claims.planner.digestsDue(input.forceDigest);
  if (due.length > 0) {
    await claims.readSilences();
    const still = await stillFailing(input.store, input.instances, claims.planner, input.clock.now());
    const digests = due.map((route) =>
      claims.planner.digest(
        route,
        still.filter((f) => f.owner === route),
      ),
    );
    await claim(claims, { instance: '~', changes: noRows(), alerts: digests.map((d) => d.alert) });
  }
  if (claims.lease.isHeld) await input.store.saveDigests(claims.planner.changed());
}

function logNotices(reports: readonly InstanceReport[], log: Logger): void {
  for (const r of reports) {
    for (const n of r.lagNotices ?? []) {
      const fields = { instance: r.inst.key, condition: n.condition, since: new Date(n.since).toISOString() };
      if (n.kind === 'blind') log.error('alerting is behind for an instance; telling the channels', fields);
      else log.info('alerting works again for an instance; telling the channels', fields);
    }
    if (r.notice?.kind === 'blind')
      log.error('alerting is blind for an instance; telling the channels', {
        instance: r.inst.key,
        runs: r.notice.runs,
      });
    if (r.notice?.kind === 'restored')
      log.info('alerting sees the instance again', { instance: r.inst.key, runs: r.notice.runs });
  }
}

/** Every image still failing on every instance, with the route whose digest lists it. */
async function stillFailing(
  store: Pick<StateStore, 'failingAll'>,
  instances: readonly InstanceRef[],
  planner: RunPlanner,
  now: number,
): Promise<(StillFailing & { owner: string })[]> {
  const out: (StillFailing & { owner: string })[] = [];
  for (const inst of instances) {
    for await (const page of store.failingAll(inst.key)) {
      for (const f of page) {
        const listed = stillFailingOf(inst.key, f, now);
        if (listed) out.push({ ...listed, owner: planner.ownerOf(f.route) });
      }
    }
  }
  return out;
}
