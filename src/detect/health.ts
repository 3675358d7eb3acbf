import type { MonitorAlert } from '../model/alert.js';
import type { InstanceHealth } from '../model/state.js';

/** After this many consecutive runs that cannot read an instance, the channel is told (BLIND_AFTER_RUNS). */
export const DEFAULT_BLIND_AFTER_RUNS = 3;

/** One run's read of an instance, and what is known of the runs before it. */
export interface HealthInput<R extends ReadResult = ReadResult> {
  instance: string;
  /** The health the cursor carries: failing runs so far (absent after a read). */
  prev: InstanceHealth | undefined;
  result: R;
  now: number;
  blindAfterRuns: number;
}

export type ReadResult = { ok: true } | { ok: false; error: string };

/**
 * Tracks whether the function can read an instance's sync tasks. Pure. After `blindAfterRuns` failing runs in a
 * row it raises one `blind` notice; on the first successful read after that, one `restored` notice. A failure that
 * clears before the threshold raises nothing: the run's own retries and logs cover it. A read leaves no health (the
 * count starts afresh); a failing run always leaves one, which the overloads tell the cursor's writer.
 */
export function updateHealth(h: HealthInput<{ ok: true }>): { health?: undefined; notice?: MonitorAlert };
export function updateHealth(h: HealthInput<{ ok: false; error: string }>): {
  health: InstanceHealth;
  notice?: MonitorAlert;
};
export function updateHealth(h: HealthInput): { health?: InstanceHealth; notice?: MonitorAlert };
export function updateHealth(h: HealthInput): { health?: InstanceHealth; notice?: MonitorAlert } {
  const { instance, prev, result, now } = h;
  if (result.ok) {
    if (!prev?.announced) return {};
    return {
      notice: {
        kind: 'restored',
        id: `${instance}/restored/${now}`,
        instance,
        since: prev.since,
        at: now,
        runs: prev.runs,
      },
    };
  }
  const health: InstanceHealth = {
    since: prev?.since ?? now,
    runs: (prev?.runs ?? 0) + 1,
    lastError: result.error,
    announced: prev?.announced ?? false,
  };
  if (health.announced || health.runs < h.blindAfterRuns) return { health };
  return {
    health: { ...health, announced: true },
    notice: {
      kind: 'blind',
      id: `${instance}/blind/${health.since}`,
      instance,
      since: health.since,
      at: now,
      runs: health.runs,
      error: result.error,
    },
  };
}
