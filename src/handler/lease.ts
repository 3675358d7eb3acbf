import { ControlChangedError, StateFileLockedError } from '../lib/errors.js';
import type { Control, Lease } from '../model/state.js';
import type { Versioned } from '../state/rows.js';
import type { StateStore } from '../state/store.js';

/** Another run took the lease first: it announces what this run found, and this one stops without writing more. */
export class LostRace extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'LostRace';
  }
}

/** True when a lease held by someone else is still in force. */
export function heldByOther(lease: Lease | undefined, me: string, now: number): boolean {
  return lease !== undefined && lease.owner !== me && lease.until > now;
}

/**
 * The run's hold on the control row: taken (a conditional write) before the run writes anything but its cursors,
 * told which targets will be owed alerts before their rows are written (so a run killed in between leaves them
 * findable), and released with what delivery left owed and paused. Calls are serialised: instances are read at once.
 */
export class ControlLease {
  private current: Versioned<Control>;
  private held = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    snapshot: Versioned<Control>,
    private readonly owner: string,
    private readonly until: number,
  ) {
    this.current = snapshot;
  }

  get control(): Control {
    return this.current.value;
  }

  get isHeld(): boolean {
    return this.held;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async save(next: Control, label: string): Promise<void> {
    const version = await this.store.saveControl(this.current, next, label);
    this.current = { value: next, version };
  }

  /** Takes the lease if this run does not hold it yet. Throws LostRace when another run wrote first. */
  take(): Promise<void> {
    return this.serial(async () => {
      if (this.held) return;
      try {
        await this.save({ ...this.current.value, lease: { owner: this.owner, until: this.until } }, 'take the lease');
      } catch (err) {
        // Another run wrote the control row first, or holds the local file: either way it is that run's tick.
        if (err instanceof ControlChangedError || err instanceof StateFileLockedError) throw new LostRace(err.message);
        throw err;
      }
      this.held = true;
    });
  }

  /**
   * Records that `targets` are owed alerts (since `now`), before the rows saying what are written; a target already
   * owed something needs no write.
   */
  owe(targets: Iterable<string>, now: number): Promise<void> {
    return this.serial(async () => {
      const add = [...new Set(targets)].filter((t) => this.current.value.owed[t] === undefined);
      if (add.length === 0) return;
      await this.save(
        {
          ...this.current.value,
          owed: { ...this.current.value.owed, ...Object.fromEntries(add.map((t) => [t, { since: now, count: 0 }])) },
        },
        'record targets owed alerts',
      );
    });
  }

  /** Releases the lease, leaving what is still owed and paused. */
  release(next: Omit<Control, 'lease'>): Promise<void> {
    return this.serial(async () => {
      await this.save({ owed: next.owed, pauses: next.pauses }, 'release the lease');
      this.held = false;
    });
  }
}
