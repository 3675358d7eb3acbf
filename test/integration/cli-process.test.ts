import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { demoInstances } from '../../src/sim/seed.js';
import { buildCli, emptyHome, root, runCli } from '../support/cli-process.js';
import { closeWorlds, KEYS, SECRETS, startWorld, type World } from '../support/world.js';

const keys = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret,
  ALIBABA_CLOUD_SECURITY_TOKEN: KEYS.token,
};
const COMMANDS = ['run', 'invoke', 'preview', 'check', 'silence', 'state', 'policy'];
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

let world: World | undefined;
let fc: FcServer | undefined;
beforeAll(buildCli, 60_000);
afterEach(async () => {
  await fc?.close();
  fc = undefined;
  await closeWorlds();
});

describe('the CLI process: help, version, exit codes', () => {
  it('prints --version, the overview and each command’s --help with exit 0', async () => {
    const v = await runCli(['--version'], {});
    expect([v.code, v.stdout.trim()]).toEqual([0, version]);
    const h = await runCli(['help'], {});
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Exit codes: 0 done; 1 failed .*\n2 usage/);
    for (const c of COMMANDS) {
      const r = await runCli([c, '--help'], {});
      expect([c, r.code, r.stderr]).toEqual([c, 0, '']);
      expect(r.stdout).toMatch(new RegExp(`^acr-sync-alert ${c}`));
      expect(r.stdout).toContain('Exit codes:');
    }
    const viaHelp = await runCli(['help', 'state'], {});
    expect([viaHelp.code, viaHelp.stdout]).toEqual([0, expect.stringMatching(/^acr-sync-alert state \[--json\]/)]);
    const sub = await runCli(['silence', 'add', '-h'], {});
    expect([sub.code, sub.stdout]).toEqual([0, expect.stringContaining('silence add [matchers]')]);
  }, 120_000);

  it('names usage errors as usage, exit 2, and a failure exit 1', async () => {
    const option = await runCli(['run', '--dryrun'], {});
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(
      /^usage: Unknown option '--dryrun'.*\n\(acr-sync-alert run --help shows its options\)/,
    );
    const value = await runCli(['run', '--timeout', 'soon'], {});
    expect([value.code, value.stderr]).toEqual([2, expect.stringMatching(/^usage: --timeout must be a positive/)]);
    const command = await runCli(['deploy'], {});
    expect([command.code, command.stderr]).toEqual([2, expect.stringMatching(/^usage: unknown command "deploy"/)]);
    for (const r of [option, value, command]) expect(r.stderr).not.toContain('Invalid configuration');
    const file = await runCli(['preview', '--file', '/nonexistent/tasks.json'], {});
    expect([file.code, file.stderr]).toEqual([2, expect.stringMatching(/^usage: --file: cannot read/)]);
    const refused = await runCli(
      ['invoke', '--function', 'acr-sync-alert', '--region', 'cn-hangzhou', '--endpoint', 'http://127.0.0.1:9'],
      keys,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^failed: Function Compute refused the invocation/);
  }, 90_000);
});

describe('invoke reaches an FC 3.0 function (API 2023-03-30) and keeps FC 2.0 with --service', () => {
  async function setup(fnBody?: (event: Buffer) => Promise<string>) {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const w = world;
    const body =
      fnBody ??
      (async (event: Buffer) =>
        JSON.stringify(await w.run({ payload: (JSON.parse(event.toString()) as { payload: string }).payload })));
    fc = await startFcServer({
      accountId: '1234567890123456',
      accessKeyId: KEYS.id,
      accessKeySecret: KEYS.secret,
      securityToken: KEYS.token,
      functions: { 'alerts/acr-sync-alert': body },
      fc3Functions: { 'acr-sync-alert': { invoke: body } },
    });
    return ['--function', 'acr-sync-alert', '--region', 'cn-hangzhou', '--endpoint', fc.endpoint];
  }

  it('invokes synchronously, signed with ACS3-HMAC-SHA256, and prints the run summary', async () => {
    const args = await setup();
    const r = await runCli(['invoke', ...args], keys);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'completed', failuresFound: 8 });
    expect(fc!.invocations).toEqual([
      expect.objectContaining({
        api: '2023-03-30',
        path: '/2023-03-30/functions/acr-sync-alert/invocations',
        type: 'Sync',
        signatureValid: true,
        status: 200,
      }),
    ]);
    expect(JSON.parse(fc!.invocations[0]!.event)).toMatchObject({
      triggerName: 'cli-invoke',
      payload: '{"dryRun":false}',
    });
  });

  it('queues an async dry run; --service takes the FC 2.0 API', async () => {
    const args = await setup();
    const queued = await runCli(['invoke', ...args, '--async', '--dry-run', '--qualifier', 'LATEST'], keys);
    expect([queued.code, queued.stdout]).toEqual([0, expect.stringMatching(/^queued: request [0-9a-f-]{36}/)]);
    await fc!.settled();
    expect(world!.hooks.attempts).toHaveLength(0);
    const v2 = await runCli(['invoke', ...args, '--service', 'alerts', '--account-id', '1234567890123456'], keys);
    expect(v2.code).toBe(0);
    expect(fc!.invocations.map((i) => [i.api, i.type, i.status])).toEqual([
      ['2023-03-30', 'Async', 202],
      ['2016-08-15', 'Sync', 200],
    ]);
  });

  it('reports a function that threw and a refused signature, exit 1, without the secret', async () => {
    const args = await setup(async () => {
      throw new Error('Invalid configuration: ACR_INSTANCES is required');
    });
    const threw = await runCli(['invoke', ...args], keys);
    expect(threw.code).toBe(1);
    expect(threw.stderr).toMatch(
      /the function failed \(UnhandledInvocationError\): Invalid configuration: ACR_INSTANCES/,
    );
    const wrong = await runCli(['invoke', ...args], { ...keys, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the invocation \(SignatureDoesNotMatch\)/);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-the-secret');
    expect(fc!.invocations.map((i) => [i.signatureValid, i.status])).toEqual([
      [true, 200],
      [false, 400],
    ]);
  });
});

describe('the deployment a command acts on', () => {
  /** A world with Tablestore, and an FC 3.0 function whose environment names that table (and no STATE_KEY). */
  async function deployed() {
    world = await startWorld({ instances: demoInstances(Date.now()), tablestore: true });
    const { STATE_KEY: _key, STATE_FILE: _file, ...fnEnv } = world.env;
    fc = await startFcServer({
      accountId: '1234567890123456',
      accessKeyId: KEYS.id,
      accessKeySecret: KEYS.secret,
      securityToken: KEYS.token,
      functions: {},
      fc3Functions: { 'acr-sync-alert': { invoke: async () => '{}', environmentVariables: fnEnv } },
    });
    // The on-call person's aliyun CLI profile: the only credentials the CLI process has.
    const home = emptyHome();
    mkdirSync(join(home, '.aliyun'));
    const profile = { name: 'oncall', mode: 'StsToken', access_key_id: KEYS.id, access_key_secret: KEYS.secret };
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({ current: 'default', profiles: [{ ...profile, sts_token: KEYS.token }] }),
    );
    const fnArgs = ['--function', 'acr-sync-alert', '--region', 'cn-hangzhou', '--endpoint', fc.endpoint];
    return { home, fnArgs: [...fnArgs, '--profile', 'oncall'] };
  }

  it('--function reads the deployed Tablestore settings: silence add lands where the function reads it', async () => {
    const { home, fnArgs } = await deployed();
    await world!.run(); // creates the table, as the first run after deploying does
    const add = ['silence', 'add', '--rule', 'crsr-*', '--for', '2h', '--comment', 'freeze', ...fnArgs];
    const added = await runCli(add, { USER: 'oncall' }, home);
    expect([added.code, added.stderr]).toEqual([0, '']);
    const id = added.stdout.split('\n')[0]!;
    expect(fc!.configReads).toEqual([{ name: 'acr-sync-alert', status: 200 }]);
    // The function names its state by its name when STATE_KEY is unset: the silence is in that deployment's rows.
    const tableEnv = { ...keys, TABLESTORE_ENDPOINT: world!.env.TABLESTORE_ENDPOINT };
    const asDeployed = { ...tableEnv, TABLESTORE_INSTANCE: world!.ots!.instance, STATE_KEY: 'acr-sync-alert' };
    const listed = await runCli(['silence', 'list', '--json'], { ...world!.env, ...asDeployed });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { stored: { id: string }[] }).stored.map((s) => s.id)).toEqual([id]);
    const state = await runCli(['state', '--json', ...fnArgs], {}, home);
    expect(JSON.parse(state.stdout)).toMatchObject({ where: expect.stringContaining('acr-sync-alert') });
    const output = [added, listed, state].map((r) => r.stdout + r.stderr).join();
    for (const s of SECRETS) expect(output).not.toContain(s);
  });

  it('a command that changes the state refuses a local file unless --local; one that reads says so', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const add = ['silence', 'add', '--rule', 'crsr-*', '--for', '2h', '--comment', 'freeze'];
    const refused = await runCli(add, world.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^usage: silence add changes the deployment's state, and no deployment is named/);
    expect(refused.stderr).toContain('--function NAME --region REGION');
    expect(refused.stderr).toContain(`--local to use the local file ${world.stateFile}`);
    expect(existsSync(world.stateFile)).toBe(false);
    const list = await runCli(['silence', 'list', '--json'], world.env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ stored: [], configured: [] });
    expect(list.stderr).toContain(`reading the local file ${world.stateFile}`);
    const local = await runCli([...add, '--local'], world.env);
    expect(local.code).toBe(0);
    expect(existsSync(world.stateFile)).toBe(true);
    const noRegion = await runCli(['state', '--function', 'acr-sync-alert'], keys);
    expect([noRegion.code, noRegion.stderr]).toEqual([2, expect.stringMatching(/^usage: --function needs --region/)]);
  });

  it('names what to set when no credentials are found', async () => {
    world = await startWorld({ instances: demoInstances(Date.now()) });
    const r = await runCli(['state', '--function', 'acr-sync-alert', '--region', 'cn-hangzhou'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: no cloud credentials .*ALIBABA_CLOUD_ACCESS_KEY_ID.*--profile NAME/s);
  });
});
