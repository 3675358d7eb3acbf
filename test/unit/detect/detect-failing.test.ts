import { describe, expect, it } from 'vitest';
import { FAILING_MAX_AGE_MS, imageKey, MAX_HELD, type DetectOptions } from '../../../src/detect/detect.js';
import type { FailingImage } from '../../../src/model/state.js';
import type { SyncTask } from '../../../src/model/task.js';
import { batch, detector, H, ids, img, known, MIN, none, NOW, stored, t } from '../../support/detect-tasks.js';

describe('failing images and their recovery', () => {
  it('tells images apart by rule, target region, instance, namespace, repository and tag: a success recovers only its own image', () => {
    const to = { ...img, tag: 'v1' };
    const fail = t('rst-f', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v1', { ruleId: 'crsr-1', to });
    const ok = (extra: Partial<SyncTask>) => t('rst-ok', 'SUCCESS', H, '', 'v1', { ruleId: 'crsr-1', to, ...extra });
    const others = [
      ok({ ruleId: 'crsr-2' }),
      ok({ ruleId: undefined }),
      ok({ to: { ...to, regionId: 'cn-beijing' } }),
      ok({ to: { ...to, instanceId: 'cri-y' } }),
      ok({ to: { ...to, namespace: 'other' } }),
      ok({ to: { ...to, repo: 'other' } }),
      ok({ to: { ...to, tag: 'v2' } }),
    ];
    for (const other of others) {
      expect(
        detector({ top: NOW, gaps: [] }).take(batch([other]), known([], [[fail, {}]])).recoveries,
        JSON.stringify(other.to) + other.ruleId,
      ).toEqual([]);
    }
    const same = detector({ top: NOW, gaps: [] }).take(batch([ok({})]), known([], [[fail, {}]]));
    expect(same.recoveries.map((r) => r.failure.taskId)).toEqual(['rst-f']);
  });

  it('keeps when an image began failing and names its latest failure, whichever order its failures are read in', () => {
    const first = t('rst-f1', 'ERROR', 3 * H, 'NETWORK_ERROR', 'v1');
    const row = known([], [[first, { lastFailure: NOW - 2 * H, taskId: 'rst-f2', route: 'team-a' }]]);
    const older = detector({ top: NOW, gaps: [] }).take(
      batch([t('rst-f0', 'ERROR', 4 * H, 'TAG_CONFLICT', 'v1')]),
      row,
    );
    expect(older.failing.get(imageKey(first))).toMatchObject({
      since: NOW - 4 * H,
      lastFailure: NOW - 2 * H,
      taskId: 'rst-f2',
      issue: 'NETWORK_ERROR',
      route: 'team-a',
    });
    const newer = detector({ top: NOW, gaps: [] }).take(batch([t('rst-f3', 'ERROR', H, 'TAG_CONFLICT', 'v1')]), row);
    expect(newer.failing.get(imageKey(first))).toMatchObject({
      since: NOW - 3 * H,
      lastFailure: NOW - H,
      taskId: 'rst-f3',
      issue: 'TAG_CONFLICT',
      route: 'team-a',
    });
    // A failure at the very time of the last one is named as the latest.
    const tie = detector({ top: NOW, gaps: [] }).take(batch([t('rst-f4', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v1')]), row);
    expect(tie.failing.get(imageKey(first))).toMatchObject({ taskId: 'rst-f4', issue: 'TAG_CONFLICT' });
    // An image failing for the first time goes to the default route.
    const fresh = detector().take(batch([t('rst-n', 'ERROR', H, 'TAG_CONFLICT', 'v9')]), none);
    expect(fresh.failing.get(imageKey(t('rst-n', 'ERROR', H, '', 'v9')))).not.toHaveProperty('route');
  });

  it('shows where a failing image goes: the target region and instance, as far as they are known', () => {
    const noRegion = t('rst-a', 'ERROR', H, 'TAG_CONFLICT', 'a', { to: { ...img, regionId: '', tag: 'a' } });
    const renamedNoRepo = t('rst-b', 'ERROR', H, 'TAG_CONFLICT', 'b', { to: { ...img, repo: '', tag: 'b' } });
    const c = detector().take(batch([noRegion, renamedNoRepo]), none);
    expect(c.failing.get(imageKey(noRegion))).toMatchObject({ image: 'ns/r:a', target: 'cri-x' });
    expect(c.failing.get(imageKey(renamedNoRepo))!.target).toBe('cn-hangzhou:cri-x');
  });

  it('still recovers an image whose last failure is exactly a week old', () => {
    const fail = t('rst-f', 'ERROR', FAILING_MAX_AGE_MS, '', 'v1');
    const c = detector({ top: NOW, gaps: [] }).take(
      batch([t('rst-s', 'SUCCESS', MIN, '', 'v1')]),
      known([], [[fail, {}]]),
    );
    expect(c.recoveries.map((r) => r.failure.taskId)).toEqual(['rst-f']);
  });

  it('remembers an image failing for more than a week from its last failure: its recovery is still announced', () => {
    const DAY = 24 * H;
    const first = t('rst-f1', 'ERROR', 10 * DAY, 'TAG_CONFLICT', 'v1');
    // Failing since ten days ago, last failed yesterday: the row is a day old, not ten.
    const row = known([], [[first, { lastFailure: NOW - DAY, taskId: 'rst-f9' }]]);
    const c = detector({ top: NOW, gaps: [] }).take(batch([t('rst-s', 'SUCCESS', MIN, '', 'v1')]), row);
    expect(c.recoveries.map((r) => [r.failure.taskId, r.failure.since])).toEqual([['rst-f9', NOW - 10 * DAY]]);
    expect(c.failing.get(imageKey(first))).toBeNull();
  });

  it('keeps when an image began failing more than a week ago while it fails again within the week', () => {
    const DAY = 24 * H;
    const first = t('rst-f1', 'ERROR', 10 * DAY, 'TAG_CONFLICT', 'v1');
    const row = known([], [[first, { lastFailure: NOW - DAY, taskId: 'rst-f9' }]]);
    const c = detector({ top: NOW, gaps: [] }).take(batch([t('rst-f10', 'ERROR', H, 'TAG_CONFLICT', 'v1')]), row);
    expect(c.failing.get(imageKey(first))).toMatchObject({ since: NOW - 10 * DAY, lastFailure: NOW - H });
  });

  it('does not take a success created at the same moment as the last failure for a recovery', () => {
    const fail = t('rst-f', 'ERROR', H, '', 'v1');
    const c = detector({ top: NOW, gaps: [] }).take(
      batch([t('rst-s', 'SUCCESS', H, '', 'v1')]),
      known([], [[fail, {}]]),
    );
    expect(c.recoveries).toEqual([]);
    expect(c.failing.has(imageKey(fail))).toBe(false);
  });

  it('withdraws only the failure that recovered in the same run, and announces the others', () => {
    const c = detector().take(
      batch([
        t('rst-f', 'ERROR', 3 * H, 'TAG_CONFLICT', 'v1'),
        t('rst-g', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v2'),
        t('rst-s', 'SUCCESS', H, '', 'v1'),
      ]),
      none,
    );
    expect(ids(c.failures)).toEqual(['rst-g']);
    expect(c.recoveries.map((r) => [r.failure.taskId, r.success.taskId, r.sameRun])).toEqual([
      ['rst-f', 'rst-s', true],
    ]);
  });

  it('recovers from the newest success read this run, and none older than the failure', () => {
    const d = detector();
    d.take(batch([t('rst-s2', 'SUCCESS', H, '', 'v1'), t('rst-s1', 'SUCCESS', 2 * H, '', 'v1')]), none);
    d.take(batch([t('rst-s0', 'SUCCESS', 5 * H, '', 'v1')]), none);
    const c = d.take(batch([t('rst-f', 'ERROR', 3 * H, 'TAG_CONFLICT', 'v1')]), none);
    expect(c.recoveries.map((r) => r.success.taskId)).toEqual(['rst-s2']);
    // A failure newer than every success read is announced.
    const later = d.take(batch([t('rst-f2', 'ERROR', 30 * MIN, 'TAG_CONFLICT', 'v1')]), none);
    expect(ids(later.failures)).toEqual(['rst-f2']);
    expect(later.recoveries).toEqual([]);
  });

  it('announces a failure created at the same moment as a success read before it: that success came no later', () => {
    const d = detector();
    d.take(batch([t('rst-s', 'SUCCESS', H, '', 'v1')]), none);
    const c = d.take(batch([t('rst-f', 'ERROR', H, 'TAG_CONFLICT', 'v1')]), none);
    expect(ids(c.failures)).toEqual(['rst-f']);
    expect(c.recoveries).toEqual([]);
  });

  it('remembers in this run what it wrote for an image: a later batch neither asks the store again nor trusts its stale row', () => {
    const d = detector({ top: NOW, gaps: [] });
    const fail = t('rst-f', 'ERROR', 2 * H, 'TAG_CONFLICT', 'v1');
    const first = d.take(batch([fail]), none);
    expect(ids(first.failures)).toEqual(['rst-f']);
    expect(d.needs(batch([t('rst-s', 'SUCCESS', H, '', 'v1')])).imageKeys).toEqual([]);
    // The success is judged against the row this run wrote, not the (empty) lookup; the failure went out with the
    // batch before, so its recovery is announced as one of an announced failure.
    const c = d.take(batch([t('rst-s', 'SUCCESS', H, '', 'v1')]), none);
    expect(c.recoveries.map((r) => [r.failure.taskId, r.sameRun])).toEqual([['rst-f', false]]);
    // Once recovered, the image is not failing for the rest of the run, whatever the store said before.
    const again = d.take(batch([t('rst-s2', 'SUCCESS', 30 * MIN, '', 'v1')]), known([], [[fail, {}]]));
    expect(again.recoveries).toEqual([]);
  });
});

describe('transient causes held back', () => {
  const tr = (o: Partial<NonNullable<DetectOptions['transient']>> = {}): DetectOptions => ({
    stuckAfterMs: 100 * H,
    transient: { minFailures: 3, windowMs: H, persistMs: 4 * H, ...o },
  });
  const net = (id: string, ago: number, tag = 'img') => t(id, 'ERROR', ago, 'NETWORK_ERROR', tag);
  const key = imageKey(net('x', 0));

  it('announces every transient failure at once when the threshold is one failure', () => {
    const c = detector(undefined, [], tr({ minFailures: 1 })).take(batch([net('rst-a', H)]), none);
    expect(ids(c.failures)).toEqual(['rst-a']);
    expect(c.reasons['held-transient']).toBe(0);
  });

  it('holds a first transient failure, keeps when its image began failing in the cursor, and writes its row as held', () => {
    const d = detector(undefined, [], tr());
    const c = d.take(batch([net('rst-a', H)]), none);
    expect(c.failures).toEqual([]);
    expect(c.reasons['held-transient']).toBe(1);
    expect(c.failing.get(key)).toMatchObject({ since: NOW - H, recent: [NOW - H], held: { taskId: 'rst-a' } });
    expect(d.cursorPart(NOW).held).toEqual({ [key]: NOW - H });
  });

  it('announces failures that repeat exactly within the window, and holds ones spread wider', () => {
    const within = detector(undefined, [], tr()).take(
      batch([net('rst-a', 2 * H), net('rst-b', 90 * MIN), net('rst-c', H)]),
      none,
    );
    expect(ids(within.failures)).toEqual(['rst-c']);
    const wider = detector(undefined, [], tr()).take(
      batch([net('rst-a', 2 * H + 1), net('rst-b', 90 * MIN), net('rst-c', H)]),
      none,
    );
    expect(wider.failures).toEqual([]);
    expect(wider.failing.get(key)!.recent).toEqual([NOW - 2 * H - 1, NOW - 90 * MIN, NOW - H]);
  });

  it('keeps the times of only as many latest failures as the threshold counts', () => {
    const heldTask = net('rst-c', 2 * H);
    const rows = known(
      [],
      [[heldTask, { since: NOW - 6 * H, held: heldTask, recent: [NOW - 6 * H, NOW - 4 * H, NOW - 2 * H] }]],
    );
    const c = detector({ top: NOW, gaps: [] }, [], tr({ persistMs: 100 * H })).take(
      batch([net('rst-d', 30 * MIN)]),
      rows,
    );
    expect(c.failures).toEqual([]);
    expect(c.failing.get(key)!.recent).toEqual([NOW - 4 * H, NOW - 2 * H, NOW - 30 * MIN]);
  });

  it('counts an announced failure of the image, kept only as its last failure, towards the threshold', () => {
    const prior = net('rst-a', 20 * MIN);
    const c = detector({ top: NOW, gaps: [] }, [], tr({ minFailures: 2 })).take(
      batch([net('rst-b', 10 * MIN)]),
      known([], [[prior, {}]]),
    );
    expect(ids(c.failures)).toEqual(['rst-b']);
    expect(c.failing.get(key)).not.toHaveProperty('held');
    expect(c.failing.get(key)!.recent).toEqual([NOW - 20 * MIN, NOW - 10 * MIN]);
  });

  it('announces an image failing for exactly as long as the persistence time, not a moment less', () => {
    const row = (since: number): [SyncTask, Partial<FailingImage>][] => [
      [net('rst-a', since), { held: net('rst-a', since), recent: [NOW - since] }],
    ];
    const persisted = detector({ top: NOW, gaps: [] }, [], tr()).take(batch([net('rst-b', 0)]), known([], row(4 * H)));
    expect(ids(persisted.failures)).toEqual(['rst-b']);
    const notYet = detector({ top: NOW, gaps: [] }, [], tr()).take(batch([net('rst-b', 0)]), known([], row(4 * H - 1)));
    expect(notYet.failures).toEqual([]);
  });

  it('announces the newest of the held failures when an older one, read later, tips the count', () => {
    const heldTask = net('rst-new', 10 * MIN);
    const c = detector({ top: NOW, gaps: [] }, [], tr({ minFailures: 2 })).take(
      batch([net('rst-old', 30 * MIN)]),
      known([], [[heldTask, { held: heldTask, recent: [NOW - 10 * MIN] }]]),
    );
    expect(ids(c.failures)).toEqual(['rst-new']);
    // Still held, the row keeps the newest failure as the one to announce.
    const stillHeld = detector({ top: NOW, gaps: [] }, [], tr({ minFailures: 3 })).take(
      batch([net('rst-old', 30 * MIN)]),
      known([], [[heldTask, { held: heldTask, recent: [NOW - 10 * MIN] }]]),
    );
    expect(stillHeld.failing.get(key)!.held!.taskId).toBe('rst-new');
  });

  it('announces a transient failure at once when the held-back limit is reached, but keeps holding an image already held', () => {
    const full = Object.fromEntries(Array.from({ length: MAX_HELD }, (_, i) => [`k${i}`, NOW - H]));
    const c = detector({ top: NOW, gaps: [], held: full }, [], tr()).take(batch([net('rst-a', H)]), none);
    expect(ids(c.failures)).toEqual(['rst-a']);
    const oneLess = Object.fromEntries(Array.from({ length: MAX_HELD - 1 }, (_, i) => [`k${i}`, NOW - H]));
    const d = detector({ top: NOW, gaps: [], held: oneLess }, [], tr());
    expect(d.take(batch([net('rst-a', H)]), none).failures).toEqual([]);
    expect(d.cursorPart(NOW).held![key]).toBe(NOW - H);
    // The image already held stays held at the limit, not counted twice, and an older failure read now moves when it
    // began failing (and so when it is due).
    const atLimit = detector({ top: NOW, gaps: [], held: { ...oneLess, [key]: NOW - 2 * H } }, [], tr());
    const heldTask = net('rst-h', 2 * H);
    const again = atLimit.take(
      batch([net('rst-b', 3 * H)]),
      known([], [[heldTask, { held: heldTask, recent: [NOW - 2 * H] }]]),
    );
    expect(again.failures).toEqual([]);
    expect(Object.keys(atLimit.cursorPart(NOW).held!)).toHaveLength(MAX_HELD);
    expect(atLimit.cursorPart(NOW).held![key]).toBe(NOW - 3 * H);
  });

  it('stops counting an image as held once its failure is announced or it recovers', () => {
    const heldTask = net('rst-h', 2 * H);
    const rows = known([], [[heldTask, { held: heldTask, recent: [NOW - 2 * H] }]]);
    const announced = detector({ top: NOW, gaps: [], held: { [key]: NOW - 2 * H } }, [], tr({ minFailures: 2 }));
    expect(ids(announced.take(batch([net('rst-b', H)]), rows).failures)).toEqual(['rst-b']);
    expect(announced.cursorPart(NOW).held).toBeUndefined();
    const recovered = detector({ top: NOW, gaps: [], held: { [key]: NOW - 2 * H } }, [], tr());
    const c = recovered.take(batch([t('rst-ok', 'SUCCESS', H, '', 'img')]), rows);
    expect(c.recoveries).toEqual([]);
    expect(c.failing.get(key)).toBeNull();
    expect(recovered.cursorPart(NOW).held).toBeUndefined();
  });

  it('finds a held failure due exactly when it has been failing for the persistence time, and none without a threshold', () => {
    const d = detector({ top: NOW, gaps: [], held: { due: NOW - 4 * H, early: NOW - 4 * H + 1 } }, [], tr());
    expect(d.dueHeld()).toEqual(['due']);
    expect(detector({ top: NOW, gaps: [], held: { due: NOW - 40 * H } }).dueHeld()).toEqual([]);
  });

  it('forgets a due held failure whose row is no longer held, without announcing it', () => {
    const d = detector({ top: NOW, gaps: [], held: { gone: NOW - 5 * H, plain: NOW - 5 * H } }, [], tr());
    const c = d.release(
      new Map([['plain', { since: NOW - 5 * H, lastFailure: NOW - 5 * H, taskId: 'rst-p', issue: 'NETWORK_ERROR' }]]),
    );
    expect(c.failures).toEqual([]);
    expect(c.failing.size).toBe(0);
    expect(d.cursorPart(NOW).held).toBeUndefined();
    expect(d.dueHeld()).toEqual([]);
  });

  it('announces due held failures each once, with their rows no longer held', () => {
    const h1 = net('rst-h1', 5 * H, 'a');
    const h2 = net('rst-h2', 6 * H, 'b');
    const rows = known(
      [],
      [
        [h1, { held: h1 }],
        [h2, { held: h2 }],
      ],
    ).failing;
    const d = detector(
      { top: NOW, gaps: [], held: { [imageKey(h1)]: NOW - 5 * H, [imageKey(h2)]: NOW - 6 * H } },
      [],
      tr(),
    );
    const c = d.release(rows);
    expect(ids(c.failures).sort()).toEqual(['rst-h1', 'rst-h2']);
    const after = stored(rows, c);
    expect([...after.values()].every((f) => f.held === undefined)).toBe(true);
    expect(after.get(imageKey(h1))).toMatchObject({ taskId: 'rst-h1', since: NOW - 5 * H });
    expect(d.release(after).failures).toEqual([]);
  });
});
