/**
 * A PlainBuffer reader for the local Tablestore server: rows, primary keys and row changes as the `tablestore` SDK
 * writes them (header 0x75, tagged cells, CRC-8 checksums). The SDK's own reader cannot read UpdateRow changes
 * that carry DELETE or INCREMENT, so the server needs this one.
 */

export type Variant =
  | { type: 'INTEGER'; v: bigint }
  | { type: 'DOUBLE'; v: number }
  | { type: 'BOOLEAN'; v: boolean }
  | { type: 'STRING'; v: string }
  | { type: 'BLOB'; v: Buffer }
  | { type: 'INF_MIN' | 'INF_MAX' | 'AUTO_INCREMENT' | 'NULL' };

export interface Cell {
  name: string;
  value?: Variant;
  /** 1 delete all versions, 3 delete one version, 4 increment; absent for a put. */
  op?: number;
  timestamp?: number;
}

export interface PlainRow {
  pk: Cell[];
  data: Cell[];
  deleteMarker: boolean;
}

const T = {
  ROW_PK: 0x01,
  ROW_DATA: 0x02,
  CELL: 0x03,
  NAME: 0x04,
  VALUE: 0x05,
  TYPE: 0x06,
  TS: 0x07,
  DELETE: 0x08,
  ROW_SUM: 0x09,
  CELL_SUM: 0x0a,
} as const;
const VT: Record<number, Variant['type']> = {
  0: 'INTEGER',
  1: 'DOUBLE',
  2: 'BOOLEAN',
  3: 'STRING',
  6: 'NULL',
  7: 'BLOB',
  9: 'INF_MIN',
  10: 'INF_MAX',
  11: 'AUTO_INCREMENT',
};

/** CRC-8, polynomial 0x07, initial value 0, not reflected: PlainBuffer's checksum. */
export function crc8(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (const b of bytes) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}

export class PlainBufferError extends Error {}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new PlainBufferError('unexpected end of PlainBuffer');
    return this.buf[this.pos++]!;
  }
  peek(): number | undefined {
    return this.buf[this.pos];
  }
  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new PlainBufferError('unexpected end of PlainBuffer');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u32(): number {
    return this.take(4).readUInt32LE(0);
  }
}

/** A bare variant (type byte then payload): how filters carry the value to compare with. */
export function readVariant(buf: Buffer): Variant {
  const r = new Reader(buf);
  return variantBody(r, r.u8()).value;
}

function variantBody(r: Reader, typeByte: number): { value: Variant; raw: Buffer } {
  const type = VT[typeByte];
  const start = r.pos;
  switch (type) {
    case 'INTEGER': {
      const v = r.take(8).readBigInt64LE(0);
      return { value: { type, v }, raw: sliceRaw(r, start) };
    }
    case 'DOUBLE':
      return { value: { type, v: r.take(8).readDoubleLE(0) }, raw: sliceRaw(r, start) };
    case 'BOOLEAN':
      return { value: { type, v: r.u8() !== 0 }, raw: sliceRaw(r, start) };
    case 'STRING': {
      const len = r.u32();
      return { value: { type, v: r.take(len).toString('utf8') }, raw: sliceRaw(r, start) };
    }
    case 'BLOB': {
      const len = r.u32();
      return { value: { type, v: Buffer.from(r.take(len)) }, raw: sliceRaw(r, start) };
    }
    case 'INF_MIN':
    case 'INF_MAX':
    case 'AUTO_INCREMENT':
    case 'NULL':
      return { value: { type }, raw: Buffer.alloc(0) };
    default:
      throw new PlainBufferError(`unknown variant type ${typeByte}`);
  }
}

/** The bytes read since `start`: the payload as the checksum covers it (with a STRING/BLOB length prefix). */
function sliceRaw(r: Reader, start: number): Buffer {
  const end = r.pos;
  r.pos = start;
  return Buffer.from(r.take(end - start));
}

function readCell(r: Reader): { cell: Cell; checksum: number } {
  if (r.u8() !== T.NAME) throw new PlainBufferError('expected a cell name');
  const name = r.take(r.u32());
  let crc = crc8(0, name);
  const cell: Cell = { name: name.toString('utf8') };
  let tsBytes: Buffer | undefined;
  for (;;) {
    const tag = r.u8();
    if (tag === T.VALUE) {
      r.u32(); // length of type byte + payload; not part of the checksum
      const typeByte = r.u8();
      const { value, raw } = variantBody(r, typeByte);
      cell.value = value;
      crc = crc8(crc, Uint8Array.of(typeByte));
      crc = crc8(crc, raw);
    } else if (tag === T.TYPE) {
      cell.op = r.u8();
    } else if (tag === T.TS) {
      tsBytes = Buffer.from(r.take(8));
      cell.timestamp = Number(tsBytes.readBigInt64LE(0));
    } else if (tag === T.CELL_SUM) {
      // The writer folds the timestamp in before the op, whatever order they were written in.
      if (tsBytes) crc = crc8(crc, tsBytes);
      if (cell.op !== undefined) crc = crc8(crc, Uint8Array.of(cell.op));
      const sum = r.u8();
      if (sum !== crc) throw new PlainBufferError(`cell ${cell.name}: checksum mismatch`);
      return { cell, checksum: sum };
    } else {
      throw new PlainBufferError(`unexpected tag ${tag} in a cell`);
    }
  }
}

/** Reads one whole row (header, primary key, data cells, delete marker, row checksum), verifying every checksum. */
export function readRow(buf: Buffer): PlainRow {
  const r = new Reader(buf);
  if (r.u32() !== 0x75) throw new PlainBufferError('bad PlainBuffer header');
  const row: PlainRow = { pk: [], data: [], deleteMarker: false };
  let rowCrc = 0;
  let section: Cell[] | undefined;
  for (;;) {
    const tag = r.u8();
    if (tag === T.ROW_PK) section = row.pk;
    else if (tag === T.ROW_DATA) section = row.data;
    else if (tag === T.CELL) {
      if (!section) throw new PlainBufferError('a cell outside the primary key or data section');
      const { cell, checksum } = readCell(r);
      section.push(cell);
      rowCrc = crc8(rowCrc, Uint8Array.of(checksum));
    } else if (tag === T.DELETE) row.deleteMarker = true;
    else if (tag === T.ROW_SUM) {
      rowCrc = crc8(rowCrc, Uint8Array.of(row.deleteMarker ? 1 : 0));
      if (r.u8() !== rowCrc) throw new PlainBufferError('row checksum mismatch');
      return row;
    } else throw new PlainBufferError(`unexpected tag ${tag} in a row`);
  }
}
