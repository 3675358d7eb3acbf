import { createHash } from 'node:crypto';
import type { Cursor } from '../model/state.js';
import type { SyncTask } from '../model/task.js';
import { OVERLAP_MS } from './list.js';

/** Settled task ids remembered from the overlap; in a burst beyond this, late arrivals are told apart by lookups. */
export const MAX_RECENT = 1_000;
/** Characters of a settled task's hash in the cursor's `seen`. */
const SEEN_CHARS = 8;

/** A task id as the cursor's `seen` keeps it: 48 bits of its SHA-256, base64url. */
export const seenHash = (taskId: string): string =>
  createHash('sha256').update(taskId).digest('base64url').slice(0, SEEN_CHARS);

/** The hashes a cursor keeps: of ids as the previous layout kept them (`recent`), and as `seen` keeps them. */
const seenOf = (c: Cursor | undefined): string[] => [
  ...(c?.recent ?? []).map(seenHash),
  ...Array.from({ length: Math.floor((c?.seen?.length ?? 0) / SEEN_CHARS) }, (_, i) =>
    c!.seen!.slice(i * SEEN_CHARS, (i + 1) * SEEN_CHARS),
  ),
];

/**
 * The settled tasks of the overlap below the newest time read: each scan reads that overlap again (a task can show
 * up late), and what the last run judged there needs no judging or lookup again. Keeps those the last run left in
 * the cursor, and those of this run within OVERLAP_MS of the newest time read, at most MAX_RECENT.
 */
export class OverlapMemory {
  private readonly known: ReadonlySet<string>;
  /** Settled tasks judged near the newest time read, with their times. */
  private readonly settled = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;

  constructor(prev: Cursor | undefined) {
    this.known = new Set(seenOf(prev));
  }

  /** Whether the last run judged this task in the overlap. Hashes last: in a burst this runs for every task read. */
  knows(t: SyncTask): boolean {
    return this.known.size > 0 && this.known.has(seenHash(t.taskId));
  }

  /** Remembers a settled task with a trusted time, when it lies within the overlap below the newest time so far. */
  remember(t: SyncTask): void {
    if (t.createTime > this.newest) {
      this.newest = t.createTime;
      for (const [id, at] of this.settled) if (at < this.newest - OVERLAP_MS) this.settled.delete(id);
    }
    if (t.createTime >= this.newest - OVERLAP_MS && this.settled.size < MAX_RECENT)
      this.settled.set(t.taskId, t.createTime);
  }

  /**
   * The cursor's `seen`: the hashes of the settled tasks within the overlap below `top`, sorted so that a run that
   * judged the same tasks writes the same string (and a quiet run nothing).
   */
  seen(top: number | undefined): string {
    if (top === undefined) return '';
    return [...this.settled]
      .filter(([, at]) => at >= top - OVERLAP_MS)
      .map(([id]) => seenHash(id))
      .sort()
      .join('');
  }
}
