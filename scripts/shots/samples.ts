/**
 * The messages pictured in the README: one of each kind, made of alerts as a run makes them (the demo's instances and
 * rules), at a fixed moment so that the pictures only change when the messages do.
 */
import type { Alert, AlertRule, FailureAlert } from '../../src/model/alert.js';
import type { SyncTask } from '../../src/model/task.js';

/** 2026-11-24 14:00 UTC. */
export const NOW = Date.UTC(2026, 10, 24, 14, 0);
const MIN = 60_000;

const HZ = { regionId: 'cn-hangzhou', instanceId: 'cri-demohz01' };
const SH = { regionId: 'cn-shanghai', instanceId: 'cri-demosh02' };
const SG = { regionId: 'ap-southeast-1', instanceId: 'cri-demosg03' };

const RULES: Record<string, AlertRule> = {
  prod2sh: { ruleId: 'crsr-prod2sh', name: 'prod-to-shanghai', scope: 'NAMESPACE', trigger: 'PASSIVE' },
  prod2sg: { ruleId: 'crsr-prod2sg', name: 'prod-to-singapore', scope: 'NAMESPACE', trigger: 'PASSIVE' },
  rel2sg: { ruleId: 'crsr-rel2sg', name: 'release-tags-to-singapore', scope: 'NAMESPACE', trigger: 'INITIATIVE' },
  base2sg: { ruleId: 'crsr-base2sg', name: 'base-images-to-singapore', scope: 'REPO', trigger: 'PASSIVE' },
};

function task(
  id: string,
  rule: AlertRule,
  to: typeof SH,
  image: [string, string, string],
  ago: number,
  over: Partial<SyncTask> = {},
): SyncTask {
  const [namespace, repo, tag] = image;
  return {
    taskId: id,
    ruleId: rule.ruleId,
    status: 'ERROR',
    issue: '',
    trigger: rule.trigger ?? 'PASSIVE',
    createTime: NOW - ago * MIN,
    modifiedTime: NOW - ago * MIN + 45_000,
    crossUser: false,
    from: { ...HZ, namespace, repo, tag },
    to: { ...to, namespace, repo, tag },
    ...over,
  };
}

const failure = (t: SyncTask, rule: AlertRule): FailureAlert => ({
  id: `cn-hangzhou:cri-demohz01/${t.taskId}`,
  instance: 'cn-hangzhou:cri-demohz01',
  task: t,
  rule,
});

const SERVICES = [
  'api-gateway',
  'payment-service',
  'order-service',
  'search-indexer',
  'inventory',
  'notification',
  'billing',
  'auth',
];

/**
 * A run after an outage: a rule whose target lost its OSS authorisation, a flaky cross-border link, two tag
 * conflicts.
 */
function burst(): Alert[] {
  const out: Alert[] = [];
  for (let i = 0; i < 420; i++) {
    out.push(
      failure(
        task(
          `rst-oss${String(i).padStart(4, '0')}`,
          RULES.prod2sg!,
          SG,
          ['prod', SERVICES[i % SERVICES.length]!, `v2.${Math.floor(i / 8)}.${i % 8}`],
          96 - i * 0.2,
          { issue: 'OSS_POLICY_UNAUTHORIZED' },
        ),
        RULES.prod2sg!,
      ),
    );
  }
  for (let i = 0; i < 37; i++) {
    out.push(
      failure(
        task(
          `rst-net${String(i).padStart(4, '0')}`,
          RULES.rel2sg!,
          SG,
          ['release', `web-${i % 4}`, `v1.${i}.0`],
          80 - i,
          { issue: 'NETWORK_ERROR' },
        ),
        RULES.rel2sg!,
      ),
    );
  }
  for (let i = 0; i < 2; i++)
    out.push(
      failure(
        task(`rst-tag${i}`, RULES.prod2sh!, SH, ['prod', 'legacy-billing', `v1.0.${i}`], 30 - i, {
          issue: 'TAG_CONFLICT',
        }),
        RULES.prod2sh!,
      ),
    );
  return out;
}

/** One message per kind, in the order the README shows them. */
export function samples(): { kind: string; title: string; alerts: Alert[] }[] {
  const single = failure(
    task('rst-demo0011', RULES.prod2sh!, SH, ['prod', 'payment-service', 'v3.2.2'], 35, { issue: 'NETWORK_ERROR' }),
    RULES.prod2sh!,
  );
  const slow = task('rst-demo0017', RULES.base2sg!, SG, ['base', 'cuda-devel', '12.4.1-ubuntu22.04'], 135, {
    status: 'SYNCHRONIZING',
    modifiedTime: undefined,
  });
  const ok = task('rst-demo0016', RULES.prod2sh!, SH, ['prod', 'payment-service', 'v3.2.1'], 25, { status: 'SUCCESS' });
  const error =
    "ListRepoSyncTask on cri-demohz01 was refused (NoPrivilege): the function's RAM role needs the action " +
    'cr:GetRepositorySync on this instance [cr config NoPrivilege HTTP 403] (request 5E2A4C1B-77D0)';
  return [
    { kind: 'failure', title: 'A single failure', alerts: [single] },
    { kind: 'burst', title: 'A burst: 459 failures in three groups', alerts: burst() },
    {
      kind: 'recovered',
      title: 'Recovered',
      alerts: [
        {
          kind: 'recovered',
          id: 'r1',
          instance: 'cn-hangzhou:cri-demohz01',
          task: ok,
          rule: RULES.prod2sh,
          failedTaskId: 'rst-demo0002',
          issue: 'NETWORK_ERROR',
          since: NOW - 90 * MIN,
          unannounced: false,
        },
      ],
    },
    {
      kind: 'stuck',
      title: 'Stuck',
      alerts: [
        { kind: 'stuck', id: 's1', instance: 'cn-hangzhou:cri-demohz01', task: slow, rule: RULES.base2sg, at: NOW },
      ],
    },
    {
      kind: 'finished',
      title: 'A stuck sync that finished',
      alerts: [
        {
          kind: 'unstuck',
          id: 'u1',
          instance: 'cn-hangzhou:cri-demohz01',
          task: { ...slow, status: 'SUCCESS', modifiedTime: NOW - 5 * MIN },
          rule: RULES.base2sg,
          at: NOW,
        },
      ],
    },
    {
      kind: 'blind',
      title: 'Alerting is blind for an instance',
      alerts: [
        {
          kind: 'blind',
          id: 'b1',
          instance: 'cn-hangzhou:cri-demohz01',
          since: NOW - 15 * MIN,
          at: NOW,
          runs: 3,
          error,
        },
      ],
    },
    {
      kind: 'restored',
      title: 'Alerting works again',
      alerts: [
        { kind: 'restored', id: 'b2', instance: 'cn-hangzhou:cri-demohz01', since: NOW - 40 * MIN, at: NOW, runs: 8 },
      ],
    },
    {
      kind: 'digest',
      title: 'Daily digest',
      alerts: [
        {
          kind: 'digest',
          id: 'd1',
          instance: '',
          since: NOW - 24 * 60 * MIN,
          at: NOW,
          byCause: { OSS_POLICY_UNAUTHORIZED: 420, NETWORK_ERROR: 37, TAG_CONFLICT: 2 },
          topRepos: [
            ['prod/payment-service', 53],
            ['prod/api-gateway', 52],
            ['release/web-0', 10],
            ['prod/auth', 1],
          ],
          recoveries: 12,
          meanRecoveryMs: 47 * MIN,
          stillFailing: 3,
          oldestFailing: [
            {
              instance: 'cn-hangzhou:cri-demohz01',
              since: NOW - 20 * 60 * MIN,
              issue: 'TAG_CONFLICT',
              taskId: 'rst-tag0',
              image: 'prod/legacy-billing:v1.0.0',
              target: 'cn-shanghai:cri-demosh02',
              rule: 'prod-to-shanghai',
            },
            {
              instance: 'cn-hangzhou:cri-demohz01',
              since: NOW - 6 * 60 * MIN,
              issue: 'DATA_LENGTH_EXCEEDED',
              taskId: 'rst-demo0007',
              image: 'release/ml-runtime:v5.0.0-cuda12',
              target: 'ap-southeast-1:cri-demosg03',
              rule: 'release-tags-to-singapore',
            },
            {
              instance: 'cn-shanghai:cri-demosh02',
              since: NOW - 90 * MIN,
              issue: 'NETWORK_ERROR',
              taskId: 'rst-demo0102',
            },
          ],
          muted: { UNSUPPORTED_FORMAT: 4 },
          silences: [
            {
              matches: [['namespace', ['sandbox']]],
              comment: 'nightly rebuild',
              daily: '02:00-04:00',
              timezone: 'Asia/Shanghai',
            },
            {
              id: '3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c',
              matches: [
                ['rule', ['prod-to-shanghai']],
                ['cause', ['UNSUPPORTED_FORMAT']],
              ],
              comment: 'attestation manifests until the builder is fixed',
              createdBy: 'alice',
              until: NOW + 2 * 24 * 60 * MIN,
            },
          ],
          silencesTotal: 2,
        },
      ],
    },
  ];
}
