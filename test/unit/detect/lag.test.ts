import { describe, expect, it } from 'vitest';
import {
  BACKLOG_MIN_MS,
  BACKLOG_RUNS,
  LIST_UNFINISHED_RUNS,
  NOT_REACHED_AFTER_RUNS,
  RECHECKS_BEHIND_MS,
  updateLags,
  type LagSignals,
} from '../../../src/detect/lag.js';
import type { MonitorAlert } from '../../../src/model/alert.js';
import * as v from 'valibot';
import { CursorSchema, type Lag } from '../../../src/model/state.js';

const I = 'cn-hangzhou:cri-x';
const T0 = 1_800_000_000_000;
const MIN = 60_000;
const H = 60 * MIN;
const RUN = 5 * MIN;

/** A run that read the list to its end and is caught up, unless told otherwise. */
const read = (over: Partial<LagSignals> = {}): LagSignals => ({
  behindMs: 0,
  scan: { pagesRead: 3, tasksRead: 120, complete: true, stoppedBecause: 'reached-window' },
  ...over,
});
/** A run that stopped short of its end for time, as a backlog being worked down does. */
const short = (behindMs: number, over: Partial<NonNullable<LagSignals['scan']>> = {}): LagSignals => ({
  behindMs,
  scan: { pagesRead: 5, tasksRead: 250, complete: false, stoppedBecause: 'budget', ...over },
});
/** A run that did not reach the instance: no page read. */
const unreached = (runs: number): LagSignals => ({
  behindMs: 0,
  unreachedRuns: runs,
  scan: { pagesRead: 0, tasksRead: 0, complete: false, stoppedBecause: 'budget' },
});

/** Runs `signals` in a row, one every 5 minutes from T0, threading the lags as the cursor would. */
function runs(signals: LagSignals[], start?: Record<string, Lag>) {
  let lags = start;
  return signals.map((s, i) => {
    const out = updateLags({ instance: I, prev: lags, signals: s, now: T0 + i * RUN });
    lags = out.lags;
    return out;
  });
}
/** Each run's notices, as `kind condition`. */
const said = (out: { notices: MonitorAlert[] }[]) =>
  out.map((o) => o.notices.map((n) => `${n.kind} ${n.condition}`).join(', '));
const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('telling the channels when a run cannot do its work on an instance', () => {
  it('keeps nothing and says nothing while an instance is read to its end', () => {
    expect(updateLags({ instance: I, prev: undefined, signals: read(), now: T0 })).toEqual({ notices: [] });
  });

  it('says once that an instance was not reached for NOT_REACHED_AFTER_RUNS runs, and once that it is read again', () => {
    const signals = [...repeat(NOT_REACHED_AFTER_RUNS + 3, (i) => unreached(i + 1)), read(), read()];
    const out = runs(signals);
    const expected = signals.map(() => '');
    expected[NOT_REACHED_AFTER_RUNS - 1] = 'blind not-reached';
    expected[NOT_REACHED_AFTER_RUNS + 3] = 'restored not-reached';
    expect(said(out)).toEqual(expected);
    expect(out[NOT_REACHED_AFTER_RUNS - 1]!.notices[0]).toEqual({
      kind: 'blind',
      id: `${I}/not-reached/${T0}`,
      instance: I,
      condition: 'not-reached',
      since: T0,
      at: T0 + (NOT_REACHED_AFTER_RUNS - 1) * RUN,
      runs: NOT_REACHED_AFTER_RUNS,
    });
    const back = out[NOT_REACHED_AFTER_RUNS + 3]!.notices[0]!;
    expect(back).toMatchObject({ kind: 'restored', id: `${I}/not-reached/${T0}/cleared`, since: T0 });
    expect(out.at(-1)!.lags).toBeUndefined();
  });

  it('says nothing of an instance reached again before the threshold', () => {
    const out = runs([unreached(1), unreached(2), read(), unreached(1), read()]);
    expect(said(out).every((s) => s === '')).toBe(true);
    expect(out.at(-1)!.lags).toBeUndefined();
  });

  it('says once that due re-checks waited RECHECKS_BEHIND_MS, since they fell due, and once when the wait is under half', () => {
    const waits = [10 * MIN, 50 * MIN, RECHECKS_BEHIND_MS, 70 * MIN, 80 * MIN, 40 * MIN, 20 * MIN, 0];
    const out = runs(waits.map((w) => read({ recheckBehindMs: w })));
    expect(said(out)).toEqual(['', '', 'blind rechecks-behind', '', '', '', 'restored rechecks-behind', '']);
    expect(out[2]!.notices[0]).toMatchObject({ since: T0 + 2 * RUN - H, behindMs: H });
  });

  it('keeps a re-check lag as it was in a run that does not say how long re-checks waited', () => {
    const out = runs([read({ recheckBehindMs: 2 * H }), unreached(1), read({ recheckBehindMs: 0 })]);
    expect(said(out)).toEqual(['blind rechecks-behind', '', 'restored rechecks-behind']);
  });

  it('stays quiet while a backlog shrinks, however slowly and however long', () => {
    const out = runs(repeat(40, (i) => short(20 * H - i * MIN)));
    expect(said(out).every((s) => s === '')).toBe(true);
    // What it compares with is kept, bounded.
    expect(out.at(-1)!.lags?.['backlog-growing']?.recent).toHaveLength(BACKLOG_RUNS + 1);
    expect(out.at(-1)!.lags?.['backlog-growing']?.announced).toBe(false);
  });

  it('says once that a backlog is not smaller than BACKLOG_RUNS runs ago, and once when it shrinks again', () => {
    const growing = repeat(BACKLOG_RUNS + 4, (i) => short(2 * H + i * MIN));
    const shrinking = repeat(BACKLOG_RUNS + 1, (i) => short(2 * H - i * 10 * MIN));
    const out = runs([...growing, ...shrinking, read()]);
    const s = said(out);
    expect(s.filter((x) => x !== '')).toEqual(['blind backlog-growing', 'restored backlog-growing']);
    expect(s.indexOf('blind backlog-growing')).toBe(BACKLOG_RUNS);
    expect(out[BACKLOG_RUNS]!.notices[0]).toMatchObject({ since: T0, behindMs: 2 * H + BACKLOG_RUNS * MIN });
    expect(out.at(-1)!.lags).toBeUndefined();
  });

  it('says nothing of a small backlog that comes and goes, nor of one under BACKLOG_MIN_MS that holds', () => {
    const small = repeat(30, (i) => (i % 3 === 2 ? read() : short(4 * MIN + (i % 3) * MIN)));
    expect(said(runs(small)).every((x) => x === '')).toBe(true);
    const steady = repeat(30, () => short(BACKLOG_MIN_MS - MIN));
    expect(said(runs(steady)).every((x) => x === '')).toBe(true);
  });

  it('says once that a list stops short of its end on a repeated page LIST_UNFINISHED_RUNS runs in a row, and once when read to its end', () => {
    const stuck = repeat(LIST_UNFINISHED_RUNS + 2, () => short(0, { stoppedBecause: 'repeated-page' }));
    const out = runs([...stuck, read()]);
    const expected = [...stuck, read()].map(() => '');
    expected[LIST_UNFINISHED_RUNS - 1] = 'blind list-unfinished';
    expected[LIST_UNFINISHED_RUNS + 2] = 'restored list-unfinished';
    expect(said(out)).toEqual(expected);
    expect(out[LIST_UNFINISHED_RUNS - 1]!.notices[0]).toMatchObject({
      since: T0,
      runs: LIST_UNFINISHED_RUNS,
      stoppedBecause: 'repeated-page',
    });
  });

  it('counts pages that hold no task, and an incomplete read that leaves nothing measured, as a list not read to its end', () => {
    const empty = repeat(LIST_UNFINISHED_RUNS, () => short(3 * H, { tasksRead: 0 }));
    expect(said(runs(empty)).at(-1)).toContain('blind list-unfinished');
    const unmeasured = repeat(LIST_UNFINISHED_RUNS, () => short(0, { stoppedBecause: 'budget' }));
    expect(said(runs(unmeasured)).at(-1)).toBe('blind list-unfinished');
  });

  it('says a list that stops at the page cap every run, no nearer its end, is not read to its end (and not also a backlog)', () => {
    const out = runs(repeat(LIST_UNFINISHED_RUNS + 4, (i) => short(2 * H + i * MIN, { stoppedBecause: 'max-pages' })));
    expect(said(out).filter((x) => x !== '')).toEqual(['blind list-unfinished']);
    expect(said(out)[LIST_UNFINISHED_RUNS - 1]).toBe('blind list-unfinished');
    expect(out.at(-1)!.lags?.['backlog-growing']).toBeUndefined();
  });

  it('stays quiet while a list stopped at the page cap gets nearer its end run by run', () => {
    const out = runs(repeat(LIST_UNFINISHED_RUNS + 4, (i) => short(20 * H - i * MIN, { stoppedBecause: 'max-pages' })));
    expect(said(out).every((x) => x === '')).toBe(true);
    expect(out.at(-1)!.lags?.['list-unfinished']).toBeUndefined();
  });

  it('leaves a list that stops short for time to the backlog check', () => {
    const out = runs(repeat(LIST_UNFINISHED_RUNS + 2, (i) => short(20 * H - i * MIN)));
    expect(said(out).every((s) => s === '')).toBe(true);
    expect(out.at(-1)!.lags?.['list-unfinished']).toBeUndefined();
  });

  it('starts the count again when a list is read to its end before the threshold', () => {
    const cannot = short(0, { stoppedBecause: 'repeated-page' });
    const out = runs([...repeat(LIST_UNFINISHED_RUNS - 1, () => cannot), read(), ...repeat(2, () => cannot)]);
    expect(said(out).every((x) => x === '')).toBe(true);
    expect(out.at(-1)!.lags?.['list-unfinished']?.runs).toBe(2);
  });

  it('tracks each condition on its own: one clearing leaves another announced', () => {
    const both = { ...unreached(NOT_REACHED_AFTER_RUNS), recheckBehindMs: 2 * H };
    const out = runs([both, read({ recheckBehindMs: 2 * H })]);
    expect(said(out)).toEqual(['blind not-reached, blind rechecks-behind', 'restored not-reached']);
    expect(Object.keys(out[1]!.lags ?? {})).toEqual(['rechecks-behind']);
  });

  it('keeps its lags in a cursor row that reads back, and a cursor written before lags existed reads as having none', () => {
    const out = runs(repeat(LIST_UNFINISHED_RUNS, () => short(2 * H, { stoppedBecause: 'max-pages' })));
    const row = JSON.parse(JSON.stringify({ gaps: [], lags: out.at(-1)!.lags }));
    expect(v.parse(CursorSchema, row).lags).toEqual(out.at(-1)!.lags);
    expect(v.parse(CursorSchema, { gaps: [] })).not.toHaveProperty('lags');
    expect(() => v.parse(CursorSchema, { gaps: [], lags: { 'list-unfinished': { since: 'x' } } })).toThrow();
  });
});
