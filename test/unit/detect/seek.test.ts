import { describe, expect, it } from 'vitest';
import { PageReader } from '../../../src/detect/pages.js';
import { seek, type Verdict } from '../../../src/detect/seek.js';
import type { SyncTask } from '../../../src/model/task.js';
import { api, history } from '../../support/scan-list.js';

/** A reader over `a` at 10 a page. */
const reader = (a: ReturnType<typeof api>, maxPages = 100) =>
  new PageReader({ fetchPage: (n) => a.fetchPage(n, 10), maxPages, hasTime: () => true }, 10);
/** The last page of a list: a short page is it; a full one falls short of it. */
const lastPage =
  (r: PageReader) =>
  (items: readonly SyncTask[]): Verdict =>
    r.full(items) ? 'short' : 'here';

describe('seeking the end of a list by reading', () => {
  it.each([
    ['the guess itself', 40, 1],
    ['a page short of it', 39, 2],
    ['a page past it', 41, 2],
    ['10 pages short', 30, 2 * Math.ceil(Math.log2(10)) + 2],
    ['10 times too deep', 400, 2 * Math.ceil(Math.log2(360)) + 2],
    ['on page 1', 1, 2 * Math.ceil(Math.log2(40)) + 2],
  ])('finds the last page from a guess at %s (page %i) in at most %i reads', async (_, guess, most) => {
    const a = api(history(395));
    const r = reader(a);
    const found = await seek(r, lastPage(r), { guess });
    expect(found.here?.p).toBe(40);
    expect(a.asked.length).toBeLessThanOrEqual(most);
  });

  it('finds the last page when it is full: the page after it is empty', async () => {
    const a = api(history(400));
    const r = reader(a);
    const found = await seek(r, lastPage(r), { guess: 7 });
    expect(found).toMatchObject({ short: { p: 40 }, past: { p: 41 } });
    expect(found.here).toBeUndefined();
  });

  it('gallops up from the page known short of it rather than down from a guess past the end', async () => {
    const a = api(history(395));
    const r = reader(a);
    const short = { p: 38, items: await r.read(38), at: 1 } as { p: number; items: SyncTask[]; at: number };
    await seek(r, lastPage(r), { guess: 4000, short });
    expect(a.asked).toEqual([38, 4000, 39, 41, 40]);
  });

  it('takes a page repeating a lower-numbered one for a page past the end of a list that serves its last again', async () => {
    const a = api(history(400), 'desc', { pastEnd: 'last-page' });
    const r = reader(a);
    const found = await seek(r, lastPage(r), { guess: 400 });
    expect(found).toMatchObject({ short: { p: 40 }, past: { p: 41 } });
    expect(a.asked.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(400)) + 2);
  });

  it('says why it stopped when the reader may read no more, with the pages it knew by then', async () => {
    const a = api(history(395));
    const r = reader(a, 3);
    const found = await seek(r, lastPage(r), { guess: 1 });
    // Pages 1, 2 and 4 were read, each full.
    expect(found).toMatchObject({ stop: 'max-pages', short: { p: 4 } });
    expect(found.past).toBeUndefined();
  });
});
