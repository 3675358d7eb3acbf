import { describe, expect, it } from 'vitest';
import type { KeptRules } from '../../../src/model/state.js';
import { keysFor } from '../../../src/state/rows.js';
import { StateStore } from '../../../src/state/store.js';
import { MemoryTable } from '../../../src/state/table.js';
import { readState } from '../../support/state.js';

const INST = 'cn-hangzhou:cri-a';
const T0 = 1_800_000_000_000;
const KEPT: KeptRules = {
  readAt: T0,
  rules: [
    { ruleId: 'crsr-1', name: 'to shanghai', scope: 'REPO', trigger: 'PASSIVE' },
    { ruleId: 'crsr-2', name: 'manual', scope: 'NAMESPACE' },
  ],
  absent: ['crsr-gone'],
};

function store() {
  const table = new MemoryTable('memory, kept rules');
  return {
    table,
    store: new StateStore(
      table,
      'rules',
      (_label, fn) => fn(5_000),
      () => T0,
    ),
  };
}

describe('the sync rules kept for an instance (StateStore.keptRules, StateStore.keepRules)', () => {
  it('are none until kept, then read back as kept, in one row among the instance’s own', async () => {
    const { table, store: s } = store();
    expect(await s.keptRules(INST)).toBeUndefined();
    await s.keepRules(INST, KEPT);
    expect(await s.keptRules(INST)).toEqual(KEPT);
    expect(await s.keptRules('cn-hangzhou:cri-b')).toBeUndefined();
    expect(keysFor('rules').rules(INST)).toBe(`${keysFor('rules').cursor(INST).slice(0, -1)}r`);
    const view = await readState(table, 'rules', [INST]);
    expect(view.rules).toEqual({ [INST]: KEPT });
    expect(view.rows).toBe(1);
  });

  it('are replaced whole when kept again', async () => {
    const { store: s } = store();
    await s.keepRules(INST, KEPT);
    const later = { readAt: T0 + 3_600_000, rules: [KEPT.rules[0]!] };
    await s.keepRules(INST, later);
    expect(await s.keptRules(INST)).toEqual(later);
  });

  it('stop the run naming the row when it is damaged', async () => {
    const { table, store: s } = store();
    const key = keysFor('rules').rules(INST);
    await table.writeRows([{ op: 'put', key, cols: { j: JSON.stringify({ readAt: 'soon', rules: [] }) } }]);
    await expect(s.keptRules(INST)).rejects.toThrow(`the state row ${key} is damaged (readAt:`);
  });
});
