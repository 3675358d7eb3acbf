import * as v from 'valibot';
import { ConfigError } from '../lib/errors.js';

/** Options a timer trigger's payload may carry, e.g. `{"dryRun":true}`. Unknown keys are refused. */
export interface RunOptions {
  dryRun: boolean;
  /** Send the digest now, whatever the schedule. */
  digest: boolean;
}

const optionsSchema = v.strictObject({
  dryRun: v.optional(v.boolean(), false),
  digest: v.optional(v.boolean(), false),
});

export interface TimerEvent {
  triggerTime?: string;
  triggerName?: string;
  options: RunOptions;
  /** Things worth a log line that are not errors (a payload that is not JSON). */
  notes: string[];
}

/**
 * Reads a Function Compute timer event: a Buffer of `{"triggerTime","triggerName","payload"}` whose `payload` is a
 * string that may hold JSON options. An absent or non-JSON payload means default options; a JSON payload with
 * unknown keys or wrong types is a `ConfigError`.
 */
export function parseTimerEvent(event: unknown): TimerEvent {
  const notes: string[] = [];
  const outer = outerObject(eventText(event), notes);
  return {
    triggerTime: typeof outer.triggerTime === 'string' ? outer.triggerTime : undefined,
    triggerName: typeof outer.triggerName === 'string' ? outer.triggerName : undefined,
    options: optionsOf(outer.payload, notes),
    notes,
  };
}

/** The event as text, whatever form the runtime handed it in. */
function eventText(event: unknown): string {
  if (Buffer.isBuffer(event)) return event.toString('utf8');
  if (typeof event === 'string') return event;
  return event === undefined || event === null ? '' : JSON.stringify(event);
}

/** The event's JSON object; anything else is noted and read as an empty one (default options). */
function outerObject(text: string, notes: string[]): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    notes.push('the event is not a JSON object; running with default options');
  } catch {
    notes.push('the event is not JSON; running with default options');
  }
  return {};
}

/** The run's options from the trigger's payload string. Throws ConfigError when its JSON does not fit them. */
function optionsOf(payload: unknown, notes: string[]): RunOptions {
  const defaults: RunOptions = { dryRun: false, digest: false };
  if (typeof payload !== 'string' || payload.trim() === '') return defaults;
  let inner: unknown;
  try {
    inner = JSON.parse(payload);
  } catch {
    notes.push('the trigger payload is not JSON; running with default options');
    return defaults;
  }
  const r = v.safeParse(optionsSchema, inner);
  if (!r.success)
    throw new ConfigError(
      r.issues.map((i) => `trigger payload ${v.getDotPath(i) ?? ''}: ${i.message}`.replace(' :', ':')),
    );
  return r.output;
}
