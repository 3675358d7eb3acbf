import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../../src/model/task.js';
import { MIN, T0, task } from '../../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../../support/run-harness.js';

const RUN = 5 * MIN;

/** Whole runs every 5 minutes from T0 on both channels; what each run's summary said. */
async function everyRun(h: ReturnType<typeof runHarness>, n: number, between?: (i: number) => void) {
  const out = [];
  for (let i = 0; i < n; i++) {
    between?.(i);
    out.push(await h.run(T0 + i * RUN));
  }
  return out;
}
/** How many messages a channel received that say `words`. */
const saying = (sent: unknown[], words: string) => sent.filter((p) => JSON.stringify(p).includes(words)).length;
const channels = () => ({ dingtalk: acceptingNotifier('dingtalk'), slack: acceptingNotifier('slack') });

describe('a whole run tells the channels when it cannot do its work, once, and when it works again', () => {
  it('says once that a list repeating its first page cannot be read to its end, and once when reading gets on', async () => {
    const tasks = Array.from({ length: 100 }, (_, i) => task(`t${i}`, T0 - i * RUN));
    let repeating = true;
    let first: SyncTask[] = [];
    const n = channels();
    const h = runHarness({
      tasks,
      notifiers: n,
      cr: {
        page: (call, items) => {
          if (call.pageNo === 1 && !call.filter) first = items;
          return repeating ? first : items;
        },
      },
    });
    const summaries = await everyRun(h, 16, (i) => {
      if (i === 10) repeating = false;
    });
    for (const sent of [n.dingtalk.sent, n.slack.sent]) {
      expect(saying(sent, 'could not read its task list to the end')).toBe(1);
      expect(saying(sent, 'reading gets nearer the end of its task list again')).toBe(1);
    }
    const named = summaries.map((s) => (s.behind ?? []).map((b) => b.condition).join());
    expect(named.slice(0, 5)).toEqual(['', '', '', '', '']);
    expect(named.slice(5, 10)).toEqual(Array(5).fill('list-unfinished'));
    expect(summaries[5]!.behind).toEqual([
      { instance: 'cn-hangzhou:cri-x', condition: 'list-unfinished', since: new Date(T0).toISOString() },
    ]);
    expect(named.at(-1)).toBe('');
  });

  it('says once that a list growing faster than ACR_MAX_PAGES reads is not read to its end, and once when it gets on', async () => {
    // 30 new tasks every run, 10 a page, two pages a run; the operator raises the page cap after the notice.
    const tasks = Array.from({ length: 40 }, (_, i) => task(`old${i}`, T0 - (i + 1) * 15_000));
    const settings = { maxPages: 2 };
    const n = channels();
    const h = runHarness({ tasks, notifiers: n, settings });
    const summaries = await everyRun(h, 16, (i) => {
      if (i < 10) for (let k = 0; k < 30; k++) tasks.push(task(`r${i}-${k}`, T0 + i * RUN - (30 - k) * 10_000));
      if (i === 12) settings.maxPages = 400;
    });
    for (const sent of [n.dingtalk.sent, n.slack.sent]) {
      expect(saying(sent, 'could not read its task list to the end')).toBe(1);
      expect(saying(sent, 'max-pages')).toBe(1);
      expect(saying(sent, 'reading gets nearer the end of its task list again')).toBe(1);
      expect(saying(sent, 'not shrinking')).toBe(0);
    }
    const named = summaries.map((s) => (s.behind ?? []).map((b) => b.condition).join());
    expect(named).toEqual([...Array(5).fill(''), ...Array(7).fill('list-unfinished'), ...Array(4).fill('')]);
  });

  it('says once that a backlog a slow API keeps from shrinking is not shrinking, and once when it is worked down', async () => {
    // 10 s a call leaves a run four calls; 50 new tasks a run need five pages. Then the API speeds up.
    const tasks = Array.from({ length: 40 }, (_, i) => task(`old${i}`, T0 - (i + 1) * 15_000));
    let callMs = 10_000;
    const n = channels();
    const h = runHarness({
      tasks,
      notifiers: n,
      settings: { maxPages: 400 },
      cr: { before: () => void (h.clock.t += callMs) },
    });
    const summaries = await everyRun(h, 18, (i) => {
      if (i < 12) for (let k = 0; k < 50; k++) tasks.push(task(`r${i}-${k}`, T0 + i * RUN - (50 - k) * 5_000));
      if (i === 12) callMs = 100;
    });
    for (const s of summaries)
      console.log(JSON.stringify(s.instances[0]).slice(0, 200), JSON.stringify(s.behind), s.notified);
    for (const sent of [n.dingtalk.sent, n.slack.sent]) {
      expect(saying(sent, 'is unread and not shrinking')).toBe(1);
      expect(saying(sent, 'its backlog is being worked down')).toBe(1);
      expect(saying(sent, 'could not read its task list')).toBe(0);
    }
  });

  it('says nothing while a slow API works a backlog down', async () => {
    const tasks = Array.from({ length: 600 }, (_, i) => task(`old${i}`, T0 - (i + 1) * 30_000));
    const n = channels();
    const h = runHarness({
      tasks,
      notifiers: n,
      settings: { maxPages: 400 },
      cr: { before: () => void (h.clock.t += 10_000) },
    });
    const summaries = await everyRun(h, 20);
    expect(summaries.at(-1)!.instances[0]!.behindMinutes).toBeLessThan(summaries[0]!.instances[0]!.behindMinutes);
    expect(n.dingtalk.sent).toEqual([]);
    expect(n.slack.sent).toEqual([]);
    expect(summaries.every((s) => s.behind === undefined)).toBe(true);
  });
});
