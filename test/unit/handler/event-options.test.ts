import { describe, expect, it } from 'vitest';
import { parseTimerEvent } from '../../../src/handler/event.js';
import { ConfigError } from '../../../src/lib/errors.js';

const problemsOf = (event: unknown): readonly string[] => {
  try {
    parseTimerEvent(Buffer.from(JSON.stringify(event)));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('the options a run is invoked with', () => {
  it('are read from the top level when the event is the options themselves, as `s invoke -e` is given them', () => {
    expect(parseTimerEvent(Buffer.from('{"dryRun":true}')).options).toEqual({ dryRun: true, digest: false });
    expect(parseTimerEvent('{"digest":true}').options).toEqual({ dryRun: false, digest: true });
    // The timer's own event still reads its payload.
    const timer = { triggerTime: '2026-12-03T10:00:00Z', triggerName: 't', payload: '{"dryRun":true}' };
    expect(parseTimerEvent(Buffer.from(JSON.stringify(timer))).options).toEqual({ dryRun: true, digest: false });
  });

  it('name a mistyped field, the field meant and the accepted ones, in plain words, at the top level or in payload', () => {
    expect(problemsOf({ dryrun: true })).toEqual([
      'trigger event: unknown field "dryrun": did you mean "dryRun"? accepted: dryRun, digest',
    ]);
    expect(problemsOf({ triggerName: 't', payload: '{"dry_run":true,"digest":"yes"}' })).toEqual([
      'trigger payload: unknown field "dry_run": did you mean "dryRun"? accepted: dryRun, digest',
      'trigger payload: field "digest" must be true or false',
    ]);
    expect(problemsOf({ verbose: 1 })).toEqual(['trigger event: unknown field "verbose": accepted: dryRun, digest']);
    expect(problemsOf({ triggerName: 't', payload: '', dryRun: true })).toEqual([
      'trigger event field "dryRun" is not read: give options in "payload" (accepted: dryRun, digest)',
    ]);
    for (const p of [...problemsOf({ dryrun: true }), ...problemsOf({ triggerName: 't', payload: '{"x":1}' })])
      expect(p).not.toMatch(/Invalid key|Expected|received/);
  });
});
