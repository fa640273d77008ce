// Formatting of durations and instants for the active language. Pure: the
// caller passes "now" so the countdown is testable and ticks from one clock.

export type Unit = 'day' | 'hour' | 'minute' | 'second';

// Building an Intl formatter costs far more than using one, and the tasks view formats two
// dates per row per render: building them per call filled the heap with formatters and
// the garbage collector froze flicking through 10,000 tasks for up to a second. One
// formatter per (locale, options), built on first use.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>();

function cached<F extends Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>(
  key: string,
  build: () => F,
): F {
  let formatter = formatters.get(key) as F | undefined;
  if (formatter === undefined) {
    formatter = build();
    formatters.set(key, formatter);
  }
  return formatter;
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(`dt|${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return cached(`n|${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

function relativeTimeFormat(locale: string): Intl.RelativeTimeFormat {
  return cached(`rt|${locale}`, () => new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }));
}

const UNIT_MS: Array<[Unit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** The two largest non-zero units of a span, e.g. 2h 05m, 4m 09s, 3d 4h. */
export function spanParts(ms: number): Array<[Unit, number]> {
  let rest = Math.max(0, Math.floor(Math.abs(ms) / 1000) * 1000);
  const parts: Array<[Unit, number]> = [];
  for (const [unit, size] of UNIT_MS) {
    const value = Math.floor(rest / size);
    rest -= value * size;
    if (parts.length > 0 || value > 0 || unit === 'second') parts.push([unit, value]);
  }
  const [first, second] = parts;
  // "5m", not "5m 0s"; but a countdown's "4m 09s" keeps both.
  if (first && second && second[1] === 0) return [first];
  return parts.slice(0, 2);
}

export function formatSpan(ms: number, locale: string): string {
  // English narrow units read well ("4m 9s"); German and Russian narrow forms mix scripts ("1h 30 Min."), short ones do not.
  const unitDisplay = locale.startsWith('en') ? 'narrow' : 'short';
  return spanParts(ms)
    .map(([unit, value]) => numberFormat(locale, { style: 'unit', unit, unitDisplay }).format(value))
    .join(' ');
}

/** "2 minutes ago", "in 3 hours", "yesterday". */
export function formatRelative(iso: string, now: number, locale: string): string {
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const rtf = relativeTimeFormat(locale);
  if (abs < 45_000) return rtf.format(0, 'second');
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), 'hour');
  return rtf.format(Math.round(diff / 86_400_000), 'day');
}

export function formatDateTime(iso: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}

/** An all-day date (YYYY-MM-DD) in the user's calendar, without shifting it through UTC. */
export function formatDay(day: string, locale: string, withWeekday = true): string {
  const [y, m, d] = day.split('-').map(Number);
  if (!y || !m || !d) return day;
  const date = new Date(y, m - 1, d);
  return dateTimeFormat(locale, {
    ...(withWeekday ? { weekday: 'short' } : {}),
    day: 'numeric',
    month: 'short',
    ...(y === new Date().getFullYear() ? {} : { year: 'numeric' }),
  }).format(date);
}

export function formatTime(iso: string, locale: string, timeZone: string | null): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  try {
    return dateTimeFormat(locale, {
      hour: '2-digit',
      minute: '2-digit',
      ...(timeZone ? { timeZone } : {}),
    }).format(date);
  } catch {
    // An unknown time zone makes the constructor throw, so it is never cached.
    return dateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(date);
  }
}

/** The local calendar day of an instant as YYYY-MM-DD. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Whole days from one YYYY-MM-DD to another (calendar days, not 24-hour spans). */
export function dayDiff(from: string, to: string): number {
  const a = Date.UTC(...ymd(from));
  const b = Date.UTC(...ymd(to));
  return Math.round((b - a) / 86_400_000);
}

function ymd(day: string): [number, number, number] {
  const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
  return [y, m - 1, d];
}

export type Expiry = { kind: 'never' } | { kind: 'expires'; msLeft: number } | { kind: 'expired'; msAgo: number };

export function expiryAt(expiresAt: string | null, now: number): Expiry {
  if (expiresAt === null) return { kind: 'never' };
  const left = Date.parse(expiresAt) - now;
  return left > 0 ? { kind: 'expires', msLeft: left } : { kind: 'expired', msAgo: -left };
}
