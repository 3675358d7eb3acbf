import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config.js';

/**
 * Stryker runs a mutant's tests one file at a time and stops at the first failure; vitest's own order runs the
 * slowest files first, so a mutant a quick unit test kills still waited for the property test and the webhook
 * receivers. This order runs the file that failed last first (neighbouring mutants tend to fall to the same tests),
 * then the quickest: the same tests run, a killed mutant just costs less.
 */
class QuickFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const state = (f: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`);
    const rank = (f: TestSpecification) => {
      const s = state(f);
      return s?.failed ? -1 : (s?.duration ?? 0);
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

// The suite Stryker runs against each mutant: the unit tests, and the webhook integration test (the notifiers against
// local receivers, without a whole run). Each mutant's tests are loaded afresh, and a test file that starts a whole run
// (handler, simulators, SDKs) costs seconds to load: with those files a full mutation run took hours on two cores, so
// the logic they alone reached is covered by unit tests instead. `npm test` still runs everything.
// Built from the base rather than merged with it: merging would add this list to the base's, not replace it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    sequence: { ...base.test?.sequence, sequencer: QuickFirst },
    // The render property test and the budget test run for every mutant in src/render: a few seeds and a few thousand
    // failures (still far past either platform's budget) keep each mutant's run to about a second; `npm test` runs
    // them at full size (40 seeds, 100,000 failures).
    env: { ...base.test?.env, RENDER_PROPERTY_SEEDS: '4', RENDER_BUDGET_FAILURES: '2000' },
    include: ['test/unit/**/*.test.ts', 'test/integration/webhooks.test.ts'],
  },
});
