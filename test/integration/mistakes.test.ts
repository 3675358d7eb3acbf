import { afterEach, describe, expect, it } from 'vitest';
import { instanceWithOneFailure } from '../support/one-failure.js';
import { closeWorlds, startWorld } from '../support/world.js';

// Issue 22: `s invoke -e '{"dryRun":true}'` ran live and sent real messages; a mistyped setting was ignored in silence.
afterEach(closeWorlds);

const instances = () => [instanceWithOneFailure('cri-mistakes', 'rst-mk1')];

describe('the real handler, invoked the way people invoke it', () => {
  it('honours {"dryRun":true} given as the whole event: nothing is posted, nothing is recorded', async () => {
    const w = await startWorld({ instances: instances() });
    const summary = await w.run({ event: '{"dryRun":true}' });
    expect(summary).toMatchObject({ outcome: 'dry-run', dryRun: true });
    expect(w.hooks.attempts).toHaveLength(0);
    expect(w.logs.some((l) => l.includes('dry run: message not sent'))).toBe(true);
    // A live run afterwards still announces the failure: the dry run recorded nothing.
    await w.run();
    expect(JSON.stringify(w.hooks.received)).toContain('rst-mk1');
  });

  it('refuses a mistyped option naming the field and the accepted ones, before sending anything', async () => {
    const w = await startWorld({ instances: instances() });
    await expect(w.run({ event: '{"dryrun":true}' })).rejects.toThrow(
      'trigger event: unknown field "dryrun": did you mean "dryRun"? accepted: dryRun, digest',
    );
    expect(w.hooks.attempts).toHaveLength(0);
  });

  it('warns of a setting that looks like ours, naming the real one, and runs', async () => {
    const w = await startWorld({ instances: instances(), env: { ALERT_TIMEZOME: 'Asia/Shanghai' } });
    await w.run();
    const warned = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'warn');
    expect(warned.map((l) => l.msg)).toContain(
      'ALERT_TIMEZOME is not a setting of this function and is ignored: did you mean ALERT_TIMEZONE?',
    );
  });

  it('refuses a time zone abbreviation that Intl would read as another zone: CST is not Asia/Shanghai', async () => {
    const w = await startWorld({ instances: instances(), env: { ALERT_TIMEZONE: 'CST' } });
    await expect(w.run()).rejects.toThrow('ALERT_TIMEZONE "CST" is an abbreviation or alias');
    expect(w.hooks.attempts).toHaveLength(0);
  });
});
