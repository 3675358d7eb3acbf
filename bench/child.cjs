// Invocations of a bundle in one fresh process, as one Function Compute instance serves them; prints what each cost.
// BENCH_RUNS > 1 measures a warm instance after the first run. BENCH_TIMEOUT is the function's timeout in seconds
// (fractional when the bench scales time down), from which the run derives its time budget.
// BENCH_STEPPED=1 (the slow API part): after each run the process tells the bench over IPC what it cost and waits for
// the bench's answer: stop, or the clock offset and timeout of the next run. The bench moves the clock between runs
// (see clock.cjs; BENCH_CLOCK_OFFSET_MS is where it starts) and its local servers' clock alike, and changes the world
// as time passes.
const stepped = process.env.BENCH_STEPPED === '1' && typeof process.send === 'function';
let clockOffsetMs = Number(process.env.BENCH_CLOCK_OFFSET_MS || 0);
if (stepped || clockOffsetMs !== 0) require('./clock.cjs').shiftClock(() => clockOffsetMs);
const started = process.hrtime.bigint();
const { handler } = require(process.env.BENCH_BUNDLE);
const importMs = Number(process.hrtime.bigint() - started) / 1e6;
const runs = Number(process.env.BENCH_RUNS || 1);
let timeout = Number(process.env.BENCH_TIMEOUT || 120);

/** Tells the bench run `i` is done and takes its answer; false when it says stop. */
async function next(i, result) {
  const answer = new Promise((resolve) => process.once('message', resolve));
  process.send({ run: i, result });
  const a = await answer;
  if (a.offsetMs !== undefined) clockOffsetMs = a.offsetMs;
  if (a.timeout !== undefined) timeout = a.timeout;
  return !a.stop;
}

// Peaks of the heap and of memory outside it (Buffers from the SDKs), sampled, to tell which one an RSS peak is.
const peak = { heapMB: 0, externalMB: 0 };
const sample = () => {
  const m = process.memoryUsage();
  peak.heapMB = Math.max(peak.heapMB, Math.round(m.heapUsed / 2 ** 20));
  peak.externalMB = Math.max(peak.externalMB, Math.round(m.external / 2 ** 20));
};
setInterval(sample, 25).unref();

/**
 * This process's own peak resident memory. Not getrusage's maxRSS: Linux carries it over from the process that
 * spawned us (the bench, with the local servers' data), so it would report the bench's size, not the function's.
 * VmHWM belongs to the address space this process got when it started.
 */
function peakRssMB() {
  try {
    const kb = /VmHWM:\s*(\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Math.round(Number(kb[1]) / 1024);
  } catch {
    // Not Linux: getrusage's figure, with the caveat above.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function main() {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const event = Buffer.from(
      JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'bench', payload: '' }),
    );
    const context = {
      requestId: `${process.env.BENCH_REQUEST_ID}-${i}`,
      credentials: JSON.parse(process.env.BENCH_CREDENTIALS),
      function: { name: 'acr-sync-alert', timeout, memory: 256 },
    };
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let summary;
    let error;
    try {
      summary = JSON.parse(await handler(event, context));
    } catch (err) {
      error = String((err && err.message) || err);
    }
    const cpu = process.cpuUsage(cpu0);
    results.push({
      summary,
      error,
      wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
    if (stepped && !(await next(i, results[i]))) break;
  }
  const cpu = process.cpuUsage();
  process.stdout.write(
    JSON.stringify({
      runs: results,
      importMs,
      processCpuMs: (cpu.user + cpu.system) / 1000,
      maxRssMB: peakRssMB(),
      ...peak,
    }) + '\n',
  );
}
main()
  .catch((err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n');
    process.exitCode = 1;
  })
  .finally(() => {
    if (stepped) process.disconnect();
  });
