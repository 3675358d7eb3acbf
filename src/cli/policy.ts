import { RAM_ACTION } from '../acr/client.js';
import type { Config } from '../config/config.js';
import { OTS_RAM_ACTIONS } from '../state/tablestore.js';

/** The region in a Tablestore endpoint (https://<instance>.<region>.ots.aliyuncs.com), or * when it has none. */
const regionOf = (endpoint: string) =>
  /^https?:\/\/[^.]+\.([a-z]{2,}(?:-[a-z0-9]+)+)\.ots(?:-internal)?\.aliyuncs\.com/.exec(endpoint)?.[1] ?? '*';

/**
 * The least-privilege RAM policy for this configuration: the CR reads on each configured instance, and the Tablestore
 * actions the state table needs on the configured table only. Tablestore resources name the instance in lowercase.
 */
export function ramPolicy(config: Pick<Config, 'instances' | 'store'>, accountId: string): unknown {
  const cr = {
    Effect: 'Allow',
    Action: [...new Set(Object.values(RAM_ACTION))],
    Resource: config.instances.flatMap((i) => [
      `acs:cr:${i.regionId}:${accountId}:repository/${i.instanceId}`,
      `acs:cr:${i.regionId}:${accountId}:repository/${i.instanceId}/*`,
    ]),
  };
  const statements: unknown[] = [cr];
  if (config.store.kind === 'tablestore') {
    const { endpoint, instance, table } = config.store;
    statements.push({
      Effect: 'Allow',
      Action: [...OTS_RAM_ACTIONS],
      Resource: [`acs:ots:${regionOf(endpoint)}:${accountId}:instance/${instance.toLowerCase()}/table/${table}`],
    });
  }
  return { Version: '1', Statement: statements };
}
