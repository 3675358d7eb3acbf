import TableStore from 'tablestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTablestoreServer, type TablestoreServer } from '../../src/sim/tablestore-server.js';
import { KEYS } from '../support/world.js';

// The local Tablestore server must refuse what the service refuses, through the real SDK, or tests hide bugs.
let server: TablestoreServer;
let client: TableStore.Client;
let now = Date.now();
const T = 'limits';
const DAY = 86_400_000;

type Params = Record<string, unknown>;
const call = <R = Record<string, unknown>>(method: string, params: Params) =>
  (client as unknown as Record<string, (p: Params) => Promise<R>>)[method]!(params);
/** The OTS error code of a failed call ('' when it succeeded). */
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => '',
    (e: { message?: string }) => /\b(OTS[A-Za-z]+)\b/.exec(String(e.message))?.[1] ?? String(e.message),
  );
const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const notExist = () => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
const put = (id: string, cols: Record<string, unknown>[] = [{ v: 'x' }], condition = ignore()) => ({
  type: 'PUT',
  condition,
  primaryKey: [{ id }],
  attributeColumns: cols,
});
const batchWrite = (rows: unknown[]) =>
  call<{ tables: { isOk: boolean; errorCode?: string }[] }>('batchWriteRow', { tables: [{ tableName: T, rows }] });
const range = (start: unknown, end: unknown, extra: Params = {}) =>
  call<{ rows: { primaryKey: { value: string }[] }[]; nextStartPrimaryKey: { name: string; value: string }[] | null }>(
    'getRange',
    {
      tableName: T,
      direction: 'FORWARD',
      inclusiveStartPrimaryKey: [{ id: start }],
      exclusiveEndPrimaryKey: [{ id: end }],
      ...extra,
    },
  );
const ids = (r: { rows: { primaryKey: { value: string }[] }[] }) => r.rows.map((x) => x.primaryKey[0]!.value);

beforeAll(async () => {
  server = await startTablestoreServer({
    accessKeyId: KEYS.id,
    accessKeySecret: KEYS.secret,
    instance: 'limitsinst',
    clock: () => now,
  });
  client = new TableStore.Client({
    accessKeyId: KEYS.id,
    secretAccessKey: KEYS.secret,
    endpoint: server.endpoint,
    instancename: 'limitsinst',
    maxRetries: 0,
  } as unknown as ConstructorParameters<typeof TableStore.Client>[0]);
  await call('createTable', {
    tableMeta: { tableName: T, primaryKey: [{ name: 'id', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: 2 * 86_400, maxVersions: 1 },
  });
});
afterAll(() => server.close());

describe('the local Tablestore server refuses what the service refuses', () => {
  it('refuses a BatchWriteRow of more than 200 rows, or the same row twice, as a whole: nothing is written', async () => {
    const many = Array.from({ length: 201 }, (_, i) => put(`b201-${i}`));
    expect(await codeOf(batchWrite(many))).toBe('OTSParameterInvalid');
    expect(await codeOf(batchWrite([put('dup-1'), put('dup-2'), put('dup-1')]))).toBe('OTSParameterInvalid');
    expect(ids(await range('b201-', 'b201.'))).toEqual([]);
    expect(ids(await range('dup-', 'dup.'))).toEqual([]);
    const ok = await batchWrite(many.slice(0, 200));
    expect(ok.tables.every((r) => r.isOk)).toBe(true);
  });

  it('refuses a BatchWriteRow over 4 MB, an attribute value over 2 MB, and more than 1024 columns in one row', async () => {
    const mb = 'x'.repeat(1024 * 1024);
    expect(await codeOf(batchWrite([1, 2, 3, 4, 5].map((i) => put(`big-${i}`, [{ v: mb }]))))).toBe(
      'OTSParameterInvalid',
    );
    expect(
      await codeOf(
        call('putRow', {
          tableName: T,
          condition: ignore(),
          primaryKey: [{ id: 'huge' }],
          attributeColumns: [{ v: mb + mb + 'x' }],
        }),
      ),
    ).toBe('OTSParameterInvalid');
    expect(
      await codeOf(
        batchWrite([
          put(
            'wide',
            Array.from({ length: 1025 }, (_, i) => ({ [`c${i}`]: 1 })),
          ),
        ]),
      ),
    ).toBe('OTSParameterInvalid');
    expect(
      await codeOf(
        call('putRow', {
          tableName: T,
          condition: ignore(),
          primaryKey: [{ id: 'k'.repeat(1025) }],
          attributeColumns: [{ v: 1 }],
        }),
      ),
    ).toBe('OTSParameterInvalid');
    expect(
      await codeOf(
        call('putRow', {
          tableName: T,
          condition: ignore(),
          primaryKey: [{ id: 'fits' }],
          attributeColumns: [{ v: mb + mb }],
        }),
      ),
    ).toBe('');
  });

  it('records each request with what it wrote, and a refused one with its error code, for the bench to count', async () => {
    const from = server.calls.length;
    await batchWrite([put('rec-a', [{ v: 'abc' }]), put('rec-b', [{ v: 'def' }])]);
    await codeOf(batchWrite(Array.from({ length: 201 }, (_, i) => put(`rec-many-${i}`))));
    const [written, refused] = server.calls.slice(from);
    expect(written).toMatchObject({ action: 'BatchWriteRow', status: 200, rowsWritten: 2 });
    expect(written!.bytesWritten).toBeGreaterThan(2 * 'abc'.length);
    expect(refused).toMatchObject({
      action: 'BatchWriteRow',
      status: 400,
      code: 'OTSParameterInvalid',
      rowsWritten: 0,
      bytesWritten: 0,
    });
  });

  it('fails a row whose condition fails alone, and applies the others', async () => {
    await batchWrite([put('cond-a')]);
    const r = await batchWrite([
      put('cond-a', [{ v: 'again' }], notExist()),
      put('cond-b', [{ v: 'new' }], notExist()),
    ]);
    expect(r.tables.map((x) => [x.isOk, x.errorCode ?? null])).toEqual([
      [false, 'OTSConditionCheckFail'],
      [true, null],
    ]);
  });

  it('answers the rows a row fault names with its error alone, unapplied, and applies the others', async () => {
    server.fault({ kind: 'row-error', action: 'BatchWriteRow', rows: /^busy-/, code: 'OTSServerBusy', times: 1 });
    const r = await call<{ tables: { isOk: boolean; errorCode?: string; errorMessage?: string }[] }>('batchWriteRow', {
      tables: [{ tableName: T, rows: [put('busy-a'), put('calm-b'), put('busy-c')] }],
    });
    expect(r.tables.map((x) => [x.isOk, x.errorCode ?? null, x.errorMessage ?? null])).toEqual([
      [false, 'OTSServerBusy', 'OTSServerBusy'],
      [true, null, null],
      [false, 'OTSServerBusy', 'OTSServerBusy'],
    ]);
    const read = async (id: string) =>
      (await call<{ row: { primaryKey?: unknown } }>('getRow', { tableName: T, primaryKey: [{ id }] })).row.primaryKey;
    expect([await read('busy-a'), await read('busy-c')]).toEqual([undefined, undefined]);
    expect(await read('calm-b')).toBeDefined();
    // The fault affected one request; the next writes every row.
    const again = await batchWrite([put('busy-a'), put('busy-c')]);
    expect(again.tables.map((x) => x.isOk)).toEqual([true, true]);
  });

  it('refuses a BatchGetRow of more than 100 rows, and answers a missing row as an empty one', async () => {
    const get = (n: number) =>
      call<{ tables: { isOk: boolean; attributes: unknown }[][] }>('batchGetRow', {
        tables: [
          { tableName: T, maxVersions: 1, primaryKey: Array.from({ length: n }, (_, i) => [{ id: `b201-${i}` }]) },
        ],
      });
    expect(await codeOf(get(101))).toBe('OTSParameterInvalid');
    const r = await call<{ tables: { isOk: boolean; attributes: unknown[] | null }[][] }>('batchGetRow', {
      tables: [{ tableName: T, maxVersions: 1, primaryKey: [[{ id: 'b201-0' }], [{ id: 'nowhere' }]] }],
    });
    expect(r.tables[0]!.map((x) => [x.isOk, (x.attributes ?? []).length])).toEqual([
      [true, 1],
      [true, 0],
    ]);
  });

  it('answers a GetRange with at most 5000 rows or 4 MB, and the key to go on from', async () => {
    for (let i = 0; i < 6000; i += 200)
      await batchWrite(Array.from({ length: 200 }, (_, j) => put(`r-${String(i + j).padStart(5, '0')}`)));
    const first = await range('r-', 'r.');
    expect(first.rows).toHaveLength(5000);
    expect(first.nextStartPrimaryKey?.[0]?.value).toBe('r-05000');
    const rest = await range(first.nextStartPrimaryKey![0]!.value, 'r.');
    expect([rest.rows.length, rest.nextStartPrimaryKey]).toEqual([1000, null]);
    expect(ids(await range('r-00010', 'r-00013'))).toEqual(['r-00010', 'r-00011', 'r-00012']);
    expect(ids(await range('r-00013', 'r-00010', { direction: 'BACKWARD' }))).toEqual([
      'r-00013',
      'r-00012',
      'r-00011',
    ]);
    const halfMb = 'y'.repeat(512 * 1024);
    for (let i = 0; i < 10; i++)
      await call('putRow', {
        tableName: T,
        condition: ignore(),
        primaryKey: [{ id: `mb-${i}` }],
        attributeColumns: [{ v: halfMb }],
      });
    const big = await range('mb-', 'mb.');
    expect(big.rows.length).toBe(7);
    expect(big.nextStartPrimaryKey?.[0]?.value).toBe('mb-7');
  });

  it("hides cells older than the table's TTL, so a row past it reads and conditions as absent", async () => {
    await batchWrite([put('ttl-old')]);
    now += 3 * DAY;
    await batchWrite([put('ttl-new')]);
    expect(ids(await range('ttl-', 'ttl.'))).toEqual(['ttl-new']);
    const again = await batchWrite([put('ttl-old', [{ v: 'reborn' }], notExist())]);
    expect(again.tables[0]!.isOk).toBe(true);
  });

  it("refuses a request through a network the instance's ACL does not allow, as the service does, until allowed", async () => {
    const viaInternet = (new TableStore.Client({
      accessKeyId: KEYS.id,
      secretAccessKey: KEYS.secret,
      endpoint: server.endpoints.internet,
      instancename: 'limitsinst',
      maxRetries: 0,
    } as unknown as ConstructorParameters<typeof TableStore.Client>[0]) as unknown as Record<
      string,
      (p: Params) => Promise<unknown>
    >)!;
    const get = () => viaInternet.getRow!({ tableName: T, primaryKey: [{ id: 'acl' }] });
    // A new instance takes VPC and classic-network requests, not the Internet's.
    const err = (await get().then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: unknown; message: string };
    expect(err.code).toBe(403);
    // The SDK's text of the protobuf Error: tag, length 13, the code; tag, length 40, the message.
    expect(err.message).toContain('\n\rOTSAuthFailed\u0012(Request denied by instance ACL policies.');
    expect(server.calls.at(-1)).toMatchObject({ action: 'GetRow', status: 403, code: 'OTSAuthFailed' });
    expect(await codeOf(call('getRow', { tableName: T, primaryKey: [{ id: 'acl' }] }))).toBe('');
    server.setNetworkAcl(['vpc', 'classic', 'internet']);
    try {
      expect(await codeOf(get())).toBe('');
    } finally {
      server.setNetworkAcl(['vpc', 'classic']);
    }
  });
});
