import { ConfigError } from '../lib/errors.js';

/** Options a timer trigger's payload may carry, e.g. `{"dryRun":true}`. Unknown keys are refused. */
export interface RunOptions {
  dryRun: boolean;
  /** Send the digest now, whatever the schedule. */
  digest: boolean;
}

const OPTION_NAMES = ['dryRun', 'digest'] as const;
/** The fields of Function Compute's timer event (formats of events for different triggers). */
const TIMER_FIELDS = ['triggerTime', 'triggerName', 'payload'];

export interface TimerEvent {
  triggerTime?: string;
  triggerName?: string;
  options: RunOptions;
  /** Things worth a log line that are not errors (a payload that is not JSON). */
  notes: string[];
}

/**
 * Reads a Function Compute timer event: a Buffer of `{"triggerTime","triggerName","payload"}` whose `payload` is a
 * string that may hold JSON options. An event that is the options themselves (`{"dryRun":true}`, what
 * `s invoke -e` is usually given) is read as such. An absent or non-JSON payload means default options; options with
 * an unknown field or a wrong type, or given both ways at once, are a `ConfigError` naming the field and the accepted
 * ones.
 */
export function parseTimerEvent(event: unknown): TimerEvent {
  const notes: string[] = [];
  const outer = outerObject(eventText(event), notes);
  const keys = Object.keys(outer);
  const timer = keys.some((k) => TIMER_FIELDS.includes(k));
  let options: RunOptions;
  if (!timer && keys.length > 0) options = checkedOptions(outer, 'trigger event');
  else {
    const stray = keys.filter((k) => !TIMER_FIELDS.includes(k));
    if (stray.length > 0)
      throw new ConfigError(
        stray.map(
          (k) => `trigger event field "${k}" is not read: give options in "payload" (accepted: dryRun, digest)`,
        ),
        'Invalid trigger event',
      );
    options = optionsOf(outer.payload, notes);
  }
  return {
    triggerTime: typeof outer.triggerTime === 'string' ? outer.triggerTime : undefined,
    triggerName: typeof outer.triggerName === 'string' ? outer.triggerName : undefined,
    options,
    notes,
  };
}

/**
 * Run options from a JSON value: an object of dryRun and digest, each true or false. Throws ConfigError naming each
 * wrong field (and the field meant, when it is a near miss such as "dryrun") and the accepted ones.
 */
function checkedOptions(value: unknown, where: string): RunOptions {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      [`${where} must be a JSON object of options (accepted: dryRun, digest)`],
      'Invalid trigger event',
    );
  const problems: string[] = [];
  const out: RunOptions = { dryRun: false, digest: false };
  for (const [k, x] of Object.entries(value)) {
    const name = OPTION_NAMES.find((n) => n === k);
    if (!name) {
      const near = OPTION_NAMES.find((n) => n.toLowerCase() === k.toLowerCase().replace(/[-_ ]/g, ''));
      const hint = near ? `did you mean "${near}"? ` : '';
      problems.push(`${where}: unknown field "${k}": ${hint}accepted: dryRun, digest`);
    } else if (typeof x !== 'boolean') problems.push(`${where}: field "${k}" must be true or false`);
    else out[name] = x;
  }
  if (problems.length > 0) throw new ConfigError(problems, 'Invalid trigger event');
  return out;
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
  return checkedOptions(inner, 'trigger payload');
}
