import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointConflictError, IntegrationError } from '../lib/errors.js';
import { emptyCheckpoint, type Checkpoint, type Versioned } from '../model/checkpoint.js';
import { parseCheckpoint, type StateStore, type StoreCounter } from './store.js';

interface FileShape {
  version: number;
  checkpoint: unknown;
}

/** A lock older than this belongs to a process that died mid-save. */
const STALE_LOCK_MS = 30_000;

/** Runs `fn` holding `path.lock` (created exclusively), so the version check and the write are one step. */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (i > 200) throw new CheckpointConflictError(`${path} is locked by another run`);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

function fsError(err: unknown, action: string, path: string): IntegrationError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new IntegrationError(`cannot ${action} the checkpoint file ${path} (${code})`, { service: 'state-file', kind: 'config', code });
}

/**
 * A checkpoint in a local JSON file, for local runs and the demo. Versioned like the Tablestore store; the write goes
 * to a temporary file renamed into place, so a crash mid-write leaves the previous checkpoint intact.
 */
export function createFileStore(path: string): StateStore {
  const counter: StoreCounter = { reads: 0, writes: 0 };
  const where = `file ${path}`;

  async function read(): Promise<Versioned> {
    counter.reads += 1;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoint: emptyCheckpoint(), version: 0 };
      throw fsError(err, 'read', path);
    }
    let raw: FileShape;
    try {
      raw = JSON.parse(text) as FileShape;
    } catch {
      throw new Error(`the checkpoint in ${where} is not valid JSON; move it aside to start from the look-back window`);
    }
    return { checkpoint: parseCheckpoint(raw.checkpoint, where), version: typeof raw.version === 'number' ? raw.version : 0 };
  }

  return {
    counter,
    where,
    load: () => read(),
    save: (next: Checkpoint, expected: number) =>
      withLock(path, async () => {
        const current = await read();
        if (current.version !== expected) throw new CheckpointConflictError(`${where} is at version ${current.version}, expected ${expected}`);
        const version = expected + 1;
        const tmp = `${path}.${process.pid}.tmp`;
        try {
          await writeFile(tmp, JSON.stringify({ version, checkpoint: next } satisfies FileShape), 'utf8');
          await rename(tmp, path);
        } catch (err) {
          throw fsError(err, 'write', path);
        }
        counter.writes += 1;
        return version;
      }).catch((err: unknown) => {
        if (err instanceof CheckpointConflictError || err instanceof IntegrationError) throw err;
        throw fsError(err, 'lock', path);
      }),
  };
}
