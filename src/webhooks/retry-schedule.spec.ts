import { describe, expect, it } from '@jest/globals';
import { loadSettings } from '../config/settings.js';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  parseRetrySchedule,
  pauseBefore,
  retryAfterMs,
} from './retry-schedule.js';

describe('the webhook retry schedule', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default', () => {
    expect(parseRetrySchedule(DEFAULT_WEBHOOK_RETRY_SCHEDULE)).toEqual(
      [5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000),
    );
  });

  it('varies each pause by at most 20% either way, and ends after the last', () => {
    const schedule = parseRetrySchedule('10s,1m');
    expect(pauseBefore(schedule, 1, () => 0)).toBe(8000);
    expect(pauseBefore(schedule, 1, () => 1)).toBe(12000);
    expect(pauseBefore(schedule, 2, () => 0.5)).toBe(60000);
    expect(pauseBefore(schedule, 3)).toBeUndefined();
  });

  it('is validated as a setting', () => {
    expect(loadSettings({ WEBHOOK_RETRY_SCHEDULE: '200ms, 1s,2m' }).WEBHOOK_RETRY_SCHEDULE).toBe(
      '200ms, 1s,2m',
    );
    for (const bad of ['5x', '5s,', '', '50ms', '25h', Array(21).fill('1s').join(',')]) {
      if (bad === '') continue; // empty is unset: the default
      expect(() => loadSettings({ WEBHOOK_RETRY_SCHEDULE: bad })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    }
    expect(() => loadSettings({ WEBHOOK_TIMEOUT: '50' })).toThrow(/WEBHOOK_TIMEOUT/);
    expect(() => loadSettings({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(retryAfterMs('Tue, 01 Dec 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('999999999')).toBe(24 * 3_600_000);
  });
});
