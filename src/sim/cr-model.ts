/** The local CR server's public shapes: the API's own JSON items, instances, scripted faults, options, calls. */

/** A ListRepoSyncTask item in the API's own JSON shape. */
export type RawTask = Record<string, unknown> & { SyncTaskId: string; CreateTime?: number | string };
export type RawRule = Record<string, unknown> & { SyncRuleId: string };

export interface SimInstance {
  regionId: string;
  instanceId: string;
  tasks: RawTask[];
  rules: RawRule[];
}

/** A scripted failure for the next matching calls. */
export interface CrFault {
  action?: 'ListRepoSyncTask' | 'ListRepoSyncRule';
  instanceId?: string;
  pageNo?: number;
  /** `repeat-page` answers with the previous page's tasks, as a list that shifts or a cache that lags might. */
  kind:
    | 'throttle'
    | 'throttle-user'
    | 'html-502'
    | 'html-503'
    | 'empty-500'
    | 'json-without-code'
    | 'reset'
    | 'hang'
    | 'no-privilege'
    | 'system-error'
    | 'repeat-page';
  /** How many calls it affects (default 1). */
  times?: number;
}

export interface CrSimOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests must carry exactly this SecurityToken (as STS credentials do). */
  securityToken?: string;
  instances: SimInstance[];
  /** Order of ListRepoSyncTask results by CreateTime; `shuffle` is a fixed pseudo-random order. */
  order?: 'desc' | 'asc' | 'shuffle';
  /** The largest PageSize honoured; larger requests are served this many (and say so in PageSize). */
  maxPageSize?: number;
  /** What TotalCount says, given the true count: the API's claims about itself are not to be trusted. */
  totalCount?: (actual: number) => number;
  /** What a task page past the end holds: nothing (the default), or the last page again, as some services serve. */
  pastEnd?: 'empty' | 'last-page';
  /** Actions refused with NoPrivilege, as for a role missing the RAM action. */
  denied?: ('ListRepoSyncTask' | 'ListRepoSyncRule')[];
  latencyMs?: number;
  /** Called before each authenticated call is answered; returning 'drop' closes the connection unanswered. */
  onCall?(action: string, params: Record<string, string>): 'drop' | void | Promise<'drop' | void>;
}

export interface RecordedCall {
  action: string;
  region: string;
  params: Record<string, string>;
  signatureValid: boolean;
  status: number;
}
