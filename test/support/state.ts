import type {
  Control,
  Cursor,
  DeliveredRecord,
  FailingImage,
  KeptRules,
  Owed,
  RouteDigest,
  WatchedSync,
} from '../../src/model/state.js';
import { keysFor, read } from '../../src/state/rows.js';
import type { Cols, RowTable } from '../../src/state/table.js';

/** Everything a deployment's rows hold, decoded: what tests assert on instead of our functions' calls. */
export interface StateView {
  control: Control;
  controlVersion: number;
  meta?: Record<string, unknown>;
  /** Alerts owed, by target. */
  owed: Record<string, Owed[]>;
  /** Records of messages a target accepted whose rows are being removed, by target. */
  delivered: Record<string, DeliveredRecord[]>;
  digests: Record<string, RouteDigest>;
  cursors: Record<string, Cursor>;
  watched: Record<string, WatchedSync[]>;
  failing: Record<string, FailingImage[]>;
  /** Task ids of failures claimed, by instance (hashed ids appear as stored). */
  handled: Record<string, string[]>;
  /** Sync rules kept, by instance. */
  rules: Record<string, KeptRules>;
  rows: number;
}

/** Reads every row of `deployment` for `instances` from `table`. */
export async function readState(table: RowTable, deployment: string, instances: readonly string[]): Promise<StateView> {
  const k = keysFor(deployment);
  const view: StateView = {
    control: { owed: {}, pauses: {} },
    controlVersion: 0,
    owed: {},
    delivered: {},
    digests: {},
    cursors: {},
    watched: {},
    failing: {},
    handled: {},
    rules: {},
    rows: 0,
  };
  const all = async (scope: string) => {
    const out: { key: string; cols: Cols }[] = [];
    const [from, to] = k.scopeRange(scope);
    for (let start: string | undefined = from; start !== undefined;) {
      const p: { rows: { key: string; cols: Cols }[]; next?: string } = await table.rangePage(start, to, 5_000);
      out.push(...p.rows);
      start = p.next;
    }
    return out;
  };
  for (const { key, cols } of await all('~')) {
    view.rows += 1;
    const kind = key.split('|')[3];
    if (kind === 'ctl') {
      const c = read.control(key, cols);
      view.control = c.value;
      view.controlVersion = c.version;
    } else if (kind === 'meta') view.meta = JSON.parse(String(cols.j)) as Record<string, unknown>;
    else if (kind === 'o') {
      const o = read.owed(key, cols);
      (view.owed[o.target] ??= []).push(o);
    } else if (kind === 'r') {
      const d = read.delivered(key, cols);
      (view.delivered[d.target] ??= []).push(d);
    } else if (kind === 'd') view.digests[key.split('|')[4]!] = read.digest(key, cols);
  }
  for (const inst of instances) {
    for (const { key, cols } of await all(inst)) {
      view.rows += 1;
      const [, , , kind, id] = key.split('|');
      if (kind === 'c') view.cursors[inst] = read.cursor(key, cols)!.value;
      else if (kind === 'w') (view.watched[inst] ??= []).push(read.watch(key, cols));
      else if (kind === 'f') (view.failing[inst] ??= []).push(read.failing(key, cols));
      else if (kind === 'h') (view.handled[inst] ??= []).push(id!);
      else if (kind === 'r') view.rules[inst] = read.rules(key, cols);
    }
  }
  return view;
}

/** Alert ids owed to any target. */
export const owedIds = (v: StateView) => [
  ...new Set(
    Object.values(v.owed)
      .flat()
      .map((o) => o.alert.id),
  ),
];
