import { createHash } from 'node:crypto';
import { ROW_REFRESH_MS, type Cursor, type FailingImage, type WatchedSync } from '../model/state.js';
import { isSettled, type SyncTask } from '../model/task.js';
import { classify } from './classify.js';
import { CLOCK_SKEW_MS, OVERLAP_MS } from './list.js';

/** Why a task did or did not become an alert; counted per run so that a log line can say why. */
export type Reason =
  | 'new-failure'
  | 'already-announced'
  | 'before-window'
  | 'still-running'
  | 'succeeded'
  | 'canceled'
  | 'unknown-status'
  | 'held-transient'
  | 'watch-limit';

/** A failing image whose sync succeeded later. */
export interface Recovery {
  success: SyncTask;
  failure: Pick<FailingImage, 'since' | 'taskId' | 'issue'>;
  /** The failure itself was never announced: it failed and recovered before a run could say so. */
  sameRun: boolean;
}

export interface DetectOptions {
  /** A task PENDING or SYNCHRONIZING longer than this is stuck. */
  stuckAfterMs: number;
  /**
   * Transient causes (NETWORK_ERROR, INTERNAL_ERROR) are held back until the same image failed `minFailures` times
   * within `windowMs`, or has been failing for `persistMs`. `minFailures` 1 announces every failure at once.
   */
  transient?: { minFailures: number; windowMs: number; persistMs: number };
}

/** Tasks to judge, as the scan (or a re-check) read them. */
export interface Batch {
  tasks: readonly SyncTask[];
  /** Tasks created before this are outside the window, unless watched. */
  lo: number;
  /** Only unfinished syncs are wanted (below the first look-back). */
  watchOnly: boolean;
}

/** What the store knows of a batch's tasks and images: claimed failures, and failing-image rows. */
export interface Known {
  handled: ReadonlySet<string>;
  failing: ReadonlyMap<string, FailingImage>;
}

/** What a batch means, and the rows it changes. */
export interface Changes {
  failures: SyncTask[];
  recoveries: Recovery[];
  /** Tasks to announce as stuck now, and stuck tasks that finished (`unstuck`). */
  stuck: SyncTask[];
  unstuck: SyncTask[];
  /** Failures claimed now: each gets a row saying so, while it can still be re-read. */
  handled: SyncTask[];
  watch: WatchedSync[];
  unwatch: string[];
  /** Failing-image rows to write, by image key; null deletes one. */
  failing: Map<string, FailingImage | null>;
  reasons: Record<Reason, number>;
  unknownStatuses: string[];
}

const RUNNING = new Set(['PENDING', 'SYNCHRONIZING']);
/** A failing image is remembered this long after its last failure, for its recovery notice. */
export const FAILING_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Watched syncs per instance: beyond this, new unfinished syncs are counted in the summary, not watched. */
export const MAX_WATCHED = 5_000;
/** Transient failures held back per instance: beyond this, one is announced at once rather than held. */
export const MAX_HELD = 2_000;
/** Settled task ids remembered from the overlap; in a burst beyond this, late arrivals are told apart by lookups. */
export const MAX_RECENT = 1_000;
/** Characters of a settled task's hash in the cursor's `seen`. */
const SEEN_CHARS = 8;

/** A task id as the cursor's `seen` keeps it: 48 bits of its SHA-256, base64url. */
export const seenHash = (taskId: string): string =>
  createHash('sha256').update(taskId).digest('base64url').slice(0, SEEN_CHARS);
const seenOf = (c: Cursor | undefined): string[] => [
  ...(c?.recent ?? []).map(seenHash),
  ...Array.from({ length: Math.floor((c?.seen?.length ?? 0) / SEEN_CHARS) }, (_, i) =>
    c!.seen!.slice(i * SEEN_CHARS, (i + 1) * SEEN_CHARS),
  ),
];

/**
 * What "the same image" means for recovery: the same sync rule to the same target repository and tag. Hashed to 16
 * characters: a burst after an outage remembers thousands of these.
 */
export function imageKey(t: SyncTask): string {
  return createHash('sha256')
    .update(`${t.ruleId ?? ''}|${t.to.regionId}/${t.to.instanceId}|${t.to.namespace}/${t.to.repo}:${t.to.tag}`)
    .digest('base64url')
    .slice(0, 16);
}

export const zeroReasons = (): Record<Reason, number> => ({
  'new-failure': 0,
  'already-announced': 0,
  'before-window': 0,
  'still-running': 0,
  succeeded: 0,
  canceled: 0,
  'unknown-status': 0,
  'held-transient': 0,
  'watch-limit': 0,
});
const emptyChanges = (): Changes => ({
  failures: [],
  recoveries: [],
  stuck: [],
  unstuck: [],
  handled: [],
  watch: [],
  unwatch: [],
  failing: new Map(),
  reasons: zeroReasons(),
  unknownStatuses: [],
});

/**
 * Decides, one batch at a time and in whatever order batches come, which tasks are failures not announced before,
 * which failing images recovered, which syncs are stuck or finished, and which rows that changes. Pure: what the store
 * holds is handed in (`Known`), and the batches of one run share what they learned (a success read before an older
 * failure of the same image makes that failure a recovery).
 * - An `ERROR` task is a new failure unless a run claimed it before (or this one did).
 * - A `SUCCESS` later than a remembered failure of the same image is a recovery; a failure that recovered within the
 *   same run is reported only as recovered.
 * - Unfinished syncs (and undocumented statuses, defensively) are watched, at most MAX_WATCHED; one unfinished longer
 *   than `stuckAfterMs` is stuck, once.
 */
export class InstanceDetector {
  /** Watched syncs, as they stand after the batches so far. */
  readonly watched: Map<string, WatchedSync>;
  /** Held transient failures: image key -> when the image began failing. */
  readonly held: Map<string, number>;
  private readonly claimed = new Set<string>();
  private readonly known: ReadonlySet<string>;
  /** Settled tasks judged near the newest time read, for the cursor's `recent`. */
  private readonly settled = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;
  private readonly successAt = new Map<string, number>();
  private readonly failingNow = new Map<string, FailingImage | null>();

  constructor(
    private readonly prev: Cursor | undefined,
    watched: readonly WatchedSync[],
    private readonly now: number,
    private readonly opts: DetectOptions,
  ) {
    this.watched = new Map(watched.map((w) => [w.task.taskId, w]));
    this.held = new Map(Object.entries(prev?.held ?? {}));
    this.known = new Set(seenOf(prev));
  }

  /** A settled task the last run judged in the overlap it reads again: nothing more to learn from it. */
  private seenBefore(t: SyncTask): boolean {
    // Hashed last: in a burst this runs for every task read.
    return (
      isSettled(t.status) && !this.watched.has(t.taskId) && this.known.size > 0 && this.known.has(seenHash(t.taskId))
    );
  }

  private remember(t: SyncTask): void {
    if (this.suspect(t)) return;
    if (t.createTime > this.newest) {
      this.newest = t.createTime;
      for (const [id, at] of this.settled) if (at < this.newest - OVERLAP_MS) this.settled.delete(id);
    }
    if (t.createTime >= this.newest - OVERLAP_MS && this.settled.size < MAX_RECENT)
      this.settled.set(t.taskId, t.createTime);
  }

  /** The claimed-failure and failing-image rows a batch needs looked up. */
  needs(batch: Batch): { taskIds: string[]; imageKeys: string[] } {
    const taskIds: string[] = [];
    const imageKeys = new Set<string>();
    const top = this.prev?.top;
    for (const t of batch.tasks) {
      if (!this.judged(t, batch) || this.seenBefore(t)) continue;
      // A failure can only have been claimed if an earlier read saw it: created no later than the newest time read,
      // or with a time that never moved the watermark, or a watched sync re-read.
      if (
        t.status === 'ERROR' &&
        ((top !== undefined && t.createTime <= top) || this.suspect(t) || this.watched.has(t.taskId))
      )
        taskIds.push(t.taskId);
      if ((t.status === 'ERROR' || t.status === 'SUCCESS') && !this.failingNow.has(imageKey(t)))
        imageKeys.add(imageKey(t));
    }
    return { taskIds, imageKeys: [...imageKeys] };
  }

  private suspect(t: SyncTask): boolean {
    return t.timeInSeconds === true || t.createTime > this.now + CLOCK_SKEW_MS;
  }

  /** Whether a task of this batch is judged at all: inside the window, or watched; below the look-back only if unfinished. */
  private judged(t: SyncTask, batch: Batch): boolean {
    if (this.watched.has(t.taskId)) return true;
    if (t.createTime < batch.lo) return false;
    return !batch.watchOnly || !isSettled(t.status);
  }

  /** The failing-image row as this run last left it, or as the store holds it (one stored past its age is gone). */
  private failingRow(key: string, known: Known): FailingImage | undefined {
    if (this.failingNow.has(key)) return this.failingNow.get(key) ?? undefined;
    const f = known.failing.get(key);
    return f && this.now - f.lastFailure <= FAILING_MAX_AGE_MS ? f : undefined;
  }

  private setFailing(c: Changes, key: string, f: FailingImage | null): void {
    this.failingNow.set(key, f && !f.held ? withoutLabels(f) : f);
    c.failing.set(key, f);
    if (!f?.held) this.held.delete(key);
    else if (this.held.has(key) || this.held.size < MAX_HELD) this.held.set(key, f.since);
  }

  /** Judges one batch; `known` holds what `needs(batch)` asked for. */
  take(batch: Batch, known: Known): Changes {
    const c = emptyChanges();
    const newHere = new Set<string>();
    const unknown = new Set<string>();
    // Oldest first, so a failure and a later success of the same image in one batch read as "failed, then recovered".
    for (const t of [...batch.tasks].sort((a, b) => a.createTime - b.createTime)) {
      if (!this.judged(t, batch)) {
        c.reasons['before-window'] += 1;
        continue;
      }
      const was = this.watched.get(t.taskId);
      if (isSettled(t.status)) this.remember(t);
      if (this.seenBefore(t)) {
        c.reasons[t.status === 'ERROR' ? 'already-announced' : t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
        continue;
      }
      if (t.status === 'ERROR') {
        this.unwatch(c, t.taskId);
        if (known.handled.has(t.taskId) || this.claimed.has(t.taskId)) {
          c.reasons['already-announced'] += 1;
          continue;
        }
        this.claimed.add(t.taskId);
        c.handled.push(t);
        c.reasons['new-failure'] += 1;
        this.failure(c, t, known, newHere);
      } else if (t.status === 'SUCCESS' || t.status === 'CANCELED') {
        this.unwatch(c, t.taskId);
        c.reasons[t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
        if (was?.stuck) c.unstuck.push(t);
        if (t.status === 'SUCCESS') this.success(c, t, known, newHere);
      } else {
        if (!RUNNING.has(t.status)) unknown.add(t.status || '(empty)');
        this.running(c, t, was);
      }
    }
    c.unknownStatuses = [...unknown];
    return c;
  }

  private failure(c: Changes, t: SyncTask, known: Known, newHere: Set<string>): void {
    const key = imageKey(t);
    const laterSuccess = this.successAt.get(key);
    if (laterSuccess !== undefined && laterSuccess > t.createTime) {
      // A newer success of this image was already read this run: it failed and recovered before anyone was told.
      c.recoveries.push({
        success: this.lastSuccess.get(key)!,
        failure: { since: t.createTime, taskId: t.taskId, issue: t.issue },
        sameRun: true,
      });
      return;
    }
    const f = this.failingRow(key, known);
    const tr = this.opts.transient;
    const since = Math.min(f?.since ?? t.createTime, t.createTime);
    const base: FailingImage = {
      since,
      lastFailure: Math.max(f?.lastFailure ?? t.createTime, t.createTime),
      taskId: t.createTime >= (f?.lastFailure ?? 0) ? t.taskId : f!.taskId,
      issue: t.createTime >= (f?.lastFailure ?? 0) ? t.issue : f!.issue,
      ...(f?.route ? { route: f.route } : {}),
      image: imageOf(t.from),
      target: targetOf(t),
      ...(t.ruleId ? { rule: t.ruleId } : {}),
    };
    if (!tr || tr.minFailures <= 1 || !classify(t.issue).transient) {
      this.setFailing(c, key, base);
      c.failures.push(t);
      newHere.add(t.taskId);
      return;
    }
    // Transient: count the failures of this image within the window, whatever order they are read in.
    const recent = [...(f?.recent ?? (f ? [f.lastFailure] : [])), t.createTime]
      .sort((a, b) => a - b)
      .slice(-tr.minFailures);
    const latest = recent[recent.length - 1]!;
    const repeated = recent.length >= tr.minFailures && latest - recent[0]! <= tr.windowMs;
    const persisted = latest - since >= tr.persistMs;
    const newest = f?.held && f.held.createTime > t.createTime ? f.held : t;
    const canHold = this.held.has(key) || this.held.size < MAX_HELD;
    if (!repeated && !persisted && canHold) {
      // Not announced yet: a transient cause usually passes; it is announced if it repeats or persists.
      this.setFailing(c, key, { ...base, recent, held: newest });
      c.reasons['held-transient'] += 1;
      return;
    }
    this.setFailing(c, key, { ...base, recent });
    c.failures.push(newest);
    newHere.add(newest.taskId);
  }

  private readonly lastSuccess = new Map<string, SyncTask>();

  private success(c: Changes, t: SyncTask, known: Known, newHere: Set<string>): void {
    const key = imageKey(t);
    if ((this.successAt.get(key) ?? Number.NEGATIVE_INFINITY) < t.createTime) {
      this.successAt.set(key, t.createTime);
      this.lastSuccess.set(key, t);
    }
    const f = this.failingRow(key, known);
    if (!f || t.createTime <= f.lastFailure) return;
    // A failure that was held back and never announced recovers quietly.
    if (!f.held) {
      const sameRun = newHere.has(f.taskId);
      c.recoveries.push({ success: t, failure: f, sameRun });
      if (sameRun) c.failures = c.failures.filter((x) => x.taskId !== f.taskId);
    }
    this.setFailing(c, key, null);
  }

  private running(c: Changes, t: SyncTask, was: WatchedSync | undefined): void {
    const isStuck = this.now - t.createTime > this.opts.stuckAfterMs;
    if (isStuck && !was?.stuck) c.stuck.push(t);
    c.reasons[RUNNING.has(t.status) ? 'still-running' : 'unknown-status'] += 1;
    if (!was && this.watched.size >= MAX_WATCHED) {
      c.reasons['watch-limit'] += 1;
      return;
    }
    const next: WatchedSync = {
      task: t,
      firstSeen: was?.firstSeen ?? this.now,
      ...(isStuck || was?.stuck ? { stuck: true } : {}),
      savedAt: this.now,
    };
    // A watched sync whose row says the same needs no write, unless the row is old enough to be near the table's TTL.
    const fresh = was && this.now - (was.savedAt ?? was.firstSeen) < ROW_REFRESH_MS;
    if (
      was &&
      fresh &&
      !was.partial &&
      !was.misses &&
      was.task.status === t.status &&
      Boolean(was.stuck) === Boolean(next.stuck)
    )
      return;
    this.watched.set(t.taskId, next);
    c.watch.push(next);
  }

  private unwatch(c: Changes, taskId: string): void {
    if (this.watched.delete(taskId)) c.unwatch.push(taskId);
  }

  /** Marks watched syncs a re-check did not find; after `limit` misses in a row one stops being watched (it is gone). */
  missed(taskIds: readonly string[], limit: number): Changes & { gone: string[] } {
    const c = { ...emptyChanges(), gone: [] as string[] };
    for (const id of taskIds) {
      const w = this.watched.get(id);
      if (!w) continue;
      const misses = (w.misses ?? 0) + 1;
      if (misses >= limit) {
        this.unwatch(c, id);
        c.gone.push(id);
      } else {
        const next = { ...w, misses, savedAt: this.now };
        this.watched.set(id, next);
        c.watch.push(next);
      }
    }
    return c;
  }

  /** Image keys of held transient failures that have now been failing for long enough to announce. */
  dueHeld(): string[] {
    const persist = this.opts.transient?.persistMs;
    if (persist === undefined) return [];
    return [...this.held].filter(([, since]) => this.now - since >= persist).map(([k]) => k);
  }

  /** Announces the held failures among `rows` (looked up for `dueHeld()`) that are still held. */
  release(rows: ReadonlyMap<string, FailingImage>): Changes {
    const c = emptyChanges();
    for (const key of this.dueHeld()) {
      const f = this.failingRow(key, { handled: new Set(), failing: rows });
      if (!f?.held) {
        this.held.delete(key);
        continue;
      }
      const { held, ...rest } = f;
      this.setFailing(c, key, rest);
      c.failures.push(held);
    }
    return c;
  }

  /**
   * What the cursor keeps of detection: held failures, how many syncs are watched, and the settled tasks within the
   * overlap below `top` (the next scan reads them again).
   */
  cursorPart(top: number | undefined): Pick<Cursor, 'held' | 'watching' | 'seen'> {
    // Sorted, so a run that judged the same tasks writes the same string (and a quiet run nothing).
    const seen =
      top === undefined
        ? ''
        : [...this.settled]
            .filter(([, at]) => at >= top - OVERLAP_MS)
            .map(([id]) => seenHash(id))
            .sort()
            .join('');
    return {
      ...(this.held.size > 0 ? { held: Object.fromEntries(this.held) } : {}),
      watching: this.watched.size,
      ...(seen.length > 0 ? { seen } : {}),
    };
  }
}

/**
 * A failing image as later batches of the run read it: its row without the labels only a digest shows. A burst's run
 * keeps one for every image it saw fail (20,000 per instance in the bench's burst), and its rows are written with
 * labels taken from the task each time. A held failure keeps them: releasing it writes the row as it is.
 */
function withoutLabels(f: FailingImage): FailingImage {
  const { image: _image, target: _target, rule: _rule, ...rest } = f;
  return rest;
}

const imageOf = (i: SyncTask['from']): string => `${i.namespace}/${i.repo}:${i.tag}`;

/** Where a failing image goes, as a digest shows it: the target instance, and the target image when it is renamed. */
function targetOf(t: SyncTask): string {
  const where = [t.to.regionId, t.to.instanceId].filter(Boolean).join(':');
  const to = imageOf(t.to);
  return to !== imageOf(t.from) && t.to.repo ? `${where} ${to}` : where;
}
