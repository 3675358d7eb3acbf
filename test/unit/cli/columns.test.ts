import { describe, expect, it } from 'vitest';
import { columns, displayWidth } from '../../../src/cli/columns.js';

describe('columns for a terminal', () => {
  it('counts a Chinese character or a full-width form as two columns, a combining mark as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('发布到上海')).toBe(10);
    expect(displayWidth('ＡＢ')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
  });

  it('starts each column at the same terminal column in every row, Chinese cells included', () => {
    const lines = columns([
      ['ID', 'MATCHES', 'ENDS', 'COMMENT'],
      ['a1b2c3d4', 'rule=发布到上海', '2027-01-15T10:00:00Z', '发布冻结'],
      ['e5f6a7b8', 'rule=release-to-shanghai', '2027-01-15T11:00:00Z', 'freeze'],
    ]);
    const startOf = (l: string, what: string) => displayWidth(l.slice(0, l.indexOf(what)));
    expect(new Set([startOf(lines[0]!, 'ENDS'), startOf(lines[1]!, '2027'), startOf(lines[2]!, '2027')]).size).toBe(1);
    expect(new Set(lines.slice(1).map((l) => startOf(l, 'rule=')))).toEqual(new Set([10]));
  });

  it('cuts a cell wider than the cap with an ellipsis so the next column stays aligned; the last column whole', () => {
    const long = 'x'.repeat(70);
    const lines = columns(
      [
        ['A', 'B', 'C'],
        [long, 'b', long],
      ],
      60,
    );
    expect(lines[1]).toBe(`${'x'.repeat(59)}…  b  ${long}`);
    expect(lines[0]!.indexOf('B')).toBe(lines[1]!.indexOf('b'));
  });
});
