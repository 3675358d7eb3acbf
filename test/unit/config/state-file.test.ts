import { isMainThread } from 'node:worker_threads';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../../src/config/config.js';
import { stateFileOf, type FileExists } from '../../../src/config/state-file.js';
import { ConfigError } from '../../../src/lib/errors.js';

const base = { ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: 'https://hooks.slack.com/services/T1/B1/x' };
const DEPRECATED = 'CHECKPOINT_FILE is deprecated: rename it to STATE_FILE';
const NEW_DEFAULT = '.acr-sync-alert/state.json';
const OLD_DEFAULT = '.acr-sync-alert/checkpoint.json';
const none: FileExists = () => false;

const pathOf = (env: Record<string, string>, fileExists: FileExists = none) => {
  const store = readConfig({ ...base, ...env }, { fileExists }).store;
  return store.kind === 'file' ? store.path : undefined;
};
const problemsOf = (env: Record<string, string>) => {
  try {
    readConfig({ ...base, ...env }, { fileExists: none });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

describe('STATE_FILE and its deprecated name CHECKPOINT_FILE', () => {
  it('keeps the state in the file STATE_FILE names, with nothing to note', () => {
    const c = readConfig({ ...base, STATE_FILE: ' /var/lib/alert/state.json ' });
    expect(c.store).toEqual({ kind: 'file', path: '/var/lib/alert/state.json' });
    expect(c.notes).toEqual([]);
  });

  it('still accepts CHECKPOINT_FILE, with one note asking to rename it', () => {
    const c = readConfig({ ...base, CHECKPOINT_FILE: ' /var/lib/alert/cp.json ' });
    expect(c.store).toEqual({ kind: 'file', path: '/var/lib/alert/cp.json' });
    expect(c.notes).toEqual([DEPRECATED]);
  });

  it('accepts both names set to the same file, noting the deprecated one', () => {
    const c = readConfig({ ...base, STATE_FILE: '/srv/s.json', CHECKPOINT_FILE: ' /srv/s.json' });
    expect(c.store).toEqual({ kind: 'file', path: '/srv/s.json' });
    expect(c.notes).toEqual([DEPRECATED]);
  });

  it('refuses both names set to different files', () => {
    expect(problemsOf({ STATE_FILE: '/srv/a.json', CHECKPOINT_FILE: '/srv/b.json' })).toEqual([
      'STATE_FILE and CHECKPOINT_FILE (its deprecated name) name different files: set STATE_FILE only',
    ]);
  });

  it('refuses either name set blank', () => {
    expect(problemsOf({ STATE_FILE: '  ' })).toEqual(['STATE_FILE must not be empty']);
    expect(problemsOf({ CHECKPOINT_FILE: '' })).toEqual(['CHECKPOINT_FILE must not be empty']);
  });

  it('notes the deprecated name even when the state is kept in Tablestore', () => {
    const c = readConfig({
      ...base,
      TABLESTORE_ENDPOINT: 'https://inst.cn-hangzhou.ots.aliyuncs.com',
      TABLESTORE_INSTANCE: 'inst',
      CHECKPOINT_FILE: '/srv/cp.json',
    });
    expect(c.store.kind).toBe('tablestore');
    expect(c.notes).toEqual([DEPRECATED]);
  });
});

describe('the default state file', () => {
  it('is .acr-sync-alert/state.json when neither file exists', () => {
    expect(pathOf({})).toBe(NEW_DEFAULT);
  });

  it('is the earlier default .acr-sync-alert/checkpoint.json when only that file exists', () => {
    expect(pathOf({}, (p) => p === OLD_DEFAULT)).toBe(OLD_DEFAULT);
  });

  it('is .acr-sync-alert/state.json when both files exist', () => {
    expect(pathOf({}, (p) => p === OLD_DEFAULT || p === NEW_DEFAULT)).toBe(NEW_DEFAULT);
  });

  it('is not looked for when a name is set', () => {
    expect(pathOf({ STATE_FILE: 'mine.json' }, (p) => p === OLD_DEFAULT)).toBe('mine.json');
    expect(pathOf({ CHECKPOINT_FILE: 'mine.json' }, (p) => p === OLD_DEFAULT)).toBe('mine.json');
  });

  // process.chdir is refused in worker threads (the mutation run's test pool); npm test runs these in forks.
  describe.skipIf(!isMainThread)('on disk, from the working directory', () => {
    const home = process.cwd();
    let dir: string | undefined;
    afterEach(() => {
      process.chdir(home);
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });
    const inFolderWith = (...files: string[]) => {
      dir = mkdtempSync(join(tmpdir(), 'state-file-'));
      mkdirSync(join(dir, '.acr-sync-alert'));
      for (const f of files) writeFileSync(join(dir, f), '{}');
      process.chdir(dir);
    };

    it("keeps a demo's state in the earlier default file", () => {
      inFolderWith(OLD_DEFAULT);
      expect(readConfig(base).store).toEqual({ kind: 'file', path: OLD_DEFAULT });
      expect(stateFileOf({})).toBe(OLD_DEFAULT);
    });

    it('starts in the new default file when there is none', () => {
      inFolderWith();
      expect(readConfig(base).store).toEqual({ kind: 'file', path: NEW_DEFAULT });
      expect(stateFileOf({})).toBe(NEW_DEFAULT);
    });
  });
});
