import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../src/config/schedule.js';
import { firstTickOfHour, isStateFailure } from '../../../src/handler/state-down.js';
import { ConfigError, IntegrationError } from '../../../src/lib/errors.js';
import { otsError } from '../../../src/state/tablestore-errors.js';

const every = (text: string) => parseSchedule('TIMER_SCHEDULE', text, [])!;

describe('the state-down notice', () => {
  it('is for the state only: Tablestore and the state file, not a channel, CR or the configuration', () => {
    expect(isStateFailure(otsError('GetRange', 'OTSAuthFailed', { message: 'Signature mismatch.' }))).toBe(true);
    expect(isStateFailure(new IntegrationError('locked', { service: 'state-file', kind: 'retryable' }))).toBe(true);
    expect(isStateFailure(new IntegrationError('x', { service: 'cr', kind: 'config' }))).toBe(false);
    expect(isStateFailure(new IntegrationError('x', { service: 'slack', kind: 'config' }))).toBe(false);
    expect(isStateFailure(new ConfigError(['ALERT_TIMEZONE "CST" ...']))).toBe(false);
  });

  it.each([
    ['@every 5m', '10:00:00', true],
    ['@every 5m', '10:04:59', true],
    ['@every 5m', '10:05:00', false],
    ['@every 5m', '10:59:00', false],
    ['@every 20m', '10:19:00', true],
    ['@every 20m', '10:20:00', false],
    ['@every 2h', '10:30:00', true],
  ])('with %s, goes out at the tick of %s: %s', (schedule, hhmmss, first) => {
    expect(firstTickOfHour(every(schedule), Date.parse(`2026-12-03T${hhmmss}Z`))).toBe(first);
  });
});
