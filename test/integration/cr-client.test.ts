import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrApi, type CrApi } from '../../src/acr/client.js';
import { acrEndpoint } from '../../src/config/config.js';
import { IntegrationError } from '../../src/lib/errors.js';
import { Secret } from '../../src/lib/secret.js';
import { startCrSimulator, type CrSimulator } from '../../src/sim/cr-server.js';
import { demoInstances } from '../../src/sim/seed.js';

const KEY = { id: 'STS.cr-client-test-id', secret: 'cr-client-test-secret', token: 'cr-client-test-token' };
let sim: CrSimulator;
const api = (secret = KEY.secret, token: string | null = KEY.token, region = 'cn-hangzhou'): CrApi =>
  createCrApi({
    endpoint: acrEndpoint(sim.endpointTemplate, region),
    credentials: {
      accessKeyId: new Secret(KEY.id),
      accessKeySecret: new Secret(secret),
      securityToken: token ? new Secret(token) : undefined,
    },
  });
const req = { instanceId: 'cri-demohz01', pageNo: 1, pageSize: 10, timeoutMs: 2_000 };
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as IntegrationError,
  );

beforeAll(async () => {
  sim = await startCrSimulator({
    accessKeyId: KEY.id,
    accessKeySecret: KEY.secret,
    securityToken: KEY.token,
    instances: demoInstances(Date.now()),
  });
});
afterAll(() => sim.close());

describe('CR adapter through the real pop-core client', () => {
  it('sends a signed POST with the STS token, API version and parameters in the body', async () => {
    const page = await api().listSyncTasks(req);
    expect(page.totalCount).toBe(17);
    expect(page.items).toHaveLength(10);
    const call = sim.calls.at(-1)!;
    expect(call).toMatchObject({ action: 'ListRepoSyncTask', region: 'cn-hangzhou', signatureValid: true });
    expect(call.params).toMatchObject({
      Version: '2018-12-01',
      SecurityToken: KEY.token,
      InstanceId: 'cri-demohz01',
      PageNo: '1',
      PageSize: '10',
      SignatureMethod: 'HMAC-SHA1',
    });
  });

  it('serves newest first whether the server was given its tasks in order or not', async () => {
    const inst = sim.instances[0]!;
    const pages = async () =>
      [(await api().listSyncTasks(req)).items, (await api().listSyncTasks({ ...req, pageNo: 2 })).items]
        .flat()
        .map((t) => t.taskId);
    const shuffled = await pages();
    const saved = inst.tasks;
    inst.tasks = [...saved].sort(
      (a, b) => Number(b.CreateTime) - Number(a.CreateTime) || b.SyncTaskId.localeCompare(a.SyncTaskId),
    );
    try {
      expect(await pages()).toEqual(shuffled);
    } finally {
      inst.tasks = saved;
    }
  });

  it('reads rules with their names', async () => {
    const page = await api().listSyncRules(req);
    expect(page.items.map((r) => r.name)).toContain('prod-to-shanghai');
  });

  it.each([
    ['a wrong secret', () => api('wrong-secret').listSyncTasks(req), 'config', 'SignatureDoesNotMatch'],
    ['a missing STS token', () => api(KEY.secret, null).listSyncTasks(req), 'config', 'InvalidSecurityToken.Mismatch'],
    [
      'an instance in another region',
      () => api(KEY.secret, KEY.token, 'cn-beijing').listSyncTasks(req),
      'config',
      'INSTANCE_NOT_EXIST',
    ],
  ])('turns %s into a configuration error', async (_what, call, kind, code) => {
    const e = await failure(call());
    expect(e).toBeInstanceOf(IntegrationError);
    expect(e).toMatchObject({ service: 'cr', kind, code });
    expect(e.message).not.toContain('127.0.0.1');
  });

  it.each([
    ['throttle', 'retryable', 'Throttling', 400],
    ['throttle-user', 'retryable', 'Throttling.User', 400],
    ['system-error', 'retryable', 'SystemError', 500],
    ['html-502', 'retryable', 'NonJsonResponse', undefined],
    ['empty-500', 'retryable', 'NonJsonResponse', undefined],
    ['json-without-code', 'retryable', 'MalformedResponse', undefined],
    ['reset', 'retryable', undefined, undefined],
    ['no-privilege', 'config', 'NoPrivilege', 403],
  ] as const)('normalises a %s answer to %s', async (kind, expectedKind, code, status) => {
    sim.fault({ kind });
    const e = await failure(api().listSyncTasks(req));
    expect(e).toBeInstanceOf(IntegrationError);
    expect(e.kind).toBe(expectedKind);
    if (code) expect(e.code).toBe(code);
    if (status) expect(e.status).toBe(status);
    if (kind === 'no-privilege') expect(e.message).toMatch(/cr:GetRepositorySync/);
  });

  it('names cr:ListSyncRule when ListRepoSyncRule is refused', async () => {
    sim.fault({ kind: 'no-privilege', action: 'ListRepoSyncRule' });
    const e = await failure(api().listSyncRules(req));
    expect(e.message).toMatch(/cr:ListSyncRule/);
  });

  it('gives up on a request that never answers, at the timeout it was given', async () => {
    sim.fault({ kind: 'hang' });
    const started = Date.now();
    const e = await failure(api().listSyncTasks({ ...req, timeoutMs: 300 }));
    expect(e).toMatchObject({ kind: 'retryable', code: 'Timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
