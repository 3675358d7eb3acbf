/**
 * `npm run build` (second step): bundles the operator CLI (src/cli/main.ts) into dist-cli/cli.js, the plain
 * JavaScript that bin/acr-sync-alert.js runs, so the published package runs without TypeScript or tsx. Its
 * dependencies stay external: they are the package's `dependencies`, installed beside it. dist-cli/ is not in
 * dist/, which s.yaml deploys: nothing of the CLI enters the function's code.
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, statSync } from 'node:fs';

const out = 'dist-cli';
mkdirSync(out, { recursive: true });
// Written beside and renamed: a test that builds while another runs the CLI never sees half a file.
const temp = `${out}/cli.${process.pid}.tmp.js`;
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: temp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});
renameSync(temp, `${out}/cli.js`);
const bytes = statSync(`${out}/cli.js`).size;
console.log(`built ${out}/cli.js: ${(bytes / 1024).toFixed(0)} KiB (bin/acr-sync-alert.js runs it)`);
