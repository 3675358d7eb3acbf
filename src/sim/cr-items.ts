/** ListRepoSyncTask and ListRepoSyncRule items in the API's own JSON shape, from what a test or the demo specifies. */
import type { RawRule, RawTask } from './cr-model.js';

export interface TaskSpec {
  id: string;
  status: string;
  issue?: string;
  createTime: number;
  modifiedTime?: number;
  ruleId?: string;
  trigger?: 'PASSIVE' | 'INITIATIVE';
  from: { instanceId: string; regionId: string; namespace: string; repo: string; tag: string };
  to: { instanceId: string; regionId: string; namespace?: string; repo?: string; tag?: string };
}

/** A ListRepoSyncTask item as the API returns it (with both ModifiedTime and the deprecated ModifedTime). */
export function rawTask(s: TaskSpec): RawTask {
  const modified = s.modifiedTime ?? s.createTime + 45_000;
  return {
    SyncTaskId: s.id,
    SyncBatchTaskId: `rsbt-${s.id.slice(4)}`,
    SyncRuleId: s.ruleId ?? 'crsr-unknown',
    TaskStatus: s.status,
    TaskIssue: s.issue ?? '',
    TaskTrigger: s.trigger ?? 'PASSIVE',
    CreateTime: s.createTime,
    ModifiedTime: modified,
    ModifedTime: modified,
    CrossUser: false,
    SyncTransAccelerate: false,
    CustomLink: false,
    LinkId: '',
    ImageFrom: {
      InstanceId: s.from.instanceId,
      RegionId: s.from.regionId,
      RepoNamespaceName: s.from.namespace,
      RepoName: s.from.repo,
      ImageTag: s.from.tag,
    },
    ImageTo: {
      InstanceId: s.to.instanceId,
      RegionId: s.to.regionId,
      RepoNamespaceName: s.to.namespace ?? s.from.namespace,
      RepoName: s.to.repo ?? s.from.repo,
      ImageTag: s.to.tag ?? s.from.tag,
    },
  };
}

/** A ListRepoSyncRule item as the API returns it. */
export function rawRule(r: {
  id: string;
  name: string;
  scope: 'NAMESPACE' | 'REPO';
  namespace: string;
  repo?: string;
  local: { instanceId: string; regionId: string };
  target: { instanceId: string; regionId: string; namespace: string; repo?: string };
  tagFilter?: string;
  trigger?: 'PASSIVE' | 'INITIATIVE';
}): RawRule {
  return {
    SyncRuleId: r.id,
    SyncRuleName: r.name,
    SyncScope: r.scope,
    SyncDirection: 'FROM',
    SyncTrigger: r.trigger ?? 'PASSIVE',
    TagFilter: r.tagFilter ?? '.*',
    RepoNameFilter: '',
    CrossUser: false,
    LinkId: '',
    CreateTime: 1_700_000_000_000,
    ModifiedTime: 1_700_000_000_000,
    LocalInstanceId: r.local.instanceId,
    LocalRegionId: r.local.regionId,
    LocalNamespaceName: r.namespace,
    LocalRepoName: r.repo ?? '',
    TargetInstanceId: r.target.instanceId,
    TargetRegionId: r.target.regionId,
    TargetNamespaceName: r.target.namespace,
    TargetRepoName: r.target.repo ?? '',
  };
}
