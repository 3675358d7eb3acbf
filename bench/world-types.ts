/**
 * The shapes the bench's parts share: what a child run reports, what a world counts at its servers, and what the slow
 * part needs of a world (a leaf, so that the parts import it and not one another).
 */
import type { CrSimulator } from '../src/sim/cr-server.js';
import type { WebhookReceivers } from '../src/sim/webhook-server.js';

export interface RunResult {
  summary?: {
    outcome: string;
    failuresFound: number;
    stuck: number;
    notified: Record<string, number>;
    problems: string[];
    instances: { instance: string; pages: number; complete: boolean; behindMinutes?: number }[];
  };
  error?: string;
  wallMs: number;
  cpuMs: number;
}
export interface ChildResult {
  runs: RunResult[];
  importMs: number;
  processCpuMs: number;
  maxRssMB: number;
  /** Sampled peaks of the JS heap and of memory outside it (Buffers), in MB. */
  heapMB: number;
  externalMB: number;
}
export interface Mark {
  cr: number;
  ots: number;
  attempts: number;
  received: number;
  at: number;
}
export interface Tally {
  crCalls: number;
  pages: number;
  rechecks: number;
  otsCalls: number;
  actions: Record<string, number>;
  refused: string[];
  rowsWritten: number;
  bytesWritten: number;
  rowsRead: number;
  posts: Record<'dingtalk' | 'slack', number>;
  accepted: Record<'dingtalk' | 'slack', number>;
  /** Failures counted in the banners of the messages received ("ACR: 30 syncs failed"). */
  announced: Record<'dingtalk' | 'slack', number>;
}
/** How a world differs from the default: Tablestore latency, extra environment, a moved clock (see clock.cjs). */
export interface WorldOptions {
  otsLatencyMs?: number;
  env?: Record<string, string>;
  /** The ms the function's clock is ahead of real time, read as each run starts. */
  clockOffsetMs?: () => number;
}
/** What the bench answers a stepped run's process after each run: stop, or the next run's clock offset and timeout. */
export interface StepAnswer {
  stop?: boolean;
  offsetMs?: number;
  timeout?: number;
}
/** What the slow part uses of a world (run.ts's `world` gives all of it). */
export interface SlowWorld {
  cr: CrSimulator;
  hooks: WebhookReceivers;
  run(runs?: number, timeout?: number, step?: (i: number, r: RunResult) => Promise<StepAnswer>): Promise<ChildResult>;
  mark(): Mark;
  since(m: Mark): Tally;
  stored(sinceMs?: number): Record<string, { rows: number; bytes: number; largest: number }>;
  close(): Promise<void>;
}
