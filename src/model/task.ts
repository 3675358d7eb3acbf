/** Task states documented for GetRepoSyncTask/ListRepoSyncTask; anything else is kept raw and watched. */
export const KNOWN_STATUSES = ['PENDING', 'SYNCHRONIZING', 'SUCCESS', 'ERROR', 'CANCELED'] as const;
export type KnownStatus = (typeof KNOWN_STATUSES)[number];
/** A task in one of these states is done: it will not change again. */
export const isSettled = (status: string): boolean =>
  status === 'ERROR' || status === 'SUCCESS' || status === 'CANCELED';

export interface ImageRef {
  instanceId: string;
  regionId: string;
  namespace: string;
  repo: string;
  tag: string;
}

/** One ListRepoSyncTask item, normalised. Times are epoch ms. */
export interface SyncTask {
  taskId: string;
  batchId?: string;
  ruleId?: string;
  /** Raw TaskStatus; compare against KNOWN_STATUSES. */
  status: string;
  /** Raw TaskIssue; '' when the API gave none. */
  issue: string;
  /** PASSIVE (automatic) or INITIATIVE (manual); '' when absent. */
  trigger: string;
  createTime: number;
  modifiedTime?: number;
  crossUser: boolean;
  from: ImageRef;
  to: ImageRef;
  /** The API gave CreateTime in seconds; it was converted, and is never trusted to move the scan's watermark. */
  timeInSeconds?: boolean;
}

/** One ListRepoSyncRule item, reduced to what a message names. */
export interface SyncRule {
  ruleId: string;
  name: string;
  scope: string;
  /** The rule's SyncTrigger: PASSIVE (automatic, on push) or INITIATIVE (manual); absent when not given. */
  trigger?: string;
  tagFilter?: string;
  repoNameFilter?: string;
  targetInstanceId?: string;
  targetRegionId?: string;
  targetNamespace?: string;
  targetRepo?: string;
}

export interface Page<T> {
  items: T[];
  /** Items the response held, before any was dropped: what tells a full page from the list's last one. */
  received?: number;
  pageNo: number;
  pageSize: number;
  totalCount: number;
  requestId?: string;
  /** Items the parser had to drop, with why, for logging. */
  dropped: string[];
}

/** An ACR EE instance this function watches. */
export interface InstanceRef {
  regionId: string;
  instanceId: string;
  /** `regionId:instanceId`, the key of this instance's cursor in the state. */
  key: string;
}
