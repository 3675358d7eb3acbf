import type { CrApi } from '../../src/acr/client.js';
import { silenceReader, type ClaimContext } from '../../src/handler/claim.js';
import type { RunDeps } from '../../src/handler/deps.js';
import { ControlLease } from '../../src/handler/lease.js';
import type { ObserveSettings } from '../../src/detect/observe.js';
import { runOnce, type RunSummary } from '../../src/handler/run.js';
import { emptyTally } from '../../src/handler/tally.js';
import { Budget, type Clock } from '../../src/lib/budget.js';
import type { Logger } from '../../src/lib/log.js';
import { silentLogger } from '../../src/lib/log.js';
import type { ChannelName } from '../../src/model/lang.js';
import type { Route } from '../../src/model/route.js';
import type { Silence } from '../../src/model/silence.js';
import type { Control } from '../../src/model/state.js';
import type { InstanceRef, SyncTask } from '../../src/model/task.js';
import type { Delivered } from '../../src/notify/after-delivery.js';
import type { Target } from '../../src/notify/deliver.js';
import type { Notifier } from '../../src/notify/types.js';
import { RunPlanner } from '../../src/plan/plan.js';
import { emptyControl } from '../../src/state/rows.js';
import { StateStore } from '../../src/state/store.js';
import { MemoryTable } from '../../src/state/table.js';
import { defaultRoute } from './build.js';
import { fakeCr, INST, movableClock, recordingLog, SETTINGS } from './observe-fakes.js';
import { readState } from './state.js';

/** A notifier that takes every message, keeping what it was sent. */
export function acceptingNotifier(channel: ChannelName): Notifier & { sent: unknown[] } {
  const sent: unknown[] = [];
  return { channel, fingerprint: channel, sent, send: async (payload) => void sent.push(payload) };
}

/**
 * Whole runs (`runOnce`) over an in-memory table, a fake CR instance serving `tasks`, and the default route's two
 * channels, each run at a moment the test picks: what several runs in a row leave in the state can be read back.
 */
export function runHarness(o: {
  tasks: SyncTask[];
  notifiers: Partial<Record<ChannelName, Notifier>>;
  /** Ms each run has before its deadline (60 s unless told), of which `reserveMs` are kept for delivery. */
  timeoutMs?: number;
  reserveMs?: number;
  log?: Logger;
  /** How the fake CR instance answers besides its tasks (e.g. `before` each call, to fail it or act meanwhile). */
  cr?: Parameters<typeof fakeCr>[1];
  /** The clock every run reads (a notifier may move it, as a slow webhook takes time). */
  clock?: Clock & { t: number };
  /**
   * The instances watched (INST unless told): each has a fake CR of its own serving the tasks whose source is that
   * instance (`from.instanceId`), and answering as `cr` says.
   */
  instances?: readonly InstanceRef[];
  /**
   * Observing settings over the shared test SETTINGS (the instances are `instances`), read at each run: a test may
   * change them between runs (e.g. raise `maxPages`).
   */
  settings?: Partial<ObserveSettings>;
  /** Settings of the default route over the harness's (its mentions, escalation...). */
  route?: Partial<Route>;
}) {
  const table = new MemoryTable('memory, run harness');
  const clock = o.clock ?? movableClock(0);
  const store = new StateStore(table, 'harness', (_label, fn) => fn(5_000), clock.now);
  const instances = o.instances ?? [INST];
  const crs = new Map(
    instances.map((i) => [
      i.instanceId,
      fakeCr(o.instances ? o.tasks.filter((t) => t.from.instanceId === i.instanceId) : o.tasks, o.cr),
    ]),
  );
  const crOf = (instanceId: string) => crs.get(instanceId) ?? fakeCr([], o.cr);
  const router: CrApi = {
    listSyncTasks: (req) => crOf(req.instanceId).api.listSyncTasks(req),
    listSyncRules: (req) => crOf(req.instanceId).api.listSyncRules(req),
  };
  const route: Route = { ...defaultRoute((['dingtalk', 'slack'] as const).filter((c) => o.notifiers[c])), ...o.route };
  const targets: Target[] = (['dingtalk', 'slack'] as const).flatMap((c) =>
    o.notifiers[c] ? [{ id: c, route, notifier: o.notifiers[c] }] : [],
  );
  const log = o.log ?? silentLogger;
  return {
    table,
    clock,
    store,
    /** Each instance's fake CR, by instance id: the calls it was asked. */
    crs,
    /** The first instance's fake CR (INST's unless told). */
    cr: crs.get(instances[0]!.instanceId)!,
    /** One run starting at `at`. */
    async run(at: number): Promise<RunSummary> {
      clock.t = at;
      const budget = new Budget(clock, at + (o.timeoutMs ?? 60_000), o.reserveMs ?? 12_000);
      const deps: RunDeps = {
        clock,
        budget,
        log,
        store,
        targets,
        runId: `run-${at}`,
        dryRun: false,
        forceDigest: false,
        counter: { cr: 0 },
        observe: {
          store,
          clock,
          budget,
          log,
          settings: { ...SETTINGS, ...o.settings, instances },
          crFor: () => router,
        },
        plan: { routes: [route], silences: [] },
      };
      return runOnce(deps);
    },
    /** The control row as the last run left it. */
    async control(): Promise<Control> {
      return (await readState(table, 'harness', [INST.key])).control;
    },
  };
}

/**
 * What claiming works with, over an in-memory table at `now`: a store, a lease on an empty control row, a planner of
 * `routes` (the default route with both channels unless told) and `silences`, an empty tally and a recording log.
 */
export function claimHarness(o: { now: number; routes?: Route[]; silences?: Silence[] }) {
  const table = new MemoryTable('memory, claims');
  const store = new StateStore(
    table,
    'harness',
    (_label, fn) => fn(5_000),
    () => o.now,
  );
  const lease = new ControlLease(store, { value: emptyControl(), version: 0 }, 'run-1', o.now + 60_000);
  const planner = new RunPlanner(
    { routes: o.routes ?? [defaultRoute()], silences: o.silences ?? [] },
    new Map(),
    o.now,
  );
  const log = recordingLog();
  const ctx: ClaimContext = {
    store,
    lease,
    planner,
    tally: emptyTally(),
    log,
    now: o.now,
    readSilences: silenceReader(store, planner),
  };
  return { ctx, table, store, lease, planner, log, state: () => readState(table, 'harness', [INST.key]) };
}

/** What one target's delivery did: nothing delivered, nothing still owed, nothing given up, unless told. */
export const delivered = (over: Partial<Delivered> = {}): Delivered => ({
  delivered: 0,
  stillOwed: 0,
  expired: 0,
  more: false,
  ...over,
});
