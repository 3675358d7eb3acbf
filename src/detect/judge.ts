import type { CrApi } from '../acr/client.js';
import type { Logger } from '../lib/log.js';
import type { Cursor, FailingImage, WatchedSync } from '../model/state.js';
import type { InstanceRef } from '../model/task.js';
import { zeroReasons, type Batch, type Changes, type InstanceDetector, type Reason } from './detect.js';
import type { ScanBatch } from './list.js';
import type { RuleKeeper, RulesFor } from './rules.js';

/**
 * What observing needs of the store: watched syncs, lookups of claimed failures and failing images, and the sync rules
 * kept.
 */
export interface StateLookups extends RuleKeeper {
  watched(instance: string): Promise<WatchedSync[]>;
  lookup(
    instance: string,
    taskIds: readonly string[],
    imageKeys: readonly string[],
  ): Promise<{ handled: Set<string>; failing: Map<string, FailingImage> }>;
}

/** One judged chunk of an instance's tasks, with a way to name their rules. */
export interface Judged {
  inst: InstanceRef;
  changes: Changes;
  /**
   * The instance's sync rules by id, given the rule ids the alerts name: kept from an earlier run, or read at most once
   * per run (undefined when none are known).
   */
  rules: RulesFor;
}

/** What judging needs of the run: the store to look rows up in, and the log. */
export interface JudgeDeps {
  store: StateLookups;
  log: Logger;
}

/** What an instance's chunks added up to so far, for its report. */
export interface Findings {
  reasons: Record<Reason, number>;
  newFailures: number;
  /** Targeted re-check calls made. */
  rechecks: number;
  /** Watched syncs no longer found, so no longer watched. */
  gone: string[];
}

/** One instance being observed, handed to each step: what it started from, and what it found so far. */
export interface Observation {
  readonly inst: InstanceRef;
  readonly prev: Cursor | undefined;
  readonly now: number;
  readonly cr: CrApi;
  readonly detector: InstanceDetector;
  readonly rules: Judged['rules'];
  readonly found: Findings;
}

/** Nothing found yet: the findings an instance starts from. */
export const noFindings = (): Findings => ({ reasons: zeroReasons(), newFailures: 0, rechecks: 0, gone: [] });

/**
 * Judges one batch: looks up the rows the detector needs (no call when it needs none), lets it decide, and adds what
 * it decided to the findings. Warns about undocumented TaskStatus values. Throws what the store throws.
 */
export async function judge(o: Observation, batch: Batch, deps: JudgeDeps): Promise<Judged> {
  const needs = o.detector.needs(batch);
  const known =
    needs.taskIds.length + needs.imageKeys.length > 0
      ? await deps.store.lookup(o.inst.key, needs.taskIds, needs.imageKeys)
      : { handled: new Set<string>(), failing: new Map() };
  const changes = o.detector.take(batch, known);
  for (const k of Object.keys(changes.reasons) as Reason[]) o.found.reasons[k] += changes.reasons[k];
  o.found.newFailures += changes.failures.length;
  if (changes.unknownStatuses.length > 0)
    deps.log.warn('tasks with an undocumented TaskStatus are watched like running ones', {
      instance: o.inst.key,
      statuses: changes.unknownStatuses,
    });
  return { inst: o.inst, changes, rules: o.rules };
}

/**
 * Adds a batch the scan yielded to the chunk being gathered. A chunk holds tasks of one stretch (same bottom, same
 * watch-only), at most `limit`, so memory stays bounded whatever the burst: a batch that does not fit makes the
 * chunk `ready` to judge and starts the next. Pure.
 */
export function joinBatch(chunk: Batch | undefined, batch: ScanBatch, limit: number): { ready?: Batch; chunk: Batch } {
  const fits =
    chunk !== undefined &&
    chunk.lo === batch.lo &&
    chunk.watchOnly === batch.watchOnly &&
    chunk.tasks.length + batch.tasks.length <= limit;
  if (fits) return { chunk: { ...chunk, tasks: [...chunk.tasks, ...batch.tasks] } };
  const next = { tasks: [...batch.tasks], lo: batch.lo, watchOnly: batch.watchOnly };
  return chunk ? { ready: chunk, chunk: next } : { chunk: next };
}

/**
 * The chunk that marks watched syncs a re-check did not find (after MISS_LIMIT misses in a row one is gone, and a
 * warning names it); adds those gone to the findings.
 */
export function missedChunk(o: Observation, missing: readonly string[], limit: number, log: Logger): Judged {
  const m = o.detector.missed(missing, limit);
  o.found.gone = m.gone;
  if (m.gone.length > 0)
    log.warn('stopped watching syncs the API no longer returns', { instance: o.inst.key, tasks: m.gone.slice(0, 20) });
  return { inst: o.inst, changes: m, rules: o.rules };
}

/**
 * Held transient failures that have now persisted long enough: looks up their rows and yields one chunk announcing
 * those still held (none when nothing is due or nothing changed).
 */
export async function* releaseHeld(o: Observation, deps: JudgeDeps): AsyncGenerator<Judged, void> {
  const due = o.detector.dueHeld();
  if (due.length === 0) return;
  const { failing } = await deps.store.lookup(o.inst.key, [], due);
  const released = o.detector.release(failing);
  o.found.newFailures += released.failures.length;
  if (released.failures.length + released.failing.size > 0) yield { inst: o.inst, changes: released, rules: o.rules };
}
