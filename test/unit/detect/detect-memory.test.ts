import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Changes } from '../../../src/detect/detect.js';
import type { SyncTask } from '../../../src/model/task.js';
import { batch, detector, img, MIN, none, t } from '../../support/detect-tasks.js';

// A burst's run judges 20,000 failures on each instance and remembers, for the rest of the run, how each failing image
// stands (a later task of the same image is judged against it), within the function's memory.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 20_000;

describe('what judging a burst keeps for the rest of the run', () => {
  it('keeps how each failing image stands without the labels its row was written with (20,000 images of long names)', () => {
    // Names as long as real registries' are, each its own string as a parsed page gives them.
    const long = (s: string, i: number) => `${s}-${'x'.repeat(90)}-${i}`;
    gc();
    const before = process.memoryUsage().heapUsed;
    let tasks: SyncTask[] | undefined = Array.from({ length: N }, (_, i) => {
      const image = { ...img, namespace: long('team', i), repo: long('service', i), tag: `v${i}` };
      return t(`rst-${i}`, 'ERROR', (i % 600) * MIN, 'TAG_CONFLICT', `v${i}`, {
        from: image,
        to: { ...image, regionId: long('cn', i) },
      });
    });
    const d = detector();
    let c: Changes | undefined = d.take(batch(tasks), none);
    expect(c.failures).toHaveLength(N);
    expect([...c.failing.values()][0]).toMatchObject({
      image: expect.stringContaining('service-'),
      target: expect.stringContaining('cn-'),
    });
    c = undefined;
    tasks = undefined;
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    // A later failure of an image judged above is still merged with it: the detector remembers every image.
    const again = d.take(
      batch([
        t('rst-again', 'ERROR', 0, 'TAG_CONFLICT', 'v7', {
          from: { ...img, namespace: long('team', 7), repo: long('service', 7), tag: 'v7' },
          to: { ...img, namespace: long('team', 7), repo: long('service', 7), tag: 'v7', regionId: long('cn', 7) },
        }),
      ]),
      none,
    );
    expect([...again.failing.values()][0]).toMatchObject({
      since: t('x', 'ERROR', 7 * MIN).createTime,
      taskId: 'rst-again',
    });
    // What each image keeps: its id, cause and times, with the maps (about 315 bytes measured). With the labels each
    // would also keep its image and target names and the 100-character names they are made of (about 1,275 bytes).
    expect(kept / N).toBeLessThan(500);
  });
});
