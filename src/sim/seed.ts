/** The demo's instances, and generated histories for tests and the benchmark (item builders: cr-items.ts). */
import type { RawRule, RawTask, SimInstance } from './cr-model.js';
import { rawRule, rawTask, type TaskSpec } from './cr-items.js';

export { rawRule, rawTask, type TaskSpec } from './cr-items.js';

const HZ = { instanceId: 'cri-demohz01', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-demosh02', regionId: 'cn-shanghai' };
const SG = { instanceId: 'cri-demosg03', regionId: 'ap-southeast-1' };

type InstanceRef = { instanceId: string; regionId: string };

/** The demo's sync rules, by the instance that holds them. */
function demoRules(): { hz: RawRule[]; sh: RawRule[] } {
  const hz = [
    rawRule({
      id: 'crsr-prod2sh',
      name: 'prod-to-shanghai',
      scope: 'NAMESPACE',
      namespace: 'prod',
      local: HZ,
      target: { ...SH, namespace: 'prod' },
    }),
    rawRule({
      id: 'crsr-base2sg',
      name: 'base-images-to-singapore',
      scope: 'REPO',
      namespace: 'base',
      repo: 'alpine',
      local: HZ,
      target: { ...SG, namespace: 'base', repo: 'alpine' },
    }),
    rawRule({
      id: 'crsr-rel2sg',
      name: 'release-tags-to-singapore',
      scope: 'NAMESPACE',
      namespace: 'release',
      local: HZ,
      target: { ...SG, namespace: 'release' },
      tagFilter: '^v\\d+',
      trigger: 'INITIATIVE',
    }),
  ];
  // Disaster-recovery copies are synced on demand: a manual rule.
  const sh = [
    rawRule({
      id: 'crsr-back2hz',
      name: 'dr-back-to-hangzhou',
      scope: 'NAMESPACE',
      namespace: 'dr',
      local: SH,
      target: { ...HZ, namespace: 'dr' },
      trigger: 'INITIATIVE',
    }),
  ];
  return { hz, sh };
}

/** Where each demo rule copies from and to. */
const RULE_ENDS: Record<string, { from: InstanceRef; to: InstanceRef }> = {
  'crsr-prod2sh': { from: HZ, to: SH },
  'crsr-base2sg': { from: HZ, to: SG },
  'crsr-rel2sg': { from: HZ, to: SG },
  'crsr-back2hz': { from: SH, to: HZ },
};

/** One demo task: id, minutes since it was created, status, rule, image, and its issue and trigger if any. */
type DemoTask = [
  id: string,
  minutesAgo: number,
  status: string,
  ruleId: string,
  image: `${string}/${string}:${string}`,
  issue?: string,
  trigger?: 'INITIATIVE',
];

const HZ_TASKS: DemoTask[] = [
  ['rst-demo0001', 95, 'SUCCESS', 'crsr-prod2sh', 'prod/api-gateway:v2.14.0'],
  ['rst-demo0002', 90, 'ERROR', 'crsr-prod2sh', 'prod/payment-service:v3.2.1', 'NETWORK_ERROR'],
  ['rst-demo0003', 84, 'SUCCESS', 'crsr-base2sg', 'base/alpine:3.20'],
  ['rst-demo0004', 77, 'ERROR', 'crsr-base2sg', 'base/alpine:3.21', 'OSS_POLICY_UNAUTHORIZED'],
  ['rst-demo0005', 70, 'ERROR', 'crsr-rel2sg', 'release/web-frontend:v1.8.0', 'TAG_CONFLICT', 'INITIATIVE'],
  ['rst-demo0006', 66, 'CANCELED', 'crsr-prod2sh', 'prod/search-indexer:v0.9.4'],
  [
    'rst-demo0007',
    61,
    'ERROR',
    'crsr-rel2sg',
    'release/ml-runtime:v5.0.0-cuda12',
    'DATA_LENGTH_EXCEEDED',
    'INITIATIVE',
  ],
  ['rst-demo0008', 55, 'SUCCESS', 'crsr-prod2sh', 'prod/order-service:v7.1.0'],
  ['rst-demo0009', 48, 'ERROR', 'crsr-prod2sh', 'prod/legacy-billing:v1.0.0', 'UNSUPPORTED_FORMAT'],
  ['rst-demo0010', 41, 'ERROR', 'crsr-prod2sh', 'prod/inventory:v2.3.0', 'INTERNAL_ERROR'],
  ['rst-demo0011', 35, 'ERROR', 'crsr-prod2sh', 'prod/payment-service:v3.2.2', 'NETWORK_ERROR'],
  ['rst-demo0012', 28, 'SUCCESS', 'crsr-rel2sg', 'release/web-frontend:v1.8.1'],
  ['rst-demo0013', 21, 'ERROR', 'crsr-prod2sh', 'prod/notification:v1.4.0'],
  ['rst-demo0014', 9, 'SYNCHRONIZING', 'crsr-rel2sg', 'release/ml-runtime:v5.0.1-cuda12'],
  ['rst-demo0015', 3, 'PENDING', 'crsr-prod2sh', 'prod/api-gateway:v2.15.0'],
  // The image that failed 90 minutes ago synced fine on a retry: announced as recovered, not as a failure.
  ['rst-demo0016', 25, 'SUCCESS', 'crsr-prod2sh', 'prod/payment-service:v3.2.1', undefined, 'INITIATIVE'],
  // A large image still synchronising after more than two hours: stuck.
  ['rst-demo0017', 135, 'SYNCHRONIZING', 'crsr-base2sg', 'base/cuda-devel:12.4.1-ubuntu22.04'],
];

const SH_TASKS: DemoTask[] = [
  ['rst-demo0101', 80, 'SUCCESS', 'crsr-back2hz', 'dr/postgres-backup:16.4', undefined, 'INITIATIVE'],
  ['rst-demo0102', 52, 'ERROR', 'crsr-back2hz', 'dr/postgres-backup:16.5', 'NETWORK_ERROR', 'INITIATIVE'],
  ['rst-demo0103', 12, 'SUCCESS', 'crsr-back2hz', 'dr/redis-snapshot:7.4', undefined, 'INITIATIVE'],
];

function demoTask(now: number, [id, ago, status, ruleId, image, issue, trigger]: DemoTask): TaskSpec {
  const slash = image.indexOf('/');
  const colon = image.indexOf(':', slash);
  const { from, to } = RULE_ENDS[ruleId]!;
  return {
    id,
    status,
    issue,
    ruleId,
    trigger,
    createTime: now - ago * 60_000,
    from: {
      ...from,
      namespace: image.slice(0, slash),
      repo: image.slice(slash + 1, colon),
      tag: image.slice(colon + 1),
    },
    to,
  };
}

/**
 * The demo's instances: a Hangzhou source replicating to Shanghai and Singapore, and a Shanghai instance syncing
 * back. Every TaskIssue appears, with successes, cancellations and tasks still running. Ids are fixed so that a
 * second run recognises what the first announced; times are relative to `now` so the first run's look-back sees them.
 */
export function demoInstances(now: number): SimInstance[] {
  const rules = demoRules();
  const tasks = (list: DemoTask[]) => list.map((row) => rawTask(demoTask(now, row)));
  return [
    { ...HZ, tasks: tasks(HZ_TASKS), rules: rules.hz },
    { ...SH, tasks: tasks(SH_TASKS), rules: rules.sh },
    { ...SG, tasks: [], rules: [] },
  ];
}

export const DEMO_ISSUES = [
  'OSS_POLICY_UNAUTHORIZED',
  'TAG_CONFLICT',
  'UNSUPPORTED_FORMAT',
  'INTERNAL_ERROR',
  'NETWORK_ERROR',
  'DATA_LENGTH_EXCEEDED',
] as const;

/**
 * `count` tasks for one instance, newest at `newest` and one `spacingMs` apart, with every `failEvery`-th an ERROR
 * cycling through the TaskIssues; for scale tests and the benchmark.
 */
export function generateTasks(opts: {
  instanceId: string;
  regionId: string;
  count: number;
  newest: number;
  spacingMs?: number;
  failEvery?: number;
  prefix?: string;
  status?: string;
}): RawTask[] {
  const spacing = opts.spacingMs ?? 60_000;
  const out: RawTask[] = [];
  for (let i = 0; i < opts.count; i++) {
    const failing = opts.failEvery !== undefined && i % opts.failEvery === 0;
    out.push(
      rawTask({
        id: `rst-${opts.prefix ?? 'g'}${opts.instanceId.slice(4)}x${i.toString().padStart(6, '0')}`,
        status: opts.status ?? (failing ? 'ERROR' : 'SUCCESS'),
        issue: failing ? DEMO_ISSUES[i % DEMO_ISSUES.length] : undefined,
        createTime: opts.newest - i * spacing,
        ruleId: `crsr-g${i % 7}`,
        from: {
          instanceId: opts.instanceId,
          regionId: opts.regionId,
          namespace: `team${i % 13}`,
          repo: `service-${i % 97}`,
          tag: `v1.${i}${opts.prefix ?? ''}`,
        },
        to: { instanceId: 'cri-target00', regionId: 'cn-shanghai' },
      }),
    );
  }
  return out;
}
