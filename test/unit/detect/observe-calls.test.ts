import { afterEach, describe, expect, it, vi } from 'vitest';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { SyncRule } from '../../../src/model/task.js';
import {
  fakeCr,
  fakeStore,
  H,
  MIN,
  movableClock,
  observeRun,
  T0,
  task,
  watching,
  type CrCall,
} from '../../support/observe-fakes.js';

const rule = (i: number): SyncRule => ({ ruleId: `crsr-${i}`, name: `rule ${i}`, scope: 'REPO' });
const rulesList = (n: number) => Array.from({ length: n }, (_, i) => rule(i));
const failure = (id: string, at: number) => task(id, at, 'ERROR');

describe('naming the sync rules of an instance', () => {
  it('reads every rule, page by page, once per run however many chunks ask', async () => {
    const cr = fakeCr([failure('f1', T0 - MIN)], { rules: rulesList(120) });
    const { chunks } = await observeRun(cr.api, T0);
    const first = await chunks[0]!.rules();
    const again = await chunks[0]!.rules();
    expect(first?.size).toBe(120);
    expect(first?.get('crsr-119')?.name).toBe('rule 119');
    expect(again).toBe(first);
    expect(cr.ruleCalls.map((c) => c.pageNo)).toEqual([1, 2, 3]);
  });

  it('reads on past a full page, and stops at the first page that is not full', async () => {
    const cr = fakeCr([failure('f1', T0 - MIN)], { rules: rulesList(50) });
    const { chunks } = await observeRun(cr.api, T0);
    expect((await chunks[0]!.rules())?.size).toBe(50);
    expect(cr.ruleCalls.map((c) => c.pageNo)).toEqual([1, 2]);
  });

  it('stops after twenty pages of a listing that never ends', async () => {
    let n = 0;
    const cr = fakeCr([failure('f1', T0 - MIN)], {
      rules: () => rulesList(2_000).map((r) => ({ ...r, ruleId: `${r.ruleId}-${n++}` })),
    });
    const { chunks } = await observeRun(cr.api, T0);
    await chunks[0]!.rules();
    expect(cr.ruleCalls).toHaveLength(20);
  });

  it('lets alerts go out without rule names when the rules cannot be read, and says so', async () => {
    const cr = fakeCr([failure('f1', T0 - MIN)], {
      before: (c) => {
        if (c.kind === 'rules')
          throw new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'Forbidden' });
      },
    });
    const { chunks, log, report } = await observeRun(cr.api, T0);
    expect(await chunks[0]!.rules()).toBeUndefined();
    expect(await chunks[0]!.rules()).toBeUndefined();
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'could not read sync rules; alerts go out without rule names',
      fields: { instance: 'cn-hangzhou:cri-x', error: 'refused [cr permanent Forbidden]' },
    });
    expect(log.filter((l) => l.msg.startsWith('could not read sync rules'))).toHaveLength(1);
    expect(report.error).toBeUndefined();
  });

  it('does not read rules into the time kept back for delivery', async () => {
    const cr = fakeCr([failure('f1', T0 - MIN)], { rules: rulesList(3) });
    const clock = movableClock(T0);
    const { chunks, log } = await observeRun(cr.api, T0, { clock, fetchMs: 60_000 });
    // By the time the failure is to be named, a tenth of a second of fetch time is left.
    clock.t = T0 + 59_900;
    expect(await chunks[0]!.rules()).toBeUndefined();
    expect(cr.ruleCalls).toEqual([]);
    expect(log).toContainEqual({
      level: 'warn',
      msg: 'could not read sync rules; alerts go out without rule names',
      fields: {
        instance: 'cn-hangzhou:cri-x',
        error: 'BudgetExhaustedError: time budget exhausted before ListRepoSyncRule cn-hangzhou:cri-x page 1',
      },
    });
  });
});

describe('the time each call to CR is given', () => {
  const young = task('w', T0 - H, 'SYNCHRONIZING');
  const setup = (fetchMs: number) => {
    const calls: (CrCall & { kind: string })[] = [];
    const cr = fakeCr(
      [...Array.from({ length: 25 }, (_, i) => task(`q${i}`, T0 - (i + 1) * MIN)), young, failure('f1', T0 - 30 * MIN)],
      { rules: rulesList(3), before: (c) => void calls.push(c) },
    );
    const { store } = fakeStore({ watched: [watching(young)] });
    return {
      cr,
      calls,
      run: () =>
        observeRun(cr.api, T0, {
          prev: { top: T0 - MIN, gaps: [], order: 'desc', watching: 1, recheckedAt: T0 - MIN },
          store,
          fetchMs,
        }),
    };
  };

  it('is eight seconds when the run has time to spare', async () => {
    const { calls, run } = setup(60_000);
    const { chunks } = await run();
    await chunks[0]!.rules();
    expect(new Set(calls.map((c) => c.kind + (c.filter ? ' re-check' : '')))).toEqual(
      new Set(['tasks', 'tasks re-check', 'rules']),
    );
    expect(calls.map((c) => c.timeoutMs)).toEqual(calls.map(() => 8_000));
  });

  it('is never more than the fetch time left, whatever is kept back for delivery', async () => {
    const { calls, run } = setup(3_000);
    const { chunks } = await run();
    await chunks[0]!.rules();
    expect(new Set(calls.map((c) => c.kind + (c.filter ? ' re-check' : '')))).toEqual(
      new Set(['tasks', 'tasks re-check', 'rules']),
    );
    expect(calls.map((c) => c.timeoutMs)).toEqual(calls.map(() => 3_000));
  });
});

describe('a call to CR that fails for a moment', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is retried, and the log says which call: the page of the list, the re-check of a push, the page of rules', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const young = task('w', T0 - H, 'SYNCHRONIZING');
    const failedOnce = new Set<string>();
    const cr = fakeCr(
      [...Array.from({ length: 25 }, (_, i) => task(`q${i}`, T0 - (i + 1) * MIN)), young, failure('f1', T0 - 30 * MIN)],
      {
        rules: rulesList(3),
        before: (c) => {
          const what = `${c.kind}${c.filter ? '/re-check' : ''}`;
          if (failedOnce.has(what)) return;
          failedOnce.add(what);
          throw new IntegrationError('throttled', { service: 'cr', kind: 'retryable', code: 'Throttling.User' });
        },
      },
    );
    const { store } = fakeStore({ watched: [watching(young)] });
    const running = observeRun(cr.api, T0, {
      prev: { top: T0 - MIN, gaps: [], order: 'desc', watching: 1, recheckedAt: T0 - MIN },
      store,
    }).then(async (out) => ({ ...out, rules: await out.chunks[0]!.rules() }));
    await vi.runAllTimersAsync();
    const { log, rules, report } = await running;
    expect(report.error).toBeUndefined();
    expect(rules?.size).toBe(3);
    expect(log.filter((l) => l.msg === 'retrying').map((l) => l.fields?.what)).toEqual([
      'ListRepoSyncTask cn-hangzhou:cri-x page 1',
      'ListRepoSyncTask cn-hangzhou:cri-x re-check page 1',
      'ListRepoSyncRule cn-hangzhou:cri-x page 1',
    ]);
  });
});
