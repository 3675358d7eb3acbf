import { describe, expect, it } from 'vitest';
import { imageKey, type DetectOptions } from '../../../src/detect/detect.js';
import { batch, detector, H, none, NOW, stored, t } from '../../support/detect-tasks.js';

// Held until it has failed three times in an hour, or been failing for an hour.
const held: DetectOptions = { stuckAfterMs: 100 * H, transient: { minFailures: 3, windowMs: H, persistMs: H } };

describe('a held transient failure announced later in the same run', () => {
  it('is written back with what its row shows (image, target, rule), not only what judging needs', () => {
    const d = detector(undefined, [], held);
    const failure = t('f1', 'ERROR', 2 * H, 'NETWORK_ERROR');
    const c = d.take(batch([failure]), none);
    expect(c.failures).toEqual([]);
    // What the store holds after the claim: the held row as the run wrote it.
    const rows = stored(new Map(), c);
    const key = imageKey(failure);
    expect(rows.get(key)?.held?.taskId).toBe('f1');
    const released = d.release(rows);
    expect(released.failures.map((x) => x.taskId)).toEqual(['f1']);
    const row = released.failing.get(key)!;
    expect(row).toMatchObject({
      image: rows.get(key)!.image,
      target: rows.get(key)!.target,
      since: NOW - 2 * H,
      taskId: 'f1',
    });
    expect(row.image).toBeTruthy();
    expect(row.held).toBeUndefined();
  });
});
