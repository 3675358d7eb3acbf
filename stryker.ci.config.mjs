// The mutation run CI keeps: the modules behind the regressions mutation testing first found (a watched sync lost,
// owed alerts given up, log scrubbing, a digest sent twice, look-alike webhook hosts, a cause's severity, mentions, Retry-After),
// small enough to take a few minutes on two cores. A score below `break` fails CI.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: [
    'src/model/issue.ts',
    'src/model/classify.ts',
    'src/detect/watch.ts',
    'src/config/webhooks.ts',
    'src/lib/log.ts',
    'src/lib/secret.ts',
    'src/lib/retry.ts',
    'src/notify/retry-after.ts',
    'src/notify/deliver.ts',
    'src/notify/after-delivery.ts',
    'src/notify/pause.ts',
    'src/plan/plan.ts',
    'src/render/index.ts',
  ],
  // CI starts from a fresh clone: every mutant is tested each time, and nothing is kept.
  incremental: false,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: '.cache/stryker/ci-report.json' },
  thresholds: { high: 95, low: 90, break: 85 },
};
