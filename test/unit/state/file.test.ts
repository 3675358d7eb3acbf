import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateFileLockedError, UpgradeConflictError } from '../../../src/lib/errors.js';
import { FileTable } from '../../../src/state/file.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'state-file-')), 'state.json');
const put = (key: string) => ({ op: 'put' as const, key, cols: { j: key } });

describe('the state in a local file', () => {
  it('keeps its rows across instances, as another process reading the file sees them', async () => {
    const path = fresh();
    await new FileTable(path).writeRows([put('a'), put('b')]);
    expect([...(await new FileTable(path).getRows(['a', 'b', 'c'])).keys()]).toEqual(['a', 'b']);
    expect(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { rows: object }).rows)).toEqual(['a', 'b']);
  });

  it('stops a write while another run holds the lock, saying whose file and what to do', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, '');
    const err = await new FileTable(path).writeRows([put('a')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateFileLockedError);
    expect((err as Error).message).toBe(
      `the state file ${path} is locked by another run; run again once it ends (a lock older than 30 s is taken as ` +
        'left by a run that died, and removed)',
    );
  });

  it('takes a lock older than that as left by a run that died, and writes', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, '');
    const old = (Date.now() - 31_000) / 1000;
    utimesSync(`${path}.lock`, old, old);
    expect(await new FileTable(path).writeRows([put('a')])).toEqual({ failed: [] });
  });

  it('reads a file of a release before the rows as the earlier single document, and marks it only over its version', async () => {
    const path = fresh();
    writeFileSync(path, JSON.stringify({ version: 3, checkpoint: { schema: 1, instances: {}, outbox: [] } }));
    const t = new FileTable(path);
    expect(await t.legacy()).toEqual({ doc: { schema: 1, instances: {}, outbox: [] }, version: 3, retired: false });
    const err = await t.retireLegacy('', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpgradeConflictError);
    expect((err as Error).message).toMatch(new RegExp(`^file ${path}: the earlier single document changed while`));
    expect(await t.legacy()).toMatchObject({ version: 3, retired: false });
    await t.retireLegacy('', 3);
    expect(await new FileTable(path).legacy()).toMatchObject({ version: 4, retired: true, movedVersion: 4 });
  });
});
