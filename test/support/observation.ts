import { InstanceDetector, type DetectOptions } from '../../src/detect/detect.js';
import { noFindings, type Observation } from '../../src/detect/judge.js';
import type { Cursor, WatchedSync } from '../../src/model/state.js';
import { fakeCr, INST, T0 } from './observe-fakes.js';

/** One instance being observed at T0, over an empty list unless `cr` says otherwise. */
export function observation(
  o: { prev?: Cursor; watched?: WatchedSync[]; opts?: DetectOptions; cr?: ReturnType<typeof fakeCr> } = {},
): Observation {
  const cr = o.cr ?? fakeCr([]);
  return {
    inst: INST,
    prev: o.prev,
    now: T0,
    cr: cr.api,
    detector: new InstanceDetector(o.prev, o.watched ?? [], T0, o.opts ?? { stuckAfterMs: 2 * 3_600_000 }),
    rules: async () => undefined,
    found: noFindings(),
  };
}
