import type { Matcher } from './route.js';

/** A mute rule: every matcher it gives must match; in force until `expires`, or inside a daily window. */
export interface Silence extends Matcher {
  comment?: string;
  /** ISO 8601 time after which the silence no longer applies. */
  expires?: string;
  /** A maintenance window repeated every day ("02:00-04:30"), in `timezone` (default UTC). */
  daily?: string;
  timezone?: string;
}
