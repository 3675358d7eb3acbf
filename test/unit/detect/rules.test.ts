import { describe, expect, it } from 'vitest';
import { fetchRules, MAX_RULE_PAGES, RULES_KEEP_MS, rulesOnce } from '../../../src/detect/rules.js';
import { Budget } from '../../../src/lib/budget.js';
import { IntegrationError } from '../../../src/lib/errors.js';
import type { SyncRule } from '../../../src/model/task.js';
import { fakeCr, fakeStore, INST, movableClock, recordingLog, T0 } from '../../support/observe-fakes.js';

const rule = (i: number): SyncRule => ({ ruleId: `crsr-${i}`, name: `rule ${i}`, scope: 'REPO' });
const deps = () => {
  const clock = movableClock(T0);
  const { store, kept } = fakeStore();
  return { budget: new Budget(clock, T0 + 65_000, 5_000), log: recordingLog(), clock, store, kept };
};
/** The same deps for a run at `t`, with that run's budget. */
const runAt = (d: ReturnType<typeof deps>, t: number) => {
  d.clock.t = t;
  return { ...d, budget: new Budget(d.clock, t + 65_000, 5_000) };
};
/** What the state keeps of `rule(i)`. */
const keptOf = (i: number) => ({ ruleId: `crsr-${i}`, name: `rule ${i}`, scope: 'REPO' });
const refusing = () => {
  throw new IntegrationError('refused', { service: 'cr', kind: 'permanent', code: 'NoPermission' });
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

describe('an instance’s sync rules kept between runs', () => {
  it('are kept when read, and serve the runs of the next hour without a call', async () => {
    const d = deps();
    const cr = fakeCr([], { rules: [rule(1), { ...rule(2), trigger: 'INITIATIVE', tagFilter: '.*' }] });
    expect((await rulesOnce(INST, cr.api, d)(['crsr-1']))?.get('crsr-1')?.name).toBe('rule 1');
    expect(d.kept.get(INST.key)).toEqual({ readAt: T0, rules: [keptOf(1), { ...keptOf(2), trigger: 'INITIATIVE' }] });
    const next = await rulesOnce(INST, cr.api, runAt(d, T0 + RULES_KEEP_MS - 1))(['crsr-1', 'crsr-2']);
    expect(next?.get('crsr-2')).toEqual({ ...keptOf(2), trigger: 'INITIATIVE' });
    expect(cr.ruleCalls).toHaveLength(1);
    await rulesOnce(INST, cr.api, runAt(d, T0 + RULES_KEEP_MS))(['crsr-1']);
    expect(cr.ruleCalls).toHaveLength(2);
    expect(d.kept.get(INST.key)?.readAt).toBe(T0 + RULES_KEEP_MS);
  });

  it('are read again, once in a run, when an alert names a rule not kept', async () => {
    const d = deps();
    d.kept.set(INST.key, { readAt: T0, rules: [keptOf(1)] });
    const cr = fakeCr([], { rules: [rule(1), rule(2)] });
    const rules = rulesOnce(INST, cr.api, d);
    expect((await rules(['crsr-1']))?.has('crsr-2')).toBe(false);
    expect(cr.ruleCalls).toHaveLength(0);
    expect((await rules(['crsr-2']))?.get('crsr-2')?.name).toBe('rule 2');
    expect((await rules(['crsr-3']))?.has('crsr-3')).toBe(false);
    expect(cr.ruleCalls).toHaveLength(1);
    expect(d.kept.get(INST.key)?.rules).toEqual([keptOf(1), keptOf(2)]);
  });

  it('are not read again in the next runs for a rule the API did not list (deleted since its task ran)', async () => {
    const d = deps();
    const cr = fakeCr([], { rules: [rule(1)] });
    await rulesOnce(INST, cr.api, d)(['crsr-1', 'crsr-gone']);
    expect(d.kept.get(INST.key)).toEqual({ readAt: T0, rules: [keptOf(1)], absent: ['crsr-gone'] });
    expect((await rulesOnce(INST, cr.api, runAt(d, T0 + 5 * 60_000))(['crsr-gone']))?.get('crsr-1')?.name).toBe(
      'rule 1',
    );
    expect(cr.ruleCalls).toHaveLength(1);
  });

  it('serve as last read, however old, when the API cannot be read, and a warning says so', async () => {
    const d = deps();
    d.kept.set(INST.key, { readAt: T0 - 5 * RULES_KEEP_MS, rules: [keptOf(1)] });
    const cr = fakeCr([], { rules: [rule(1)], before: refusing });
    expect((await rulesOnce(INST, cr.api, d)(['crsr-1']))?.get('crsr-1')?.name).toBe('rule 1');
    expect(d.log.lines.map((l) => l.msg)).toEqual(['could not read sync rules; alerts name the rules as last read']);
  });

  it('cost only the API call when the state cannot be read or written, and a warning says so', async () => {
    const d = deps();
    const cr = fakeCr([], { rules: [rule(1)] });
    const broken = { ...d.store, keptRules: async () => refusing(), keepRules: async () => refusing() };
    expect((await rulesOnce(INST, cr.api, { ...d, store: broken })(['crsr-1']))?.get('crsr-1')?.name).toBe('rule 1');
    expect(d.log.lines.map((l) => l.msg)).toEqual([
      'could not read the sync rules kept in the state; reading them from CR',
      'could not keep the sync rules in the state; the next run reads them again',
    ]);
  });
});
