import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { DeliveredRecord } from '../model/state.js';
import { MAX_WRITE_ROWS } from '../state/table.js';
import type { OnAccepted } from './post.js';

/** What clearing what a target took needs of the store. */
export interface TakenRows {
  /** Removes owed rows of `target` by the keys its pages gave them. */
  clearDelivered(target: string, keys: readonly string[]): Promise<void>;
  /** Writes, in one single-row write, the record of a message `target` accepted (see DeliveredRecord). */
  recordDelivered(target: string, m: Pick<DeliveredRecord, 'from' | 'to' | 'alerts' | 'message'>): Promise<void>;
  /** Removes records of `target`, by their messages. */
  removeDelivered(target: string, messages: readonly string[]): Promise<void>;
}

/**
 * What a target took, made to stand one write after the channel accepted it, whatever the message's size: a message
 * whose rows one request removes (MAX_WRITE_ROWS) is cleared at once; a larger one (a burst of 100,000 is 500 requests)
 * gets a delivered record, one row, and its rows are removed afterwards, as clean-up that a later run resumes if this
 * one stops (the record keeps them from being sent again). The record goes once its rows have.
 */
export class CleanUp {
  private readonly cleared = new Set<string>();
  private readonly recorded: string[] = [];

  constructor(
    private readonly store: TakenRows,
    private readonly target: string,
    private readonly log: Logger,
  ) {}

  /**
   * The one write after a message was accepted: its rows removed (one request), or its record. Throws what the write
   * threw after its retries: the state cannot be written, and whatever else this run sent could not be recorded either,
   * so it stops (the next run sends this message again: the window).
   */
  readonly accepted: OnAccepted = async ({ message, keys }) => {
    if (keys.length === 0) return;
    if (keys.length <= MAX_WRITE_ROWS) {
      await this.store.clearDelivered(this.target, keys);
      for (const k of keys) this.cleared.add(k);
      return;
    }
    let [from, to] = [keys[0]!, keys[0]!];
    for (const k of keys) {
      if (k < from) from = k;
      if (k > to) to = k;
    }
    await this.store.recordDelivered(this.target, { from, to, alerts: keys.length, message });
    this.recorded.push(message);
  };

  /**
   * Removes the rows in `done` not removed yet, then the records this run wrote and the earlier ones whose every row
   * it read (`resolved`). Returns how many rows are left (0 when every one went). Never throws: rows a record covers
   * and that could not be removed are cleared by the next run that reads them, without sending them.
   */
  async finish(done: readonly string[], resolved: readonly string[]): Promise<number> {
    const left = done.filter((k) => !this.cleared.has(k));
    try {
      await this.store.clearDelivered(this.target, left);
    } catch (err) {
      this.log.warn('could not remove all of what the channel took; the next run removes the rest', {
        target: this.target,
        rows: left.length,
        recorded: this.recorded.length > 0,
        error: describeError(err),
      });
      return left.length;
    }
    try {
      await this.store.removeDelivered(this.target, [...this.recorded, ...resolved]);
    } catch (err) {
      // A record whose rows are gone covers nothing a later run writes (a greater generation): it can wait.
      this.log.warn('could not remove the records of what the channel took; the next run does', {
        target: this.target,
        error: describeError(err),
      });
    }
    return 0;
  }
}
