/**
 * What the alerting decides about each TaskIssue (the reason CR gives for a failed sync task): its category, how
 * severe it is and whether a re-run is likely to pass. Decisions only; what a message says about each issue is in
 * render/causes.ts, and matching the API's text to an issue is in classify.ts.
 */

/** How bad a failure is: high calls people in (@mentions), and groups are listed most severe first. */
export type Severity = 'high' | 'medium' | 'low';
export type Category = 'permission' | 'tag-conflict' | 'format' | 'service' | 'network' | 'size' | 'unclassified';

/** What is decided about one TaskIssue. */
export interface IssueDecisions {
  category: Category;
  severity: Severity;
  /** A transient cause is likely to pass on a re-run: a message offers the re-run command first. */
  transient: boolean;
}

// TaskIssue values and meanings: CR OpenAPI 2018-12-01 ListRepoSyncTask/GetRepoSyncTask response model. The order is
// the one the documentation lists them in, which messages keep.
export const KNOWN_ISSUES = [
  'OSS_POLICY_UNAUTHORIZED',
  'TAG_CONFLICT',
  'UNSUPPORTED_FORMAT',
  'INTERNAL_ERROR',
  'NETWORK_ERROR',
  'DATA_LENGTH_EXCEEDED',
] as const;
export type KnownIssue = (typeof KNOWN_ISSUES)[number];

/** The decisions for every documented TaskIssue. */
export const ISSUE_DECISIONS: Readonly<Record<KnownIssue, IssueDecisions>> = {
  // No sync to the instance can pass until someone restores the authorisation.
  OSS_POLICY_UNAUTHORIZED: { category: 'permission', severity: 'high', transient: false },
  TAG_CONFLICT: { category: 'tag-conflict', severity: 'medium', transient: false },
  UNSUPPORTED_FORMAT: { category: 'format', severity: 'medium', transient: false },
  INTERNAL_ERROR: { category: 'service', severity: 'low', transient: true },
  NETWORK_ERROR: { category: 'network', severity: 'low', transient: true },
  DATA_LENGTH_EXCEEDED: { category: 'size', severity: 'medium', transient: false },
};

/**
 * The decisions for a failure with no TaskIssue and for one this version does not know: someone should look, but
 * nothing says a re-run would help.
 */
export const UNCLASSIFIED: Readonly<IssueDecisions> = {
  category: 'unclassified',
  severity: 'medium',
  transient: false,
};

/** Sort order of severities: most severe first. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { high: 0, medium: 1, low: 2 };
