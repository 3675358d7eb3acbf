import { afterAll } from 'vitest';
import { Secret } from '../../src/lib/secret.js';
import { startTablestoreServer, type TablestoreServer } from '../../src/sim/tablestore-server.js';
import { OverlayTable } from '../../src/state/overlay.js';
import { createTablestoreTable } from '../../src/state/tablestore.js';
import { rowTableContract } from '../support/row-table-contract.js';
import { KEYS } from '../support/world.js';

let server: TablestoreServer | undefined;
let tables = 0;
afterAll(async () => {
  await server?.close();
});

/**
 * A table of its own in the local Tablestore server, through the real SDK client over 127.0.0.1, created by a first
 * read (a first write would create it and ask to be retried, as the run's retries do).
 */
async function fresh() {
  server ??= await startTablestoreServer({
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    securityToken: KEYS.token,
    instance: 'contract',
  });
  const t = createTablestoreTable({
    endpoint: server.endpoint,
    instance: 'contract',
    table: `state_${(tables += 1)}`,
    credentials: {
      accessKeyId: new Secret(KEYS.id),
      accessKeySecret: new Secret(KEYS.secret),
      securityToken: new Secret(KEYS.token),
    },
  });
  await t.getRows(['created'], 5_000);
  return t;
}

rowTableContract('the Tablestore table', fresh);
rowTableContract("a dry run's table over Tablestore", async () => new OverlayTable(await fresh()));
