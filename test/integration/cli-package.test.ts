import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFcServer, type FcServer } from '../../src/sim/fc-server.js';
import { buildCli, cliEnv, root, runProcess } from '../support/cli-process.js';
import { KEYS } from '../support/world.js';

const folders: string[] = [];
let fc: FcServer | undefined;
afterAll(async () => {
  await fc?.close();
  folders.forEach((f) => rmSync(f, { recursive: true, force: true }));
});

/**
 * Installs the packed tarball in `dir` as npm lays it out, without the registry (CI must not depend on it): the
 * package under node_modules/acr-sync-alert, its bin linked in node_modules/.bin, and each of its declared
 * `dependencies` linked from this checkout's node_modules (so a module the CLI needs but does not declare is missing).
 */
async function installOffline(tarball: string, dir: string): Promise<string[]> {
  const pkgDir = join(dir, 'node_modules', 'acr-sync-alert');
  mkdirSync(pkgDir, { recursive: true });
  const untar = await runProcess('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'], { env: cliEnv({}) });
  expect(untar.code).toBe(0);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies)) {
    const at = join(dir, 'node_modules', dep);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', dep)), at, 'dir');
  }
  mkdirSync(join(dir, 'node_modules', '.bin'));
  symlinkSync(
    join('..', 'acr-sync-alert', pkg.bin['acr-sync-alert']!),
    join(dir, 'node_modules', '.bin', 'acr-sync-alert'),
  );
  return Object.keys(pkg.dependencies);
}

describe('the npm package', () => {
  it('packs the built CLI, installs in an empty folder and runs there: --version, help, silence list', async () => {
    await buildCli();
    const packDir = mkdtempSync(join(tmpdir(), 'acr-sync-alert-pack-'));
    const dir = mkdtempSync(join(tmpdir(), 'acr-sync-alert-install-'));
    folders.push(packDir, dir);
    // --ignore-scripts: the CLI was just built; prepack would build it again.
    const pack = await runProcess('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], {
      env: { ...cliEnv({}), npm_config_cache: join(packDir, 'npm-cache') },
    });
    expect(pack.code).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const shipped = packed!.files.map((f) => f.path).sort();
    expect(shipped).toEqual(['README.md', 'bin/acr-sync-alert.js', 'dist-cli/cli.js', 'package.json']);
    const deps = await installOffline(join(packDir, packed!.filename), dir);
    expect(deps).toEqual(expect.arrayContaining(['@alicloud/fc2', '@alicloud/fc20230330', '@alicloud/credentials']));
    expect(deps).not.toContain('tsx');

    // No checkout around it: the folder holds only what was installed; the state would be a file in it.
    const npx = (args: string[], env: Record<string, string> = {}) =>
      runProcess('npx', ['--no-install', 'acr-sync-alert', ...args], {
        cwd: dir,
        env: {
          ...cliEnv({ ACR_INSTANCES: 'cn-hangzhou:cri-pkgtest', ...env }),
          npm_config_cache: join(packDir, 'npm-cache'),
        },
      });
    const version = await npx(['--version']);
    expect([version.code, version.stdout.trim()]).toEqual([0, '0.1.0']);
    const help = await npx(['help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage: acr-sync-alert <command>')]);
    const list = await npx(['silence', 'list']);
    expect([list.code, list.stdout.trim(), list.stderr]).toEqual([
      0,
      'no silences in force',
      expect.stringContaining('reading the local file'),
    ]);
    const preview = await npx(['preview', '--channel', 'slack']);
    expect([preview.code, preview.stdout]).toEqual([0, expect.stringContaining('Slack · 🔴 ACR:')]);
    // The FC SDKs load only when a command calls FC: invoke proves they resolve from the installed package.
    fc = await startFcServer({
      accountId: '1234567890123456',
      accessKeyId: KEYS.id,
      accessKeySecret: KEYS.secret,
      functions: {},
      fc3Functions: { 'acr-sync-alert': { invoke: async () => '{"outcome":"completed"}' } },
    });
    const keys = { ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret };
    const invoked = await npx(['invoke', '--region', 'cn-hangzhou', '--endpoint', fc.endpoint], keys);
    expect([invoked.code, invoked.stderr]).toEqual([0, '']);
    expect(JSON.parse(invoked.stdout)).toEqual({ outcome: 'completed' });
  }, 180_000);
});
