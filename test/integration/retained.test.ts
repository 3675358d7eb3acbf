import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrApi } from '../../src/acr/client.js';
import { Secret } from '../../src/lib/secret.js';
import { startCrSimulator, type CrSimulator } from '../../src/sim/cr-server.js';
import { generateTasks } from '../../src/sim/seed.js';

// What a run keeps from what it read must not keep the text it read alive: in a 100,000-failure burst the function
// holds an id of every task read (claimed, remembered as failing) within a 256 MB instance.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KEY = { id: 'STS.retained-test-id', secret: 'retained-test-secret', token: 'retained-test-token' };
const PAGES = 100;
let sim: CrSimulator;

beforeAll(async () => {
  const tasks = generateTasks({
    instanceId: 'cri-burst0',
    regionId: 'cn-hangzhou',
    count: PAGES * 100,
    newest: Date.now(),
    spacingMs: 50,
    failEvery: 1,
    prefix: 'b0',
  });
  sim = await startCrSimulator({
    accessKeyId: KEY.id,
    accessKeySecret: KEY.secret,
    securityToken: KEY.token,
    instances: [{ regionId: 'cn-hangzhou', instanceId: 'cri-burst0', rules: [], tasks }],
  });
});
afterAll(() => sim.close());

/** The real CR client, signing with the simulator's credentials. */
const crApi = () =>
  createCrApi({
    endpoint: sim.endpointTemplate.replace('{regionId}', 'cn-hangzhou'),
    credentials: {
      accessKeyId: new Secret(KEY.id),
      accessKeySecret: new Secret(KEY.secret),
      securityToken: new Secret(KEY.token),
    },
  });

describe('what a run keeps from the task pages it read', () => {
  it('keeps the ids of a burst’s tasks without keeping the pages they came in (100 pages of about 60 KB)', async () => {
    const api = crApi();
    const first = await api.listSyncTasks({ instanceId: 'cri-burst0', pageNo: 1, pageSize: 100, timeoutMs: 5_000 });
    const pageText = JSON.stringify(first.items).length;
    gc();
    const before = process.memoryUsage().heapUsed;
    const ids: string[] = [];
    for (let pageNo = 1; pageNo <= PAGES; pageNo++) {
      for (const t of (await api.listSyncTasks({ instanceId: 'cri-burst0', pageNo, pageSize: 100, timeoutMs: 5_000 }))
        .items)
        ids.push(t.taskId);
    }
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    expect(new Set(ids).size).toBe(PAGES * 100);
    // The ids and their array take about 1 MB; had each kept its page, the pages' text (over 4 MB) would stay too.
    expect(pageText * PAGES).toBeGreaterThan(4_000_000);
    expect(kept).toBeLessThan((pageText * PAGES) / 2);
  });

  it('keeps one copy of a value thousands of tasks repeat (region, instance, namespace, cause, target)', async () => {
    const api = crApi();
    const fields: string[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let pageNo = 1; pageNo <= PAGES; pageNo++) {
      for (const t of (await api.listSyncTasks({ instanceId: 'cri-burst0', pageNo, pageSize: 100, timeoutMs: 5_000 }))
        .items) {
        fields.push(t.from.regionId, t.from.instanceId, t.from.namespace, t.issue, t.to.regionId, t.to.instanceId);
      }
    }
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    expect(fields).toHaveLength(PAGES * 100 * 6);
    expect(new Set(fields).size).toBeLessThan(100);
    // The array takes 8 bytes a field; a copy of each value per task would add 24 to 40 bytes more to each.
    expect(kept).toBeLessThan(fields.length * 8 + 1_000_000);
  });
});
