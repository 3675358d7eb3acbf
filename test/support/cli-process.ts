/**
 * The operator CLI as users run it: the built dist-cli/cli.js through bin/acr-sync-alert.js, in its own process,
 * with only the environment a test gives (plus PATH, a fresh HOME, and no ECS metadata lookups).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking this process's event loop (the local servers answer meanwhile). */
export function runProcess(
  command: string,
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? root, env: opts.env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let built: Promise<void> | undefined;

/** Builds dist-cli/cli.js once per test worker (the build renames into place, so workers do not collide). */
export function buildCli(): Promise<void> {
  built ??= runProcess(process.execPath, [tsx, 'scripts/build-cli.ts'], { env: { ...process.env } }).then((r) => {
    if (r.code !== 0) throw new Error(`build-cli failed: ${r.stderr}`);
  });
  return built;
}

/** An empty home folder: no aliyun CLI profile, no ~/.alibabacloud/credentials, unless the test writes one. */
export const emptyHome = () => mkdtempSync(join(tmpdir(), 'acr-sync-alert-home-'));

/** The environment of a CLI process: PATH, HOME, no ECS RAM role lookup, and what the test gives. */
export function cliEnv(env: Record<string, string | undefined>, home = emptyHome()): Record<string, string> {
  const out: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** `acr-sync-alert <args>` through bin/ in a process of its own. */
export async function runCli(args: string[], env: Record<string, string | undefined>, home?: string) {
  await buildCli();
  return runProcess(process.execPath, [join(root, 'bin/acr-sync-alert.js'), ...args], { env: cliEnv(env, home) });
}
