import { describe, expect, it } from 'vitest';
import { contentOf, type MessageContent } from '../../../src/render/content.js';
import { FULL_MAX, LINES_MAX, MINIMAL, RUNGS, type Detail } from '../../../src/render/detail.js';
import { dingtalkBytes } from '../../../src/render/dingtalk.js';
import { fitDetail } from '../../../src/render/fit.js';
import { MAX_SHRINK, renderFor, renderTestMessage } from '../../../src/render/index.js';
import { allBlocks } from '../../../src/render/slack.js';
import { digest, failure, recovered, stuck } from '../../support/alerts.js';

/** Content with `n` failure groups: fitting only looks at how many there are. */
const groups = (n: number) => ({ groups: Array.from({ length: n }, () => ({})) }) as unknown as MessageContent;
const fit = (n: number, fits: (d: Detail) => boolean) => fitDetail(groups(n), (d) => d, fits);

describe('fitting a message to its budget', () => {
  it('takes the richest detail when everything fits', () => {
    expect(fit(3, () => true)).toEqual({ ...RUNGS[0], full: 3, lines: 0 });
    expect(fit(FULL_MAX + LINES_MAX + 5, () => true)).toEqual({ ...RUNGS[0], full: FULL_MAX, lines: LINES_MAX });
    expect(fit(FULL_MAX + 4, () => true)).toEqual({ ...RUNGS[0], full: FULL_MAX, lines: 4 });
  });

  it('shows as many groups in full as fit at the richest rung that fits any, the next ones as lines', () => {
    expect(fit(25, (d) => d.full <= 7)).toEqual({ ...RUNGS[0], full: 7, lines: 18 });
    expect(fit(25, (d) => d.full <= 1)).toEqual({ ...RUNGS[0], full: 1, lines: 24 });
    expect(fit(25, (d) => d.full <= 19)).toEqual({ ...RUNGS[0], full: 19, lines: 6 });
    expect(fit(25, (d) => d.examples <= 3 && d.full <= 12)).toEqual({ ...RUNGS[1], full: 12, lines: 13 });
    expect(fit(4, (d) => !d.commands && d.full <= 2)).toEqual({ ...RUNGS[4], full: 2, lines: 2 });
  });

  it('falls back to groups on one line each, as many as fit, then to the minimal message', () => {
    expect(fit(40, (d) => d.full === 0 && d.lines <= 9)).toEqual({
      ...RUNGS[RUNGS.length - 1],
      full: 0,
      lines: 9,
      items: 1,
    });
    expect(fit(40, (d) => d.full === 0 && d.lines <= LINES_MAX)).toEqual({
      ...RUNGS[RUNGS.length - 1],
      full: 0,
      lines: LINES_MAX,
      items: 1,
    });
    expect(fit(3, (d) => d.full === 0 && d.lines <= 1)).toEqual({
      ...RUNGS[RUNGS.length - 1],
      full: 0,
      lines: 1,
      items: 1,
    });
    expect(fit(40, () => false)).toEqual(MINIMAL);
  });

  it('lists at most 30 groups on lines even when more would fit', () => {
    expect(fit(40, (d) => d.full === 0 && d.lines <= 35)).toEqual({
      ...RUNGS[RUNGS.length - 1],
      full: 0,
      lines: LINES_MAX,
      items: 1,
    });
  });

  it('without failure groups, takes the richest rung that fits, else the minimal message', () => {
    expect(fit(0, () => true)).toEqual({ ...RUNGS[0], full: 0, lines: 0 });
    expect(fit(0, (d) => d.items <= 3)).toEqual({ ...RUNGS[3], full: 0, lines: 0 });
    expect(fit(0, () => false)).toEqual(MINIMAL);
    // With nothing to list on lines, fewer items than the leanest rung's is the minimal message itself.
    expect(fit(0, (d) => d.items <= 1)).toEqual(MINIMAL);
  });
});

describe('rendering smaller after a refusal', () => {
  const c = contentOf([
    ...Array.from({ length: 120 }, (_, i) => failure(i, { ruleId: `crsr-${i % 60}` })),
    stuck(1),
    recovered(1),
    digest(),
  ]);
  const size = (shrink: number) => dingtalkBytes(renderFor('dingtalk', c, 'en', { shrink }));

  it('takes a shrink step as a whole number from 0 to the last step', () => {
    // Too large to fit whole: a negative step taken as a larger budget would show more.
    expect(size(0)).toBeGreaterThan(16_000 / 2);
    expect(size(2)).toBeLessThan(size(1));
    expect(size(-3)).toBe(size(0));
    expect(size(1.9)).toBe(size(1));
    expect(size(MAX_SHRINK + 5)).toBe(size(MAX_SHRINK));
  });

  it('shrinks Slack messages the same way', () => {
    const chars = (shrink: number) => JSON.stringify(allBlocks(renderFor('slack', c, 'en', { shrink }))).length;
    expect(chars(1)).toBeLessThanOrEqual(11_000 / 2);
    expect(chars(2)).toBeLessThan(chars(1));
  });
});

describe('the test message', () => {
  it('proves a DingTalk webhook works, naming the instances inert, in both languages', () => {
    expect(renderTestMessage('dingtalk', ['cn-hangzhou:cri-a', 'cn-shanghai:[b]'], 'en')).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: 'ACR sync alert: test message',
        text: '#### ✅ ACR sync alert: test message\n\nThis channel will receive acr-sync-alert messages about image syncs of cn-hangzhou:cri-a, cn-shanghai:［b］',
      },
    });
    expect(renderTestMessage('dingtalk', ['a', 'b'], 'zh')).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: 'ACR 同步告警：测试消息',
        text: '#### ✅ ACR 同步告警：测试消息\n\n此会话将收到 acr-sync-alert 发送的镜像同步告警，涉及实例 a，b',
      },
    });
  });

  it('proves a Slack webhook works, naming the instances in code spans', () => {
    expect(renderTestMessage('slack', ['cn-hangzhou:cri-a', '<!here>'], 'en')).toEqual({
      text: 'ACR sync alert: test message',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*✅ ACR sync alert: test message*\nThis channel will receive acr-sync-alert messages about image syncs of `cn-hangzhou:cri-a`, `&lt;!here&gt;`',
          },
        },
      ],
    });
  });
});
