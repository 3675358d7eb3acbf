import { gunzipSync, gzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import { CheckpointConflictError, IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import { emptyCheckpoint, type Checkpoint, type Versioned } from '../model/checkpoint.js';
import { parseCheckpoint, type StateStore, type StoreCounter } from './store.js';

/**
 * State rows outlive the look-back window by far; a deployment stopped for longer than this starts over from the
 * look-back window. Tablestore requires a TTL of at least 86400 s or -1.
 */
export const STATE_TTL_SEC = 30 * 86_400;
const PK = 'id';

const RETRYABLE = new Set([
  'OTSServerBusy', 'OTSPartitionUnavailable', 'OTSTimeout', 'OTSInternalServerError', 'OTSServerUnavailable',
  'OTSNotEnoughCapacityUnit', 'OTSOperationThrottled', 'OTSQuotaExhausted', 'OTSTableNotReady', 'OTSRowOperationConflict',
]);
const CONFIG = new Set(['OTSAuthFailed', 'OTSNoPermissionAccess', 'OTSAccessDenied', 'OTSInvalidInstance']);

interface OtsSdkError {
  code?: unknown;
  message?: unknown;
  headers?: Record<string, unknown>;
}

/** A table that does not exist yet; the store creates it. */
class TableMissing extends Error {}

/**
 * Normalises the SDK's errors. The Node SDK sets `err.code` to the HTTP status and puts the raw protobuf error
 * body (whose text holds the `OTS...` code) in `err.message`; network problems have code `NetworkingError`.
 * A failed condition is a `CheckpointConflictError`; the message never repeats the raw body.
 */
export function normalizeOtsError(err: unknown, action: string): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OtsSdkError;
  const text = typeof e.message === 'string' ? e.message : '';
  const ots = /\b(OTS[A-Za-z]+)\b/.exec(text)?.[1];
  const status = typeof e.code === 'number' ? e.code : undefined;
  const rid = e.headers?.['x-ots-requestid'] ?? e.headers?.['x-ots-request-id'] ?? /requestId:(\S+)/.exec(text)?.[1];
  const requestId = typeof rid === 'string' && rid !== '' ? rid : undefined;
  if (ots === 'OTSConditionCheckFail') return new CheckpointConflictError(`Tablestore ${action}: the checkpoint row changed since it was read`);
  if (ots === 'OTSObjectNotExist') return new TableMissing(action);
  const fields = { service: 'tablestore' as const, code: ots ?? (typeof e.code === 'string' ? e.code : undefined), status, requestId };
  if (e.code === 'NetworkingError' || e.code === 'TimeoutError') {
    return new IntegrationError(`Tablestore ${action}: network error or timeout`, { ...fields, kind: 'retryable' });
  }
  if ((ots && RETRYABLE.has(ots)) || (status !== undefined && status >= 500)) {
    return new IntegrationError(`Tablestore ${action}: service busy or unavailable`, { ...fields, kind: 'retryable' });
  }
  if ((ots && CONFIG.has(ots)) || e.code === 'Forbidden') {
    return new IntegrationError(
      `Tablestore ${action} was refused (${ots ?? e.code}): check the instance name, endpoint and the role's ots: permissions on the table`,
      { ...fields, kind: 'config' },
    );
  }
  return new IntegrationError(`Tablestore ${action} failed (${ots ?? String(e.code ?? 'unknown')})`, { ...fields, kind: 'permanent' });
}

type Attr = { columnName: string; columnValue: unknown };

const long = (n: number) => TableStore.Long.fromNumber(n);
const toNumber = (x: unknown) => (typeof x === 'number' ? x : typeof (x as { toNumber?: () => number })?.toNumber === 'function' ? (x as { toNumber: () => number }).toNumber() : NaN);

/**
 * The checkpoint as one Tablestore row keyed by `key`: `version` (INTEGER, the compare-and-set column), `doc`
 * (BINARY, gzip-compressed JSON), `lease_owner`/`lease_until` (for operators reading the table) and `updated_at`.
 * The table is created on first use (TTL STATE_TTL_SEC, one version). The SDK's own retries are off: the run's
 * retry stage decides, within its time budget.
 */
export function createTablestoreStore(opts: { endpoint: string; instance: string; table: string; key: string; credentials: Credentials }): StateStore {
  const counter: StoreCounter = { reads: 0, writes: 0 };
  const where = `tablestore ${opts.instance}/${opts.table}/${opts.key}`;
  const client = (timeoutMs: number) =>
    new TableStore.Client({
      accessKeyId: opts.credentials.accessKeyId.reveal(),
      secretAccessKey: opts.credentials.accessKeySecret.reveal(),
      stsToken: opts.credentials.securityToken?.reveal(),
      endpoint: opts.endpoint,
      instancename: opts.instance,
      maxRetries: 0,
      httpOptions: { timeout: timeoutMs },
    } as unknown as ConstructorParameters<typeof TableStore.Client>[0]);
  const pk = [{ [PK]: opts.key }];

  async function createTable(timeoutMs: number): Promise<void> {
    try {
      await client(timeoutMs).createTable({
        tableMeta: { tableName: opts.table, primaryKey: [{ name: PK, type: 'STRING' }] },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        tableOptions: { timeToLive: STATE_TTL_SEC, maxVersions: 1 },
      } as unknown as Parameters<TableStore.Client['createTable']>[0]);
    } catch (err) {
      // Two first runs racing both try to create it; the loser's "already exists" is success.
      if (/OTSObjectAlreadyExist/.test(String((err as OtsSdkError).message ?? ''))) return;
      throw normalizeOtsError(err, 'CreateTable');
    }
  }

  async function load(timeoutMs: number): Promise<Versioned> {
    counter.reads += 1;
    let data: { row?: { attributes?: Attr[] } };
    try {
      data = (await client(timeoutMs).getRow({ tableName: opts.table, primaryKey: pk, maxVersions: 1 } as unknown as Parameters<TableStore.Client['getRow']>[0])) as typeof data;
    } catch (err) {
      const e = normalizeOtsError(err, 'GetRow');
      if (e instanceof TableMissing) {
        await createTable(timeoutMs);
        return { checkpoint: emptyCheckpoint(), version: 0 };
      }
      throw e;
    }
    const attrs = new Map((data.row?.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
    if (!attrs.has('version')) return { checkpoint: emptyCheckpoint(), version: 0 };
    const version = toNumber(attrs.get('version'));
    const doc = attrs.get('doc');
    if (!Number.isInteger(version) || !Buffer.isBuffer(doc)) throw new Error(`the checkpoint in ${where} is damaged (version or doc column has the wrong type)`);
    let raw: unknown;
    try {
      raw = JSON.parse(gunzipSync(doc).toString('utf8'));
    } catch {
      throw new Error(`the checkpoint in ${where} is damaged (doc is not gzip JSON)`);
    }
    return { checkpoint: parseCheckpoint(raw, where), version };
  }

  async function save(next: Checkpoint, expected: number, timeoutMs: number): Promise<number> {
    const version = expected + 1;
    const columns = [
      { version: long(version) },
      { doc: gzipSync(Buffer.from(JSON.stringify(next), 'utf8')) },
      { lease_owner: next.lease?.owner ?? '' },
      { lease_until: long(next.lease?.until ?? 0) },
      { updated_at: long(Date.now()) },
    ];
    const c = client(timeoutMs);
    try {
      if (expected === 0) {
        await c.putRow({
          tableName: opts.table,
          primaryKey: pk,
          attributeColumns: columns,
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        } as unknown as Parameters<TableStore.Client['putRow']>[0]);
      } else {
        // passIfMissing=false: a row without a version column must not pass as "unchanged".
        const sameVersion = new TableStore.SingleColumnCondition('version', long(expected), TableStore.ComparatorType.EQUAL, false, true);
        await c.updateRow({
          tableName: opts.table,
          primaryKey: pk,
          updateOfAttributeColumns: [{ PUT: columns }],
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, sameVersion),
        } as unknown as Parameters<TableStore.Client['updateRow']>[0]);
      }
    } catch (err) {
      const e = normalizeOtsError(err, expected === 0 ? 'PutRow' : 'UpdateRow');
      if (e instanceof TableMissing) {
        await createTable(timeoutMs);
        throw new IntegrationError('Tablestore table was just created; retrying the write', { service: 'tablestore', kind: 'retryable', code: 'OTSObjectNotExist' });
      }
      throw e;
    }
    counter.writes += 1;
    return version;
  }

  return { counter, where, load, save };
}
