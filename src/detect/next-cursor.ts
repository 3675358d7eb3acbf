import type { Cursor, Gap } from '../model/state.js';
import { MAX_GAPS, type Observed } from './list.js';

/** The cursor's reading parts: what a scan leaves for the next run to read on from. */
export type ReadingCursor = Pick<Cursor, 'top' | 'gaps' | 'order' | 'pageSize' | 'rate' | 'total' | 'readAt'>;

/** Trusted CreateTimes the top pass read, as a count and a range. */
export interface Trusted {
  count: number;
  min: number;
  max: number;
}

/** What a scan read, as the next cursor is computed from it. */
export interface ReadSummary {
  /** The last run's cursor; absent on the first run. */
  prev?: Cursor;
  now: number;
  /** The page size asked for: the cursor keeps the one used only when it differs. */
  pageSize: number;
  /** What the pages showed: their order, the page size served, TotalCount (undefined when no page was read). */
  order: Observed;
  size: number;
  total?: number;
  trusted: Trusted;
  /** What is still unread. */
  gaps: Gap[];
  /** The overlap below the last newest time was read whole in this run (more than one page, not capped). */
  overlapReadWhole: boolean;
}

/** The newest trusted time read: the last run's, moved up by what the top pass read (never down). Pure. */
export function newTop(prevTop: number | undefined, trusted: Trusted): number | undefined {
  return trusted.count > 0 ? Math.max(prevTop ?? trusted.max, trusted.max) : prevTop;
}

/**
 * Tasks created per hour: measured over the trusted times read (none from a single task or a single moment) and
 * averaged with the last measure; the last measure when nothing could be measured. Pure.
 */
export function rateOf(prevRate: number | undefined, trusted: Trusted): number | undefined {
  const span = trusted.count > 1 ? trusted.max - trusted.min : 0;
  const measured = span > 0 ? ((trusted.count - 1) * 3_600_000) / span : undefined;
  if (measured === undefined) return prevRate;
  return prevRate === undefined ? measured : (prevRate + measured) / 2;
}

/**
 * The cursor's reading parts for the next run, from what this one read: the newest trusted time, the gaps as given,
 * the order seen (the last one when no page showed one), the page size only when it is not the one asked for,
 * the rate to a tenth, the last TotalCount seen, and when the overlap was last read whole. Pure.
 */
export function nextCursor(r: ReadSummary): ReadingCursor {
  const top = newTop(r.prev?.top, r.trusted);
  const rate = rateOf(r.prev?.rate, r.trusted);
  const total = r.total ?? r.prev?.total;
  const readAt = r.overlapReadWhole ? r.now : r.prev?.readAt;
  return {
    ...(top !== undefined ? { top } : {}),
    gaps: r.gaps,
    order: r.order === 'flat' ? (r.prev?.order ?? 'desc') : r.order,
    ...(r.size !== r.pageSize ? { pageSize: r.size } : {}),
    ...(rate !== undefined ? { rate: Math.round(rate * 10) / 10 } : {}),
    ...(total !== undefined ? { total } : {}),
    ...(readAt !== undefined ? { readAt } : {}),
  };
}

/** Gaps newest first, at most MAX_GAPS that are not watch-only: the two oldest merge into one that spans both. Pure. */
export function mergeGaps(gaps: readonly Gap[]): Gap[] {
  const out = [...gaps].sort((a, b) => b.hi - a.hi);
  while (out.filter((g) => !g.watchOnly).length > MAX_GAPS) {
    const live = out.filter((g) => !g.watchOnly);
    const a = live[live.length - 2]!;
    const b = live[live.length - 1]!;
    out.splice(out.indexOf(b), 1);
    out[out.indexOf(a)] = {
      hi: a.hi,
      lo: Math.min(a.lo, b.lo),
      ...(a.depth !== undefined ? { depth: a.depth } : {}),
      ...(a.total !== undefined ? { total: a.total } : {}),
    };
  }
  return out;
}
