import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { buildCli, root, runCli } from '../support/cli-process.js';
import { KEY_ENV } from '../support/deployed.js';
import { KEYS } from '../support/world.js';

// Issue 22: without --account-id, `invoke` sent InvokeFunction to the regional management endpoint
// fcv3.<region>.aliyuncs.com, where it is not documented; fc3 sends it to <account>.<region>.fc.aliyuncs.com. The local
// FC server refuses an invocation addressed to any other host, and the CLI process reaches it while naming the real
// host (test/support/connect-to.mjs, loaded into that process only).
const ACCOUNT = '1234567890123456';
const ACCOUNT_HOST = `${ACCOUNT}.cn-hangzhou.fc.aliyuncs.com`;
const INVOKE = ['invoke', '--function', 'acr-sync-alert', '--region', 'cn-hangzhou'];

let fc: FcServer | undefined;
beforeAll(buildCli, 60_000);
afterEach(async () => {
  await fc?.close();
  fc = undefined;
});

/** The FC server holding `acr-sync-alert`, and the CLI environment that reaches it under the real host names. */
async function deployed(): Promise<Record<string, string>> {
  fc = await startFcServer({
    accountId: ACCOUNT,
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    securityToken: KEYS.token,
    functions: {},
    fc3Functions: { 'acr-sync-alert': { invoke: async () => '{"outcome":"completed"}' } },
  });
  return {
    ...KEY_ENV,
    NODE_OPTIONS: `--import ${pathToFileURL(join(root, 'test/support/connect-to.mjs')).href}`,
    ACR_TEST_CONNECT_TO: new URL(fc.endpoint).host,
  };
}

const hosts = () => fc!.invocations.map((i) => [i.host, i.type, i.status, i.signatureValid]);

describe('invoke sends InvokeFunction to the account endpoint', () => {
  it('finds the account in the function’s ARN (GetFunction) when --account-id is not given', async () => {
    const r = await runCli(INVOKE, await deployed());
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ outcome: 'completed' });
    // GetFunction went to a host the server serves it at (the regional fcv3.cn-hangzhou.aliyuncs.com).
    expect(fc!.configReads).toEqual([{ name: 'acr-sync-alert', status: 200 }]);
    expect(hosts()).toEqual([[ACCOUNT_HOST, 'Sync', 200, true]]);
  });

  it('with --account-id or ALIBABA_CLOUD_ACCOUNT_ID, goes there without reading the function', async () => {
    const env = await deployed();
    const given = await runCli([...INVOKE, '--account-id', ACCOUNT], env);
    expect([given.code, given.stderr]).toEqual([0, '']);
    const queued = await runCli([...INVOKE, '--async'], { ...env, ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT });
    expect([queued.code, queued.stdout]).toEqual([0, expect.stringMatching(/^queued: request /)]);
    expect(fc!.configReads).toEqual([]);
    expect(hosts()).toEqual([
      [ACCOUNT_HOST, 'Sync', 200, true],
      [ACCOUNT_HOST, 'Async', 202, true],
    ]);
  });

  it('names --account-id and fc:GetFunction when the account cannot be found, and invokes nothing', async () => {
    const r = await runCli([...INVOKE.slice(0, 2), 'not-deployed', ...INVOKE.slice(3)], await deployed());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^failed: cannot find the account id for Function Compute's invoke endpoint <account-id>\.cn-hangzhou\.fc\.aliyuncs\.com: .*\(FunctionNotFound\)\. Pass --account-id <id> \(or set ALIBABA_CLOUD_ACCOUNT_ID\), or allow fc:GetFunction on the function/,
    );
    expect(fc!.configReads).toEqual([{ name: 'not-deployed', status: 404 }]);
    expect(fc!.invocations).toEqual([]);
  });

  it('the local server refuses an invocation addressed to the regional management endpoint', async () => {
    await deployed();
    // fetch cannot name another Host: node:http can.
    const answer = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = request(`${fc!.endpoint}/2023-03-30/functions/acr-sync-alert/invocations`, {
        method: 'POST',
        headers: { host: 'fcv3.cn-hangzhou.aliyuncs.com' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect([answer.status, (JSON.parse(answer.body) as { Code: string }).Code]).toEqual([400, 'SimWrongEndpoint']);
    expect(hosts()).toEqual([['fcv3.cn-hangzhou.aliyuncs.com', 'Sync', 400, false]]);
  });
});
