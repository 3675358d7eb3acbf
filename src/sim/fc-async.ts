/**
 * Function Compute's async invocation, as the local FC server runs it: the function runs after the 202, and a
 * function error is retried per the function's `asyncInvokeConfig.maxAsyncRetryAttempts` (cloud-facts.md, "Retries,
 * async config, limits"). Timer triggers invoke this way (cloud-facts.md, "Timer (time) trigger").
 */

/** What runs on invoke: the event as FC passes it (a Buffer), and the request id. */
type AsyncBody = (event: Buffer, context: { requestId: string }) => Promise<string>;

// FC's default when a function sets no asyncInvokeConfig.
export const DEFAULT_ASYNC_RETRIES = 3;

/** What a timer trigger passes: `payload` is the trigger's configured string, even when it holds JSON. */
export interface TimerEvent {
  triggerTime: string;
  triggerName?: string;
  payload?: string;
}

/** The event body a timer trigger sends. */
export function timerEventBody(e: TimerEvent): Buffer {
  const event = { triggerTime: e.triggerTime, triggerName: e.triggerName ?? 'timer', payload: e.payload ?? '' };
  return Buffer.from(JSON.stringify(event));
}

/**
 * Runs an async event as FC does: once, then again with the same event after each function error (the function
 * threw: HandledInvocationError/UnhandledInvocationError), up to `retries` more times; `record.attempts` counts the
 * runs. FC waits between attempts; the sim does not, since only their number and order matter to a test.
 */
export async function runAsync(
  fn: AsyncBody,
  x: { record: { attempts?: number }; body: Buffer; requestId: string },
  retries: number,
): Promise<void> {
  for (let attempt = 0; attempt <= retries; attempt++) {
    x.record.attempts = attempt + 1;
    try {
      await fn(x.body, { requestId: x.requestId });
      return;
    } catch {
      // a function error: FC runs the event again while retries remain
    }
  }
}

/** Keeps `p` in `pending` until it settles, so a test can await every async run, retries included. */
export function track(pending: Set<Promise<unknown>>, p: Promise<unknown>): void {
  pending.add(p);
  void p.finally(() => pending.delete(p));
}
