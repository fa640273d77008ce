// How a provider's due date becomes a Task's `due` (electron/shared/models.ts). One contract
// for every provider, so the tasks view groups and formats them alike:
// - `dateTime === null` means a date without a time (all-day, date-only): the view shows the
//   calendar day and no time, and never shifts `date` through UTC.
// - `date` is always the calendar day the task is due in `timeZone`, or in the user's own
//   zone when `timeZone` is null; the view groups by it (today, tomorrow, overdue).
// - `timeZone` is the IANA zone the provider's date belongs to (a TickTick task's own zone,
//   an amoCRM account's zone); the view shows a timed due's clock time in it.
import type { Task } from '../../shared/models';

export type Due = NonNullable<Task['due']>;

/**
 * Intl.DateTimeFormat objects are built once per zone and options, not per task: building one
 * resolves the locale and loads the zone's ICU data, which cost a 10,000-task fetch over a second
 * and hundreds of MiB of short-lived ICU objects. A null zone (the user's own) is keyed by TZ,
 * because Node re-reads the default zone when TZ changes and a formatter keeps the one it was
 * built with. Zone names come from provider data, so the caches are emptied rather than grown
 * without bound.
 */
const MAX_CACHED = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();
const knownZones = new Map<string, boolean>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
  return value;
}

function formatter(kind: 'day' | 'clock', zone: string | null): Intl.DateTimeFormat {
  const key = `${kind}\u0000${zone ?? `own\u0000${process.env['TZ'] ?? ''}`}`;
  const cached = formatters.get(key);
  if (cached) return cached;
  const timeZone = zone ? { timeZone: zone } : {};
  const made =
    kind === 'day'
      ? new Intl.DateTimeFormat('en-CA', { ...timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
      : new Intl.DateTimeFormat('en-GB', { ...timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
  return remember(formatters, key, made);
}

/** The zone when the runtime knows it, else null (an unknown name would make Intl throw later). */
export function validTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    remember(knownZones, zone, known);
  }
  return known ? zone : null;
}

/** The calendar day (YYYY-MM-DD) of an instant in a zone; null means the user's own zone. */
export function calendarDayIn(instant: Date, zone: string | null): string {
  return formatter('day', zone).format(instant);
}

/** The wall-clock hour and minute of an instant in a zone (null: the user's own zone). */
export function clockIn(instant: Date, zone: string | null): { hour: number; minute: number } {
  const parts = formatter('clock', zone).formatToParts(instant);
  const num = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { hour: num('hour'), minute: num('minute') };
}

/** A due at a moment: grouped by its day in `zone` (null: the user's zone), shown with its time. */
export function timedDue(instant: Date, zone: string | null): Due {
  return { date: calendarDayIn(instant, zone), dateTime: instant.toISOString(), timeZone: zone };
}

/** A due on a day with no time (all-day / date-only). */
export function allDayDue(date: string, zone: string | null = null): Due {
  return { date, dateTime: null, timeZone: zone };
}
