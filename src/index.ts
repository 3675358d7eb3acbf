import { randomUUID } from 'node:crypto';
import { configSecrets, readConfig } from './config/config.js';
import { buildRunDeps, type FcContext } from './handler/deps.js';
import { parseTimerEvent } from './handler/event.js';
import { runOnce } from './handler/run.js';
import { stateWhere, tellStateDown, type StateDownContext } from './handler/state-down.js';
import { systemClock } from './lib/budget.js';
import { describeError } from './lib/errors.js';
import { createLogger, type LineSink } from './lib/log.js';
import { Secret } from './lib/secret.js';

let sink: LineSink | undefined;
/** Where log lines go (undefined: the console); tests and the demo replace it to capture every line. */
export function setLogSink(s: LineSink | undefined): void {
  sink = s;
}

/**
 * Function Compute 3.0 event handler for the timer trigger. Returns the run summary as a JSON string. Throws (so
 * Function Compute records a failed invocation; s.yaml sets no async retry, the next tick is the retry) only when the
 * configuration is wrong or the state cannot be read or saved, and in that case tells the channels at the first tick
 * of each hour; an unreachable instance or webhook is
 * reported in the summary and retried by the next run.
 */
export async function handler(event: unknown, context: FcContext = {}): Promise<string> {
  const startedAt = systemClock.now();
  const runId = context.requestId ?? randomUUID();
  const ctxSecrets = [
    context.credentials?.accessKeyId,
    context.credentials?.accessKeySecret,
    context.credentials?.securityToken,
  ]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .map((s) => new Secret(s));
  const now = () => systemClock.now();
  let log = createLogger({ sink, secrets: ctxSecrets, base: { runId }, now });
  let stateDown: StateDownContext | undefined;
  try {
    const config = readConfig();
    log = createLogger({ sink, secrets: [...ctxSecrets, ...configSecrets(config)], base: { runId }, now });
    for (const note of config.notes) log.warn(note);
    const trigger = parseTimerEvent(event);
    for (const note of trigger.notes) log.info(note);
    const runLog = log;
    const deps = buildRunDeps({
      config,
      context,
      clock: systemClock,
      log,
      startedAt,
      runId,
      options: trigger.options,
      dryRunSink: (target, _channel, payload) => runLog.info('dry run: message not sent', { target, payload }),
    });
    const tickAt = Date.parse(trigger.triggerTime ?? '');
    stateDown = {
      ...deps,
      schedule: config.schedule,
      tickAt: Number.isFinite(tickAt) ? tickAt : startedAt,
      where: stateWhere(config.store),
    };
    const summary = await runOnce(deps);
    log.info('run finished', { summary });
    return JSON.stringify(summary);
  } catch (err) {
    log.error('run failed', { error: describeError(err) });
    // The run still fails (so Function Compute records it); the channels hear why, hourly at most.
    if (stateDown) await tellStateDown(err, stateDown);
    throw err;
  }
}
