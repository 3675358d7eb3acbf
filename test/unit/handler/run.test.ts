import { describe, expect, it } from 'vitest';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { Notifier } from '../../../src/notify/types.js';
import { write } from '../../../src/state/rows.js';
import { INST, MIN, recordingLog, T0, task } from '../../support/observe-fakes.js';
import { acceptingNotifier, runHarness } from '../../support/run-harness.js';

const refusing = (): Notifier => ({
  channel: 'slack',
  fingerprint: 'slack',
  send: async () => {
    throw new IntegrationError('Slack answered HTTP 404', { service: 'slack', kind: 'config', status: 404 });
  },
});
const oneFailure = [task('rst-1', T0 - MIN, 'ERROR')];

describe('one run (runOnce), phase by phase', () => {
  it('leaves the tick to another run whose lease is in force, and writes nothing', async () => {
    const h = runHarness({ tasks: oneFailure, notifiers: { slack: acceptingNotifier('slack') } });
    const lease = { owner: 'other', until: T0 + MIN };
    await h.table.writeRows([write.control(h.store.keys, { owed: {}, pauses: {}, lease }, 0)]);
    const writes = h.table.counter.writes;
    const s = await h.run(T0);
    expect(s).toMatchObject({ outcome: 'locked', failuresFound: 0, stillOwed: 0 });
    expect(h.table.counter.writes).toBe(writes + 1); // the meta row of a new table, nothing of the run
  });

  it('delivers what it claimed, reports what each channel took and what is still owed, and releases the lease', async () => {
    const ding = acceptingNotifier('dingtalk');
    const h = runHarness({ tasks: oneFailure, notifiers: { dingtalk: ding, slack: refusing() } });
    const s = await h.run(T0);
    expect(s).toMatchObject({
      outcome: 'completed',
      failuresFound: 1,
      notified: { dingtalk: 1, slack: 0 },
      stillOwed: 1,
    });
    expect(s.problems).toEqual([
      `slack: paused until ${new Date(T0 + 30 * MIN).toISOString()} after: Slack answered HTTP 404 [slack config HTTP 404]`,
    ]);
    expect(s.apiCalls.webhookPosts).toBe(1);
    expect(ding.sent).toHaveLength(1);
    const c = await h.control();
    expect(c.lease).toBeUndefined();
    expect(c.owed).toEqual({ slack: { since: T0, count: 1 } });
  });

  it('with nothing new and every channel owed something paused, writes nothing and says why', async () => {
    const h = runHarness({ tasks: oneFailure, notifiers: { slack: refusing() } });
    await h.run(T0);
    const writes = h.table.counter.writes;
    const s = await h.run(T0 + 5 * MIN);
    expect(s).toMatchObject({ outcome: 'nothing-new', notified: {}, stillOwed: 1 });
    expect(s.problems).toEqual([
      `slack: paused until ${new Date(T0 + 30 * MIN).toISOString()} after: Slack answered HTTP 404 [slack config HTTP 404]`,
    ]);
    expect(h.table.counter.writes).toBe(writes);
  });

  it('warns when another run moved a cursor first, and keeps that reading', async () => {
    const log = recordingLog();
    const theirs = { top: T0 + 1, gaps: [] };
    const h = runHarness({
      tasks: oneFailure,
      notifiers: { slack: acceptingNotifier('slack') },
      log,
      cr: { before: () => void h.table.writeRows([write.cursor(h.store.keys, INST.key, theirs, 0)]) },
    });
    await h.run(T0);
    expect(log.lines).toContainEqual({
      level: 'warn',
      msg: 'another run moved some cursors first; its reading stands',
      fields: { rows: 1 },
    });
    expect((await h.store.begin([INST.key], [])).cursors.get(INST.key)!.value).toEqual(theirs);
  });

  it('stops claiming when another run took the lease first, and says so', async () => {
    const log = recordingLog();
    const h = runHarness({
      tasks: oneFailure,
      notifiers: { slack: acceptingNotifier('slack') },
      log,
      cr: { before: () => void h.table.writeRows([write.control(h.store.keys, { owed: {}, pauses: {} }, 0)]) },
    });
    const s = await h.run(T0);
    expect(s).toMatchObject({ outcome: 'lost-race', failuresFound: 0, notified: {} });
    expect(log.lines.map((l) => l.msg)).toContain('another run took the lease first; it announces what this run found');
  });

  it('stops, and says so, when another run takes the lease before it goes to deliver what earlier runs left owed', async () => {
    const log = recordingLog();
    let other: (() => void) | undefined;
    const h = runHarness({ tasks: oneFailure, notifiers: { slack: refusing() }, log, cr: { before: () => other?.() } });
    expect(await h.run(T0)).toMatchObject({ outcome: 'completed', stillOwed: 1 });
    const { control } = await h.store.begin([INST.key], []);
    // Another run rewrites the control row while this one reads the instance (once: that run then holds the lease).
    other = () => {
      other = undefined;
      void h.table.writeRows([write.control(h.store.keys, control.value, control.version)]);
    };
    // Past the channel's pause: this run claims nothing new, so it takes the lease only to deliver, and finds it gone.
    const s = await h.run(T0 + 31 * MIN);
    expect(s).toMatchObject({ outcome: 'lost-race', failuresFound: 0 });
    expect(log.lines.map((l) => l.msg)).toContain('another run took the lease first; it announces what this run found');
  });

  it('names an instance it could not read among the problems', async () => {
    const h = runHarness({
      tasks: oneFailure,
      notifiers: { slack: acceptingNotifier('slack') },
      cr: {
        before: () => {
          throw new IntegrationError('refused', { service: 'cr', kind: 'config', code: 'NoPrivilege' });
        },
      },
    });
    const s = await h.run(T0);
    expect(s.outcome).toBe('nothing-new');
    expect(s.problems).toEqual([expect.stringMatching(new RegExp(`^${INST.key}: .*NoPrivilege`))]);
  });
});
