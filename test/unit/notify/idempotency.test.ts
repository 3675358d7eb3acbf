import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../../src/notify/deliver.js';

describe('the idempotency key of a message', () => {
  it('is the one earlier releases sent for the same alerts, so a retry across an upgrade is still recognised as a repeat', () => {
    // The digest earlier releases computed: target, newline, the sorted ids joined by newlines.
    const earlier = (target: string, ids: string[]) =>
      createHash('sha256')
        .update(`${target}\n${[...ids].sort().join('\n')}`)
        .digest('hex')
        .slice(0, 32);
    const ids = ['cn-hangzhou:cri-b/rst-2', 'cn-hangzhou:cri-a/rst-1', 'cn-shanghai:cri-c/rst-3'];
    expect(idempotencyKey('dingtalk', ids)).toBe(earlier('dingtalk', ids));
    expect(idempotencyKey('team-a/slack', ids.slice(0, 1))).toBe(earlier('team-a/slack', ids.slice(0, 1)));
  });

  it('is the same for the same alerts in any order, and differs when one alert or the target differs', () => {
    const ids = ['x/rst-1', 'x/rst-2', 'x/rst-3'];
    expect(idempotencyKey('slack', ids)).toBe(idempotencyKey('slack', [...ids].reverse()));
    expect(idempotencyKey('slack', ids)).not.toBe(idempotencyKey('slack', ids.slice(1)));
    expect(idempotencyKey('slack', ids)).not.toBe(idempotencyKey('dingtalk', ids));
  });
});
