import type { SimInstance } from '../../src/sim/cr-server.js';
import { rawTask } from '../../src/sim/seed.js';

/** A simulated instance in cn-hangzhou with one sync that failed a minute ago, task `taskId`. */
export function instanceWithOneFailure(instanceId: string, taskId: string): SimInstance {
  const at = { instanceId, regionId: 'cn-hangzhou' };
  const task = rawTask({
    id: taskId,
    status: 'ERROR',
    issue: 'TAG_CONFLICT',
    createTime: Date.now() - 60_000,
    ruleId: 'crsr-1',
    from: { ...at, namespace: 'ns', repo: 'app', tag: 'v1' },
    to: { instanceId: 'cri-dst', regionId: 'cn-shanghai' },
  });
  return { ...at, tasks: [task], rules: [] };
}
