import { describe, expect, it } from 'vitest';
import { fetchRules, MAX_RULE_PAGES, rulesOnce } from '../../../src/detect/rules.js';
import { Budget } from '../../../src/lib/budget.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { SyncRule } from '../../../src/model/task.js';
import { fakeCr, INST, movableClock, recordingLog, T0 } from '../../support/observe-fakes.js';

const rule = (i: number): SyncRule => ({ ruleId: `crsr-${i}`, name: `rule ${i}`, scope: 'REPO' });
const deps = () => {
  const clock = movableClock(T0);
  return { budget: new Budget(clock, T0 + 65_000, 5_000), log: recordingLog() };
};

describe('reading sync rules', () => {
  it('reads every page until a short one, and keys the rules by id', async () => {
    const cr = fakeCr([], { rules: Array.from({ length: 120 }, (_, i) => rule(i)) });
    const rules = await fetchRules(INST, cr.api, deps());
    expect(rules.size).toBe(120);
    expect(rules.get('crsr-7')?.name).toBe('rule 7');
    expect(cr.ruleCalls.map((c) => c.pageNo)).toEqual([1, 2, 3]);
  });

  it(`reads at most ${MAX_RULE_PAGES} pages of a list that never ends`, async () => {
    const cr = fakeCr([], { rules: Array.from({ length: 50 * (MAX_RULE_PAGES + 5) }, (_, i) => rule(i)) });
    await fetchRules(INST, cr.api, deps());
    expect(cr.ruleCalls).toHaveLength(MAX_RULE_PAGES);
  });
});

describe('an instance’s sync rules in one run', () => {
  it('are read only when first asked, and once however often they are asked', async () => {
    const cr = fakeCr([], { rules: [rule(1)] });
    const rules = rulesOnce(INST, cr.api, deps());
    expect(cr.ruleCalls).toEqual([]);
    const [a, b] = await Promise.all([rules(), rules()]);
    expect(a?.get('crsr-1')).toEqual(rule(1));
    expect(b).toBe(a);
    expect(cr.ruleCalls).toHaveLength(1);
  });

  it('are undefined, with a warning, when they cannot be read', async () => {
    const d = deps();
    const cr = fakeCr([], {
      before: () => {
        throw new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'NoPermission' });
      },
    });
    const rules = rulesOnce(INST, cr.api, d);
    expect(await rules()).toBeUndefined();
    expect(await rules()).toBeUndefined();
    expect(d.log.lines.map((l) => l.msg)).toEqual(['could not read sync rules; alerts go out without rule names']);
  });
});
