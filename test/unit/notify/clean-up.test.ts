import { describe, expect, it } from 'vitest';
import { bannersTotal } from '../../support/banner.js';
import { ContentRefusedError } from '../../../src/lib/errors.js';
import type { ChannelName } from '../../../src/model/lang.js';
import type { SyncTask } from '../../../src/model/task.js';
import type { Notifier } from '../../../src/notify/types.js';
import { keysFor, write } from '../../../src/state/rows.js';
import type { WriteOp } from '../../../src/state/table.js';
import { failureAlert, owed, syncTask } from '../../support/build.js';
import { INST, MIN, recordingLog, T0, task } from '../../support/observe-fakes.js';
import { runHarness } from '../../support/run-harness.js';
import { readState } from '../../support/state.js';

const K = keysFor('harness');
const CHANNELS = ['dingtalk', 'slack'] as const;

/** Everything the table and the channels saw, in order: each write (its rows' kinds) and each message accepted. */
type Event = { write: string[] } | { accepted: ChannelName; alerts: number };

/** Alerts a message holds, from its banner ("… · 1,000 syncs failed in all"). */
const alertsIn = (payload: unknown) => bannersTotal([payload]);

/** Whether the run was killed: from then on it writes and sends nothing. */
interface Run {
  dead: boolean;
}

/**
 * A channel that takes every message, or (`refuseOver`) refuses for its content one of more alerts than that; a
 * killed run sends nothing.
 */
function notifier(channel: ChannelName, events: Event[], run: Run, refuseOver = Infinity): Notifier {
  return {
    channel,
    fingerprint: channel,
    send: async (payload) => {
      if (run.dead) throw new Error('the run was killed');
      const alerts = alertsIn(payload);
      if (alerts > refuseOver)
        throw new ContentRefusedError('refused', { service: channel, status: 400, code: 'invalid_payload' });
      events.push({ accepted: channel, alerts });
    },
  };
}

/** A row's kind from its key: o (owed), r (a delivered record), ctl, ... */
const kindOf = (key: string) => key.split('|')[3]!;

/**
 * Runs over an in-memory table holding `n` alerts owed to both channels (ids rst-b0 … rst-b<n-1>, so their keys do not
 * sort by number), with no task to read until the test adds some.
 */
async function burst(n: number, refuseOver?: number) {
  const events: Event[] = [];
  const tasks: SyncTask[] = [];
  const run: Run = { dead: false };
  const notifiers = { dingtalk: notifier('dingtalk', events, run, refuseOver), slack: notifier('slack', events, run) };
  const log = recordingLog();
  const h = runHarness({ tasks, notifiers, log });
  const ops: WriteOp[] = [];
  for (const target of CHANNELS)
    for (let i = 0; i < n; i++)
      ops.push(write.owed(K, owed(failureAlert(syncTask({ taskId: `rst-b${i}` }), INST.key), target, T0 - MIN), 0));
  for (let i = 0; i < ops.length; i += 200) await h.table.writeRows(ops.slice(i, i + 200));
  const control = { owed: Object.fromEntries(CHANNELS.map((c) => [c, { since: T0 - MIN, count: n }])), pauses: {} };
  await h.table.writeRows([write.control(K, control, 0)]);
  let dies: ((kinds: string[]) => boolean) | undefined;
  const writeRows = h.table.writeRows.bind(h.table);
  h.table.writeRows = async (w: readonly WriteOp[]) => {
    if (run.dead) throw new Error('the run was killed');
    const kinds = [...new Set(w.map((o) => kindOf(o.key)))];
    const r = await writeRows(w);
    events.push({ write: kinds });
    if (dies?.(kinds)) run.dead = true;
    return r;
  };
  return {
    h,
    events,
    log,
    /** The instance's tasks, as the next run reads them. */
    tasks,
    /** From the next write matching `at` on, every write fails, until `revive`. */
    killAt(at: (kinds: string[]) => boolean) {
      dies = at;
    },
    revive() {
      dies = undefined;
      run.dead = false;
    },
    received: (c: ChannelName) => events.reduce((n, e) => n + ('accepted' in e && e.accepted === c ? e.alerts : 0), 0),
    state: () => readState(h.table, 'harness', [INST.key]),
  };
}

describe('what a channel accepted stands one write after it did', () => {
  it('a message of 1,000 alerts: the first write after each accept is its record; the rows go after', async () => {
    const b = await burst(1_000);
    await b.h.run(T0);
    for (const c of CHANNELS) {
      const i = b.events.findIndex((e) => 'accepted' in e && e.accepted === c);
      expect(b.events[i + 1], c).toEqual({ write: ['r'] });
      // 1,000 rows: five requests of 200, then the record goes.
      expect(b.events.slice(i + 2, i + 8), c).toEqual([...Array(5).fill({ write: ['o'] }), { write: ['r'] }]);
    }
    expect({ dingtalk: b.received('dingtalk'), slack: b.received('slack') }).toEqual({ dingtalk: 1_000, slack: 1_000 });
    expect((await b.state()).owed).toEqual({});
    // The meta row, the control row and the instance's cursor: no record left.
    expect((await b.state()).rows).toBe(3);
  });

  it('a message of 200 alerts or fewer: the one write after the accept removes its rows, no record', async () => {
    const b = await burst(150);
    await b.h.run(T0);
    const i = b.events.findIndex((e) => 'accepted' in e && e.accepted === 'dingtalk');
    expect(b.events[i + 1]).toEqual({ write: ['o'] });
    expect(b.events[i + 2]).toEqual({ accepted: 'slack', alerts: 150 });
  });

  it('killed halfway through removing the rows: the next run clears the rest without sending them', async () => {
    const b = await burst(1_000);
    // Dies after DingTalk's record and two of its five removals.
    let removals = 0;
    b.killAt((kinds) => kinds.includes('o') && ++removals === 2);
    await expect(b.h.run(T0)).rejects.toThrow(/killed/);
    expect((await b.state()).owed.dingtalk).toHaveLength(600);
    b.revive();
    const next = await b.h.run(T0 + 5 * MIN);
    expect({ dingtalk: b.received('dingtalk'), slack: b.received('slack') }).toEqual({ dingtalk: 1_000, slack: 1_000 });
    expect(next.notified).toEqual({ slack: 1_000, dingtalk: 0 });
    expect(b.log.lines).toContainEqual({
      level: 'info',
      msg: 'rows of a message the channel accepted before are cleared, not sent again',
      fields: { target: 'dingtalk', rows: 600 },
    });
    const s = await b.state();
    expect(s.owed).toEqual({});
    expect(s.rows).toBe(3);
  });

  it('a failure claimed after the record, whose key sorts inside its range, is sent, not taken as delivered', async () => {
    // rst-b1500 sorts between rst-b150 and rst-b151: inside the range DingTalk's message covered.
    const b = await burst(1_000);
    b.killAt((kinds) => kinds.includes('r'));
    await expect(b.h.run(T0)).rejects.toThrow(/killed/);
    b.revive();
    b.tasks.push(task('rst-b1500', T0 + 4 * MIN, 'ERROR'));
    await b.h.run(T0 + 5 * MIN);
    const s = await b.state();
    expect(s.owed).toEqual({});
    // DingTalk: the burst once, then the new failure; Slack: the burst and the new failure, in one message.
    expect({ dingtalk: b.received('dingtalk'), slack: b.received('slack') }).toEqual({ dingtalk: 1_001, slack: 1_001 });
  });

  it('a message split after a content refusal: each part accepted is recorded at once, and not sent again', async () => {
    // DingTalk refuses a message of more than 600 alerts for its content: the 1,000 go as two parts of 500.
    const b = await burst(1_000, 600);
    b.killAt((kinds) => kinds.includes('r'));
    await expect(b.h.run(T0)).rejects.toThrow(/killed/);
    expect(b.events.filter((e) => 'accepted' in e)).toEqual([{ accepted: 'dingtalk', alerts: 500 }]);
    b.revive();
    await b.h.run(T0 + 5 * MIN);
    expect(b.events.filter((e) => 'accepted' in e)).toEqual([
      { accepted: 'dingtalk', alerts: 500 },
      { accepted: 'dingtalk', alerts: 500 },
      { accepted: 'slack', alerts: 1_000 },
    ]);
    expect((await b.state()).owed).toEqual({});
  });
});
