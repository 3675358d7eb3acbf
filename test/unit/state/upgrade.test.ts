import { describe, expect, it } from 'vitest';
import { parseLegacy } from '../../../src/state/earlier-document.js';
import { legacyRows } from '../../../src/state/upgrade.js';
import { keysFor, read, write } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { MemoryTable } from '../../../src/state/table.js';
import { failureAlert, syncTask } from '../../support/build.js';
import { legacyFixture, shifted } from '../../support/legacy.js';
import { readState } from '../../support/state.js';
import { DyingTable, LegacyMemoryTable } from '../../support/state-tables.js';

const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(1_000);
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const A = 'cn-hangzhou:cri-a';
const B = 'cn-shanghai:cri-b';
const C = 'cn-beijing:cri-c';
const stats = (since: number) => ({
  since,
  byCause: { TAG_CONFLICT: 1 },
  byRepo: { 'prod/api': 1 },
  recoveries: 2,
  recoveryMs: 60_000,
});

/** An earlier single document as a release before the rows wrote it, with one of each thing it could hold. */
const earlier = () => ({
  schema: 1,
  instances: {
    [A]: {
      watermark: 1_000,
      order: 'asc',
      total: 0,
      open: {
        'rst-o1': { createTime: 900, status: 'SYNCHRONIZING', firstSeen: 950, stuck: true },
        'rst-o2': { createTime: 901, status: 'WAITING', firstSeen: 951 },
      },
      handled: { 'rst-h1': 800 },
      failing: {
        img1: {
          since: 100,
          lastFailure: 300,
          taskId: 'rst-f1',
          issue: 'NETWORK_ERROR',
          count: 3,
          windowStart: 200,
          held: { taskId: 'rst-f1', createTime: 300 },
          route: 'team',
        },
        img2: { since: 400, lastFailure: 400, taskId: 'rst-f2', issue: 'TAG_CONFLICT', count: 1 },
        img3: { since: 500, lastFailure: 600, taskId: 'rst-f3', issue: 'NETWORK_ERROR', count: 2 },
      },
    },
    [B]: { watermark: 2_000, open: {}, handled: {} },
  },
  outbox: [
    {
      alert: failureAlert(syncTask({ taskId: 'rst-x' }), A),
      pending: ['slack', 'team/dingtalk'],
      detectedAt: 50,
      attempts: 1,
    },
    {
      alert: failureAlert(syncTask({ taskId: 'rst-y' }), A),
      pending: ['slack'],
      detectedAt: 40,
      attempts: 0,
      lastError: 'slack: refused',
    },
  ],
  health: {
    [B]: { since: 10, runs: 2, lastError: 'denied', announced: true },
    [C]: { since: 11, runs: 1, lastError: 'timeout', announced: false },
  },
  channels: { slack: { until: 9, error: 'gone', fingerprint: 'f1' } },
  muted: { since: 7, byCause: { TAG_CONFLICT: 3 } },
  digests: { team: { stats: stats(8), lastSentAt: 6 } },
});

describe('reading the earlier single document', () => {
  it("takes the one digest and muted tally of a document from before routes as the default route's", () => {
    const both = parseLegacy({ ...earlier(), digests: undefined, digest: { stats: stats(5), lastSentAt: 4 } }, 'here');
    expect(both.digests).toEqual({
      default: { stats: stats(5), lastSentAt: 4, muted: { since: 7, byCause: { TAG_CONFLICT: 3 } } },
    });
    const digestOnly = parseLegacy(
      { ...earlier(), muted: undefined, digests: undefined, digest: { stats: stats(5) } },
      'here',
    );
    expect(digestOnly.digests?.default?.stats).toEqual(stats(5));
    const mutedOnly = parseLegacy(earlier(), 'here');
    expect(mutedOnly.digests).toEqual({
      default: {
        stats: { since: 7, byCause: {}, byRepo: {}, recoveries: 0, recoveryMs: 0 },
        muted: { since: 7, byCause: { TAG_CONFLICT: 3 } },
      },
      team: { stats: stats(8), lastSentAt: 6 },
    });
    const neither = parseLegacy({ ...earlier(), muted: undefined, digests: undefined }, 'here');
    expect(neither.digests).toBeUndefined();
    expect(Object.keys(neither)).not.toContain('muted');
  });

  it("keeps a route's own digest over the one from before routes when a document has both", () => {
    const cp = parseLegacy(
      { ...earlier(), digest: { stats: stats(5) }, digests: { default: { stats: stats(9) } } },
      'here',
    );
    expect(cp.digests?.default?.stats.since).toBe(9);
  });

  it('stops on a damaged document, naming where it is and the first problems, rather than starting afresh', () => {
    const cp = earlier() as Record<string, unknown>;
    const err = (raw: unknown) => {
      try {
        parseLegacy(raw, 'tablestore inst/t/d');
      } catch (e) {
        return (e as Error).message;
      }
      return 'parsed';
    };
    expect(err({ ...cp, instances: { [A]: { watermark: 'x', open: {}, handled: {} } } })).toMatch(
      /^the earlier single document in tablestore inst\/t\/d is damaged \(instances\.cn-hangzhou:cri-a\.watermark: [^;]+\); move it aside to start from the look-back window$/,
    );
    expect(err(null)).toMatch(/is damaged \(\(root\): /);
    const many = err({ schema: 2, instances: 1, outbox: 2, channels: 3 });
    expect(/damaged \((.*)\); move/.exec(many)?.[1]?.split('; ')).toHaveLength(3);
    expect(err({ ...cp, outbox: [{ ...earlier().outbox[0], pending: ['email'] }] })).toMatch(/not a delivery target/);
  });
});

describe('the rows the earlier single document becomes', () => {
  const k = keysFor('d');

  it('writes alerts owed first and the cursors and control row last, none conditional, so a move killed halfway is done again', () => {
    const ops = legacyRows(parseLegacy(earlier(), 'here'), k);
    expect(ops.slice(0, 3).map((o) => o.key)).toEqual([
      k.owed('slack', `${A}/rst-x`),
      k.owed('team/dingtalk', `${A}/rst-x`),
      k.owed('slack', `${A}/rst-y`),
    ]);
    expect(ops.slice(-4).map((o) => o.key)).toEqual([k.cursor(A), k.cursor(B), k.cursor(C), k.control]);
    expect(ops.filter((o) => o.op === 'put' && o.when !== undefined)).toEqual([]);
    expect(ops.at(-1)).toMatchObject({ cols: { ver: 1 } });
  });

  it('carries over every item: alerts owed per target, claimed failures, watched syncs, failing images, digests, cursors and paused channels', async () => {
    const t = new MemoryTable();
    const store = new StateStore(t, 'd', direct);
    const existing = {
      owed: { 'team/slack': { since: 1, count: 4 }, slack: { since: 45, count: 1 } },
      pauses: {
        dingtalk: { until: 3, error: 'e', fingerprint: 'f0' },
        slack: { until: 1, error: 'old', fingerprint: 'f0' },
      },
    };
    await store.apply(legacyRows(parseLegacy(earlier(), 'here'), k, existing), 'move');
    const s = await readState(t, 'd', [A, B, C]);

    expect(
      Object.fromEntries(Object.entries(s.owed).map(([target, o]) => [target, o.map((x) => x.alert.id).sort()])),
    ).toEqual({ slack: [`${A}/rst-x`, `${A}/rst-y`], 'team/dingtalk': [`${A}/rst-x`] });
    expect(s.owed['team/dingtalk']![0]).toMatchObject({ target: 'team/dingtalk', detectedAt: 50 });
    // What this release still owed stays owed beside what the document owes.
    expect(s.control.owed).toEqual({
      'team/slack': { since: 1, count: 4 },
      slack: { since: 40, count: 3 },
      'team/dingtalk': { since: 50, count: 1 },
    });
    expect(s.control.pauses).toEqual({
      dingtalk: { until: 3, error: 'e', fingerprint: 'f0' },
      slack: { until: 9, error: 'gone', fingerprint: 'f1' },
    });

    expect(s.handled[A]).toEqual(['rst-h1']);
    const watched = Object.fromEntries(s.watched[A]!.map((w) => [w.task.taskId, w]));
    expect(watched['rst-o1']).toMatchObject({
      firstSeen: 950,
      stuck: true,
      partial: true,
      task: { createTime: 900, status: 'SYNCHRONIZING' },
    });
    expect(watched['rst-o2']).toMatchObject({
      firstSeen: 951,
      partial: true,
      task: { createTime: 901, status: 'WAITING' },
    });
    expect('stuck' in watched['rst-o2']!).toBe(false);
    // Known only by id, time and status: nothing else is made up, the first re-check reads the rest.
    const blank = { instanceId: '', regionId: '', namespace: '', repo: '', tag: '' };
    expect(watched['rst-o2']!.task).toEqual({
      taskId: 'rst-o2',
      createTime: 901,
      status: 'WAITING',
      issue: '',
      trigger: '',
      crossUser: false,
      from: blank,
      to: blank,
    });

    const failing = Object.fromEntries(s.failing[A]!.map((f) => [f.taskId, f]));
    // A count of 3 within a window becomes three failure times: two at the window's start and the last.
    expect(failing['rst-f1']).toEqual({
      since: 100,
      lastFailure: 300,
      taskId: 'rst-f1',
      issue: 'NETWORK_ERROR',
      recent: [200, 200, 300],
      held: { taskId: 'rst-f1', createTime: 300 },
      route: 'team',
    });
    expect(failing['rst-f2']).toEqual({ since: 400, lastFailure: 400, taskId: 'rst-f2', issue: 'TAG_CONFLICT' });
    expect(failing['rst-f3']!.recent).toEqual([500, 600]);

    expect(s.cursors[A]).toEqual({ top: 1_000, gaps: [], order: 'asc', total: 0, watching: 2, held: { img1: 100 } });
    expect(s.cursors[B]).toEqual({
      top: 2_000,
      gaps: [],
      health: { since: 10, runs: 2, lastError: 'denied', announced: true },
      watching: 0,
    });
    expect(s.cursors[C]).toEqual({ gaps: [], health: { since: 11, runs: 1, lastError: 'timeout', announced: false } });
    expect(Object.keys(s.digests).sort()).toEqual(['default', 'team']);
    expect(s.digests.team).toEqual({ stats: stats(8), lastSentAt: 6 });
  });

  it('moves a document with nothing in it to an empty control row and nothing else', () => {
    const ops = legacyRows(parseLegacy({ schema: 1, instances: {}, outbox: [] }, 'here'), k);
    expect(ops).toHaveLength(1);
    expect(read.control(k.control, (ops[0] as { cols: Record<string, string | number> }).cols)).toEqual({
      value: { owed: {}, pauses: {} },
      version: 1,
    });
  });
});

describe('upgrading a table that holds the earlier single document', () => {
  const doc = () => shifted(legacyFixture.checkpoint, T0 - 60_000 - legacyFixture.savedAt);
  const fixtureInstance = Object.keys((legacyFixture.checkpoint as { instances: object }).instances)[0]!;
  const rowsOf = async (t: MemoryTable) => (await t.rangePage('', '~')).rows.length;

  it('moves the document into rows once, marks it so an earlier release can no longer save over it, and starts from what it held', async () => {
    const t = new LegacyMemoryTable({ doc: doc(), version: 4, retired: false }, () => T0);
    const store = new StateStore(t, 'd', direct, () => T0);
    const s = await store.begin([fixtureInstance], ['default']);
    expect(t.doc).toMatchObject({ version: 5, retired: true, movedVersion: 5 });
    expect(s.upgraded?.rows).toBe((await rowsOf(t)) - 1);
    expect(s.cursors.get(fixtureInstance)?.value.top).toBeGreaterThan(0);
    expect(s.digests.get('default')?.stats.byCause).toMatchObject({ TAG_CONFLICT: 1 });
    expect(Object.keys(s.control.value.owed)).toEqual(['slack']);
    expect(s.control.version).toBe(1);
    const meta = read.meta(store.keys.meta, (await t.getRows([store.keys.meta])).get(store.keys.meta)!);
    expect(meta).toEqual({ layout: 2, since: T0, savedAt: T0, from: 'single-document checkpoint' });

    const again = await store.begin([fixtureInstance], ['default']);
    expect(again.upgraded).toBeUndefined();
    expect(t.doc?.version).toBe(5);
  });

  it('keeps what this release still owed when it moves the document again after a rollback', async () => {
    const t = new LegacyMemoryTable({ doc: doc(), version: 4, retired: false }, () => T0);
    const store = new StateStore(t, 'd', direct, () => T0);
    await store.apply(
      [write.control(store.keys, { owed: { dingtalk: { since: 3, count: 2 } }, pauses: {} }, 0)],
      'this release owes',
    );
    const s = await store.begin([], []);
    expect(s.control.value.owed).toEqual({
      dingtalk: { since: 3, count: 2 },
      slack: expect.objectContaining({ count: 1 }),
    });
  });

  it('moves the document again when an earlier release saved it since the move (a rollback), however long ago the move was', async () => {
    const t = new LegacyMemoryTable(
      { doc: doc(), version: 6, retired: true, retiredAt: T0 - 30 * 24 * HOUR, movedVersion: 5 },
      () => T0,
    );
    const store = new StateStore(t, 'd', direct, () => T0);
    expect((await store.status()).legacy).toEqual({
      version: 6,
      movedVersion: 5,
      retiredAt: T0 - 30 * 24 * HOUR,
      savedSince: true,
    });
    const s = await store.begin([fixtureInstance], []);
    expect(s.upgraded?.rows).toBeGreaterThan(0);
    expect(t.doc).toMatchObject({ version: 7, movedVersion: 7, retiredAt: T0 });
    expect((await store.status()).legacy?.savedSince).toBe(false);
  });

  it('resumes a move killed halfway up to a day later without marking the document again, and leaves one older alone', async () => {
    const at = (retiredAt: number | undefined) =>
      new LegacyMemoryTable(
        { doc: doc(), version: 5, retired: true, movedVersion: 5, ...(retiredAt === undefined ? {} : { retiredAt }) },
        () => T0,
      );
    const day = at(T0 - 24 * HOUR);
    expect((await new StateStore(day, 'd', direct, () => T0).begin([], [])).upgraded?.rows).toBeGreaterThan(0);
    expect(day.doc?.version).toBe(5);
    const older = at(T0 - 24 * HOUR - 1);
    expect((await new StateStore(older, 'd', direct, () => T0).begin([], [])).upgraded).toBeUndefined();
    expect(await rowsOf(older)).toBe(1);
    const unknown = at(undefined);
    expect((await new StateStore(unknown, 'd', direct, () => T0).begin([], [])).upgraded).toBeUndefined();
  });

  it('stops on a damaged earlier document, naming the table and deployment, and marks nothing', async () => {
    const t = new LegacyMemoryTable({ doc: { schema: 1, instances: 'x', outbox: [] }, version: 4, retired: false });
    await expect(new StateStore(t, 'prod', direct).begin([], [])).rejects.toThrow(
      /^the earlier single document in memory with an earlier single document\/prod is damaged \(instances: /,
    );
    expect(t.doc?.retired).toBe(false);
    expect(await rowsOf(t)).toBe(0);
  });

  it('reports the layout and the earlier document, and forgets the upgrade so the next run moves the document again', async () => {
    const t = new LegacyMemoryTable({ doc: doc(), version: 4, retired: false }, () => T0);
    const store = new StateStore(t, 'd', direct, () => T0);
    expect(await store.status()).toEqual({
      legacy: { version: 4, movedVersion: undefined, retiredAt: undefined, savedSince: false },
    });
    await store.begin([], []);
    expect(await store.status()).toEqual({
      meta: { layout: 2, since: T0, savedAt: T0, from: 'single-document checkpoint' },
      legacy: { version: 5, movedVersion: 5, retiredAt: T0, savedSince: false },
    });
    t.saveAgain(doc());
    await store.forgetUpgrade();
    expect((await store.status()).meta).toBeUndefined();
    expect((await store.begin([], [])).upgraded?.rows).toBeGreaterThan(0);
    expect(t.doc?.movedVersion).toBe(7);
  });

  it('reports neither layout nor document for a new table that cannot hold an earlier one', async () => {
    expect(await new StateStore(new MemoryTable(), 'd', direct).status()).toEqual({});
    const none = new LegacyMemoryTable(undefined);
    const s = await new StateStore(none, 'd', direct, () => T0).begin([], []);
    expect(s.upgraded).toBeUndefined();
    expect(await rowsOf(none)).toBe(1);
  });
});

describe('an upgrade killed part-way', () => {
  /** An earlier single document of 450 claimed failures, one alert owed to Slack and Slack paused: 453 rows. */
  const large = () => ({
    schema: 1,
    instances: {
      [A]: {
        watermark: 1_000,
        open: {},
        handled: Object.fromEntries(Array.from({ length: 450 }, (_, i) => [`rst-h${i}`, 500 + i])),
      },
    },
    outbox: [
      { alert: failureAlert(syncTask({ taskId: 'rst-x' }), A), pending: ['slack'], detectedAt: 50, attempts: 1 },
    ],
    channels: { slack: { until: 9, error: 'gone', fingerprint: 'f1' } },
  });
  const everything = async (t: MemoryTable) => {
    const s = await readState(t, 'd', [A]);
    return {
      handled: s.handled[A]?.length,
      owed: s.owed.slack?.map((o) => o.alert.id),
      control: s.control,
      cursor: s.cursors[A]?.top,
      meta: s.meta?.layout,
    };
  };
  const whole = {
    handled: 450,
    owed: [`${A}/rst-x`],
    control: {
      owed: { slack: { since: 50, count: 1 } },
      pauses: { slack: { until: 9, error: 'gone', fingerprint: 'f1' } },
    },
    cursor: 1_000,
    meta: 2,
  };

  it('is finished by the next run with nothing lost when the run dies after its first write request', async () => {
    const t = new DyingTable({ doc: large(), version: 4, retired: false }, () => T0).dieAfter(1);
    const store = new StateStore(t, 'd', direct, () => T0);
    await expect(store.begin([A], [])).rejects.toThrow(/killed/);
    expect((await store.status()).meta).toBeUndefined();
    t.revive();
    expect((await store.begin([A], [])).upgraded).toEqual({ rows: 453 });
    expect(await everything(t)).toEqual(whole);
  });

  it('is finished by the next run when a row of its last request is refused and the others applied', async () => {
    const t = new DyingTable({ doc: large(), version: 4, retired: false }, () => T0).refuseRow(keysFor('d').control);
    const store = new StateStore(t, 'd', direct, () => T0);
    await expect(store.begin([A], [])).rejects.toThrow(/service busy/);
    expect((await store.status()).meta).toBeUndefined();
    t.revive();
    expect((await store.begin([A], [])).upgraded).toEqual({ rows: 453 });
    expect(await everything(t)).toEqual(whole);
  });
});
