import { parseArgs } from 'node:util';
import { readConfig } from '../config/config.js';
import { ConfigError } from '../lib/errors.js';
import { storeFor, type Io } from './commands.js';

const iso = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString());

/**
 * `state [--move-again]`: where the state is and what it came from; with --move-again, after a rollback to a release
 * that kept the single document, makes the next run move that document into rows again (nothing it did is lost).
 */
export async function stateCommand(io: Io, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'move-again': { type: 'boolean' } }, strict: true });
  const config = readConfig(io.env, { requireChannel: false });
  const store = storeFor(config, io);
  const { meta, legacy } = await store.status();
  io.out(`state: ${store.where}`);
  io.out(
    meta
      ? `rows: layout ${meta.layout} since ${iso(meta.since)}${meta.from ? ` (moved from the ${meta.from})` : ''}`
      : 'rows: none yet (the next run starts them, moving the earlier document if there is one)',
  );
  if (legacy) {
    const moved = legacy.retiredAt === undefined ? 'not moved yet' : `moved at ${iso(legacy.retiredAt)}`;
    const rollback = legacy.savedSince ? '; saved since by an earlier release (a rollback)' : '';
    io.out(`earlier single document: version ${legacy.version}, ${moved}${rollback}`);
  }
  if (!values['move-again']) return 0;
  if (!legacy?.savedSince) {
    throw new ConfigError(
      ['--move-again: the earlier document has not been saved since it was moved, so there is nothing new to move'],
      'Nothing to do',
    );
  }
  await store.forgetUpgrade();
  io.out(
    'the next run moves the earlier document into rows again: what the earlier release announced is not repeated, ' +
      'what it still owed is delivered',
  );
  return 0;
}
