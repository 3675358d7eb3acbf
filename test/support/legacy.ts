import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import type { RawTask } from '../../src/sim/cr-server.js';
import type { TablestoreServer } from '../../src/sim/tablestore-server.js';
import { KEYS } from './world.js';

/** A checkpoint written by the previous version's own handler (see its `about`): the document as it stored it. */
export const legacyFixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/legacy-checkpoint.json'), 'utf8'),
) as {
  savedAt: number;
  stateKey: string;
  version: number;
  instance: { instanceId: string; regionId: string };
  target: { instanceId: string; regionId: string };
  tasks: RawTask[];
  checkpoint: unknown;
};

/** `x` with every epoch-ms time moved by `by`. */
export function shifted<T>(x: T, by: number): T {
  return JSON.parse(JSON.stringify(x), (_k, v: unknown) =>
    typeof v === 'number' && v > 1.6e12 && v < 2.5e12 ? v + by : v,
  ) as T;
}

/** Writes `checkpoint` into a Tablestore table exactly as the earlier version did: one row, version and gzip JSON. */
export async function plantLegacyRow(
  ots: TablestoreServer,
  key: string,
  version: number,
  checkpoint: unknown,
): Promise<Record<string, (p: unknown) => Promise<unknown>>> {
  const client = new TableStore.Client({
    accessKeyId: KEYS.id,
    secretAccessKey: KEYS.secret,
    stsToken: KEYS.token,
    endpoint: ots.endpoint,
    instancename: ots.instance,
    maxRetries: 0,
  } as unknown as ConstructorParameters<typeof TableStore.Client>[0]) as unknown as Record<
    string,
    (p: unknown) => Promise<unknown>
  >;
  await client.createTable!({
    tableMeta: { tableName: 'acr_sync_alert', primaryKey: [{ name: 'id', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: 30 * 86_400, maxVersions: 1 },
  });
  await client.putRow!({
    tableName: 'acr_sync_alert',
    primaryKey: [{ id: key }],
    attributeColumns: [
      { version: TableStore.Long.fromNumber(version) },
      { doc: gzipSync(Buffer.from(JSON.stringify(checkpoint))) },
      { lease_owner: '' },
      { lease_until: TableStore.Long.fromNumber(0) },
      { updated_at: TableStore.Long.fromNumber(Date.now()) },
    ],
    condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
  });
  return client;
}
