import { z } from 'zod';

/**
 * Calendar arithmetic for the legal clocks (SPEC §7): dates are civil dates in Asia/Shanghai,
 * instants are stored in UTC and shown in Asia/Shanghai.
 *
 * China has kept UTC+8 without DST since 1991, but the zone did observe DST in 1986–1991, so
 * conversions between instants and Shanghai wall-clock time go through Intl (the tz database)
 * rather than a fixed +8 h. Pure date arithmetic (adding years or days, counting days) needs no
 * zone at all and is done on the proleptic Gregorian calendar via Date.UTC.
 */

export const SHANGHAI_TIME_ZONE = 'Asia/Shanghai';

/** A civil date `YYYY-MM-DD`. */
export type CalendarDate = string;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

interface CivilDate {
  year: number;
  month: number; // 1–12
  day: number;
}

function parseCivil(date: CalendarDate): CivilDate | undefined {
  const match = DATE_PATTERN.exec(date);
  if (!match) return undefined;
  const civil = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (civil.month < 1 || civil.month > 12 || civil.day < 1) return undefined;
  if (civil.day > daysInMonth(civil.year, civil.month)) return undefined;
  return civil;
}

function civil(date: CalendarDate): CivilDate {
  const parsed = parseCivil(date);
  if (!parsed) throw new RangeError(`not a calendar date YYYY-MM-DD: ${JSON.stringify(date)}`);
  return parsed;
}

function formatCivil({ year, month, day }: CivilDate): CalendarDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of a civil date, zone-free. */
function epochDay({ year, month, day }: CivilDate): number {
  const ms = new Date(0).setUTCFullYear(year, month - 1, day);
  return Math.round(ms / DAY_MS);
}

function fromEpochDay(days: number): CivilDate {
  const d = new Date(days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function isCalendarDate(value: string): boolean {
  return parseCivil(value) !== undefined;
}

/** A real calendar date `YYYY-MM-DD` (rejects 2025-02-29, 2026-13-01). */
export const calendarDateSchema = z
  .string()
  .refine(isCalendarDate, { message: 'expected a calendar date YYYY-MM-DD' });

/**
 * The same month and day n years later; a day the target month lacks (29 February in a common
 * year) becomes that month's last day, so 2024-02-29 + 1 year = 2025-02-28, never 1 March.
 */
export function addCalendarYears(date: CalendarDate, years: number): CalendarDate {
  if (!Number.isInteger(years)) throw new RangeError(`years must be an integer: ${years}`);
  const { year, month, day } = civil(date);
  const target = year + years;
  return formatCivil({ year: target, month, day: Math.min(day, daysInMonth(target, month)) });
}

export function addCalendarDays(date: CalendarDate, days: number): CalendarDate {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer: ${days}`);
  return formatCivil(fromEpochDay(epochDay(civil(date)) + days));
}

/** Whole calendar days from a to b: positive when b is later, 0 on the same date. */
export function daysBetween(a: CalendarDate, b: CalendarDate): number {
  return epochDay(civil(b)) - epochDay(civil(a));
}

/** Compares two calendar dates: negative, 0 or positive, like a sort comparator. */
export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return daysBetween(b, a);
}

// One formatter, built once (construction is the expensive part of Intl). h23 so midnight is
// 00, not 24; en-US with numeric parts so the pieces are ASCII digits whatever the host locale.
const wallClockFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: SHANGHAI_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  era: 'short',
});

interface WallClock extends CivilDate {
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

function shanghaiWallClock(instant: Date): WallClock {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError('invalid instant');
  const parts: Record<string, string> = {};
  for (const part of wallClockFormat.formatToParts(instant)) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    // Intl counts years BC as 1, 2…; astronomical numbering keeps the arithmetic continuous.
    year: parts.era === 'BC' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: ((ms % 1000) + 1000) % 1000,
  };
}

/** Shanghai's offset from UTC at an instant, in milliseconds (+8 h today). */
function shanghaiOffsetMs(instant: Date): number {
  const wall = shanghaiWallClock(instant);
  const asUtc =
    new Date(0).setUTCFullYear(wall.year, wall.month - 1, wall.day) +
    ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1000 +
    wall.millisecond;
  return asUtc - instant.getTime();
}

/** The Shanghai calendar date of an instant: 2026-03-01T16:30Z is 2026-03-02. */
export function shanghaiDate(instant: Date): CalendarDate {
  return formatCivil(shanghaiWallClock(instant));
}

/**
 * The UTC instant at which a Shanghai calendar day begins. Takes the offset at the guess and
 * corrects once, which settles any single offset change; a day whose midnight was skipped by a
 * DST jump would begin at the first instant that falls on it (China's historical jumps were at
 * 02:00, so midnight always existed).
 */
export function startOfShanghaiDay(date: CalendarDate): Date {
  let start = dayStarts.get(date);
  if (start === undefined) {
    if (dayStarts.size >= 4096) dayStarts.clear();
    start = computeStartOfShanghaiDay(date);
    dayStarts.set(date, start);
  }
  return new Date(start);
}

/** Days asked for before (Intl is slow; a clock pass asks for the same few dates for every row). */
const dayStarts = new Map<CalendarDate, number>();

function computeStartOfShanghaiDay(date: CalendarDate): number {
  const localMidnightAsUtc = epochDay(civil(date)) * DAY_MS;
  let guess = localMidnightAsUtc - shanghaiOffsetMs(new Date(localMidnightAsUtc));
  const corrected = localMidnightAsUtc - shanghaiOffsetMs(new Date(guess));
  if (corrected !== guess && shanghaiDate(new Date(corrected)) === date) guess = corrected;
  return guess;
}

/** An instant for people: `2026-03-02 00:30` in Shanghai time (seconds when asked). */
export function formatShanghai(instant: Date, options: { seconds?: boolean } = {}): string {
  const wall = shanghaiWallClock(instant);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(wall.hour)}:${two(wall.minute)}${options.seconds ? `:${two(wall.second)}` : ''}`;
  return `${formatCivil(wall)} ${time}`;
}

/**
 * An instant as ISO 8601 with Shanghai's offset, `2026-03-02T00:30:00+08:00`: unambiguous for
 * machines and readable as local time for people (exports, notices sent up the chain).
 */
export function toShanghaiIso(instant: Date): string {
  const wall = shanghaiWallClock(instant);
  const offsetMinutes = Math.round(shanghaiOffsetMs(instant) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const two = (n: number) => String(n).padStart(2, '0');
  const fraction = wall.millisecond ? `.${String(wall.millisecond).padStart(3, '0')}` : '';
  return (
    `${formatCivil(wall)}T${two(wall.hour)}:${two(wall.minute)}:${two(wall.second)}${fraction}` +
    `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  );
}

/**
 * An instant from the wire or from code: an ISO 8601 date-time with `Z` or an offset (never a
 * bare local time, whose zone would be a guess), or a Date; always a Date after parsing.
 */
export const instantSchema = z.union([
  z.date(),
  z.iso.datetime({ offset: true }).transform((text) => new Date(text)),
]);
