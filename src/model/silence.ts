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

/** A silence added from the command line and kept in the state table: it always ends, and says who and why. */
export interface StoredSilence extends Silence {
  id: string;
  expires: string;
  comment: string;
  createdBy: string;
  /** ISO 8601 time it was added. */
  createdAt: string;
}

export const isStored = (s: Silence): s is StoredSilence =>
  typeof (s as StoredSilence).id === 'string' && typeof (s as StoredSilence).createdAt === 'string';
