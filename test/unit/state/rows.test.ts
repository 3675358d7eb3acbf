import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitAlert, keysFor, MAX_ALERT_JSON, read, unconditional, write } from '../../../src/state/rows.js';
import {
  batches,
  checkOp,
  MAX_WRITE_BYTES,
  MemoryTable,
  opBytes,
  WRITE_BYTES_BUDGET,
  type Cols,
  type WriteOp,
} from '../../../src/state/table.js';
import { failureAlert, syncTask } from '../../support/build.js';

const MB = 1024 * 1024;

describe('the row keys', () => {
  const k = keysFor('prod-alerts');

  it('finds the rows an earlier run wrote under the same keys (the layout is what is stored)', () => {
    expect(k.control).toBe('3f9d|prod-alerts|~|ctl');
    expect(k.cursor('cn-hangzhou:cri-a')).toBe('0146|prod-alerts|cn-hangzhou:cri-a|c');
    expect(k.watch('cn-hangzhou:cri-a', 'rst 1')).toBe('0146|prod-alerts|cn-hangzhou:cri-a|w|#pvxosatd3kOlStu4KJf8Ew');
  });

  it("names each kind of row apart, under the deployment's scope or the instance's", () => {
    const g = k.control.slice(0, -'ctl'.length);
    const i = k.cursor('inst').slice(0, -'c'.length);
    expect(k.meta).toBe(`${g}meta`);
    expect(k.digest('team')).toBe(`${g}d|team`);
    expect(k.owed('team/slack', 'inst/rst-1')).toBe(`${g}o|team/slack|inst/rst-1`);
    expect(k.silence('s-1')).toBe(`${g}s|s-1`);
    expect(k.failing('inst', 'img')).toBe(`${i}f|img`);
    expect(k.handled('inst', 'rst-1')).toBe(`${i}h|rst-1`);
    expect(k.watch('inst', 'rst-1')).toBe(`${i}w|rst-1`);
    expect(keysFor('a b').control).toMatch(/^[0-9a-f]{4}\|#[A-Za-z0-9_-]{22}\|~\|ctl$/);
  });

  it('reads a range as exactly the keys under its prefix', () => {
    const ranges = {
      silences: k.silenceRange,
      scope: k.scopeRange('~'),
      outbox: k.owedRange('slack'),
      failing: k.failingRange('inst'),
      watch: k.watchRange('inst'),
      inst: k.scopeRange('inst'),
    };
    expect(ranges.silences).toEqual([`${k.control.slice(0, -3)}s|`, `${k.control.slice(0, -3)}s}`]);
    expect(ranges.outbox).toEqual([`${k.control.slice(0, -3)}o|slack|`, `${k.control.slice(0, -3)}o|slack}`]);
    expect(ranges.failing[1]).toBe(`${k.cursor('inst').slice(0, -1)}f}`);
    expect(ranges.watch[1]).toBe(`${k.cursor('inst').slice(0, -1)}w}`);
    expect(ranges.scope).toEqual([k.control.slice(0, -3), `${k.control.slice(0, -4)}}`]);
    expect(ranges.inst).toEqual([k.cursor('inst').slice(0, -1), `${k.cursor('inst').slice(0, -2)}}`]);
  });
});

describe('an alert as a row holds it', () => {
  const alert = (over: Record<string, unknown>) => ({ ...failureAlert(syncTask({ taskId: 'rst-1' })), ...over });

  it('stores an alert just within the limit whole', () => {
    const base = alert({ note: '' });
    const exact = alert({ note: 'n'.repeat(MAX_ALERT_JSON - JSON.stringify(base).length) });
    expect(JSON.stringify(exact).length).toBe(MAX_ALERT_JSON);
    expect(fitAlert(exact as never)).toBe(exact);
    const over = alert({ note: 'n'.repeat(MAX_ALERT_JSON - JSON.stringify(base).length + 1) });
    expect(fitAlert(over as never)).not.toBe(over);
  });

  it('cuts long text to 256 characters and long lists to 20 items, keeping numbers, flags and nulls', () => {
    const big = alert({
      lines: Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(300, '.')),
      exact: 'e'.repeat(256),
      nested: { deep: 'd'.repeat(20_000), n: 7, none: null, yes: true },
    });
    const fitted = fitAlert(big as never) as unknown as Record<string, unknown> & {
      lines: string[];
      nested: Record<string, unknown>;
    };
    expect(fitted.lines).toHaveLength(20);
    expect(fitted.lines[19]).toBe(`${'19'.padEnd(256, '.')}…`);
    expect(fitted.exact).toBe('e'.repeat(256));
    expect(fitted.nested).toEqual({ deep: `${'d'.repeat(256)}…`, n: 7, none: null, yes: true });
    expect(fitted.trimmed).toBe(true);
    expect(fitted.id).toBe(big.id);
  });

  it('refuses an alert that does not fit even cut, naming it', () => {
    const wide = alert({
      id: `${'i'.repeat(100)}`,
      many: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, 'x'.repeat(300)])),
    });
    expect(() => fitAlert(wide as never)).toThrow(
      new RegExp(`^alert ${'i'.repeat(80)} does not fit a state row even trimmed$`),
    );
  });
});

describe('reading and writing rows', () => {
  const k = keysFor('d');

  it('reads a missing versioned row as version 0 (not there yet) and a stored one at its version', () => {
    expect(read.cursor(k.cursor('i'), undefined)).toBeUndefined();
    expect(read.cursor(k.cursor('i'), { j: '{"gaps":[]}', ver: 3 })).toEqual({ value: { gaps: [] }, version: 3 });
    expect(read.control(k.control, undefined)).toEqual({ value: { owed: {}, pauses: {} }, version: 0 });
    expect(
      read.silence('s', {
        j: JSON.stringify({ id: 's', expires: 'e', comment: 'c', createdBy: 'b', createdAt: 'a' }),
        ver: 2,
      }).version,
    ).toBe(2);
  });

  it('names a damaged row and its first two problems, or the row itself when it is not an object', () => {
    expect(() => read.meta('m-key', { j: '5' })).toThrow(
      /^the state row m-key is damaged \(\(row\): [^)]*\); delete it to start that item afresh$/,
    );
    const two = (() => {
      try {
        read.failing('f-key', { j: '{}' });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(
      /damaged \((.*)\); delete/
        .exec(two)?.[1]
        ?.split('; ')
        .map((p) => p.split(':')[0]),
    ).toEqual(['since', 'lastFailure']);
    expect(() => read.digest('d-key', { ver: 1 })).toThrow(/d-key is damaged \(not JSON\)/);
  });

  it('creates a versioned row only where none is, and changes it only over the version read', () => {
    expect(write.cursor(k, 'i', { gaps: [] }, 0)).toEqual({
      op: 'put',
      key: k.cursor('i'),
      cols: { j: '{"gaps":[]}', ver: 1 },
      when: 'absent',
    });
    expect(write.control(k, { owed: {}, pauses: {} }, 3)).toMatchObject({ cols: { ver: 4 }, when: { version: 3 } });
    expect(write.silence(k, { id: 's', expires: 'e', comment: 'c', createdBy: 'b', createdAt: 'a' }, 0)).toMatchObject({
      key: k.silence('s'),
      when: 'absent',
    });
  });

  it('claims an alert for a target only once, storing it fitted', () => {
    const alert = failureAlert(syncTask({ taskId: 'rst-1', issue: 'X'.repeat(20_000) }));
    const op = write.owed(k, { target: 'slack', alert, detectedAt: 1 }) as Extract<WriteOp, { op: 'put' }>;
    expect(op).toMatchObject({ key: k.owed('slack', alert.id), when: 'absent' });
    expect(read.owed(op.key, op.cols)).toMatchObject({
      target: 'slack',
      detectedAt: 1,
      alert: { id: alert.id, trimmed: true },
    });
  });

  it("writes plain rows unconditionally under their item's key", () => {
    const task = syncTask({ taskId: 'rst-9' });
    expect(write.watch(k, 'i', { task, firstSeen: 1 })).toEqual({
      op: 'put',
      key: k.watch('i', 'rst-9'),
      cols: { j: JSON.stringify({ task, firstSeen: 1 }) },
    });
    expect(write.handled(k, 'i', 'rst-9', 42)).toEqual({
      op: 'put',
      key: k.handled('i', 'rst-9'),
      cols: { j: '{"createTime":42}' },
    });
    expect(write.remove('x')).toEqual({ op: 'delete', key: 'x' });
  });

  it('writes again without its condition what a move killed halfway may already have written', () => {
    const op = write.cursor(k, 'i', { gaps: [] }, 0) as Extract<WriteOp, { op: 'put' }>;
    expect(unconditional(op)).toEqual({ op: 'put', key: op.key, cols: op.cols });
    expect(unconditional({ op: 'delete', key: 'x' })).toEqual({ op: 'delete', key: 'x' });
  });
});

describe("the table's limits", () => {
  it("counts a write's bytes as its key, column names and values (numbers as 8 bytes), in UTF-8", () => {
    expect(opBytes({ op: 'put', key: 'ab', cols: { j: 'é', ver: 3 } })).toBe(2 + 16 + (1 + 8 + 2) + (3 + 8 + 8));
    expect(opBytes({ op: 'delete', key: 'clé' })).toBe(4 + 16);
  });

  it('refuses a key longer than 1 KB or not printable, and a value over 2 MB, before sending', () => {
    expect(() => checkOp({ op: 'delete', key: 'k'.repeat(1024) })).not.toThrow();
    expect(() => checkOp({ op: 'delete', key: 'k'.repeat(1025) })).toThrow(/^state row key over 1024 bytes: k{80}…$/);
    expect(() => checkOp({ op: 'delete', key: '' })).toThrow(/not printable ASCII/);
    expect(() => checkOp({ op: 'delete', key: 'a\nb' })).toThrow(/^state row key is not printable ASCII: "a\\nb"$/);
    expect(() => checkOp({ op: 'put', key: 'k', cols: { j: 'x'.repeat(2 * MB), ver: 1 } })).not.toThrow();
    expect(() => checkOp({ op: 'put', key: 'k', cols: { ok: '', j: 'é'.repeat(MB + 1) } })).toThrow(
      /^state row k column j over 2097152 bytes$/,
    );
  });

  it('fills a request up to the byte budget exactly, and starts the next one past it', () => {
    const op = (key: string, bytes: number): WriteOp => ({
      op: 'put',
      key,
      cols: { j: 'x'.repeat(bytes - opBytes({ op: 'put', key, cols: { j: '' } })) },
    });
    const half = Math.floor(WRITE_BYTES_BUDGET / 2);
    expect(
      batches([op('a', half), op('b', WRITE_BYTES_BUDGET - half), op('c', 100)]).map((b) => b.map((o) => o.key)),
    ).toEqual([['a', 'b'], ['c']]);
    expect(batches([op('a', half), op('b', WRITE_BYTES_BUDGET - half + 1)]).map((b) => b.length)).toEqual([1, 1]);
    expect(batches([])).toEqual([]);
    const rows: WriteOp[] = Array.from({ length: 201 }, (_, i) => ({ op: 'delete', key: `k${i}` }));
    expect(batches(rows).map((b) => b.length)).toEqual([200, 1]);
  });
});

describe('the in-memory table', () => {
  it("refuses requests over the service's limits as the service would", async () => {
    const t = new MemoryTable();
    await expect(t.getRows(Array.from({ length: 100 }, (_, i) => `k${i}`))).resolves.toEqual(new Map());
    await expect(t.getRows(Array.from({ length: 101 }, (_, i) => `k${i}`))).rejects.toThrow(
      /^at most 100 rows per read, got 101$/,
    );
    await expect(t.writeRows(Array.from({ length: 201 }, (_, i) => ({ op: 'delete', key: `k${i}` })))).rejects.toThrow(
      /^at most 200 rows per write, got 201$/,
    );
    const big = (key: string): WriteOp => ({ op: 'put', key, cols: { j: 'x'.repeat(1.5 * MB) } });
    await expect(t.writeRows([big('a'), big('b'), big('c')])).rejects.toThrow(/^write of \d+ bytes over 4194304$/);
    expect(MAX_WRITE_BYTES).toBe(4 * MB);
    expect(t.counter).toEqual({ reads: 1, writes: 0, rowsWritten: 0, bytesWritten: 0 });
  });

  it('counts requests, rows written and their bytes, but not a write whose condition failed', async () => {
    const t = new MemoryTable();
    const a: WriteOp = { op: 'put', key: 'a', cols: { j: 'x' }, when: 'absent' };
    await t.writeRows([a, { op: 'put', key: 'b', cols: { j: 'y', ver: 1 } }]);
    await t.writeRows([a, { op: 'delete', key: 'b' }]);
    expect(t.counter).toEqual({
      reads: 0,
      writes: 2,
      rowsWritten: 3,
      bytesWritten:
        opBytes(a) + opBytes({ op: 'put', key: 'b', cols: { j: 'y', ver: 1 } }) + opBytes({ op: 'delete', key: 'b' }),
    });
    expect([...(await t.getRows(['a', 'b'])).keys()]).toEqual(['a']);
  });

  it('writes a versioned row over its version only, not over a row without one', async () => {
    const t = new MemoryTable();
    await t.writeRows([
      { op: 'put', key: 'plain', cols: { j: '1' } },
      { op: 'put', key: 'v', cols: { j: '1', ver: 1 } },
    ]);
    expect(
      await t.writeRows([
        { op: 'put', key: 'plain', cols: { j: '2', ver: 1 }, when: { version: 0 } },
        { op: 'put', key: 'v', cols: { j: '2', ver: 2 }, when: { version: 1 } },
        { op: 'put', key: 'new', cols: { j: '2', ver: 1 }, when: { version: 0 } },
      ]),
    ).toEqual({ failed: ['plain', 'new'] });
    expect((await t.getRows(['v'])).get('v')).toEqual({ j: '2', ver: 2 });
  });

  it('reads a range from its first key up to (not including) its end, in pages, seeing writes made since', async () => {
    const t = new MemoryTable();
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await t.writeRows(keys.reverse().map((key) => ({ op: 'put', key, cols: { j: key } })));
    const page = await t.rangePage('k10', 'k30', 0, 7);
    expect(page.rows.map((r) => r.key)).toEqual(['k10', 'k11', 'k12', 'k13', 'k14', 'k15', 'k16']);
    expect(page.rows[0]!.cols).toEqual({ j: 'k10' });
    expect(page.next).toBe('k17');
    const rest = await t.rangePage('k25', 'k30');
    expect(rest.rows.map((r) => r.key)).toEqual(['k25', 'k26', 'k27', 'k28', 'k29']);
    expect('next' in rest).toBe(false);
    expect((await t.rangePage('k095', 'k12')).rows.map((r) => r.key)).toEqual(['k10', 'k11']);
    expect((await t.rangePage('k39', 'k4', 0, 1)).rows.map((r) => r.key)).toEqual(['k39']);
    await t.writeRows([
      { op: 'put', key: 'k105', cols: { j: 'late' } },
      { op: 'delete', key: 'k11' },
    ]);
    expect((await t.rangePage('k10', 'k12')).rows.map((r) => r.key)).toEqual(['k10', 'k105']);
    expect((await t.rangePage('a', 'b')).rows).toEqual([]);
  });
});

describe('the limits, exactly at their edges', () => {
  it('keeps an alert that fits exactly once cut', () => {
    const base = {
      ...failureAlert(syncTask({ taskId: 'rst-edge', issue: 'I'.repeat(20_000) })),
      fill: {} as Record<string, string>,
    };
    const cutSize = (fill: Record<string, string>) =>
      JSON.stringify({ ...base, task: { ...base.task, issue: `${'I'.repeat(256)}…` }, fill, trimmed: true }).length;
    // Short fields are not cut: fill them until the cut alert is exactly at the limit.
    const fill: Record<string, string> = {};
    for (let i = 0; cutSize(fill) < MAX_ALERT_JSON; i++)
      fill[`f${i}`] = 'x'.repeat(Math.min(200, MAX_ALERT_JSON - cutSize({ ...fill, [`f${i}`]: '' })));
    expect(cutSize(fill)).toBe(MAX_ALERT_JSON);
    const fitted = fitAlert({ ...base, fill } as never);
    expect(JSON.stringify(fitted).length).toBe(MAX_ALERT_JSON);
    expect((fitted as unknown as { trimmed: boolean }).trimmed).toBe(true);
  });

  it('sends a single write larger than the byte budget on its own, with no empty request before it', () => {
    const huge: WriteOp = { op: 'put', key: 'huge', cols: { a: 'x'.repeat(2 * MB), b: 'y'.repeat(2 * MB - 100) } };
    expect(opBytes(huge)).toBeGreaterThan(WRITE_BYTES_BUDGET);
    expect(batches([huge]).map((b) => b.map((o) => o.key))).toEqual([['huge']]);
  });

  it("accepts a write of exactly the service's byte limit", async () => {
    const t = new MemoryTable();
    const ops: WriteOp[] = [
      { op: 'put', key: 'a', cols: { j: 'x'.repeat(2 * MB) } },
      { op: 'put', key: 'b', cols: { j: 'x'.repeat(2 * MB - 52) } },
    ];
    expect(ops.reduce((n, o) => n + opBytes(o), 0)).toBe(MAX_WRITE_BYTES);
    expect(await t.writeRows(ops)).toEqual({ failed: [] });
  });
});

describe('what the table says about a refused write and what it counts', () => {
  it('quotes at most 80 characters of a refused key in its message, however long the key', () => {
    const long = `${'k'.repeat(100)}\n`;
    expect(() => checkOp({ op: 'delete', key: long })).toThrow(
      new Error(`state row key is not printable ASCII: "${'k'.repeat(80)}"`),
    );
    expect(() => checkOp({ op: 'put', key: 'v'.repeat(100), cols: { j: 'x'.repeat(2 * MB + 1) } })).toThrow(
      new Error(`state row ${'v'.repeat(80)} column j over 2097152 bytes`),
    );
  });

  it('counts each range read as a request', async () => {
    const t = new MemoryTable();
    await t.rangePage('a', 'b');
    await t.rangePage('a', 'b');
    expect(t.counter.reads).toBe(2);
  });
});

describe('rows the previous release wrote', () => {
  const fixture = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/state-rows-previous-release.json'), 'utf8'),
  ) as { rows: { kind: keyof typeof read; key: string; cols: Cols; read: unknown }[] };

  it.each(fixture.rows.map((r, i) => [`${r.kind} ${i}`, r] as const))(
    'reads a %s row exactly as the previous release read it',
    (_name, row) => {
      expect(read[row.kind](row.key, row.cols)).toStrictEqual(row.read);
    },
  );

  it('reads every row as its stored JSON, field for field, so writing it back changes nothing', () => {
    for (const row of fixture.rows) {
      const r = read[row.kind](row.key, row.cols) as { value?: unknown; version?: number };
      const value = r.version === undefined ? r : r.value;
      const stored = JSON.parse(String(row.cols.j)) as Record<string, unknown>;
      // The one field read under a new name: a failing image's `rule` (the name a digest showed) is its ruleName.
      if (row.kind === 'failing' && 'rule' in stored) {
        stored.ruleName = stored.rule;
        delete stored.rule;
      }
      expect(JSON.parse(JSON.stringify(value))).toEqual(stored);
    }
  });

  it("reads an earlier failing image's one rule field as the name a digest shows, and a row with both as written", () => {
    const k = keysFor('d');
    const base = { since: 1, lastFailure: 2, taskId: 't', issue: 'i' };
    expect(read.failing(k.failing('i', 'img'), { j: JSON.stringify({ ...base, rule: 'to-sh' }) })).toStrictEqual({
      ...base,
      ruleName: 'to-sh',
    });
    const both = { ...base, ruleId: 'crsr-1', ruleName: 'to-sh' };
    expect(read.failing(k.failing('i', 'img'), { j: JSON.stringify(both) })).toStrictEqual(both);
    expect(read.failing(k.failing('i', 'img'), { j: JSON.stringify({ ...base, ruleId: 'crsr-1' }) })).toStrictEqual({
      ...base,
      ruleId: 'crsr-1',
    });
  });

  it('keeps a field it does not know, as a later release may have added it', () => {
    const k = keysFor('d');
    const later = { since: 1, lastFailure: 2, taskId: 't', issue: 'i', addedLater: { n: 1 } };
    expect(read.failing(k.failing('i', 'img'), { j: JSON.stringify(later) })).toStrictEqual(later);
    const cursor = { gaps: [], addedLater: true };
    expect(read.cursor(k.cursor('i'), { j: JSON.stringify(cursor), ver: 1 })?.value).toStrictEqual(cursor);
    const nested = {
      gaps: [{ hi: 2, lo: 1, addedLater: 'x' }],
      health: { since: 1, runs: 2, lastError: 'e', announced: true, more: 1 },
    };
    expect(read.cursor(k.cursor('i'), { j: JSON.stringify(nested), ver: 1 })?.value).toStrictEqual(nested);
    const control = {
      owed: { slack: { since: 1, count: 2, addedLater: 3 } },
      pauses: {},
      lease: { owner: 'o', until: 4, why: 'x' },
    };
    expect(read.control(k.control, { j: JSON.stringify(control), ver: 1 }).value).toStrictEqual(control);
  });
});
