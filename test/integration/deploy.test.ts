import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RAM_ACTION } from '../../src/acr/client.js';
import { rawTask } from '../../src/sim/seed.js';
import { main } from '../../src/cli/main.js';
import { legacyFixture, plantLegacyRow, shifted } from '../support/legacy.js';
import { startWorld } from '../support/world.js';

const root = resolve(import.meta.dirname, '../..');
const sYaml = parse(readFileSync(join(root, 's.yaml'), 'utf8')) as {
  edition: string;
  vars: Record<string, string>;
  resources: Record<string, { component: string; props: Record<string, unknown> }>;
};
const resource = sYaml.resources['acr-sync-alert']!;

describe('s.yaml', () => {
  it('is a Serverless Devs 3.0 file whose props satisfy the fc3 component schema', () => {
    expect(sYaml.edition).toBe('3.0.0');
    expect(resource.component).toBe('fc3');
    const schema = JSON.parse(readFileSync(join(root, 'test/fixtures/fc3-props.schema.json'), 'utf8')) as object;
    // Variables (${vars.x}, ${env('X')}) are resolved by `s` before validation; substitute representative values.
    const resolved = JSON.parse(
      JSON.stringify(resource.props)
        .replace(/\$\{vars\.(\w+)\}/g, (_m, k: string) => sYaml.vars[k] ?? '')
        .replace(/\$\{env\('(\w+)'(?:, '([^']*)')?\)\}/g, (_m, _k: string, fallback = '') => fallback)
        .replace(/\$\{config\('AccountID'\)\}/g, '1234567890123456'),
    ) as Record<string, unknown>;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(resolved), JSON.stringify(validate.errors)).toBe(true);
    expect(resolved).toMatchObject({
      runtime: 'nodejs20',
      code: './dist',
      handler: 'index.handler',
      region: 'cn-hangzhou',
    });
    expect(resolved.triggers).toEqual([
      expect.objectContaining({
        triggerType: 'timer',
        triggerConfig: expect.objectContaining({ enable: true, cronExpression: '@every 5m' }),
      }),
    ]);
  });

  it('takes every secret from the environment and every account-specific value from vars', () => {
    const env = resource.props.environmentVariables as Record<string, string>;
    for (const k of ['DINGTALK_WEBHOOK', 'DINGTALK_SECRET', 'SLACK_WEBHOOK', 'ROUTES'])
      expect(env[k]).toBe(`\${env('${k}', '')}`);
    // NODE_OPTIONS is the runtime setting the benchmark measured memory with, the same for every account: the heap
    // capped well inside the function's memory, so V8 collects before the instance runs out.
    expect(env.NODE_OPTIONS).toMatch(/^--max-semi-space-size=1 --max-old-space-size=\d+$/);
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS!)![1]);
    expect(oldSpace).toBeLessThanOrEqual((resource.props.memorySize as number) * 0.7);
    // Fewer malloc arenas: the memory the benchmark measured, not an account's choice either.
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    for (const [k, v] of Object.entries(env))
      if (k !== 'NODE_OPTIONS' && k !== 'MALLOC_ARENA_MAX') expect(v, k).toMatch(/\$\{(vars|env)/);
    expect(resource.props.role).toMatch(/\$\{vars\.role\}/);
  });

  it('gives every environment variable it takes from the shell a default, since each is optional', () => {
    // `s` resolves ${env('X')} with no default by throwing "env('X') not found" when X is unset or empty
    // (@serverless-devs/art-template lib/devs-compile.js, envFun); with a default it uses the default.
    const text = readFileSync(join(root, 's.yaml'), 'utf8');
    const refs = [...text.matchAll(/\$\{env\(([^)]*)\)\}/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThanOrEqual(5);
    for (const r of refs) expect(r).toMatch(/^'\w+', ''$/);
  });
});

describe('the RAM policy', () => {
  it("grants exactly the actions runs make, a fresh deployment's and an upgraded one's: the CR reads and the Tablestore calls observed", async () => {
    const policy = JSON.parse(readFileSync(join(root, 'policy/ram-policy.json'), 'utf8')) as {
      Statement: { Action: string[]; Resource: string[] }[];
    };
    const granted = new Set(policy.Statement.flatMap((s) => s.Action));
    const used = new Set<string>();
    const HZ = { instanceId: 'cri-policy0', regionId: 'cn-hangzhou' };
    const task = rawTask({
      id: 'rst-p1',
      status: 'ERROR',
      issue: 'NETWORK_ERROR',
      createTime: Date.now() - 60_000,
      ruleId: 'crsr-1',
      from: { ...HZ, namespace: 'a', repo: 'b', tag: 'c' },
      to: { instanceId: 'cri-x', regionId: 'cn-shanghai' },
    });
    const fresh = await startWorld({ instances: [{ ...HZ, tasks: [task], rules: [] }], tablestore: true });
    const by = Date.now() - 60_000 - legacyFixture.savedAt;
    const upgraded = await startWorld({
      instances: [{ ...legacyFixture.instance, tasks: shifted(legacyFixture.tasks, by), rules: [] }],
      tablestore: true,
      env: { STATE_KEY: legacyFixture.stateKey },
    });
    try {
      await plantLegacyRow(
        upgraded.ots!,
        legacyFixture.stateKey,
        legacyFixture.version,
        shifted(legacyFixture.checkpoint, by),
      );
      upgraded.ots!.calls.length = 0;
      for (const w of [fresh, upgraded]) {
        await w.run();
        await w.run();
        for (const c of w.cr.calls) used.add(RAM_ACTION[c.action as keyof typeof RAM_ACTION]);
        for (const c of w.ots!.calls) used.add(`ots:${c.action}`);
      }
      expect([...used].sort()).toEqual([...granted].sort());
    } finally {
      await fresh.close();
      await upgraded.close();
    }
    expect(policy.Statement.find((s) => s.Action.includes('ots:BatchWriteRow'))!.Resource).toEqual([
      'acs:ots:<region>:<account-id>:instance/<tablestore-instance-in-lowercase>/table/<tablestore-table>',
    ]);
  });

  it('is printed for the configured instances and table by the policy command, the Tablestore instance in lowercase', async () => {
    const out: string[] = [];
    const env = {
      ACR_INSTANCES: 'cn-hangzhou:cri-aaa,ap-southeast-1:cri-bbb',
      TABLESTORE_ENDPOINT: 'https://MyAlerts.cn-hangzhou.ots.aliyuncs.com',
      TABLESTORE_INSTANCE: 'MyAlerts',
      TABLESTORE_TABLE: 'sync_alert_state',
      ALIBABA_CLOUD_ACCOUNT_ID: '1234567890',
    };
    expect(await main(['policy'], { out: (l) => out.push(l), err: () => undefined, env })).toBe(0);
    const p = JSON.parse(out.join('\n')) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(p.Statement[0]!.Resource).toEqual([
      'acs:cr:cn-hangzhou:1234567890:repository/cri-aaa',
      'acs:cr:cn-hangzhou:1234567890:repository/cri-aaa/*',
      'acs:cr:ap-southeast-1:1234567890:repository/cri-bbb',
      'acs:cr:ap-southeast-1:1234567890:repository/cri-bbb/*',
    ]);
    expect(p.Statement[1]!.Resource).toEqual([
      'acs:ots:cn-hangzhou:1234567890:instance/myalerts/table/sync_alert_state',
    ]);
    const template = JSON.parse(readFileSync(join(root, 'policy/ram-policy.json'), 'utf8')) as {
      Statement: { Action: string[] }[];
    };
    expect(p.Statement.map((s) => [...s.Action].sort())).toEqual(template.Statement.map((s) => [...s.Action].sort()));
  });
});
