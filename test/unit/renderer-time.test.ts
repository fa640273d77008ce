import { afterEach, describe, expect, it } from 'vitest';
import { claimRows, timelinePositions } from '../../renderer/lib/jwt-claims';
import {
  dayDiff,
  expiryAt,
  formatDay,
  formatSpan,
  formatRelative,
  formatTime,
  spanParts,
} from '../../renderer/lib/time';

describe('countdown and time formatting', () => {
  it('shows the two largest units of a span', () => {
    expect(spanParts(4 * 60_000 + 9_000)).toEqual([
      ['minute', 4],
      ['second', 9],
    ]);
    expect(spanParts(2 * 3_600_000 + 5 * 60_000 + 59_000)).toEqual([
      ['hour', 2],
      ['minute', 5],
    ]);
    expect(spanParts(3 * 86_400_000 + 4 * 3_600_000)).toEqual([
      ['day', 3],
      ['hour', 4],
    ]);
    expect(spanParts(5 * 60_000)).toEqual([['minute', 5]]);
    expect(spanParts(0)).toEqual([['second', 0]]);
    expect(formatSpan(4 * 60_000 + 9_000, 'en-US')).toBe('4m 9s');
    expect(formatSpan(90 * 60_000, 'de-DE')).toBe('1 Std. 30 Min.');
    expect(formatSpan(3 * 60_000 + 5_000, 'ru-RU')).toBe('3 мин 5 с');
  });

  it('tells expiring, expired and non-expiring tokens apart', () => {
    const now = Date.parse('2025-03-10T12:00:00Z');
    expect(expiryAt(null, now)).toEqual({ kind: 'never' });
    expect(expiryAt('2025-03-10T12:05:00Z', now)).toEqual({ kind: 'expires', msLeft: 300_000 });
    expect(expiryAt('2025-03-10T11:59:00Z', now)).toEqual({ kind: 'expired', msAgo: 60_000 });
  });

  it('formats relative times in the chosen language', () => {
    const now = Date.parse('2025-03-10T12:00:00Z');
    expect(formatRelative('2025-03-10T11:58:00Z', now, 'en-US')).toBe('2 minutes ago');
    expect(formatRelative('2025-03-10T11:59:50Z', now, 'en-US')).toBe('now');
    expect(formatRelative('2025-03-10T09:00:00Z', now, 'ru-RU')).toBe('3 часа назад');
    expect(formatRelative('2025-03-09T12:00:00Z', now, 'de-DE')).toBe('gestern');
  });

  it('counts calendar days', () => {
    expect(dayDiff('2025-02-28', '2025-03-01')).toBe(1);
    expect(dayDiff('2025-03-10', '2025-03-03')).toBe(-7);
  });
});

describe('JWT claims for the inspector', () => {
  it('shows NumericDate claims as dates and everything else as text', () => {
    const rows = claimRows({ exp: 1_741_608_000, sub: 'alice', aud: ['a', 'b'], iat: 'not a number' });
    expect(rows).toEqual([
      { name: 'exp', value: '1741608000', date: '2025-03-10T12:00:00.000Z' },
      { name: 'sub', value: 'alice', date: null },
      { name: 'aud', value: '["a","b"]', date: null },
      { name: 'iat', value: 'not a number', date: null },
    ]);
  });

  it('places now and the refresh point on the lifetime', () => {
    const positions = timelinePositions(
      '2025-03-10T12:00:00Z',
      '2025-03-10T12:10:00Z',
      '2025-03-10T12:05:00Z',
      Date.parse('2025-03-10T12:02:30Z'),
    );
    expect(positions).toEqual({ now: 0.25, refresh: 0.5 });
    expect(timelinePositions(null, '2025-03-10T12:10:00Z', null, 0)).toBeNull();
    expect(timelinePositions('2025-03-10T12:00:00Z', '2025-03-10T12:10:00Z', null, Date.parse('2025-03-11'))).toEqual({
      now: 1,
      refresh: null,
    });
  });
});

describe('formatters are built once, not per row', () => {
  const Original = Intl.DateTimeFormat;
  afterEach(() => {
    Intl.DateTimeFormat = Original;
  });

  it('formats 2,000 rows of dates and times with one formatter per locale and style', () => {
    // A locale no other test uses, so the count starts from an empty cache.
    let built = 0;
    Intl.DateTimeFormat = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        built += 1;
      }
    } as typeof Original;
    const days: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      days.push(formatDay(`2031-03-${String((i % 28) + 1).padStart(2, '0')}`, 'fr-CA'));
      days.push(formatTime('2031-03-10T09:30:00Z', 'fr-CA', 'UTC'));
    }
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThanOrEqual(2);
    expect(days[0]).toMatch(/1/);
    expect(days[1]).toMatch(/09/);
  });

  it('still formats a time whose zone the runtime does not know, in local time', () => {
    expect(formatTime('2031-03-10T09:30:00Z', 'en-US', 'Not/AZone')).toMatch(/\d\d:\d\d/);
  });
});
