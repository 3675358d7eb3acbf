import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors.js';
import type { Io } from './commands.js';
import type { StateStore } from '../state/store.js';
import { DEPLOYMENT_OPTIONS, openDeployment } from './deployment.js';

const iso = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString());

/** What `state` reports, as `--json` prints it: where the state is, the rows' layout, the earlier document. */
async function stateReport(store: StateStore) {
  const { meta, legacy } = await store.status();
  return {
    where: store.where,
    rows: meta ? { layout: meta.layout, since: iso(meta.since), ...(meta.from ? { movedFrom: meta.from } : {}) } : null,
    earlierDocument: legacy
      ? {
          version: legacy.version,
          movedAt: legacy.retiredAt === undefined ? null : iso(legacy.retiredAt),
          savedSinceMoved: Boolean(legacy.savedSince),
        }
      : null,
  };
}

type Report = Awaited<ReturnType<typeof stateReport>>;

function printReport(io: Io, r: Report): void {
  io.out(`state: ${r.where}`);
  const moved = r.rows?.movedFrom ? ` (moved from the ${r.rows.movedFrom})` : '';
  io.out(
    r.rows
      ? `rows: layout ${r.rows.layout} since ${r.rows.since}${moved}`
      : 'rows: none yet (the next run starts them, moving the earlier document if there is one)',
  );
  const d = r.earlierDocument;
  if (d) {
    const moved = d.movedAt === null ? 'not moved yet' : `moved at ${d.movedAt}`;
    const rollback = d.savedSinceMoved ? '; saved since by an earlier release (a rollback)' : '';
    io.out(`earlier single document: version ${d.version}, ${moved}${rollback}`);
  }
}

/**
 * `state [--json] [--move-again]`: where the state is and what it came from; with --move-again, after a rollback to
 * a release that kept the single document, makes the next run move that document into rows again (nothing it did is
 * lost). --move-again changes the state, so it refuses a local file unless --local is given.
 */
export async function stateCommand(io: Io, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'move-again': { type: 'boolean' }, json: { type: 'boolean' }, ...DEPLOYMENT_OPTIONS },
    strict: true,
  });
  const moveAgain = values['move-again'] ?? false;
  const deployment = await openDeployment(io, values, { command: 'state --move-again', changesState: moveAgain });
  const store = await deployment.store();
  const report = await stateReport(store);
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else printReport(io, report);
  if (!moveAgain) return 0;
  if (!report.earlierDocument?.savedSinceMoved) {
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
