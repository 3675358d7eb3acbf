import { createHash } from 'node:crypto';
import { ROW_REFRESH_MS, type Cursor, type FailingImage, type WatchedSync } from '../model/state.js';
import { isSettled, type SyncTask } from '../model/task.js';
import { classify } from '../model/classify.js';
import { failingAfter, transientVerdict, withoutLabels, type Transient } from './failing.js';
import { CLOCK_SKEW_MS } from './list.js';
import { OverlapMemory } from './overlap.js';

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
  transient?: Transient;
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

/** Every reason at 0: a count to add a batch's reasons to. */
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

/** One batch being judged: its changes, what the store knows of it, and what judging it learned so far. */
interface Take {
  readonly c: Changes;
  readonly known: Known;
  /** Failures announced in this batch: one that recovers in it is reported as recovered only. */
  readonly newHere: Set<string>;
  readonly unknown: Set<string>;
}

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
  private readonly overlap: OverlapMemory;
  /** The newest success read this run of each image, and its time. */
  private readonly successAt = new Map<string, number>();
  private readonly lastSuccess = new Map<string, SyncTask>();
  /** Failing-image rows as this run left them (null: deleted). */
  private readonly failingNow = new Map<string, FailingImage | null>();

  constructor(
    private readonly prev: Cursor | undefined,
    watched: readonly WatchedSync[],
    private readonly now: number,
    private readonly opts: DetectOptions,
  ) {
    this.watched = new Map(watched.map((w) => [w.task.taskId, w]));
    this.held = new Map(Object.entries(prev?.held ?? {}));
    this.overlap = new OverlapMemory(prev);
  }

  /** A settled task the last run judged in the overlap it reads again: nothing more to learn from it. */
  private seenBefore(t: SyncTask): boolean {
    return isSettled(t.status) && !this.watched.has(t.taskId) && this.overlap.knows(t);
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

  /**
   * Whether a task of this batch is judged at all: inside the window, or watched; below the look-back only if
   * unfinished.
   */
  private judged(t: SyncTask, batch: Batch): boolean {
    if (this.watched.has(t.taskId)) return true;
    if (t.createTime < batch.lo) return false;
    return !batch.watchOnly || !isSettled(t.status);
  }

  /**
   * The failing-image row as this run last left it, or as the store holds it. One stored is gone once its last
   * failure (not its first: an image can fail for weeks) is older than FAILING_MAX_AGE_MS.
   */
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
    const p: Take = { c: emptyChanges(), known, newHere: new Set(), unknown: new Set() };
    // Oldest first, so a failure and a later success of the same image in one batch read as "failed, then recovered".
    for (const t of [...batch.tasks].sort((a, b) => a.createTime - b.createTime)) {
      if (this.judged(t, batch)) this.takeOne(p, t);
      else p.c.reasons['before-window'] += 1;
    }
    p.c.unknownStatuses = [...p.unknown];
    return p.c;
  }

  private takeOne(p: Take, t: SyncTask): void {
    const was = this.watched.get(t.taskId);
    if (isSettled(t.status) && !this.suspect(t)) this.overlap.remember(t);
    if (this.seenBefore(t)) {
      p.c.reasons[t.status === 'ERROR' ? 'already-announced' : t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
      return;
    }
    if (t.status === 'ERROR') {
      this.unwatch(p.c, t.taskId);
      this.failed(p, t);
    } else if (t.status === 'SUCCESS' || t.status === 'CANCELED') {
      this.unwatch(p.c, t.taskId);
      p.c.reasons[t.status === 'SUCCESS' ? 'succeeded' : 'canceled'] += 1;
      if (was?.stuck) p.c.unstuck.push(t);
      if (t.status === 'SUCCESS') this.success(p, t);
    } else {
      if (!RUNNING.has(t.status)) p.unknown.add(t.status || '(empty)');
      this.running(p.c, t, was);
    }
  }

  /** An `ERROR` task: a new failure unless a run claimed it before (or this one did). */
  private failed(p: Take, t: SyncTask): void {
    if (p.known.handled.has(t.taskId) || this.claimed.has(t.taskId)) {
      p.c.reasons['already-announced'] += 1;
      return;
    }
    this.claimed.add(t.taskId);
    p.c.handled.push(t);
    p.c.reasons['new-failure'] += 1;
    const key = imageKey(t);
    if (this.recoveredEarlier(p.c, t, key)) return;
    const f = this.failingRow(key, p.known);
    const base = failingAfter(f, t);
    const tr = this.opts.transient;
    if (!tr || tr.minFailures <= 1 || !classify(t.issue).transient) {
      this.setFailing(p.c, key, base);
      p.c.failures.push(t);
      p.newHere.add(t.taskId);
      return;
    }
    const v = transientVerdict(f, t, base.since, tr);
    if (!v.due && (this.held.has(key) || this.held.size < MAX_HELD)) {
      // Not announced yet: a transient cause usually passes; it is announced if it repeats or persists.
      this.setFailing(p.c, key, { ...base, recent: v.recent, held: v.newest });
      p.c.reasons['held-transient'] += 1;
      return;
    }
    this.setFailing(p.c, key, { ...base, recent: v.recent });
    p.c.failures.push(v.newest);
    p.newHere.add(v.newest.taskId);
  }

  /** A newer success of this image was already read this run: it failed and recovered before anyone was told. */
  private recoveredEarlier(c: Changes, t: SyncTask, key: string): boolean {
    const laterSuccess = this.successAt.get(key);
    if (laterSuccess === undefined || laterSuccess <= t.createTime) return false;
    c.recoveries.push({
      success: this.lastSuccess.get(key)!,
      failure: { since: t.createTime, taskId: t.taskId, issue: t.issue },
      sameRun: true,
    });
    return true;
  }

  private success(p: Take, t: SyncTask): void {
    const key = imageKey(t);
    if ((this.successAt.get(key) ?? Number.NEGATIVE_INFINITY) < t.createTime) {
      this.successAt.set(key, t.createTime);
      this.lastSuccess.set(key, t);
    }
    const f = this.failingRow(key, p.known);
    if (!f || t.createTime <= f.lastFailure) return;
    // A failure that was held back and never announced recovers quietly.
    if (!f.held) {
      const sameRun = p.newHere.has(f.taskId);
      p.c.recoveries.push({ success: t, failure: f, sameRun });
      if (sameRun) p.c.failures = p.c.failures.filter((x) => x.taskId !== f.taskId);
    }
    this.setFailing(p.c, key, null);
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
    if (was && rowStands(was, next, this.now)) return;
    this.watched.set(t.taskId, next);
    c.watch.push(next);
  }

  private unwatch(c: Changes, taskId: string): void {
    if (this.watched.delete(taskId)) c.unwatch.push(taskId);
  }

  /**
   * Marks watched syncs a re-check did not find; after `limit` misses in a row one stops being watched (it is
   * gone).
   */
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
    const seen = this.overlap.seen(top);
    return {
      ...(this.held.size > 0 ? { held: Object.fromEntries(this.held) } : {}),
      watching: this.watched.size,
      ...(seen.length > 0 ? { seen } : {}),
    };
  }
}

/**
 * A watched sync whose row says the same needs no write, unless the row is old enough to be near the table's TTL
 * (ROW_REFRESH_MS after it was last written): a sync open for weeks must outlive it.
 */
function rowStands(was: WatchedSync, next: WatchedSync, now: number): boolean {
  const fresh = now - (was.savedAt ?? was.firstSeen) < ROW_REFRESH_MS;
  return (
    fresh &&
    !was.partial &&
    !was.misses &&
    was.task.status === next.task.status &&
    Boolean(was.stuck) === Boolean(next.stuck)
  );
}
