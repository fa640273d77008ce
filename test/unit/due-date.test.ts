import { describe, expect, it } from 'vitest';
import { allDayDue, calendarDayIn, clockIn, timedDue, validTimeZone } from '../../electron/core/tasks/due-date';

describe('due dates', () => {
  it('groups a timed due by its day in the zone it belongs to, not the UTC day', () => {
    // 22:30 UTC on 3 December is already 4 December in Moscow (UTC+3).
    const instant = new Date('2026-12-03T22:30:00Z');
    expect(timedDue(instant, 'Europe/Moscow')).toEqual({
      date: '2026-12-04',
      dateTime: '2026-12-03T22:30:00.000Z',
      timeZone: 'Europe/Moscow',
    });
    expect(calendarDayIn(instant, 'America/New_York')).toBe('2026-12-03');
    expect(clockIn(instant, 'Europe/Moscow')).toEqual({ hour: 1, minute: 30 });
  });

  it('keeps an all-day due as a day with no time', () => {
    expect(allDayDue('2026-12-04')).toEqual({ date: '2026-12-04', dateTime: null, timeZone: null });
  });

  it('drops a zone name the runtime does not know', () => {
    expect(validTimeZone('Mars/Olympus')).toBeNull();
    expect(validTimeZone('Asia/Shanghai')).toBe('Asia/Shanghai');
  });
});
