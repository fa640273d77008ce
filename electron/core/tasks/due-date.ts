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

/** The zone when the runtime knows it, else null (an unknown name would make Intl throw later). */
export function validTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

/** The calendar day (YYYY-MM-DD) of an instant in a zone; null means the user's own zone. */
export function calendarDayIn(instant: Date, zone: string | null): string {
  return new Intl.DateTimeFormat('en-CA', {
    ...(zone ? { timeZone: zone } : {}),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** The wall-clock hour and minute of an instant in a zone (null: the user's own zone). */
export function clockIn(instant: Date, zone: string | null): { hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    ...(zone ? { timeZone: zone } : {}),
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(instant);
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
