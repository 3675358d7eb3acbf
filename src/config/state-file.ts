import { existsSync } from 'node:fs';
import type { Env } from './settings.js';

/** Where the local state is kept when STATE_FILE is not set. */
export const DEFAULT_STATE_FILE = '.acr-sync-alert/state.json';
/** The default before STATE_FILE was named so: a file there alone is still used, so an earlier demo's state is kept. */
export const EARLIER_DEFAULT_STATE_FILE = '.acr-sync-alert/checkpoint.json';

export const CHECKPOINT_FILE_DEPRECATED = 'CHECKPOINT_FILE is deprecated: rename it to STATE_FILE';

/** Whether a file exists; existsSync, or a stand-in in tests. */
export type FileExists = (path: string) => boolean;

/** The default local state file: DEFAULT_STATE_FILE, unless only the earlier default exists. */
export function defaultStateFile(exists: FileExists = existsSync): string {
  return !exists(DEFAULT_STATE_FILE) && exists(EARLIER_DEFAULT_STATE_FILE)
    ? EARLIER_DEFAULT_STATE_FILE
    : DEFAULT_STATE_FILE;
}

/**
 * The local state file the environment names: STATE_FILE, else CHECKPOINT_FILE (its earlier name), else the default
 * (see defaultStateFile). Blank values count as unset; the settings schema refuses them.
 */
export function stateFileOf(env: Env, exists?: FileExists): string {
  return env.STATE_FILE?.trim() || env.CHECKPOINT_FILE?.trim() || defaultStateFile(exists);
}

/**
 * Checks the two names of the state file setting: a deprecation note when the earlier name is set, a problem when
 * both are set to different files (which one was meant cannot be told).
 */
export function checkStateFileNames(env: Env, out: { problems: string[]; notes: string[] }): void {
  const current = env.STATE_FILE?.trim();
  const earlier = env.CHECKPOINT_FILE?.trim();
  if (!earlier) return;
  out.notes.push(CHECKPOINT_FILE_DEPRECATED);
  if (current && current !== earlier)
    out.problems.push('STATE_FILE and CHECKPOINT_FILE (its deprecated name) name different files: set STATE_FILE only');
}
