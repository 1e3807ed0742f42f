import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  addCalendarYears,
  calendarDateSchema,
  compareDates,
  daysBetween,
  formatShanghai,
  instantSchema,
  isCalendarDate,
  shanghaiDate,
  startOfShanghaiDay,
  toShanghaiIso,
} from '../../shared/calendar.js';

describe('addCalendarYears', () => {
  it.each([
    ['2024-02-29', 1, '2025-02-28'],
    ['2024-02-29', 2, '2026-02-28'],
    ['2024-02-29', 4, '2028-02-29'],
    ['2024-02-29', -1, '2023-02-28'],
    ['2024-02-28', 1, '2025-02-28'],
    ['2025-03-01', 1, '2026-03-01'],
    ['2026-12-31', 1, '2027-12-31'],
    ['2026-12-31', 2, '2028-12-31'],
    ['2026-01-01', 0, '2026-01-01'],
  ])('%s + %i years = %s', (date, years, expected) => {
    expect(addCalendarYears(date, years)).toBe(expected);
  });

  it('refuses dates that do not exist and fractional years', () => {
    expect(() => addCalendarYears('2025-02-29', 1)).toThrow(RangeError);
    expect(() => addCalendarYears('2026-13-01', 1)).toThrow(RangeError);
    expect(() => addCalendarYears('2026-3-1', 1)).toThrow(RangeError);
    expect(() => addCalendarYears('2026-03-01', 0.5)).toThrow(RangeError);
  });
});

describe('addCalendarDays and daysBetween', () => {
  it.each([
    ['2026-12-31', 1, '2027-01-01'],
    ['2027-01-01', -1, '2026-12-31'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2026-02-28', 1, '2026-03-01'],
    ['2025-03-01', -30, '2025-01-30'],
    ['2026-12-31', 365, '2027-12-31'],
  ])('%s + %i days = %s', (date, days, expected) => {
    expect(addCalendarDays(date, days)).toBe(expected);
    expect(daysBetween(date, expected)).toBe(days);
  });

  it.each([
    ['2026-12-31', '2027-01-01', 1],
    ['2024-02-28', '2024-03-01', 2],
    ['2024-01-01', '2025-01-01', 366],
    ['2025-01-01', '2026-01-01', 365],
    ['2026-06-15', '2026-06-15', 0],
    ['2026-06-15', '2026-02-28', -107],
  ])('from %s to %s is %i days', (a, b, days) => {
    expect(daysBetween(a, b)).toBe(days);
  });

  it('orders dates like a comparator', () => {
    expect(['2027-01-01', '2024-02-29', '2026-12-31'].sort(compareDates)).toEqual([
      '2024-02-29',
      '2026-12-31',
      '2027-01-01',
    ]);
  });
});

describe('Asia/Shanghai days', () => {
  it.each([
    ['2026-03-01T16:30:00Z', '2026-03-02'],
    ['2026-03-01T15:59:59.999Z', '2026-03-01'],
    ['2026-03-01T16:00:00Z', '2026-03-02'],
    ['2026-12-31T16:00:00Z', '2027-01-01'],
    ['2026-12-31T15:59:59.999Z', '2026-12-31'],
  ])('the instant %s falls on %s in Shanghai', (instant, date) => {
    expect(shanghaiDate(new Date(instant))).toBe(date);
  });

  it.each([
    ['2026-03-02', '2026-03-01T16:00:00.000Z'],
    ['2027-01-01', '2026-12-31T16:00:00.000Z'],
    ['2024-02-29', '2024-02-28T16:00:00.000Z'],
    // China kept summer time in 1986–1991 (UTC+9): proof that +8 is not hard-coded.
    ['1988-07-01', '1988-06-30T15:00:00.000Z'],
    ['1988-01-01', '1987-12-31T16:00:00.000Z'],
    // The day summer time ended (02:00 → 01:00): it began at +9, the next day at +8.
    ['1988-09-11', '1988-09-10T15:00:00.000Z'],
    ['1988-09-12', '1988-09-11T16:00:00.000Z'],
  ])('a Shanghai day %s begins at %s', (date, instant) => {
    const start = startOfShanghaiDay(date);
    expect(start.toISOString()).toBe(instant);
    expect(shanghaiDate(start)).toBe(date);
    expect(shanghaiDate(new Date(start.getTime() - 1))).toBe(addCalendarDays(date, -1));
  });

  it('shows instants in Shanghai time', () => {
    const instant = new Date('2026-03-01T16:30:05.250Z');
    expect(formatShanghai(instant)).toBe('2026-03-02 00:30');
    expect(formatShanghai(instant, { seconds: true })).toBe('2026-03-02 00:30:05');
    expect(toShanghaiIso(instant)).toBe('2026-03-02T00:30:05.250+08:00');
    expect(toShanghaiIso(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01T00:00:00+08:00');
    expect(toShanghaiIso(new Date('1988-06-30T15:00:00Z'))).toBe('1988-07-01T00:00:00+09:00');
    expect(new Date(toShanghaiIso(instant)).getTime()).toBe(instant.getTime());
  });

  it('refuses an invalid instant', () => {
    expect(() => shanghaiDate(new Date('nonsense'))).toThrow(RangeError);
  });
});

describe('schemas', () => {
  it('accepts real calendar dates only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(calendarDateSchema.safeParse('2026-12-31').success).toBe(true);
    expect(calendarDateSchema.safeParse('2026-12-32').success).toBe(false);
    expect(calendarDateSchema.safeParse('2026-12-31T00:00:00Z').success).toBe(false);
  });

  it('takes instants with a zone, never a bare local time', () => {
    expect(instantSchema.parse('2026-03-02T00:30:00+08:00')).toEqual(new Date('2026-03-01T16:30:00Z'));
    expect(instantSchema.parse(new Date('2026-03-01T16:30:00Z'))).toEqual(new Date('2026-03-01T16:30:00Z'));
    expect(instantSchema.safeParse('2026-03-02T00:30:00').success).toBe(false);
  });
});
