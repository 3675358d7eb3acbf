import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The suite Stryker runs against each mutant: the unit tests, and the webhook integration test (the notifiers against
// local receivers, without a whole run). Each mutant's tests are loaded afresh, and a test file that starts a whole run
// (handler, simulators, SDKs) costs seconds to load: with those files a full mutation run took hours on two cores, so
// the logic they alone reached is covered by unit tests instead. `npm test` still runs everything.
// Built from the base rather than merged with it: merging would add this list to the base's, not replace it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/webhooks.test.ts',
    ],
  },
});
