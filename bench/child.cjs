// Invocations of the deployed bundle in one fresh process, as one Function Compute instance serves them;
// prints what each cost. BENCH_RUNS > 1 measures a warm instance after the first run.
const started = process.hrtime.bigint();
const { handler } = require(process.env.BENCH_BUNDLE);
const importMs = Number(process.hrtime.bigint() - started) / 1e6;
const runs = Number(process.env.BENCH_RUNS || 1);

async function main() {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const event = Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'bench', payload: '' }));
    const context = { requestId: `${process.env.BENCH_REQUEST_ID}-${i}`, credentials: JSON.parse(process.env.BENCH_CREDENTIALS), function: { name: 'acr-sync-alert', timeout: 120, memory: 512 } };
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const out = await handler(event, context);
    const cpu = process.cpuUsage(cpu0);
    results.push({ summary: JSON.parse(out), wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  process.stdout.write(JSON.stringify({ runs: results, importMs, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
}
main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n');
  process.exitCode = 1;
});
