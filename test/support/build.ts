import { Secret } from '../../src/lib/secret.js';
import type { FailureAlert } from '../../src/model/alert.js';
import type { Owed } from '../../src/model/state.js';
import { DEFAULT_ROUTE, type Route } from '../../src/model/route.js';
import type { SyncTask } from '../../src/model/task.js';

/** A ListRepoSyncTask item as the adapter returns it: an ERROR of prod/api:v1 from Hangzhou to Shanghai unless told otherwise. */
export function syncTask(over: Partial<SyncTask> & { taskId: string }): SyncTask {
  return {
    status: 'ERROR',
    issue: 'TAG_CONFLICT',
    trigger: 'PASSIVE',
    createTime: 1_800_000_000_000,
    crossUser: false,
    ruleId: 'crsr-1',
    from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo: 'api', tag: 'v1' },
    to: { instanceId: 'cri-dst', regionId: 'cn-shanghai', namespace: 'prod', repo: 'api', tag: 'v1' },
    ...over,
  };
}

export const failureAlert = (task: SyncTask, instance = 'cn-hangzhou:cri-src'): FailureAlert => ({
  id: `${instance}/${task.taskId}`,
  instance,
  task,
});

/** A route with the channels named, each with its own (fake) webhook. */
export function route(name: string, channels: ('dingtalk' | 'slack')[], over: Partial<Route> = {}): Route {
  return {
    name,
    ...(channels.includes('dingtalk')
      ? { dingtalk: { webhook: new Secret(`https://oapi.dingtalk.com/robot/send?access_token=${name}`) } }
      : {}),
    ...(channels.includes('slack')
      ? { slack: { webhook: new Secret(`https://hooks.slack.com/services/T/B/${name}`) } }
      : {}),
    mentions: { dingtalkMobiles: [], dingtalkUserIds: [], slack: [] },
    lang: 'en',
    timeZone: 'UTC',
    ...over,
  };
}

export const defaultRoute = (channels: ('dingtalk' | 'slack')[] = ['dingtalk', 'slack']) =>
  route(DEFAULT_ROUTE, channels);

export const owed = (alert: FailureAlert, target: string, detectedAt = 1_800_000_000_000): Owed => ({
  target,
  alert,
  detectedAt,
});
