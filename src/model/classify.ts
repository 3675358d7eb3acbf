import { ISSUE_DECISIONS, UNCLASSIFIED, type IssueDecisions } from './issue.js';

/** A TaskIssue matched to an issue, with what is decided about it. */
export interface Classification extends IssueDecisions {
  /** The TaskIssue as the API gave it, trimmed and upper-cased ('' when absent). */
  issue: string;
}

// Keys are upper-cased first, so no TaskIssue can find a property every object has ("constructor", "__proto__").
const BY_ISSUE: Partial<Record<string, IssueDecisions>> = ISSUE_DECISIONS;

/**
 * Matches a TaskIssue to an issue and what is decided about it. Case and surrounding space are ignored. Never throws:
 * an empty TaskIssue and one this version does not know are both `unclassified` (render/causes.ts words them apart).
 */
export function classify(issue: string): Classification {
  const key = issue.trim().toUpperCase();
  return { issue: key, ...(BY_ISSUE[key] ?? UNCLASSIFIED) };
}
