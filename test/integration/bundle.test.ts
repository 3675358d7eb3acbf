import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { demoInstances } from '../../src/sim/seed.js';
import { announcedIds, KEYS, startWorld, type World } from '../support/world.js';

const root = resolve(import.meta.dirname, '../..');
let world: World;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts'], {
    cwd: root,
    stdio: 'pipe',
  });
  world = await startWorld({ instances: demoInstances(Date.now()) });
}, 60_000);
afterAll(() => world.close());

describe('the deployable bundle', () => {
  it('runs when loaded from the code folder and handler that s.yaml names, as Function Compute loads it', async () => {
    const props = (
      parse(readFileSync(join(root, 's.yaml'), 'utf8')) as {
        resources: Record<string, { props: { code: string; handler: string; runtime: string } }>;
      }
    ).resources['acr-sync-alert']!.props;
    expect(props.runtime).toBe('nodejs20');
    const [file, exportName] = props.handler.split('.') as [string, string];
    const mod = createRequire(import.meta.url)(join(root, props.code, `${file}.js`)) as Record<
      string,
      (e: Buffer, c: unknown) => Promise<string>
    >;
    expect(typeof mod[exportName]).toBe('function');

    const saved = { ...process.env };
    Object.assign(process.env, world.env);
    try {
      const event = Buffer.from(
        JSON.stringify({
          triggerTime: '2026-11-24T07:49:00Z',
          triggerName: 'every-5-minutes',
          payload: '{"dryRun":false}',
        }),
      );
      const context = {
        requestId: 'bundle-test',
        credentials: { accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token },
        function: { name: 'acr-sync-alert', timeout: 60 },
      };
      const summary = JSON.parse(await mod[exportName]!(event, context)) as { outcome: string; failuresFound: number };
      expect(summary).toMatchObject({ outcome: 'completed', failuresFound: 8 });
    } finally {
      process.env = saved;
    }
    expect(announcedIds(world.hooks, 'dingtalk')).toHaveLength(10);
  });

  it('keeps its state in Tablestore through the bundled SDK', async () => {
    const w = await startWorld({ instances: demoInstances(Date.now()), tablestore: true });
    const mod = createRequire(import.meta.url)(join(root, 'dist/index.js')) as {
      handler: (e: Buffer, c: unknown) => Promise<string>;
    };
    const saved = { ...process.env };
    Object.assign(process.env, w.env);
    try {
      const context = {
        requestId: 'bundle-ots',
        credentials: { accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token },
        function: { name: 'acr-sync-alert', timeout: 60 },
      };
      const first = JSON.parse(await mod.handler(Buffer.from('{}'), context)) as {
        outcome: string;
        failuresFound: number;
      };
      expect(first).toMatchObject({ outcome: 'completed', failuresFound: 8, recovered: 1, stuck: 1 });
      const second = JSON.parse(await mod.handler(Buffer.from('{}'), { ...context, requestId: 'bundle-ots-2' })) as {
        outcome: string;
      };
      expect(second.outcome).toBe('nothing-new');
      const state = await w.state();
      expect(state.meta).toMatchObject({ layout: 2 });
      expect(state.owed).toEqual({});
      expect(Object.keys(state.cursors)).toHaveLength(3);
    } finally {
      process.env = saved;
      await w.close();
    }
  });

  it('holds none of the local tools: simulator, CLI, demo, @alicloud/fc2, tsx', () => {
    const meta = JSON.parse(readFileSync(join(root, '.cache/bundle-meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('src/index.ts');
    expect(inputs.filter((p) => /src\/(sim|cli)\/|src\/demo|@alicloud\/fc2|node_modules\/tsx\//.test(p))).toEqual([]);
  });

  it('imports without loading Node’s undici (axios’s FormData and fetch probes, about 12 MB of memory per instance)', () => {
    // A fresh process, as a cold start: the modules Node loaded once the bundle is imported.
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(join(root, 'dist/index.js'))}); process.stdout.write(JSON.stringify(process.moduleLoadList))`,
      ],
      { encoding: 'utf8' },
    );
    const modules = JSON.parse(loaded) as string[];
    expect(modules).toContain('NativeModule http');
    expect(modules.filter((m) => /undici/.test(m))).toEqual([]);
  });
});
