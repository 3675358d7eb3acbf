import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package's version, from its package.json: the nearest one named acr-sync-alert above this module (the
 * installed package's beside dist-cli/, or the checkout's above src/cli/). "unknown" when none is found.
 */
export function packageVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'acr-sync-alert' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: keep looking upwards
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
