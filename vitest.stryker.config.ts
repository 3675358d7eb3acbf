import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The suite Stryker runs against each mutant: the unit tests, and the integration tests that are quick and the only
// ones to cover some logic (command line, ACR client, routing and silences end to end, state upgrades, webhook
// answers). Left out: the handler and history runs (seconds each, covered in units), fault injection (its runs are
// child processes a mutant never reaches), the Tablestore SDK adapter (minutes on the wire), packaging and simulators.
// Built from the base rather than merged with it: merging would add this list to the base's, not replace it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/cli.test.ts',
      'test/integration/cr-client.test.ts',
      'test/integration/routing.test.ts',
      'test/integration/silence.test.ts',
      'test/integration/upgrade.test.ts',
      'test/integration/webhooks.test.ts',
    ],
  },
});
