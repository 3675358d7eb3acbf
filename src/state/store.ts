import { ChunkNotClaimedError, ControlChangedError, RowsRefusedError } from '../lib/errors.js';
import { canonicalJson } from '../lib/json.js';
import {
  ROW_REFRESH_MS,
  type Control,
  type Cursor,
  type DeliveredRecord,
  type FailingImage,
  type KeptRules,
  type Owed,
  type RouteDigest,
  type WatchedSync,
} from '../model/state.js';
import { genOf, keysFor, read, write, type Keys, type Meta, type SilenceRow, type Versioned } from './rows.js';
import {
  batches,
  MAX_GET_ROWS,
  type Call,
  type Cols,
  type KeyedRow,
  type RowTable,
  type TableCounter,
  type WriteOp,
} from './table.js';
import { legacyStatus, upgrade, type LegacySource, type LegacyStatus, type UpgradeDeps } from './upgrade.js';

export type { Call } from './table.js';
export type { LegacySource } from './upgrade.js';

/** What a run starts from. */
export interface Snapshot {
  control: Versioned<Control>;
  /** By instance key; an instance never read has none. */
  cursors: Map<string, Versioned<Cursor>>;
  digests: Map<string, RouteDigest>;
  /** Set when this run moved the earlier single document into rows (the upgrade). */
  upgraded?: { rows: number };
}

/** Rows per page when reading what a target is owed. */
export const OWED_PAGE_ROWS = 1_000;

/**
 * The deployment's state as rows in a table (Tablestore, or a local file), read by key or range and written in
 * ordered, conditional batches. Every request goes through `call`, so retries and the time budget apply to each.
 */
export class StateStore {
  readonly keys: Keys;
  /**
   * The control row's version as this store last read or wrote it: owed rows are written with it, and a delivered
   * record covers only rows of its own generation or before (a later run moves the control row before it claims).
   */
  private generation = 0;

  constructor(
    readonly table: RowTable & Partial<LegacySource>,
    /** Names this deployment's rows, so several can share a table (STATE_KEY). */
    readonly deployment: string,
    private readonly call: Call,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keysFor(deployment);
  }

  get where(): string {
    return `${this.table.where}/${this.deployment}`;
  }

  get counter(): TableCounter {
    return this.table.counter;
  }

  /** The rows that exist among `keys`, in reads of at most 100. */
  async get(keys: readonly string[], label: string): Promise<Map<string, Cols>> {
    const out = new Map<string, Cols>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += MAX_GET_ROWS) {
      const chunk = unique.slice(i, i + MAX_GET_ROWS);
      for (const [k, c] of await this.call(label, (t) => this.table.getRows(chunk, t))) out.set(k, c);
    }
    return out;
  }

  /** Every row of a key range, a page of at most `limit` rows at a time (the service's 5,000 unless smaller). */
  async *range([from, to]: [string, string], label: string, limit?: number): AsyncGenerator<KeyedRow[]> {
    let start: string | undefined = from;
    while (start !== undefined) {
      const s: string = start;
      const page = await this.call(label, (t) => this.table.rangePage(s, to, t, limit));
      if (page.rows.length > 0) yield page.rows;
      start = page.next;
    }
  }

  /**
   * Writes `ops` in order, in requests within the service's limits; returns the keys whose condition failed. Each
   * request is retried alone: a retry of writes already applied finds their conditions failed, which for a claim
   * means what it should (the row is there). Throws RowsRefusedError when rows are still refused after the retries.
   */
  async apply(ops: readonly WriteOp[], label: string): Promise<string[]> {
    const out: Written = { failed: [], reached: [] };
    await this.write(ops, label, out);
    return out.failed;
  }

  /**
   * `apply`, noting in `out` what it did as it goes, so a caller that catches its error knows which rows may stand.
   * The service answers each row of a request on its own: an attempt after rows were refused alone (busy, …) sends
   * only those rows, since the others are applied.
   */
  private async write(ops: readonly WriteOp[], label: string, out: Written): Promise<void> {
    for (const batch of batches(ops)) {
      out.reached.push(...batch);
      let pending = batch;
      await this.call(label, async (t) => {
        const r = await this.table.writeRows(pending, t);
        out.failed.push(...r.failed);
        if (!r.refused?.length) return;
        const refused = new Set(r.refused.map((x) => x.key));
        pending = pending.filter((o) => refused.has(o.key));
        throw new RowsRefusedError(label, r.refused);
      });
    }
  }

  /**
   * What a run starts from: the control row, the cursors of `instances` and the digests of `routes`, in one read when
   * they fit. A table without the meta row is upgraded first (upgrade.ts).
   */
  async begin(instances: readonly string[], routes: readonly string[]): Promise<Snapshot> {
    const k = this.keys;
    const wanted = [k.meta, k.control, ...instances.map(k.cursor), ...routes.map(k.digest)];
    let rows = await this.get(wanted, 'read state');
    let upgraded: Snapshot['upgraded'];
    const meta = rows.get(k.meta);
    if (!meta) {
      const existing = rows.has(k.control) ? read.control(k.control, rows.get(k.control)).value : undefined;
      upgraded = await upgrade(this.upgradeDeps(), existing);
      if (upgraded) rows = await this.get(wanted, 'read state after the upgrade');
    } else {
      const m = read.meta(k.meta, meta);
      if (this.now() - (m.savedAt ?? m.since) >= ROW_REFRESH_MS) await this.upkeep(m);
    }
    const cursors = new Map<string, Versioned<Cursor>>();
    for (const i of instances) {
      const c = read.cursor(k.cursor(i), rows.get(k.cursor(i)));
      if (c) cursors.set(i, c);
    }
    const digests = new Map<string, RouteDigest>();
    for (const r of routes) {
      const d = rows.get(k.digest(r));
      if (d) digests.set(r, read.digest(k.digest(r), d));
    }
    const control = read.control(k.control, rows.get(k.control));
    this.generation = control.version;
    return {
      control,
      cursors,
      digests,
      ...(upgraded ? { upgraded } : {}),
    };
  }

  /** What the upgrade uses of this store. */
  private upgradeDeps(): UpgradeDeps {
    const { table, deployment, keys, call, now } = this;
    return { table, deployment, keys, call, now, apply: (ops, label) => this.apply(ops, label) };
  }

  /**
   * Keeps the rows nothing else writes again from the table's TTL, once every ROW_REFRESH_MS: the meta row (without
   * it a run would take the table for a new one) and the silences still in force.
   */
  private async upkeep(meta: Meta): Promise<void> {
    const now = this.now();
    const ops: WriteOp[] = [write.meta(this.keys, { ...meta, savedAt: now })];
    for (const s of await this.silences()) {
      const saved = s.value.savedAt ?? Date.parse(s.value.createdAt);
      if (Date.parse(s.value.expires) > now && now - saved >= ROW_REFRESH_MS)
        ops.push(write.silence(this.keys, { ...s.value, savedAt: now }, s.version));
    }
    // A silence expired meanwhile fails its condition and is left as it is.
    await this.apply(ops, 'keep long-lived rows');
  }

  /** The layout's meta row, and the earlier single document when the table still holds it (without its content). */
  async status(): Promise<{ meta?: Meta; legacy?: LegacyStatus }> {
    const k = this.keys;
    const m = (await this.get([k.meta], 'read the meta row')).get(k.meta);
    const l = await legacyStatus(this.upgradeDeps());
    return { ...(m ? { meta: read.meta(k.meta, m) } : {}), ...(l ? { legacy: l } : {}) };
  }

  /**
   * Forgets that the table was upgraded, so the next run moves the earlier single document again: for coming back to
   * this release after a rollback, when the earlier release saved the document since the move.
   */
  async forgetUpgrade(): Promise<void> {
    await this.apply([write.remove(this.keys.meta)], 'remove the meta row');
  }

  /** Every silence added from the command line, in force or not, with its row's version. */
  async silences(): Promise<Versioned<SilenceRow>[]> {
    const out: Versioned<SilenceRow>[] = [];
    for await (const page of this.range(this.keys.silenceRange, 'read silences'))
      for (const r of page) out.push(read.silence(r.key, r.cols));
    return out;
  }

  /**
   * Writes a silence: a new one only under an id not taken, a change only over the version read. False on a conflict.
   */
  async saveSilence(s: SilenceRow, version: number): Promise<boolean> {
    const failed = await this.apply(
      [write.silence(this.keys, { ...s, savedAt: this.now() }, version)],
      `save silence ${s.id}`,
    );
    return failed.length === 0;
  }

  /** The syncs being watched on an instance. */
  async watched(instance: string): Promise<WatchedSync[]> {
    const out: WatchedSync[] = [];
    for await (const page of this.range(this.keys.watchRange(instance), `read watched syncs of ${instance}`)) {
      for (const r of page) out.push(read.watch(r.key, r.cols));
    }
    return out;
  }

  /** Which of `taskIds` were claimed as failures, and the failing-image rows among `imageKeys`, in reads of 100. */
  async lookup(
    instance: string,
    taskIds: readonly string[],
    imageKeys: readonly string[],
  ): Promise<{ handled: Set<string>; failing: Map<string, FailingImage> }> {
    const k = this.keys;
    const byKey = new Map<string, { kind: 'h' | 'f'; id: string }>();
    for (const id of taskIds) byKey.set(k.handled(instance, id), { kind: 'h', id });
    for (const id of imageKeys) byKey.set(k.failing(instance, id), { kind: 'f', id });
    const rows = await this.get([...byKey.keys()], `look up ${instance}`);
    const handled = new Set<string>();
    const failing = new Map<string, FailingImage>();
    for (const [key, cols] of rows) {
      const what = byKey.get(key);
      if (what?.kind === 'h') handled.add(what.id);
      else if (what) failing.set(what.id, read.failing(key, cols));
    }
    return { handled, failing };
  }

  /** The sync rules kept for `instance`, or undefined when none are. */
  async keptRules(instance: string): Promise<KeptRules | undefined> {
    const key = this.keys.rules(instance);
    const row = (await this.get([key], `read the kept sync rules of ${instance}`)).get(key);
    return row ? read.rules(key, row) : undefined;
  }

  /** Keeps `instance`'s sync rules, over any kept before. */
  async keepRules(instance: string, kept: KeptRules): Promise<void> {
    await this.apply([write.rules(this.keys, instance, kept)], `keep the sync rules of ${instance}`);
  }

  /** Every failing image of an instance, a page at a time (for a digest's "still failing"). */
  async *failingAll(instance: string): AsyncGenerator<FailingImage[]> {
    for await (const page of this.range(this.keys.failingRange(instance), `read failing images of ${instance}`))
      yield page.map((r) => read.failing(r.key, r.cols));
  }

  /**
   * What a target is owed, a page at a time, each alert with the key of its row. Pages of OWED_PAGE_ROWS: after a
   * burst a target is owed 100,000 alerts of about 1 KB, and a page of the service's 5,000 is 5 MB of answer decoded
   * into rows and alerts at once; a fifth of that costs 80 more requests for the 100,000, and the same read units.
   */
  async *owed(target: string): AsyncGenerator<OwedRow[]> {
    for await (const page of this.range(this.keys.owedRange(target), `read alerts owed to ${target}`, OWED_PAGE_ROWS))
      yield page.map((r) => {
        const gen = genOf(r.cols);
        return { key: r.key, owed: read.owed(r.key, r.cols), ...(gen === undefined ? {} : { gen }) };
      });
  }

  /**
   * The delivered records of `target` (messages it accepted whose rows may not all be removed yet). A record of a
   * generation this store has not reached was written before the control row was lost (the table's TTL): its rows
   * are gone too, and it is removed rather than taken to cover rows written since.
   */
  async delivered(target: string): Promise<DeliveredRecord[]> {
    const out: DeliveredRecord[] = [];
    const stale: string[] = [];
    for await (const page of this.range(this.keys.deliveredRange(target), `read what ${target} accepted`))
      for (const r of page) {
        const d = read.delivered(r.key, r.cols);
        if (d.gen > this.generation) stale.push(d.message);
        else out.push(d);
      }
    if (stale.length > 0) await this.removeDelivered(target, stale);
    return out;
  }

  /**
   * Records, in one single-row write, that `target` accepted the message covering the owed rows from `from` to `to`
   * (in key order): from then on a run treats those rows as delivered (see `covers`), never sends them again.
   */
  async recordDelivered(target: string, m: Pick<DeliveredRecord, 'from' | 'to' | 'alerts' | 'message'>): Promise<void> {
    const d: DeliveredRecord = { target, ...m, gen: this.generation, at: this.now() };
    await this.apply([write.delivered(this.keys, d)], `record what ${target} accepted`);
  }

  /** Removes the delivered records of `target` named by their messages, once the rows they cover are gone. */
  async removeDelivered(target: string, messages: readonly string[]): Promise<void> {
    const ops = messages.map((m) => write.remove(this.keys.delivered(target, m)));
    if (ops.length > 0) await this.apply(ops, `remove the records of what ${target} accepted`);
  }

  /**
   * Writes the control row over the version read; returns the new version. A write whose answer was lost is
   * recognised on retry: the conflict it then meets is its own if the row now holds exactly what it wrote.
   */
  async saveControl(current: Versioned<Control>, next: Control, label: string): Promise<number> {
    const [failed] = await this.apply([write.control(this.keys, next, current.version)], label);
    if (failed === undefined) return (this.generation = current.version + 1);
    const now = read.control(
      this.keys.control,
      (await this.get([this.keys.control], `${label} (re-read after conflict)`)).get(this.keys.control),
    );
    if (now.version === current.version + 1 && canonicalJson(now.value) === canonicalJson(next))
      return (this.generation = now.version);
    throw new ControlChangedError(this.where);
  }

  // The verbs a run uses: each builds its own rows, so a run deals in alerts, cursors and digests, never in keys.

  /**
   * Claims what one batch of `instance` found, in two ordered writes: first the alerts owed (each written only if no
   * run claimed it before), then, once every one of them stands, the failures claimed, the syncs watched and no longer
   * watched, the failing images written or removed, so nothing is marked handled before what it owes is stored and a
   * run killed anywhere leaves nothing half-known. Returns the alerts an earlier run had claimed already (a row owed
   * for them was there), and the rows owed this write added, by target. Throws ChunkNotClaimedError when rows owed are
   * still refused after the retries (those this claim wrote are removed again, nothing else is written); throws what
   * the second write threw when it fails (the rows owed stand then, and the next run's claim finds them).
   */
  async claim(instance: string, c: ClaimRows): Promise<Claimed> {
    const k = this.keys;
    const owed = c.owed.map((o) => write.owed(k, o, this.generation));
    const failed = new Set(await this.owe(instance, owed));
    const rest: WriteOp[] = [
      ...c.handled.map((t) => write.handled(k, instance, t.taskId, t.createTime)),
      ...c.watch.map((w) => write.watch(k, instance, w)),
      ...c.unwatch.map((id) => write.remove(k.watch(instance, id))),
      ...[...c.failing].map(([key, f]) =>
        f ? write.failing(k, instance, key, f) : write.remove(k.failing(instance, key)),
      ),
    ];
    if (rest.length > 0) await this.apply(rest, `claim ${instance}`);
    const alreadyClaimed = new Set<string>();
    const owedWritten = new Map<string, number>();
    c.owed.forEach((o, i) => {
      if (failed.has(owed[i]!.key)) alreadyClaimed.add(o.alert.id);
      else owedWritten.set(o.target, (owedWritten.get(o.target) ?? 0) + 1);
    });
    return { alreadyClaimed, owedWritten };
  }

  /**
   * Writes the rows owed of one claim, alone; returns the keys an earlier run had written. When the write fails after
   * the retries (rows still refused alone, or the request as a whole), removes again the rows this claim may have
   * written and throws ChunkNotClaimedError: left there, this run would deliver them, and the next run, reading the
   * chunk's failures again, would find no row and owe them twice. Throws what the removal threw when it fails too (the
   * run stops before delivering, and the next run's claim finds the rows).
   */
  private async owe(instance: string, owed: readonly WriteOp[]): Promise<string[]> {
    const out: Written = { failed: [], reached: [] };
    try {
      await this.write(owed, `claim ${instance}: alerts owed`, out);
      return out.failed;
    } catch (err) {
      const notWritten = new Set([...out.failed, ...(err instanceof RowsRefusedError ? err.keys : [])]);
      const undo = out.reached.filter((o) => !notWritten.has(o.key)).map((o) => write.remove(o.key));
      if (undo.length > 0) await this.apply(undo, `claim ${instance}: remove the alerts owed again`);
      throw new ChunkNotClaimedError(instance, err);
    }
  }

  /** Saves the digest statistics of the routes in `digests` (nothing when it is empty). */
  async saveDigests(digests: ReadonlyMap<string, RouteDigest>): Promise<void> {
    const ops = [...digests].map(([route, d]) => write.digest(this.keys, route, d));
    if (ops.length > 0) await this.apply(ops, 'save digest statistics');
  }

  /**
   * Saves each instance's cursor in `next` that differs from the one the run read (`read`), each over the version read.
   * Returns how many were refused: another run moved them first, and its reading stands.
   */
  async saveCursors(next: ReadonlyMap<string, Cursor>, read: ReadonlyMap<string, Versioned<Cursor>>): Promise<number> {
    const ops: WriteOp[] = [];
    for (const [instance, cursor] of next) {
      const prev = read.get(instance);
      if (canonicalJson(prev?.value) !== canonicalJson(cursor))
        ops.push(write.cursor(this.keys, instance, cursor, prev?.version ?? 0));
    }
    if (ops.length === 0) return 0;
    return (await this.apply(ops, 'save cursors')).length;
  }

  /** Removes the rows of what `target` took (delivered, or given up), by the keys `owed(target)` gave them. */
  async clearDelivered(target: string, keys: readonly string[]): Promise<void> {
    await this.removeOwed(keys, `clear what ${target} took`);
  }

  /** Removes rows owed to `target`, a channel no longer configured, by the keys `owed(target)` gave them. */
  async dropOwed(target: string, keys: readonly string[]): Promise<void> {
    await this.removeOwed(keys, `drop what ${target} was owed`);
  }

  /** After a burst a target takes 100,000 rows at once: their delete operations are made a slice at a time. */
  private async removeOwed(keys: readonly string[], label: string): Promise<void> {
    for (let i = 0; i < keys.length; i += REMOVE_SLICE)
      await this.apply(keys.slice(i, i + REMOVE_SLICE).map(write.remove), label);
  }
}

/**
 * Row deletions made per request group: a multiple of BatchWriteRow's 200 rows, so no request is smaller than it
 * could be.
 */
const REMOVE_SLICE = 1_000;

/** What a write did so far: the keys whose condition failed, and every row of the requests it started. */
interface Written {
  failed: string[];
  reached: WriteOp[];
}

/** An owed row as `StateStore.owed` reads it: the key it is removed by, the alert, and its generation when known. */
export interface OwedRow {
  key: string;
  owed: Owed;
  gen?: number;
}

/** What one batch claims, as `StateStore.claim` writes it. */
export interface ClaimRows {
  /** One entry per alert and target it goes to. */
  owed: readonly Owed[];
  /** Failures claimed now. */
  handled: readonly { taskId: string; createTime: number }[];
  watch: readonly WatchedSync[];
  /** Task ids no longer watched. */
  unwatch: readonly string[];
  /** Failing-image rows by image key; null removes one. */
  failing: ReadonlyMap<string, FailingImage | null>;
}

/** What a claim found: alerts an earlier run had claimed, and the rows owed it wrote, by target. */
export interface Claimed {
  alreadyClaimed: Set<string>;
  owedWritten: Map<string, number>;
}
