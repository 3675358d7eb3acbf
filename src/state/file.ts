import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { IntegrationError, StateFileLockedError, UpgradeConflictError } from '../lib/errors.js';
import { MemoryTable, type Cols, type WriteOp } from './table.js';
import type { LegacyDoc } from './earlier-document.js';

/**
 * What the file holds: the rows, and the earlier single document if there was one (under the names releases before
 * the rows stored it with: they are the file's format).
 */
interface FileShape {
  rows: Record<string, Cols>;
  legacy?: { version: number; checkpoint: unknown; migratedAt?: number };
}

/** A lock older than this belongs to a process that died mid-write. */
const STALE_LOCK_MS = 30_000;

/** Runs `fn` holding `path.lock` (created exclusively), so reading, checking conditions and writing are one step. */
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
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (i > 200) throw new StateFileLockedError(path, STALE_LOCK_MS);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

const fsError = (err: unknown, action: string, path: string) => {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new IntegrationError(`cannot ${action} the state file ${path} (${code})`, {
    service: 'state-file',
    kind: 'config',
    code,
  });
};

/**
 * The state in a local JSON file, for local runs and the demo: the same rows and conditions as the Tablestore table,
 * the file rewritten whole (to a temporary file renamed into place, so a crash mid-write leaves the previous one) under
 * a lock, so runs in several processes stay exactly-once too. A file in the format of a release before the rows is
 * read as the earlier single document, for the upgrade.
 */
export class FileTable extends MemoryTable {
  private legacyDoc: FileShape['legacy'];
  private loadedFrom = '';

  constructor(private readonly path: string) {
    super(`file ${path}`);
  }

  /** Reads the file again when another process changed it since. */
  private async load(): Promise<void> {
    let text: string;
    let stamp: string;
    try {
      const s = await stat(this.path);
      stamp = `${s.mtimeMs}/${s.size}`;
      if (stamp === this.loadedFrom) return;
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(err, 'read', this.path);
    }
    let raw: Partial<FileShape> & { version?: unknown; checkpoint?: unknown };
    try {
      raw = JSON.parse(text) as typeof raw;
    } catch {
      throw new Error(`the state in ${this.where} is not valid JSON; move it aside to start from the look-back window`);
    }
    this.rows.clear();
    for (const [k, v] of Object.entries(raw.rows ?? {})) this.rows.set(k, v);
    // Releases before the rows wrote {version, checkpoint}: the earlier single document.
    this.legacyDoc =
      raw.legacy ??
      (raw.checkpoint !== undefined && typeof raw.version === 'number'
        ? { version: raw.version, checkpoint: raw.checkpoint }
        : undefined);
    this.loadedFrom = stamp;
  }

  private async save(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const shape: FileShape = {
      rows: Object.fromEntries(this.rows),
      ...(this.legacyDoc ? { legacy: this.legacyDoc } : {}),
    };
    try {
      await writeFile(tmp, JSON.stringify(shape), 'utf8');
      await rename(tmp, this.path);
      const s = await stat(this.path);
      this.loadedFrom = `${s.mtimeMs}/${s.size}`;
    } catch (err) {
      throw fsError(err, 'write', this.path);
    }
  }

  override async getRows(keys: readonly string[]): Promise<Map<string, Cols>> {
    await this.load();
    return super.getRows(keys);
  }

  override async rangePage(from: string, to: string, t?: number, limit?: number) {
    await this.load();
    return super.rangePage(from, to, t, limit);
  }

  override writeRows(ops: readonly WriteOp[]): Promise<{ failed: string[] }> {
    return withLock(this.path, async () => {
      await this.load();
      const r = await super.writeRows(ops);
      await this.save();
      return r;
    });
  }

  async legacy(): Promise<LegacyDoc | undefined> {
    await this.load();
    const l = this.legacyDoc;
    return (
      l && {
        doc: l.checkpoint,
        version: l.version,
        retired: l.migratedAt !== undefined,
        ...(l.migratedAt !== undefined ? { retiredAt: l.migratedAt, movedVersion: l.version } : {}),
      }
    );
  }

  async retireLegacy(_key: string, version: number): Promise<void> {
    await withLock(this.path, async () => {
      await this.load();
      if (this.legacyDoc?.version !== version) throw new UpgradeConflictError(this.where);
      this.legacyDoc = { ...this.legacyDoc, version: version + 1, migratedAt: Date.now() };
      await this.save();
    });
  }
}
