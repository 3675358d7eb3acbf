import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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
const sText = readFileSync(join(root, 's.yaml'), 'utf8');
type Step = { run: string; path: string };
type Resource = { component: string; actions?: Record<string, Step[]>; props: Record<string, unknown> };
const sYaml = parse(sText) as { edition: string; vars: Record<string, string>; resources: Record<string, Resource> };
const resource = sYaml.resources['acr-sync-alert']!;

/**
 * The fc3 props schema made strict: every object that lists its properties refuses any other (the component's own
 * schema lets a misspelt field such as `vpcconfig` or `enviromentVariables` through, and `s` then ignores it).
 */
function strictSchema(): object {
  const schema = JSON.parse(readFileSync(join(root, 'test/fixtures/fc3-props.schema.json'), 'utf8')) as object;
  const close = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object' && o.additionalProperties === undefined)
      o.additionalProperties = false;
    Object.values(o).forEach(close);
  };
  close(schema);
  return schema;
}
const validateProps = new Ajv({ strict: false, allErrors: true }).compile(strictSchema());

/** The props as `s` hands them to the component: ${vars.x}, ${env('X', '')} and ${config('AccountID')} resolved. */
function resolveProps(props: unknown, vars: Record<string, string>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(props)
      .replace(/\$\{vars\.(\w+)\}/g, (_m, k: string) => vars[k] ?? '')
      .replace(/\$\{env\('(\w+)'(?:, '([^']*)')?\)\}/g, (_m, _k: string, fallback = '') => fallback)
      .replace(/\$\{config\('AccountID'\)\}/g, '1234567890123456'),
  ) as Record<string, unknown>;
}

/** s.yaml with its commented-out vpcConfig block switched on, and the VPC endpoint chosen: the documented option. */
function withVpcOption(text: string): typeof sYaml {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s*# vpcConfig:$/.test(l));
  expect(at, 'a commented-out vpcConfig block in s.yaml').toBeGreaterThan(0);
  for (let i = at; i < lines.length && /^\s*#\s{1,}\S/.test(lines[i]!) && !/^\s*# [A-Z]/.test(lines[i]!); i++)
    lines[i] = lines[i]!.replace(/^(\s*)# /, '$1');
  return parse(
    lines.join('\n').replace(/tablestoreNetwork: \S+/, 'tablestoreNetwork: vpc.tablestore.aliyuncs.com'),
  ) as typeof sYaml;
}

describe('s.yaml', () => {
  it('is a Serverless Devs 3.0 file whose props satisfy the fc3 component schema, no unknown field allowed', () => {
    expect(sYaml.edition).toBe('3.0.0');
    expect(resource.component).toBe('fc3');
    const resolved = resolveProps(resource.props, sYaml.vars);
    expect(validateProps(resolved), JSON.stringify(validateProps.errors)).toBe(true);
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
    // The strict schema does refuse a misspelt field: the check above can fail.
    expect(validateProps({ ...resolved, vpcconfig: 'auto' })).toBe(false);
  });

  it('points the function at a Tablestore endpoint a new instance accepts: internal by default, VPC as the option', () => {
    // A new instance refuses the Internet endpoint (<inst>.<region>.ots.aliyuncs.com) with "Request denied by instance
    // ACL policies"; its network ACL allows the classic network and VPCs (Tablestore, "Troubleshoot the 'Request
    // denied by instance ACL policies' error"; endpoint forms from Tablestore's "Endpoints" page).
    const env = resolveProps(resource.props, sYaml.vars).environmentVariables as Record<string, string>;
    expect(env.TABLESTORE_ENDPOINT).toBe('https://acr-sync-alert.cn-hangzhou.ots-internal.aliyuncs.com');
    expect(resource.props.vpcConfig).toBeUndefined();
    const vpc = withVpcOption(sText);
    const props = resolveProps(vpc.resources['acr-sync-alert']!.props, vpc.vars);
    expect(validateProps(props), JSON.stringify(validateProps.errors)).toBe(true);
    expect(props.vpcConfig).toEqual({
      vpcId: expect.stringMatching(/^vpc-/),
      vSwitchIds: [expect.stringMatching(/^vsw-/)],
      securityGroupId: expect.stringMatching(/^sg-/),
    });
    expect((props.environmentVariables as Record<string, string>).TABLESTORE_ENDPOINT).toBe(
      'https://acr-sync-alert.cn-hangzhou.vpc.tablestore.aliyuncs.com',
    );
  });

  it('gives every value an operator sets a var with a comment above it, and uses every var', () => {
    const block = sText.slice(sText.indexOf('\nvars:\n') + 7, sText.indexOf('\nresources:'));
    const lines = block.split('\n');
    for (const name of Object.keys(sYaml.vars)) {
      const at = lines.findIndex((l) => l.startsWith(`  ${name}:`));
      // The var's own comment, or the comment of the var just above it when the two belong together (instance/table).
      const above = lines.slice(0, at).reverse();
      const comment = above.findIndex((l) => l.trimStart().startsWith('#'));
      expect(comment, `a comment above vars.${name}`).toBeGreaterThanOrEqual(0);
      expect(comment, `vars.${name} sits under its comment`).toBeLessThanOrEqual(1);
    }
    const used = new Set([...sText.matchAll(/\$\{vars\.(\w+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(sYaml.vars).sort());
  });

  it("builds the bundle it deploys in a pre-deploy action: after the action's commands, `code` holds the handler", () => {
    const steps = resource.actions?.['pre-deploy'] ?? [];
    expect(Object.keys(resource.actions ?? {})).toEqual(['pre-deploy']);
    for (const s of steps) expect(Object.keys(s).sort()).toEqual(['path', 'run']);
    expect(steps.map((s) => s.run)).toEqual(['npm ci', 'npm run build']);
    // A copy of the repository's files without dist/, as a fresh clone has them. `npm ci` cannot run offline here:
    // the installed node_modules stands in for it; every other step runs as `s` runs it, in its path.
    const copy = mkdtempSync(join(tmpdir(), 'acr-sync-alert-clone-'));
    try {
      const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
      for (const f of files.filter((f) => f && !f.startsWith('dist/') && existsSync(join(root, f))))
        cpSync(join(root, f), join(copy, f));
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
      expect(existsSync(join(copy, resource.props.code as string))).toBe(false);
      for (const s of steps.filter((s) => s.run !== 'npm ci'))
        execSync(s.run, { cwd: join(copy, s.path), stdio: 'pipe', timeout: 120_000 });
      const [file, exportName] = (resource.props.handler as string).split('.') as [string, string];
      const bundle = join(copy, resource.props.code as string, `${file}.js`);
      const mod = createRequire(import.meta.url)(bundle) as Record<string, unknown>;
      expect(typeof mod[exportName]).toBe('function');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 180_000);

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
