import { describe, expect, it } from 'vitest';
import type { DeliveredRecord } from '../../../src/model/state.js';
import { covers, coveredBy, seenWhole } from '../../../src/state/delivered.js';
import { emptyControl, keysFor, write } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { MemoryTable } from '../../../src/state/table.js';
import { failureAlert, owed, syncTask } from '../../support/build.js';

const k = keysFor('test');
const T = 1_800_000_000_000;
const key = (id: string) => k.owed('dingtalk', `cn-hangzhou:cri-a/${id}`);

/** A message that took the rows of rst-b100 to rst-b199, written at generation 7. */
const record: DeliveredRecord = {
  target: 'dingtalk',
  from: key('rst-b100'),
  to: key('rst-b199'),
  gen: 7,
  at: T,
  alerts: 100,
  message: 'm1',
};

describe('which owed rows a delivered record covers', () => {
  it.each([
    ['a row the message took', { key: key('rst-b150'), gen: 7, detectedAt: T - 1 }, true],
    ['a row of an earlier generation inside the range', { key: key('rst-b150'), gen: 3, detectedAt: T - 1 }, true],
    ['the first and the last row of the range', { key: key('rst-b100'), gen: 7, detectedAt: T }, true],
    ['a later alert whose key sorts inside the range', { key: key('rst-b1500'), gen: 8, detectedAt: T + 1 }, false],
    [
      'a later alert inside the range, even detected before',
      { key: key('rst-b150'), gen: 8, detectedAt: T - 1 },
      false,
    ],
    ['a row before the range', { key: key('rst-b099'), gen: 7, detectedAt: T - 1 }, false],
    ['a row past the range', { key: key('rst-b2'), gen: 7, detectedAt: T - 1 }, false],
    ['a row of another target', { key: k.owed('slack', 'cn-hangzhou:cri-a/rst-b150'), gen: 7, detectedAt: T }, false],
    ['a row with no generation detected before the message', { key: key('rst-b150'), detectedAt: T - 1 }, true],
    ['a row with no generation detected after the message', { key: key('rst-b150'), detectedAt: T + 1 }, false],
  ])('%s: %s', (_name, row, expected) => {
    expect(covers(record, row)).toBe(expected);
  });

  it('keys of later alerts sort between the ones a message took: the range alone would take them', () => {
    const later = key('rst-b1500');
    expect(later > record.from && later < record.to).toBe(true);
  });

  it('finds the record that covers a row among several', () => {
    const other = { ...record, from: key('rst-c0'), to: key('rst-c9'), message: 'm2' };
    expect(coveredBy([record, other], { key: key('rst-c5'), gen: 1, detectedAt: T })?.message).toBe('m2');
    expect(coveredBy([record, other], { key: key('rst-d5'), gen: 1, detectedAt: T })).toBeUndefined();
    expect(coveredBy([], { key: key('rst-b150'), gen: 1, detectedAt: T })).toBeUndefined();
  });

  it('a record is seen whole by a read that reached its last key, or read every row', () => {
    const other = { ...record, from: key('rst-c0'), to: key('rst-c9'), message: 'm2' };
    expect(seenWhole([record, other], key('rst-b199'), false).map((r) => r.message)).toEqual(['m1']);
    expect(seenWhole([record, other], key('rst-b198'), false)).toEqual([]);
    expect(seenWhole([record, other], undefined, false)).toEqual([]);
    expect(seenWhole([record, other], undefined, true).map((r) => r.message)).toEqual(['m1', 'm2']);
  });
});

describe('the delivered records a store keeps', () => {
  const store = () =>
    new StateStore(
      new MemoryTable('records'),
      'test',
      (_label, fn) => fn(5_000),
      () => T,
    );

  it('stamps owed rows and records with the control row version the store last wrote', async () => {
    const s = store();
    await s.begin([], []);
    const v = await s.saveControl({ value: emptyControl(), version: 0 }, emptyControl(), 'take');
    const alert = failureAlert(syncTask({ taskId: 'rst-1' }), 'cn-hangzhou:cri-a');
    const none = { handled: [], watch: [], unwatch: [], failing: new Map() };
    await s.claim('cn-hangzhou:cri-a', { ...none, owed: [owed(alert, 'dingtalk')] });
    const rows: { gen?: number }[] = [];
    for await (const page of s.owed('dingtalk')) rows.push(...page);
    expect(rows.map((r) => r.gen)).toEqual([v]);
    await s.recordDelivered('dingtalk', { from: 'a', to: 'b', alerts: 300, message: 'm1' });
    expect(await s.delivered('dingtalk')).toEqual([
      { target: 'dingtalk', from: 'a', to: 'b', alerts: 300, message: 'm1', gen: v, at: T },
    ]);
    await s.removeDelivered('dingtalk', ['m1']);
    expect(await s.delivered('dingtalk')).toEqual([]);
  });

  it('drops a record of a generation the control row has not reached (the row was lost): it covers nothing', async () => {
    const s = store();
    await s.table.writeRows([write.delivered(k, { ...record, gen: 50 })], 5_000);
    await s.begin([], []);
    expect(await s.delivered('dingtalk')).toEqual([]);
    expect((await s.table.rangePage(...k.deliveredRange('dingtalk'), 5_000)).rows).toEqual([]);
  });
});
