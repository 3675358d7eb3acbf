/**
 * Which owed rows a delivered record covers. A message reads a target's owed rows in key order, so the rows it took
 * are every row between its first and last key as they stood when it read them. Keys order rows by alert id, not by
 * age: a row written later (a new failure) can sort inside that span, and it carries a greater generation (the
 * control row's version, which every run that writes owed rows moves first).
 */
import type { DeliveredRecord } from '../model/state.js';

/** What the coverage rule reads of an owed row. */
export interface OwedPosition {
  key: string;
  /** The generation that wrote the row; absent on rows an earlier release wrote. */
  gen?: number;
  detectedAt: number;
}

/**
 * True when `record` covers the row: its key within [from, to], and written at the record's generation or before (a
 * row with no generation: detected at or before the record's time, since no generation can tell). Pure.
 */
export function covers(record: DeliveredRecord, row: OwedPosition): boolean {
  if (row.key < record.from || row.key > record.to) return false;
  return row.gen === undefined ? row.detectedAt <= record.at : row.gen <= record.gen;
}

/** The first of `records` that covers the row, if one does. Pure. */
export const coveredBy = (records: readonly DeliveredRecord[], row: OwedPosition): DeliveredRecord | undefined =>
  records.find((r) => covers(r, row));

/**
 * The records every row of which a read has seen: one that went through the target's whole range (`end`) saw all of
 * them, else one whose last row read was `last` saw those ending at or before it. Pure.
 */
export function seenWhole(
  records: readonly DeliveredRecord[],
  last: string | undefined,
  end: boolean,
): DeliveredRecord[] {
  if (end) return [...records];
  return last === undefined ? [] : records.filter((r) => r.to <= last);
}
