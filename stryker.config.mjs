// Mutation testing: which regressions in the modules that decide behaviour would the suite let through?
// `npm run mutate` covers them all; `npm run mutate:ci` (stryker.ci.config.mjs) a fast subset that CI keeps.

/** The modules that decide what is alerted, when, to whom and how it is kept. */
export const decisionModules = [
  'src/detect/**/*.ts',
  'src/model/issue.ts',
  'src/model/classify.ts',
  'src/plan/**/*.ts',
  'src/render/**/*.ts',
  'src/notify/deliver.ts',
  'src/notify/delivery.ts',
  'src/notify/after-delivery.ts',
  'src/notify/pause.ts',
  'src/notify/split.ts',
  'src/notify/post.ts',
  'src/notify/retry-after.ts',
  'src/notify/dingtalk.ts',
  'src/notify/slack.ts',
  'src/config/**/*.ts',
  'src/state/store.ts',
  'src/state/rows.ts',
  'src/state/table.ts',
  'src/state/upgrade.ts',
  'src/state/earlier-document.ts',
  'src/state/overlay.ts',
  // The run's decisions: what a claim counts and writes, notices and digests, the lease.
  'src/handler/claim.ts',
  'src/handler/notices.ts',
  'src/handler/tally.ts',
  'src/handler/lease.ts',
  'src/lib/retry.ts',
  'src/lib/budget.ts',
  'src/lib/secret.ts',
  'src/lib/log.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: decisionModules,
  coverageAnalysis: 'perTest',
  // A mutant in a module-level constant (a table of causes, the words of a message) is active before any test runs,
  // so every test would have to run for it: hours on this suite. Those constants are pinned by tests that read them.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: '.cache/stryker/incremental.json',
  tempDirName: '.cache/stryker/tmp',
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.cache/stryker/report.html' },
  jsonReporter: { fileName: '.cache/stryker/report.json' },
  thresholds: { high: 90, low: 85, break: null },
  cleanTempDir: 'always',
  // Packaging, pictures and benchmarks play no part in a mutant's fate; copying them only slows the sandbox.
  ignorePatterns: ['.cache', 'dist', 'docs', 'bench', 'coverage'],
};
