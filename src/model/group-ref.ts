import { createHash } from 'node:crypto';
import { classify } from './classify.js';

/**
 * A failure group as a message names it: the failures of one sync rule, from one source instance to one target
 * instance, for one cause. Messages roll failures up by it; links, pages, `rerun --group` and silences from a page
 * find the group's failing images again by it.
 */
export interface GroupRef {
  /** `regionId:instanceId` of the source instance (whose failing-image rows hold the group). */
  source: string;
  /** The rule's id, '' when the task named none. */
  ruleId: string;
  /** `regionId:instanceId` of the target instance. */
  target: string;
  /** The TaskIssue as classified (`classify(issue).issue`: trimmed, upper case), '' when the API gave none. */
  cause: string;
}

/**
 * A group's short id (12 hex digits of a SHA-256 over its parts): what `rerun --group <id>` takes and a page URL may
 * show. Stable across runs and releases, since the parts are what the API gives.
 */
export function groupId(g: GroupRef): string {
  return createHash('sha256').update([g.source, g.ruleId, g.target, g.cause].join('\n')).digest('hex').slice(0, 12);
}

/**
 * The target instance part (`regionId:instanceId`) of a failing-image row's `target`, which may add the target image
 * after a space when it differs from the source's.
 */
export const targetInstanceOf = (rowTarget: string): string => rowTarget.split(' ')[0] ?? '';

/**
 * Whether a failing-image row of the group's source instance (its ruleId, issue and target as stored) belongs to the
 * group `g`.
 */
export function inGroup(g: GroupRef, row: { ruleId?: string; issue: string; target?: string }): boolean {
  return (
    (row.ruleId ?? '') === g.ruleId &&
    classify(row.issue).issue === g.cause &&
    targetInstanceOf(row.target ?? '') === g.target
  );
}
