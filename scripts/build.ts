/**
 * `npm run build`: bundles the Function Compute handler into dist/ (the folder s.yaml deploys): one minified
 * CommonJS file with its dependencies, so the deployed code is small and imports fast. The simulator, CLI and
 * @alicloud/fc2 are not reachable from src/index.ts and so are not in it.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: ['src/index.ts'],
  outfile: `${out}/index.js`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
// esbuild makes the whole bundle strict because the entry is an ES module. CommonJS dependencies were written for
// sloppy mode, and the tablestore SDK relies on it (computePrimaryKeySize assigns an undeclared `key`, a
// ReferenceError under "use strict"): drop the file-wide directive so each module runs as it does under Node.
const bundlePath = `${out}/index.js`;
const code = readFileSync(bundlePath, 'utf8');
if (!code.startsWith('"use strict";')) throw new Error('expected esbuild to open the bundle with "use strict"; check the build');
writeFileSync(bundlePath, code.slice('"use strict";'.length));
// Without this, Node would read the repository's "type": "module" when the bundle is loaded locally.
writeFileSync(`${out}/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
// The bundle map stays outside dist/, which is deployed as it is.
mkdirSync('.cache', { recursive: true });
writeFileSync('.cache/bundle-meta.json', JSON.stringify(result.metafile));
const bytes = statSync(`${out}/index.js`).size;
console.log(`built ${out}/index.js: ${(bytes / 1024).toFixed(0)} KiB (handler: index.handler)`);
