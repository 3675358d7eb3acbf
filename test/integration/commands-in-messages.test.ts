import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { closeDeployed, KEY_ENV, startDeployedFunction } from '../support/deployed.js';
import { instanceWithOneFailure } from '../support/one-failure.js';
import { announcedIds, startWorld, type World } from '../support/world.js';

// Issue 22: the silence command a message printed needed the deployment's settings exported to act on it; pasted
// anywhere else it was refused (or, before that, wrote a local file no deployed run reads).
const keys = KEY_ENV;

let world: World | undefined;
afterEach(closeDeployed);

/** Splits a command line as a POSIX shell would for what our messages print: words, and "double-quoted" words. */
const words = (command: string) => [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

describe('the silence command in a message, pasted where the operator is', () => {
  it('names the function that sent it, and pasted with nothing of the deployment set, mutes that group', async () => {
    // The runtime sets FC_FUNCTION_NAME and FC_REGION in the function's environment.
    world = await startWorld({
      instances: [instanceWithOneFailure('cri-pasted', 'rst-p1')],
      tablestore: true,
      env: { FC_FUNCTION_NAME: 'acr-sync-alert', FC_REGION: 'cn-hangzhou' },
    });
    const { STATE_FILE: _f, FC_FUNCTION_NAME: _n, FC_REGION: _r, ...configured } = world.env;
    const fc = await startDeployedFunction(configured);
    await world.run();
    const body = JSON.stringify(world.hooks.received.find((m) => m.channel === 'dingtalk')!.body);
    const printed = JSON.parse(`"${/acr-sync-alert silence add [^`\\]*(?:\\"[^\\]*\\")?/.exec(body)![0]}"`) as string;
    expect(printed).toBe(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-pasted --rule crsr-1 --cause TAG_CONFLICT --for 2h ' +
        '--function acr-sync-alert --region cn-hangzhou --comment "why"',
    );
    // The operator's shell has credentials and nothing else; --endpoint points FC at the local server.
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env: { ...keys } };
    expect(await main([...words(printed).slice(1), '--endpoint', fc.endpoint], io)).toBe(0);
    expect(err).toEqual([]);
    expect(fc.configReads).toEqual([{ name: 'acr-sync-alert', status: 200 }]);
    world.cr.instances[0]!.tasks.push({
      ...world.cr.instances[0]!.tasks[0]!,
      SyncTaskId: 'rst-p2',
      CreateTime: Date.now() - 1_000,
    });
    const next = await world.run();
    expect(next.muted).toBe(1);
    expect(announcedIds(world.hooks, 'dingtalk')).toEqual(['rst-p1']);
  });
});
