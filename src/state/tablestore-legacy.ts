/**
 * The earlier single document in Tablestore: one row under the deployment's key with a `version` and a gzip JSON
 * `doc`, read with GetRow and marked as moved with a conditional UpdateRow, for the upgrade.
 */
import { gunzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import { UpgradeConflictError } from '../lib/errors.js';
import type { LegacyDoc } from './earlier-document.js';
import { ConditionFailed, long, pk, retryLater, send, toNumber, type Attr, type Ots } from './tablestore-client.js';

/** The earlier single document under `key`, or undefined when there is none or nothing is left of it to move. */
export async function readLegacyRow(ots: Ots, key: string, timeoutMs: number): Promise<LegacyDoc | undefined> {
  ots.counter.reads += 1;
  const params = { primaryKey: pk(key), maxVersions: 1 };
  const data = (await send(ots, {
    action: 'GetRow',
    method: 'getRow',
    params,
    timeoutMs,
    whenMissing: () => ({}),
  })) as {
    row?: { attributes?: Attr[] };
  };
  const attrs = new Map((data.row?.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
  if (!attrs.has('version')) return undefined;
  const version = toNumber(attrs.get('version'));
  const doc = attrs.get('doc');
  // A moved document outlives its doc cell by its later writes (TTL counts per cell): nothing is left to move.
  if (attrs.has('migrated_at') && doc === undefined) return undefined;
  const damaged = (why: string) => new Error(`the earlier single document in ${ots.name}/${key} is damaged (${why})`);
  if (!Number.isInteger(version) || !Buffer.isBuffer(doc)) throw damaged('version or doc column has the wrong type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(doc).toString('utf8'));
  } catch {
    throw damaged('doc is not gzip JSON');
  }
  const migrated = attrs.get('migrated_at');
  const moved = attrs.get('migrated_version');
  const found: LegacyDoc = {
    doc: parsed,
    version,
    retired: migrated !== undefined,
    ...(migrated !== undefined ? { retiredAt: toNumber(migrated) } : {}),
    ...(moved !== undefined ? { movedVersion: toNumber(moved) } : {}),
  };
  return found;
}

/**
 * Marks the document under `key` as moved, conditional on `version`: the version is what releases before the rows
 * condition their writes on, so moving it on makes any of them still running fail instead of saving over the move.
 * Throws UpgradeConflictError when the document changed since it was read.
 */
export async function markLegacyRow(ots: Ots, key: string, version: number, timeoutMs: number): Promise<void> {
  ots.counter.writes += 1;
  const same = new TableStore.SingleColumnCondition(
    'version',
    long(version),
    TableStore.ComparatorType.EQUAL,
    false,
    true,
  );
  const params = {
    primaryKey: pk(key),
    updateOfAttributeColumns: [
      {
        PUT: [
          { version: long(version + 1) },
          { migrated_at: long(Date.now()) },
          { migrated_version: long(version + 1) },
          { lease_owner: '' },
          { lease_until: long(0) },
        ],
      },
    ],
    condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, same),
  };
  try {
    await send(ots, { action: 'UpdateRow', method: 'updateRow', params, timeoutMs, whenMissing: retryLater });
  } catch (err) {
    if (err instanceof ConditionFailed) throw new UpgradeConflictError(`tablestore ${ots.name}/${key}`);
    throw err;
  }
}
