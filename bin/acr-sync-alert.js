#!/usr/bin/env node
// The operator CLI: dist-cli/cli.js, built by `npm run build` and shipped in the package; see `acr-sync-alert help`.
let cli;
try {
  cli = await import('../dist-cli/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist-cli')) throw err;
  console.error('acr-sync-alert: dist-cli/cli.js is missing; in a checkout, run `npm run build` first');
  process.exit(1);
}
const io = { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env };
process.exitCode = await cli.main(process.argv.slice(2), io);
