import type {
  AlertRule,
  DigestAlert,
  FailureAlert,
  MonitorAlert,
  RecoveryAlert,
  StuckAlert,
} from '../../src/model/alert.js';
import type { SyncTask } from '../../src/model/task.js';
import { syncTask } from './build.js';

/** 2027-01-15 08:00 UTC: a fixed "now" for message tests. */
export const T0 = 1_800_000_000_000;
export const MIN = 60_000;

const HZ = { instanceId: 'cri-src', regionId: 'cn-hangzhou' };
const SZ = { instanceId: 'cri-sz01', regionId: 'cn-shenzhen' };

/** A failure of `repo:tag` by rule `hz-to-sz` (crsr-hz2sz) unless told otherwise. */
export function failure(i: number, over: Partial<SyncTask> = {}, rule: Partial<AlertRule> | null = {}): FailureAlert {
  const task = syncTask({
    taskId: `rst-${i}`,
    issue: 'NETWORK_ERROR',
    ruleId: 'crsr-hz2sz',
    createTime: T0 - i * MIN,
    from: { ...HZ, namespace: 'prod', repo: `svc-${i}`, tag: 'v1' },
    to: { ...SZ, namespace: 'prod', repo: `svc-${i}`, tag: 'v1' },
    ...over,
  });
  return {
    id: `cn-hangzhou:cri-src/${task.taskId}`,
    instance: 'cn-hangzhou:cri-src',
    task,
    ...(rule === null
      ? {}
      : { rule: { ruleId: task.ruleId ?? '', name: 'hz-to-sz', scope: 'NAMESPACE', trigger: 'PASSIVE', ...rule } }),
  };
}

export function stuck(i: number, kind: 'stuck' | 'unstuck' = 'stuck', over: Partial<SyncTask> = {}): StuckAlert {
  const task = syncTask({
    taskId: `rst-s${i}`,
    status: kind === 'stuck' ? 'SYNCHRONIZING' : 'SUCCESS',
    issue: '',
    createTime: T0 - 135 * MIN,
    ruleId: 'crsr-hz2sz',
    ...over,
  });
  return { kind, id: `cn-hangzhou:cri-src/${task.taskId}/${kind}`, instance: 'cn-hangzhou:cri-src', task, at: T0 };
}

export function recovered(i: number, over: Partial<SyncTask> = {}): RecoveryAlert {
  const task = syncTask({
    taskId: `rst-ok${i}`,
    status: 'SUCCESS',
    issue: '',
    createTime: T0 - 10 * MIN,
    modifiedTime: T0 - 5 * MIN,
    ...over,
  });
  return {
    kind: 'recovered',
    id: `cn-hangzhou:cri-src/${task.taskId}/recovered`,
    instance: 'cn-hangzhou:cri-src',
    task,
    failedTaskId: `rst-f${i}`,
    issue: 'NETWORK_ERROR',
    since: T0 - 45 * MIN,
    unannounced: false,
  };
}

export function notice(
  kind: 'blind' | 'restored',
  instance = 'cn-hangzhou:cri-src',
  error = "ListRepoSyncTask cn-hangzhou:cri-src was refused (NoPrivilege): the function's RAM role needs the action cr:GetRepositorySync on this instance [cr config NoPrivilege HTTP 403] (request 5E2A-77)",
): MonitorAlert {
  return {
    kind,
    id: `${instance}/${kind}/${T0}`,
    instance,
    since: T0 - 15 * MIN,
    at: T0,
    runs: 3,
    ...(kind === 'blind' ? { error } : {}),
  };
}

export function digest(over: Partial<DigestAlert> = {}): DigestAlert {
  return {
    kind: 'digest',
    id: `digest/${T0}`,
    instance: '',
    since: T0 - 24 * 60 * MIN,
    at: T0,
    byCause: { NETWORK_ERROR: 7, TAG_CONFLICT: 2 },
    topRepos: [
      ['prod/api', 5],
      ['prod/web', 1],
    ],
    recoveries: 3,
    meanRecoveryMs: 31 * MIN,
    stillFailing: 2,
    oldestFailing: [
      {
        instance: 'cn-hangzhou:cri-src',
        since: T0 - 300 * MIN,
        issue: 'TAG_CONFLICT',
        taskId: 'rst-d1',
        image: 'prod/api:v1',
        target: 'cn-shenzhen:cri-sz01',
        rule: 'hz-to-sz',
      },
      { instance: 'cn-hangzhou:cri-src', since: T0 - 200 * MIN, issue: 'NETWORK_ERROR', taskId: 'rst-d2' },
    ],
    muted: { TAG_CONFLICT: 1 },
    ...over,
  };
}

/** Task ids a payload names, and the items it counts in "…and N more" lines (English or Chinese), notices aside. */
export function listedAndCounted(payload: unknown): { listed: Set<string>; counted: number } {
  const text = JSON.stringify(payload);
  const listed = new Set(text.match(/rst-[A-Za-z0-9]+/g) ?? []);
  const counted = [
    ...text.matchAll(/…and (\d+) more(?! notice)|另有 (\d+) (?:次失败|个)未列出|另有 \d+ 类失败（共 (\d+) 次）未列出/g),
  ].reduce((n, m) => n + Number(m[1] ?? m[2] ?? m[3]), 0);
  return { listed, counted };
}
