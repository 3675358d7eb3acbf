import { describe, expect, it } from 'vitest';
import { addClaim, emptyTally } from '../../../src/handler/tally.js';
import { digest, failure, notice, recovered, stuck } from '../../support/alerts.js';

const claim = (over: Partial<Parameters<typeof addClaim>[1]> = {}) => ({
  claimed: [],
  muted: [],
  alreadyClaimed: new Set<string>(),
  owedWritten: new Map<string, number>(),
  ...over,
});

describe("the run's tally (addClaim)", () => {
  it('counts failures, recoveries, and stuck syncs with those that finished; notices and digests are not counted', () => {
    const t = emptyTally();
    addClaim(
      t,
      claim({
        claimed: [failure(1), failure(2), recovered(1), stuck(1), stuck(2, 'unstuck'), notice('blind'), digest()],
      }),
    );
    expect(t).toMatchObject({ failures: 2, recovered: 1, stuck: 2, muted: 0 });
  });

  it('counts a muted failure as found and as muted, unless an earlier run claimed it', () => {
    const t = emptyTally();
    const [a, b] = [failure(1), failure(2)];
    addClaim(t, claim({ muted: [a, b, recovered(3)], alreadyClaimed: new Set([b.id]) }));
    expect(t).toMatchObject({ failures: 1, recovered: 0, muted: 3 });
  });

  it('adds up the rows owed written, by target, over claims', () => {
    const t = emptyTally();
    addClaim(
      t,
      claim({
        owedWritten: new Map([
          ['slack', 2],
          ['team/dingtalk', 1],
        ]),
      }),
    );
    addClaim(t, claim({ owedWritten: new Map([['slack', 3]]) }));
    expect(t.owedNow).toEqual(
      new Map([
        ['slack', 5],
        ['team/dingtalk', 1],
      ]),
    );
  });
});
