import { describe, expect, it } from 'vitest';
import { write } from '../../../src/state/rows.js';
import { OWED_PAGE_ROWS, StateStore } from '../../../src/state/store.js';
import { MemoryTable } from '../../../src/state/table.js';
import { failureAlert, syncTask } from '../../support/build.js';

const direct = <T>(_label: string, fn: (t: number) => Promise<T>) => fn(1_000);

describe('reading what a target is owed after a burst', () => {
  it('reads it in pages of at most OWED_PAGE_ROWS rows, every alert once, so a 100,000-alert backlog is never decoded at once', async () => {
    const store = new StateStore(new MemoryTable(), 'prod', direct);
    const n = 2 * OWED_PAGE_ROWS + 7;
    const alerts = Array.from({ length: n }, (_, i) =>
      failureAlert(syncTask({ taskId: `rst-${String(i).padStart(6, '0')}` })),
    );
    await store.apply(
      alerts.map((alert) => write.owed(store.keys, { target: 'slack', alert, detectedAt: 5 })),
      'claim',
    );
    const sizes: number[] = [];
    const ids = new Set<string>();
    for await (const page of store.owed('slack')) {
      sizes.push(page.length);
      for (const p of page) ids.add(p.owed.alert.id);
    }
    expect(OWED_PAGE_ROWS).toBeLessThan(5_000);
    expect(sizes).toEqual([OWED_PAGE_ROWS, OWED_PAGE_ROWS, 7]);
    expect(ids).toEqual(new Set(alerts.map((a) => a.id)));
  });
});
