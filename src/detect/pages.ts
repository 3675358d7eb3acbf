import type { Page, SyncTask } from '../model/task.js';
import { CLOCK_SKEW_MS, pageOrder, type Observed, type StopReason } from './list.js';

/** How pages of an instance's task list are fetched, and the limits a run sets on it. */
export interface PageSource {
  /** One page of ListRepoSyncTask (the caller retries it within the run's budget). */
  fetchPage(pageNo: number): Promise<Page<SyncTask>>;
  /** Pages per instance per run. */
  maxPages: number;
  /** False once fetching must stop to leave time for delivery. */
  hasTime(): boolean;
}

/**
 * Reads pages of one instance's task list within the run's page and time limits, and keeps what the pages said of
 * the list: its size (TotalCount, and the bounds the pages' contents put on it), the page size the service serves,
 * the order the pages show, and what parsing dropped. One reader serves every pass of a scan, so the limits count
 * across passes.
 */
export class PageReader {
  /** Pages read so far. */
  pages = 0;
  /** TotalCount as the last page read gave it: a claim, which `count` holds to what the pages showed. */
  total: number | undefined;
  /** What each page read held (its number, how many tasks, the first's id, the page size then): the size's bounds. */
  private readonly held: { p: number; n: number; first?: string; size: number }[] = [];
  /** The lowest-numbered page read empty in this run, and the reader's page count then: the list ends before it. */
  emptyPage: { p: number; at: number } | undefined;
  /** Tasks per page: the size asked for, or the smaller one the service reported using. */
  size: number;
  /** The order the pages read so far show ('unknown' once two disagree, and for good). */
  order: Observed = 'flat';
  readonly dropped: string[] = [];
  /** How many items each page held as the service sent it (parsing may have dropped a malformed one). */
  private readonly sent = new WeakMap<readonly SyncTask[], number>();

  constructor(
    private readonly source: PageSource,
    size: number,
  ) {
    this.size = size;
  }

  /** Page `pageNo`, or why no more may be read in this run (out of pages, or of time). */
  async read(pageNo: number): Promise<SyncTask[] | StopReason> {
    if (this.pages >= this.source.maxPages) return 'max-pages';
    if (!this.source.hasTime()) return 'budget';
    const page = await this.source.fetchPage(pageNo);
    this.pages += 1;
    this.total = page.totalCount;
    // A service that caps PageSize below what was asked reports the size it used; page arithmetic must follow it.
    if (page.pageSize > 0 && page.pageSize < this.size) this.size = page.pageSize;
    this.dropped.push(...page.dropped);
    const o = pageOrder(page.items);
    if (o === 'unknown' || (o !== 'flat' && this.order !== 'flat' && o !== this.order)) this.order = 'unknown';
    else if (o !== 'flat' && this.order === 'flat') this.order = o;
    this.note(pageNo, page);
    return page.items;
  }

  /** Keeps what a page held: how many tasks it was sent with, for the size's bounds, and whether it was empty. */
  private note(pageNo: number, page: Page<SyncTask>): void {
    const n = page.received ?? page.items.length;
    this.sent.set(page.items, n);
    this.held.push({ p: pageNo, n, first: page.items[0]?.taskId, size: this.size });
    if (n === 0 && (this.emptyPage === undefined || pageNo < this.emptyPage.p))
      this.emptyPage = { p: pageNo, at: this.pages };
  }

  /**
   * The list's size as far as this run can tell: TotalCount, held within what the pages read showed (`sizeBounds`),
   * since the service's count can be capped, zero, or many times the truth. Undefined before the first page.
   */
  get count(): number | undefined {
    if (this.total === undefined) return undefined;
    const [least, most] = sizeBounds(this.held);
    return Math.min(Math.max(this.total, least), most);
  }

  /** Whether a page this reader returned was full as sent: only a short page can be the list's last. */
  full(items: readonly SyncTask[]): boolean {
    return (this.sent.get(items) ?? items.length) >= this.size;
  }
}

/**
 * The fewest and the most tasks a list can hold, by what its pages held: a full page means at least that many, a
 * short or empty one at most that many, and a page repeating the tasks of a lower-numbered one (a service serving
 * its last page again past the end) at most as many as that lower page ends with. A page at odds with those before it
 * (the list changed meanwhile) starts the bounds again. Pure.
 */
export function sizeBounds(pages: readonly { p: number; n: number; first?: string; size: number }[]): [number, number] {
  const lowest = new Map<string, number>();
  for (const x of pages) if (x.first !== undefined) lowest.set(x.first, Math.min(lowest.get(x.first) ?? x.p, x.p));
  let [least, most] = [0, Number.POSITIVE_INFINITY];
  for (const x of pages) {
    const q = x.first !== undefined ? lowest.get(x.first)! : x.p;
    const before = (x.p - 1) * x.size;
    const [lo, hi] =
      q < x.p
        ? [0, q * x.size]
        : x.n >= x.size
          ? [x.p * x.size, Number.POSITIVE_INFINITY]
          : [x.n === 0 ? 0 : before + x.n, before + x.n];
    if (lo > most || hi < least) [least, most] = [lo, hi];
    else [least, most] = [Math.max(least, lo), Math.min(most, hi)];
  }
  return [least, most];
}

/** CreateTimes the list gave that cannot mean what they say, and pages that repeated the one before. */
export interface Anomalies {
  futureTimes: number;
  secondsTimes: number;
  repeatedPages: number;
}

/**
 * The tasks a scan has read, so that each is yielded once per run however the list shifts between pages, with the
 * times it cannot trust counted apart. The top pass's trusted times are kept as a count and a range, not as the tasks:
 * keeping the tasks would hold a whole burst in memory.
 */
export class ReadOnce {
  tasksRead = 0;
  readonly anomalies: Anomalies = { futureTimes: 0, secondsTimes: 0, repeatedPages: 0 };
  readonly trusted = { count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  private readonly ids = new Set<string>();

  constructor(private readonly now: number) {}

  /** The tasks of a page not taken before in this run; the top pass's with a trusted time count in `trusted`. */
  take(items: readonly SyncTask[], topPass: boolean): SyncTask[] {
    const out = items.filter((t) => !this.ids.has(t.taskId));
    for (const t of out) {
      this.ids.add(t.taskId);
      this.tasksRead += 1;
      if (t.timeInSeconds) this.anomalies.secondsTimes += 1;
      else if (t.createTime > this.now + CLOCK_SKEW_MS) this.anomalies.futureTimes += 1;
      else if (topPass) {
        this.trusted.count += 1;
        this.trusted.min = Math.min(this.trusted.min, t.createTime);
        this.trusted.max = Math.max(this.trusted.max, t.createTime);
      }
    }
    return out;
  }
}
