import type { Cursor } from '../model/state.js';
import type { Page, SyncTask } from '../model/task.js';
import { readGaps, unreadAfterTop } from './gaps.js';
import type { ScanBatch, StopReason } from './list.js';
import { mergeGaps, newTop, nextCursor, type ReadingCursor } from './next-cursor.js';
import { PageReader, ReadOnce, type Anomalies } from './pages.js';
import { readTop, topBounds } from './top.js';

/** What a scan needs: the last cursor, the run's clock and limits, and a way to fetch a page. */
export interface ScanInput {
  /** Absent on the first run. */
  cursor?: Cursor;
  now: number;
  lookbackMs: number;
  /** On the first run, how far below the look-back unfinished syncs are looked for (to watch; never announced). */
  discoveryMs: number;
  pageSize: number;
  /** Pages per instance per run. */
  maxPages: number;
  /** The top pass reads on down to this time (below its window) when watched syncs are re-read by reading back. */
  sweepTo?: number;
  fetchPage(pageNo: number): Promise<Page<SyncTask>>;
  /** False once fetching must stop to leave time for delivery. */
  hasTime(): boolean;
}

export interface ScanResult {
  /** The cursor's reading parts for the next run. */
  cursor: ReadingCursor;
  pagesRead: number;
  tasksRead: number;
  /** True when nothing within the window is left unread (stretches only watched syncs are wanted from do not count). */
  complete: boolean;
  stoppedBecause: StopReason;
  dropped: string[];
  /** CreateTimes not trusted (ahead of the clock, or given in seconds), and pages that repeated the one before. */
  anomalies: Anomalies;
  /** How far down the top pass read: watched syncs created since were re-read with it. */
  coveredTo?: number;
}

/** How a scan ended, as its result reports it. */
interface Ending {
  stop: StopReason;
  gaps: Cursor['gaps'];
  /** The top pass read everything above its bound. */
  topComplete: boolean;
  overlapReadWhole: boolean;
  /** The oldest CreateTime the top pass read (+Infinity when none). */
  lowest: number;
}

/**
 * Reads an instance's sync tasks, yielding them a page at a time, each task once. First the top pass (`readTop`):
 * from the newest page down to a little below the newest time the last run read. Then the stretches earlier runs left
 * unread, newest first, each found from the position it was left at and confirmed by the pages' contents
 * (`readGaps`). Whatever the time or page budget leaves unread is kept as a gap for the next run, so a backlog is
 * worked down rather than read again from the top. Returns what was read and the next cursor's reading parts.
 */
export async function* scanTasks(input: ScanInput): AsyncGenerator<ScanBatch, ScanResult> {
  const prev = input.cursor;
  const reader = new PageReader(input, prev?.pageSize ?? input.pageSize);
  const seen = new ReadOnce(input.now);
  const { bound, stopAt } = topBounds(prev, input);
  // Stretches below the top pass that later passes read: earlier runs' gaps, and on a first run the stretch below
  // the look-back where only unfinished syncs are wanted.
  const below = prev ? prev.gaps : [{ hi: bound, lo: bound - input.discoveryMs, watchOnly: true }];
  const top = yield* readTop(reader, seen, { prev, bound, stopAt, below });
  if (typeof top === 'string') {
    const unread = { gaps: prev?.gaps ?? [], topComplete: false, overlapReadWhole: false };
    return resultOf(input, reader, seen, { stop: top, ...unread, lowest: Number.POSITIVE_INFINITY });
  }
  const { left, waiting } = unreadAfterTop(top, {
    prev,
    bound,
    discoveryMs: input.discoveryMs,
    total: reader.count,
    size: reader.size,
  });
  const rest = yield* readGaps(reader, seen, waiting, {
    direction: top.direction,
    top: newTop(prev?.top, seen.trusted),
    rate: prev?.rate,
    stop: top.stop,
  });
  return resultOf(input, reader, seen, {
    stop: rest.stop,
    gaps: mergeGaps([...left, ...rest.gaps]),
    topComplete: top.complete,
    // A one-page read is not worth a write; a capped one did not read the overlap whole.
    overlapReadWhole: top.complete && top.stop !== 'overlap-capped' && top.pages > 1,
    lowest: top.lowest,
  });
}

function resultOf(input: ScanInput, reader: PageReader, seen: ReadOnce, end: Ending): ScanResult {
  return {
    cursor: nextCursor({
      prev: input.cursor,
      now: input.now,
      pageSize: input.pageSize,
      order: reader.order,
      size: reader.size,
      total: reader.count,
      trusted: seen.trusted,
      gaps: end.gaps,
      overlapReadWhole: end.overlapReadWhole,
    }),
    pagesRead: reader.pages,
    tasksRead: seen.tasksRead,
    complete: end.topComplete && !end.gaps.some((g) => !g.watchOnly),
    stoppedBecause: end.stop,
    dropped: reader.dropped,
    anomalies: seen.anomalies,
    ...(end.lowest !== Number.POSITIVE_INFINITY ? { coveredTo: end.lowest } : {}),
  };
}
