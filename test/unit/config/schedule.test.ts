import { describe, expect, it } from 'vitest';
import { parseSchedule, tickBefore } from '../../../src/config/schedule.js';

const at = Date.parse('2026-12-03T10:30:00Z');

describe('the timer schedule', () => {
  it.each([
    ['@every 5m', at - 300_000],
    ['@every 1h30m', at - 5_400_000],
    ['0 */10 * * * *', Date.parse('2026-12-03T10:20:00Z')],
    ['CRON_TZ=Asia/Shanghai 0 0 9 * * *', Date.parse('2026-12-03T01:00:00Z')],
  ])('%s: the tick before 10:30 UTC', (text, before) => {
    const problems: string[] = [];
    const s = parseSchedule('TIMER_SCHEDULE', text, problems);
    expect(problems).toEqual([]);
    expect(tickBefore(s!, at)).toBe(before);
  });

  it.each(['@every 30s', '@every 5', 'every 5m', '*/5 * * * *', 'CRON_TZ=Mars/Base 0 0 * * * *'])(
    'refuses %s, naming the setting and the accepted forms',
    (text) => {
      const problems: string[] = [];
      expect(parseSchedule('TIMER_SCHEDULE', text, problems)).toBeUndefined();
      expect(problems).toEqual([expect.stringMatching(/^TIMER_SCHEDULE (CRON_TZ )?".*"/)]);
    },
  );
});
