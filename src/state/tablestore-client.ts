/**
 * The edge of the `tablestore` SDK: a client per request, one request sent with its errors normalised (nothing outside
 * this file reads the SDK's error shapes), the table created on first use, and column values converted both ways.
 */
import TableStore from 'tablestore';
import type { Credentials } from '../lib/secret.js';
import { ROW_TTL_MS } from '../model/state.js';
import type { Cols, TableCounter } from './table.js';
import { otsError, serviceMessageOf, TablestoreError } from './tablestore-errors.js';

export { otsError, TablestoreError } from './tablestore-errors.js';

/** The table's TTL (ROW_TTL_MS; Tablestore requires at least 86400 s, or -1 for none). */
export const STATE_TTL_SEC = ROW_TTL_MS / 1000;
export const PK = 'id';

interface OtsSdkError {
  code?: unknown;
  message?: unknown;
  headers?: Record<string, unknown>;
}

/** A table that does not exist yet; `send` creates it. */
class TableMissing extends Error {}

/** A single-row request's condition failed (a batch reports conditions per row instead). */
export class ConditionFailed extends Error {}

/**
 * Normalises the SDK's errors. The Node SDK sets `err.code` to the HTTP status and puts the raw protobuf error
 * body (whose text holds the `OTS...` code) in `err.message`; network problems have code `NetworkingError`.
 * A failed condition is a ConditionFailed; any other refusal keeps the service's code and message (never the raw body)
 * and names the fix.
 */
export function normalizeOtsError(err: unknown, action: string): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OtsSdkError;
  const text = typeof e.message === 'string' ? e.message : '';
  const ots = /\b(OTS[A-Za-z]+)\b/.exec(text)?.[1];
  const status = typeof e.code === 'number' ? e.code : undefined;
  if (ots === 'OTSConditionCheckFail')
    return new ConditionFailed(`Tablestore ${action}: the row changed since it was read`);
  if (ots === 'OTSObjectNotExist') return new TableMissing(action);
  const code = ots ?? (typeof e.code === 'string' ? e.code : undefined);
  return otsError(action, code, { status, requestId: requestIdOf(e, text), message: serviceMessageOf(text, ots) });
}

/** The request id the service answered with: in a header, or in the error body's text. */
function requestIdOf(e: OtsSdkError, text: string): string | undefined {
  const rid = e.headers?.['x-ots-requestid'] ?? e.headers?.['x-ots-request-id'] ?? /requestId:(\S+)/.exec(text)?.[1];
  return typeof rid === 'string' && rid !== '' ? rid : undefined;
}

/** A write whose table was missing: the table is now created, the write is tried again by the run's retries. */
export const retryLater = (): never => {
  throw new TablestoreError('Tablestore table was just created; retrying the write', {
    kind: 'retryable',
    code: 'OTSObjectNotExist',
  });
};

export type Attr = { columnName: string; columnValue: unknown };
type Params = Record<string, unknown>;
type SdkClient = Record<string, (p: Params) => Promise<unknown>>;

/** One table of one instance, with the requests counted. */
export interface Ots {
  readonly table: string;
  /** `instance/table`, for messages. */
  readonly name: string;
  readonly counter: TableCounter;
  /** A client whose requests time out after `timeoutMs`. */
  client(timeoutMs: number): SdkClient;
}

/** The SDK client for one request, its own retries off (they are process-global and never match its error shape). */
export function clientFor(opts: { endpoint: string; instance: string; credentials: Credentials }, timeoutMs: number) {
  return new TableStore.Client({
    accessKeyId: opts.credentials.accessKeyId.reveal(),
    secretAccessKey: opts.credentials.accessKeySecret.reveal(),
    stsToken: opts.credentials.securityToken?.reveal(),
    endpoint: opts.endpoint,
    instancename: opts.instance,
    maxRetries: 0,
    httpOptions: { timeout: timeoutMs },
  } as unknown as ConstructorParameters<typeof TableStore.Client>[0]) as unknown as SdkClient;
}

async function createTable(ots: Ots, timeoutMs: number): Promise<void> {
  try {
    await ots.client(timeoutMs).createTable!({
      tableMeta: { tableName: ots.table, primaryKey: [{ name: PK, type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: STATE_TTL_SEC, maxVersions: 1 },
    });
  } catch (err) {
    // Two first runs racing both try to create it; the loser's "already exists" is success.
    if (/OTSObjectAlreadyExist/.test(String((err as OtsSdkError).message ?? ''))) return;
    throw normalizeOtsError(err, 'CreateTable');
  }
}

/** One request to send: the API's name for messages, the SDK method, its parameters besides the table's name. */
export interface Request<T> {
  action: string;
  method: string;
  params: Params;
  timeoutMs: number;
  /** The answer when the table did not exist (it is created first); may throw instead. */
  whenMissing: () => T;
}

/** Sends one request; a missing table is created and answered by `whenMissing`. Throws normalised errors. */
export async function send<T>(ots: Ots, r: Request<T>): Promise<unknown> {
  try {
    return await ots.client(r.timeoutMs)[r.method]!({ tableName: ots.table, ...r.params });
  } catch (err) {
    const e = normalizeOtsError(err, r.action);
    if (!(e instanceof TableMissing)) throw e;
    await createTable(ots, r.timeoutMs);
    return r.whenMissing();
  }
}

export const long = (n: number) => TableStore.Long.fromNumber(n);
export const pk = (key: string) => [{ [PK]: key }];
export const keyOf = (primaryKey: { value?: unknown }[] | undefined) => String(primaryKey?.[0]?.value ?? '');

/** A number the SDK answers as an Int64 (its `toNumber`), or NaN when it is neither. */
export const toNumber = (x: unknown) =>
  typeof x === 'number'
    ? x
    : typeof (x as { toNumber?: () => number })?.toNumber === 'function'
      ? (x as { toNumber: () => number }).toNumber()
      : NaN;

/** Columns as the SDK answers them, as we keep them: strings, and integers as numbers. */
export const colsOf = (attrs: Attr[] | undefined): Cols =>
  Object.fromEntries(
    (attrs ?? []).map((a) => [
      a.columnName,
      typeof a.columnValue === 'string' ? a.columnValue : toNumber(a.columnValue),
    ]),
  );

/** Columns as the SDK takes them: numbers as INTEGER. */
export const attrsOf = (cols: Cols) =>
  Object.entries(cols).map(([k, v]) => ({ [k]: typeof v === 'number' ? long(v) : v }));
