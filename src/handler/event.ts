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
  const text = Buffer.isBuffer(event)
    ? event.toString('utf8')
    : typeof event === 'string'
      ? event
      : event === undefined || event === null
        ? ''
        : JSON.stringify(event);
  let outer: Record<string, unknown> = {};
  if (text.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) outer = parsed as Record<string, unknown>;
      else notes.push('the event is not a JSON object; running with default options');
    } catch {
      notes.push('the event is not JSON; running with default options');
    }
  }
  const payload = outer.payload;
  let options: RunOptions = { dryRun: false, digest: false };
  if (typeof payload === 'string' && payload.trim() !== '') {
    let inner: unknown;
    try {
      inner = JSON.parse(payload);
    } catch {
      notes.push('the trigger payload is not JSON; running with default options');
    }
    if (inner !== undefined) {
      const r = v.safeParse(optionsSchema, inner);
      if (!r.success)
        throw new ConfigError(
          r.issues.map((i) => `trigger payload ${v.getDotPath(i) ?? ''}: ${i.message}`.replace(' :', ':')),
        );
      options = r.output;
    }
  }
  return {
    triggerTime: typeof outer.triggerTime === 'string' ? outer.triggerTime : undefined,
    triggerName: typeof outer.triggerName === 'string' ? outer.triggerName : undefined,
    options,
    notes,
  };
}
