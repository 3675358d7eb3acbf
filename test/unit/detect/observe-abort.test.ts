import { describe, expect, it } from 'vitest';
import { CHUNK_TASKS } from '../../../src/detect/observe.js';
import { failuresOf, fakeCr, fakeStore, observeRun, T0, task, watching } from '../../support/observe-fakes.js';

// Two chunks' worth of tasks, a failure in each: the first chunk is judged after the page that does not fit in it.
const burst = () =>
  fakeCr(
    Array.from({ length: CHUNK_TASKS + 500 }, (_, i) =>
      task(`t${i}`, T0 - i * 1_000, i === 5 || i === CHUNK_TASKS + 5 ? 'ERROR' : 'SUCCESS'),
    ),
  );
const settings = { pageSize: 100, maxPages: 20 };

describe('a run that stops observing an instance', () => {
  it('reads on to the end of the list while the run is not aborted', async () => {
    const cr = burst();
    const { chunks, report } = await observeRun(cr.api, T0, { settings, signal: new AbortController().signal });
    expect(failuresOf(chunks)).toEqual(['t5', `t${CHUNK_TASKS + 5}`]);
    expect(report.cursor).toBeDefined();
  });

  it('stops at the chunk boundary once aborted: no further CR call, and a report without a cursor to store', async () => {
    const cr = burst();
    const stop = new AbortController();
    let callsAtAbort = -1;
    const { chunks, report } = await observeRun(cr.api, T0, {
      settings,
      signal: stop.signal,
      onChunk: () => {
        callsAtAbort = cr.taskCalls.length;
        stop.abort();
      },
    });
    expect(failuresOf(chunks)).toEqual(['t5']);
    expect(cr.taskCalls).toHaveLength(callsAtAbort);
    expect(report.cursor).toBeUndefined();
    expect(report.scan).toBeUndefined();
    expect(report.error).toBeUndefined();
    // What it judged before the stop is still counted.
    expect(report.newFailures).toBe(1);
  });

  it('reads nothing, not even the watched syncs, when the run was aborted before it began', async () => {
    const cr = burst();
    let watchedRead = false;
    const { store } = fakeStore({ watched: [watching(task('w', T0, 'SYNCHRONIZING'))] });
    const { chunks, report } = await observeRun(cr.api, T0, {
      prev: { top: T0 - 60_000, gaps: [], watching: 1 },
      store: {
        ...store,
        watched: (i) => {
          watchedRead = true;
          return store.watched(i);
        },
      },
      signal: AbortSignal.abort(),
    });
    expect(chunks).toEqual([]);
    expect(cr.taskCalls).toEqual([]);
    expect(watchedRead).toBe(false);
    expect(report).toMatchObject({ newFailures: 0, watched: 1, gone: [] });
    expect(report.cursor).toBeUndefined();
  });
});
