import type { MessageContent } from './content.js';
import { FULL_MAX, LINES_MAX, MINIMAL, RUNGS, type Detail } from './detail.js';

/**
 * The richest rendering of `content` that `fits`. Each rung of detail is tried in turn; within a rung, as many
 * groups as fit are shown in full (most severe first) and the next ones as one line each. When no group fits in full
 * even at the leanest rung, groups are shown as lines only, as many as fit; failing that, the minimal rendering
 * (banner, counts, first notice) is returned whether or not it fits, as nothing smaller exists.
 *
 * Rendering is pure and its cost grows with the number of groups, never the alerts: that is what keeps trying a few
 * dozen renderings affordable.
 */
export function fitDetail<P>(content: MessageContent, render: (d: Detail) => P, fits: (p: P) => boolean): P {
  const groups = content.groups.length;
  const attempt = (d: Detail) => {
    const p = render(d);
    return fits(p) ? p : undefined;
  };
  for (const rung of RUNGS) {
    if (groups === 0) {
      const p = attempt({ ...rung, full: 0, lines: 0 });
      if (p) return p;
      continue;
    }
    const best = largest(Math.min(groups, FULL_MAX), (full) =>
      attempt({ ...rung, full, lines: Math.min(groups - full, LINES_MAX) }),
    );
    if (best) return best;
  }
  const leanest = RUNGS[RUNGS.length - 1]!;
  const lines = largest(Math.min(groups, LINES_MAX), (n) => attempt({ ...leanest, full: 0, lines: n, items: 1 }));
  return lines ?? render(MINIMAL);
}

/**
 * The largest n in 1..max whose attempt succeeds, assuming that showing more never makes a message smaller; the
 * rendering for that n, or undefined when even 1 fails. Most messages fit whole, so max is tried first.
 */
function largest<P>(max: number, attempt: (n: number) => P | undefined): P | undefined {
  if (max < 1) return undefined;
  const whole = attempt(max);
  if (whole) return whole;
  let lo = 1;
  let hi = max - 1;
  let best: P | undefined;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const p = attempt(mid);
    if (p) {
      best = p;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
