import { readConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/lib/errors.js';

const BASE = { ACR_INSTANCES: 'cn-hangzhou:cri-abc', SLACK_WEBHOOK: 'https://hooks.slack.com/services/a' };

/** The configuration problems `env` (on top of a valid minimum) produces, joined; '' when it is valid. */
export function configProblems(env: Record<string, string>): string {
  try {
    readConfig({ ...BASE, ...env });
    return '';
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.join('\n');
    throw e;
  }
}
