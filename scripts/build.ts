/**
 * `npm run build`: bundles the Function Compute handler into dist/ (the folder s.yaml deploys): one minified
 * CommonJS file with its dependencies, so the deployed code is small and imports fast. The simulator, CLI and
 * @alicloud/fc2 are not reachable from src/index.ts and so are not in it.
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/**
 * The function posts JSON through axios's Node http adapter. On import, axios reads `globalThis.FormData` (to
 * recognise FormData bodies) and its fetch adapter probes the fetch API: either loads Node's bundled undici and
 * compiles its WASM HTTP parser, memory and cold-start time spent on every instance for bodies and an adapter the
 * function never uses (axios tries http before fetch). In the bundle, axios sees no
 * FormData and a fetch adapter that says "not available". The build fails if axios changes so that this no longer
 * applies, and the bundle test checks that importing the bundle leaves undici unloaded.
 */
const FORM_DATA_PROBE = "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;";
const axiosWithoutUndici: Plugin = {
  name: 'axios-without-undici',
  setup(b) {
    b.onResolve({ filter: /^\.\/fetch\.js$/ }, (args) =>
      /[\\/]axios[\\/]lib[\\/]adapters[\\/]adapters\.js$/.test(args.importer)
        ? { path: 'axios-fetch-adapter', namespace: 'no-fetch' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-fetch' }, () => ({
      contents: 'export const getFetch = () => false;\nexport default false;\n',
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]utils\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(FORM_DATA_PROBE))
        throw new Error(
          `axios's FormData probe changed (${args.path}); revisit axiosWithoutUndici in scripts/build.ts`,
        );
      return { contents: source.replace(FORM_DATA_PROBE, 'const FormDataCtor = undefined;'), loader: 'js' };
    });
  },
};

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
  plugins: [axiosWithoutUndici],
});
// esbuild makes the whole bundle strict because the entry is an ES module. CommonJS dependencies were written for
// sloppy mode, and the tablestore SDK relies on it (computePrimaryKeySize assigns an undeclared `key`, a
// ReferenceError under "use strict"): drop the file-wide directive so each module runs as it does under Node.
const bundlePath = `${out}/index.js`;
const code = readFileSync(bundlePath, 'utf8');
if (!code.startsWith('"use strict";'))
  throw new Error('expected esbuild to open the bundle with "use strict"; check the build');
writeFileSync(bundlePath, code.slice('"use strict";'.length));
// Without this, Node would read the repository's "type": "module" when the bundle is loaded locally.
writeFileSync(`${out}/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
// The bundle map stays outside dist/, which is deployed as it is.
mkdirSync('.cache', { recursive: true });
writeFileSync('.cache/bundle-meta.json', JSON.stringify(result.metafile));
const bytes = statSync(`${out}/index.js`).size;
console.log(`built ${out}/index.js: ${(bytes / 1024).toFixed(0)} KiB (handler: index.handler)`);
