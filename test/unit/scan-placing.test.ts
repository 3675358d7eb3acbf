import { describe, expect, it } from 'vitest';
import { api, history, MIN, NOW, run } from '../support/scan-list.js';

describe('placing a stretch left unread', () => {
  it('reads a stretch whose place, guessed from a rate measured in a burst, lies past the end of the list', async () => {
    const a = api(history(100));
    // 600 an hour would put the stretch 500 tasks down; the list holds 100.
    const { ids, result } = await run(a, { cursor: { top: NOW - MIN, gaps: [{ hi: NOW - 51 * MIN, lo: NOW - 90 * MIN }], order: 'desc', rate: 600 } });
    expect(ids).toContain('rst-t50');
    expect(ids).toContain('rst-t89');
    expect(result.complete).toBe(true);
  });
});
