import type { SyncTask } from '../model/task.js';
import { lastPageOf, type StopReason } from './list.js';
import type { PageReader } from './pages.js';
import { sameIds, seek, type Probe, type Verdict } from './seek.js';

/** The newest page of an oldest-first list: its number and tasks, the page below it when read, and any stop. */
export interface Newest {
  n: number;
  items: SyncTask[] | StopReason;
  /** The page below, when finding the newest page read it (the walk back takes it from here). */
  below?: SyncTask[];
  /** Why the reader stopped before the newest page was certain: what was found is read, and the pass ends. */
  stop?: StopReason;
}

/**
 * The newest page of an oldest-first list, found by reading: the last page that is not empty. TotalCount only
 * suggests it (it may be capped, zero or many times the truth): the page it names is read after the first, and the
 * end is then sought by galloping from the pages read (`seek`). When the reader stops before the end is certain, the
 * newest page found so far (not the first page of the list), and why.
 */
export async function newestPage(reader: PageReader, start: { k: number; items: SyncTask[] }): Promise<Newest> {
  const first: Probe = { p: start.k, items: start.items, at: reader.pages };
  const last = (items: readonly SyncTask[]): Verdict => (reader.full(items) ? 'short' : 'here');
  if (start.items.length > 0 && last(start.items) === 'here') return { n: start.k, items: start.items };
  const found = await seek(reader, last, {
    guess: lastPageOf(reader.count ?? 0, reader.size),
    ...(start.items.length > 0 ? { short: first } : { past: first }),
  });
  if (found.here && start.items.length > 0 && found.here.p - 1 !== start.k) return confirmed(reader, found.here, first);
  const page = found.here ?? found.short;
  if (!found.stop) return page ? { n: page.p, items: page.items } : { n: 1, items: [] };
  // Stopped before the end was certain: the newest page found so far is read, unless that is the oldest page.
  return page && page.p > 1 ? { n: page.p, items: page.items, stop: found.stop } : { n: 1, items: found.stop };
}

/**
 * A short page found by galloping past the page read first is the last unless the page below holds the same tasks:
 * a service that serves its last page again for any page past the end does that. The last page is then the lowest
 * holding those tasks, sought by reading. The page below is read either way (the walk back reads it next).
 */
async function confirmed(reader: PageReader, here: Probe, first: Probe): Promise<Newest> {
  const below = await reader.read(here.p - 1);
  if (typeof below === 'string') return { n: here.p, items: here.items, stop: below };
  if (!sameIds(below, here.items)) return { n: here.p, items: here.items, below };
  const repeated = (items: readonly SyncTask[]): Verdict => (sameIds(items, here.items) ? 'past' : 'short');
  const found = await seek(reader, repeated, {
    past: { p: here.p - 1, items: below, at: reader.pages },
    ...(first.p < here.p - 1 ? { short: first } : {}),
  });
  const lastPage = found.past ?? here;
  const next = found.short?.p === lastPage.p - 1 ? { below: found.short.items } : {};
  return { n: lastPage.p, items: lastPage.items, ...next, ...(found.stop ? { stop: found.stop } : {}) };
}
