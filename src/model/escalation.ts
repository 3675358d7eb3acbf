import { classify } from './classify.js';
import type { Severity } from './issue.js';

/**
 * When a failure group is high whatever its cause: at `failures` failures or more in one message, or when its failures
 * span `forMinutes` minutes or more. 0 turns that test off.
 */
export interface Escalation {
  failures: number;
  forMinutes: number;
}

/** What a route escalates at unless it says otherwise: 50 failures of one group, or a group failing for 30 minutes. */
export const DEFAULT_ESCALATION: Readonly<Escalation> = { failures: 50, forMinutes: 30 };

/** What a group's severity was decided from: its cause alone, or its scale or duration raising it to high. */
export type SeverityReason = 'cause' | 'failures' | 'duration';

/** The facts about one failure group that its severity depends on: its TaskIssue, count and failure times. */
export interface GroupFacts {
  cause: string;
  count: number;
  /** Earliest and latest failure time in the group (ms). */
  firstAt: number;
  lastAt: number;
}

/**
 * A group's severity: its cause's, raised to high when the group has at least `esc.failures` failures or its failures
 * span at least `esc.forMinutes` minutes (each test off at 0). Pure; the reason says which rule decided.
 */
export function groupSeverity(
  g: GroupFacts,
  esc: Escalation = DEFAULT_ESCALATION,
): { severity: Severity; reason: SeverityReason } {
  const severity = classify(g.cause).severity;
  if (severity === 'high') return { severity, reason: 'cause' };
  if (esc.failures > 0 && g.count >= esc.failures) return { severity: 'high', reason: 'failures' };
  if (esc.forMinutes > 0 && g.lastAt - g.firstAt >= esc.forMinutes * 60_000)
    return { severity: 'high', reason: 'duration' };
  return { severity, reason: 'cause' };
}
