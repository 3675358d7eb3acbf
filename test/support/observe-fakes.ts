import type { CrApi, TaskFilter } from '../../src/acr/client.js';
import {
  observeInstance,
  type InstanceReport,
  type Judged,
  type ObserveSettings,
  type StateLookups,
} from '../../src/detect/observe.js';
import { Budget, type Clock } from '../../src/lib/budget.js';
import type { Fields, Level, Logger } from '../../src/lib/log.js';
import type { Cursor, FailingImage, KeptRules, WatchedSync } from '../../src/model/state.js';
import type { SyncRule, SyncTask } from '../../src/model/task.js';

export const MIN = 60_000;
export const H = 60 * MIN;
/** 2027-01-15 08:00 UTC. */
export const T0 = 1_800_000_000_000;
export const INST = { regionId: 'cn-hangzhou', instanceId: 'cri-x', key: 'cn-hangzhou:cri-x' };
export const SETTINGS: ObserveSettings = {
  instances: [INST],
  pageSize: 10,
  maxPages: 5,
  concurrency: 1,
  lookbackMs: 6 * H,
  discoveryMs: 0,
  blindAfterRuns: 3,
  stuckAfterMs: 2 * H,
};

/** A sync task of `ns/<id>:v1`, pushed alone (its own SyncRecordId) unless told otherwise. */
export function task(id: string, createTime: number, status = 'SUCCESS', over: Partial<SyncTask> = {}): SyncTask {
  return {
    taskId: id,
    status,
    issue: status === 'ERROR' ? 'TAG_CONFLICT' : '',
    trigger: 'PASSIVE',
    createTime,
    crossUser: false,
    batchId: `rsbt-${id}`,
    ruleId: 'crsr-1',
    from: { instanceId: 'cri-x', regionId: 'cn-hangzhou', namespace: 'ns', repo: id, tag: 'v1' },
    to: { instanceId: 'cri-y', regionId: 'cn-shanghai', namespace: 'ns', repo: id, tag: 'v1' },
    ...over,
  };
}

export const watching = (t: SyncTask, over: Partial<WatchedSync> = {}): WatchedSync => ({
  task: t,
  firstSeen: t.createTime,
  savedAt: t.createTime,
  ...over,
});

export interface CrCall {
  pageNo: number;
  pageSize: number;
  timeoutMs: number;
  filter?: TaskFilter;
}

/**
 * An instance's CR API: its task list served newest first unless told (filtered as ListRepoSyncTask filters), its sync rules,
 * and every call it was asked, as CR would have seen it. `before` runs ahead of each call (to fail it, or to let time
 * pass while it runs).
 */
export function fakeCr(
  tasks: SyncTask[],
  opts: {
    rules?: SyncRule[] | (() => SyncRule[]);
    dropped?: string[];
    before?: (call: CrCall & { kind: 'tasks' | 'rules' }) => void;
    page?: (call: CrCall, items: SyncTask[]) => SyncTask[];
    /** Oldest first instead of newest first. */
    order?: 'asc';
    /** What TotalCount says, given the true count (a service may cap it, zero it, or overstate it). */
    totalCount?: (actual: number) => number;
  } = {},
) {
  const taskCalls: CrCall[] = [];
  const ruleCalls: CrCall[] = [];
  const matches = (t: SyncTask, f?: TaskFilter) =>
    !f ||
    ((f.syncRecordId === undefined || t.batchId === f.syncRecordId) &&
      (f.tag === undefined || t.from.tag === f.tag) &&
      (f.repo === undefined || t.from.repo === f.repo) &&
      (f.namespace === undefined || t.from.namespace === f.namespace));
  const api: CrApi = {
    async listSyncTasks({ pageNo, pageSize, timeoutMs, filter }) {
      const call = { pageNo, pageSize, timeoutMs, ...(filter ? { filter } : {}) };
      opts.before?.({ ...call, kind: 'tasks' });
      taskCalls.push(call);
      const all = tasks
        .filter((t) => matches(t, filter))
        .sort((a, b) => (opts.order === 'asc' ? a.createTime - b.createTime : b.createTime - a.createTime));
      const items = all.slice((pageNo - 1) * pageSize, pageNo * pageSize);
      return {
        items: opts.page ? opts.page(call, items) : items,
        pageNo,
        pageSize,
        totalCount: opts.totalCount ? opts.totalCount(all.length) : all.length,
        dropped: pageNo === 1 && !filter ? (opts.dropped ?? []) : [],
      };
    },
    async listSyncRules({ pageNo, pageSize, timeoutMs }) {
      opts.before?.({ pageNo, pageSize, timeoutMs, kind: 'rules' });
      ruleCalls.push({ pageNo, pageSize, timeoutMs });
      const all = typeof opts.rules === 'function' ? opts.rules() : (opts.rules ?? []);
      return {
        items: all.slice((pageNo - 1) * pageSize, pageNo * pageSize),
        pageNo,
        pageSize,
        totalCount: all.length,
        dropped: [],
      };
    },
  };
  return { api, taskCalls, ruleCalls, tasks };
}

/**
 * The store as observing reads it: watched rows, claimed failures, failing-image rows, sync rules kept (in `kept`, by
 * instance key); and the lookups asked of it.
 */
export function fakeStore(
  o: { watched?: WatchedSync[]; handled?: string[]; failing?: Map<string, FailingImage>; watchedFails?: unknown } = {},
) {
  const lookups: { taskIds: string[]; imageKeys: string[] }[] = [];
  const kept = new Map<string, KeptRules>();
  const store: StateLookups = {
    keptRules: async (instance) => kept.get(instance),
    keepRules: async (instance, k) => void kept.set(instance, k),
    async watched() {
      if (o.watchedFails) throw o.watchedFails;
      return o.watched ?? [];
    },
    async lookup(_instance, taskIds, imageKeys) {
      lookups.push({ taskIds: [...taskIds], imageKeys: [...imageKeys] });
      const failing = new Map<string, FailingImage>();
      for (const k of imageKeys) {
        const f = o.failing?.get(k);
        if (f) failing.set(k, f);
      }
      return { handled: new Set((o.handled ?? []).filter((id) => taskIds.includes(id))), failing };
    },
  };
  return { store, lookups, kept };
}

export interface LogLine {
  level: Level;
  msg: string;
  fields?: Fields;
}

export function recordingLog(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: Level) => (msg: string, fields?: Fields) =>
    void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A clock tests can move while a run is under way (a CR call that takes time). */
export function movableClock(start: number): Clock & { t: number } {
  const c = { t: start, now: () => c.t };
  return c;
}

export interface RunOptions {
  prev?: Cursor;
  store?: StateLookups;
  settings?: Partial<ObserveSettings>;
  clock?: Clock & { t: number };
  /** Ms of fetch time the run has (the budget keeps a further 5 s for delivery). */
  fetchMs?: number;
  log?: Logger & { lines: LogLine[] };
  /** Handed to observing as the run's abort signal. */
  signal?: AbortSignal;
  /** Called with each chunk as the run receives it, before it asks for the next (a claim, say). */
  onChunk?: (j: Judged) => void;
}

/** One run over the instance at `now`: every judged chunk it yielded, in order, and its report. */
export async function observeRun(cr: CrApi, now: number, o: RunOptions = {}) {
  const clock = o.clock ?? movableClock(now);
  clock.t = now;
  const log = o.log ?? recordingLog();
  const gen = observeInstance(INST, o.prev, {
    crFor: () => cr,
    store: o.store ?? fakeStore().store,
    clock,
    budget: new Budget(clock, now + (o.fetchMs ?? 60_000) + 5_000, 5_000),
    log,
    settings: { ...SETTINGS, ...o.settings },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const chunks: Judged[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { chunks, report: r.value as InstanceReport, log: log.lines };
    chunks.push(r.value);
    o.onChunk?.(r.value);
  }
}

/** Ids of the failures a run announced, in the order it announced them. */
export const failuresOf = (chunks: readonly Judged[]) => chunks.flatMap((j) => j.changes.failures.map((t) => t.taskId));
/** The watched syncs a run leaves, from what it started with and the rows its chunks write. */
export function watchedAfter(start: readonly WatchedSync[], chunks: readonly Judged[]): WatchedSync[] {
  const m = new Map(start.map((w) => [w.task.taskId, w]));
  for (const j of chunks) {
    for (const w of j.changes.watch) m.set(w.task.taskId, w);
    for (const id of j.changes.unwatch) m.delete(id);
  }
  return [...m.values()];
}
